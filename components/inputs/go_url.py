"""URLs read as Go 1.26's net/url reads them, and proxy variables as Go's httpproxy reads them.

The URLs a cache is given (the upstreams, an object storage endpoint, a proxy, MSR's API) are
read by Go programs: the cache and MSR's own clients. `parse_go_url` ports go1.26.8's
src/net/url/url.go (Parse, parse, getScheme, parseAuthority, parseHost, validUserinfo,
validOptionalPort, unescape, shouldEscape for hosts, splitHostPort) and src/net/netip/netip.go
(ParseAddr, for what brackets hold), on bytes as Go's strings are, so a URL is checked as the
cache will read it and written as it was checked (a host in lower case, which is how Go dials and
verifies it). It has the fixes older Go, MSR's image's, lacks: brackets hold an IPv6 address and
nothing else (CVE-2025-47912, Go 1.24.8 and 1.25.2), a `[` only at the start of a host
(CVE-2026-25679, golang/go#77578), and one colon at most outside brackets in an http or https
host (Go 1.26, golang/go#75223, its default urlstrictcolons=1). tests/unit/test_go_url.py holds
go1.26.8's url_test.go cases that this port decides, and holds the port to the Go on the machine.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

_HOST_PUNCTUATION = frozenset(b"!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_PUNCTUATION = frozenset(b"-._:~!$&'()*+,;=%@")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_BRACKETS = "brackets hold an IPv6 address and nothing else"


class GoURLError(ValueError):
    """Go's refusal of a URL: str() is Go's message, which may quote a part of the URL (a
    password, say); `reason` is the message without it, for errors users see, and with `why`
    where Go's words alone would not say what is wrong."""

    def __init__(self, reason: str, part: bytes | None = None, why: str | None = None) -> None:
        quoted = f" {part.decode(errors='replace')!r}" if part is not None else ""
        super().__init__(reason.replace(" %s", quoted))
        self.reason = reason.replace(" %s", "") + (f" ({why})" if why else "")


@dataclasses.dataclass(frozen=True)
class GoURL:
    """What Go's url.Parse makes of a URL (the fields the cache's use of it reads)."""

    scheme: str = ""
    opaque: str = ""
    userinfo: str | None = None
    """user[:password] as written (None: no `@`)."""
    host: str = ""
    """host[:port], unescaped, an IPv6 address in brackets."""
    path: str = ""
    raw_query: str = ""
    force_query: bool = False
    fragment: str = ""

    @property
    def hostname(self) -> str:
        """The host without its port or an IPv6 address's brackets (Go's URL.Hostname)."""
        return _split_host_port(self.host)[0]

    @property
    def port(self) -> str:
        """The port's digits, or "" (Go's URL.Port)."""
        return _split_host_port(self.host)[1]


def parse_go_url(raw: str) -> GoURL:
    """`raw` as Go's url.Parse reads it; raises GoURLError where Go refuses it."""
    data = raw.encode()
    head, _, fragment = data.partition(b"#")
    url = _parse(head)
    if fragment:
        url = dataclasses.replace(
            url, fragment=_unescape(fragment, "fragment").decode(errors="replace")
        )
    return url


def _parse(raw: bytes) -> GoURL:
    if any(b < 0x20 or b == 0x7F for b in raw):
        raise GoURLError("net/url: invalid control character in URL")
    if raw == b"*":
        return GoURL(path="*")
    scheme, rest = _scheme(raw)
    force_query, query = False, b""
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        force_query, rest = True, rest[:-1]
    else:
        rest, _, query = rest.partition(b"?")
    fields: dict[str, Any] = {"scheme": scheme.decode().lower(), "force_query": force_query,
                              "raw_query": query.decode(errors="replace")}  # fmt: skip
    if not rest.startswith(b"/"):
        if scheme:
            return GoURL(opaque=rest.decode(errors="replace"), **fields)
        if b":" in rest.partition(b"/")[0]:  # RFC 3986 3.3: it would read as a scheme
            raise GoURLError("first path segment in URL cannot contain colon")
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, path = rest[2:].partition(b"/")
        fields["userinfo"], fields["host"] = _authority(fields["scheme"], authority)
        rest = slash + path
    fields["path"] = _unescape(rest, "path").decode(errors="replace")
    return GoURL(**fields)


def _scheme(raw: bytes) -> tuple[bytes, bytes]:
    """getScheme: `scheme:` when it is a letter then letters, digits, `+`, `-` or `.`."""
    for i, c in enumerate(raw):
        if chr(c).isascii() and chr(c).isalpha():
            continue
        if chr(c) in "0123456789+-.":
            if i == 0:
                return b"", raw
            continue
        if c == ord(":"):
            if i == 0:
                raise GoURLError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return b"", raw  # a character no scheme has: there is none
    return b"", raw


def _authority(scheme: str, authority: bytes) -> tuple[str | None, str]:
    """parseAuthority: (userinfo as written, or None; the host), the host after the last `@`."""
    userinfo, at, host = authority.rpartition(b"@")
    host_text = _host(scheme, host)
    if not at:
        return None, host_text
    if any(not (chr(c).isascii() and chr(c).isalnum()) and c not in _USERINFO_PUNCTUATION
           for c in userinfo):  # fmt: skip
        raise GoURLError("net/url: invalid userinfo")
    for part in userinfo.split(b":", 1):
        _unescape(part, "userinfo")
    return userinfo.decode(), host_text


def _host(scheme: str, host: bytes) -> str:
    """parseHost: host[:port], an IPv6 address in brackets (RFC 3986, a zone as in RFC 6874)."""
    bracket = host.rfind(b"[")
    if bracket > 0:  # CVE-2026-25679: what came before it was taken for nothing
        raise GoURLError("invalid IP-literal", why="a `[` only at the start of the host")
    if bracket == 0:
        return _ip_literal(host)
    colon = host.find(b":")
    # golang/go#75223: RFC 3986 has no colon in a host; Go 1.26 keeps the old reading (the last
    # colon starts the port) for other schemes, whose URLs may list hosts (PostgreSQL, MongoDB).
    if colon >= 0 and scheme not in ("http", "https"):
        colon = host.rfind(b":")
    if colon >= 0 and not _valid_optional_port(host[colon:]):
        extra = host.count(b":") > 1 and scheme in ("http", "https")
        why = "one colon at most, before the port; an IPv6 address in brackets" if extra else None
        raise GoURLError("invalid port %s after host", host[colon:], why)
    return _unescape(host, "host").decode(errors="replace")


def _ip_literal(host: bytes) -> str:
    """parseHost's `[...]` branch: an IPv6 address (a zone after %25), then an optional port."""
    end = host.rfind(b"]")
    if end < 0:
        raise GoURLError("missing ']' in host")
    colon_port = host[end + 1 :]
    if not _valid_optional_port(colon_port):
        raise GoURLError("invalid port %s after host", colon_port)
    hostname = host[1:end]
    zone = hostname.find(b"%25")
    if zone >= 0:
        address = _unescape(hostname[:zone], "host") + _unescape(hostname[zone:], "zone")
    else:
        address = _unescape(hostname, "host")
    # CVE-2025-47912: brackets hold an IPv6 address (an IPv4-mapped one too), nothing else.
    try:
        family = _parse_addr(address)
    except GoURLError as err:
        raise GoURLError(err.reason, why=_BRACKETS) from None
    if family == 4:
        raise GoURLError("invalid IP-literal", why=_BRACKETS)
    return (b"[" + address + b"]" + colon_port).decode(errors="replace")


def _valid_optional_port(port: bytes) -> bool:
    """Empty, or `:` and digits only (possibly none)."""
    return port == b"" or (port[:1] == b":" and all(48 <= c <= 57 for c in port[1:]))


def _host_byte_escaped(c: int) -> bool:
    """shouldEscape in a host or zone: what may not appear there unescaped."""
    return not (chr(c).isascii() and chr(c).isalnum()) and c not in _HOST_PUNCTUATION


def _unescape(text: bytes, mode: str) -> bytes:
    """unescape: %XX decoded, raising where Go does: a malformed escape; in a host, an escaped
    ASCII byte other than %25 or a byte a host cannot hold; in a zone, an escaped byte a host
    could not hold unescaped (a space excepted)."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == ord("%"):
            escape = text[i : i + 3]
            if len(escape) < 3 or escape[1] not in _HEX or escape[2] not in _HEX:
                raise GoURLError("invalid URL escape %s", escape)
            value = int(escape[1:], 16)
            if mode == "host" and value < 0x80 and escape != b"%25":
                raise GoURLError("invalid URL escape %s", escape)
            if mode == "zone" and escape != b"%25" and value != 0x20 and _host_byte_escaped(value):
                raise GoURLError("invalid URL escape %s", escape)
            out.append(value)
            i += 3
            continue
        if mode in ("host", "zone") and c < 0x80 and _host_byte_escaped(c):
            raise GoURLError("invalid character %s in host name", bytes([c]))
        out.append(c)
        i += 1
    return bytes(out)


def _split_host_port(host_port: str) -> tuple[str, str]:
    """splitHostPort: a valid port split off; an IPv6 literal's brackets dropped."""
    host, port = host_port, ""
    colon = host.rfind(":")
    if colon >= 0 and _valid_optional_port(host[colon:].encode()):
        host, port = host[:colon], host[colon + 1 :]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


# netip.ParseAddr (go1.26.8 src/net/netip/netip.go: ParseAddr, parseIPv4Fields, parseIPv6):
# only whether text is an address, and of which family; its errors as Go words them.
def _parse_addr(text: bytes) -> int:
    """4 or 6: the family of the address `text` spells; raises GoURLError where Go refuses it."""
    for c in text:
        if c == ord("."):
            _ipv4_fields(text)
            return 4
        if c == ord(":"):
            _parse_ipv6(text)
            return 6
        if c == ord("%"):
            raise _addr_error("missing IPv6 address")
    raise _addr_error("unable to parse IP")


def _addr_error(message: str) -> GoURLError:
    return GoURLError("invalid host: ParseAddr %s: " + message)


def _ipv4_fields(text: bytes) -> None:
    """parseIPv4Fields: four decimal octets, no leading zero, nothing else."""
    fields = text.split(b".")
    for i, field in enumerate(fields):
        if not field:
            raise _addr_error("IPv4 field must have at least one digit")
        if i > 3:
            raise _addr_error("IPv4 address too long")
        for n, c in enumerate(field):
            if not 48 <= c <= 57:
                raise _addr_error("unexpected character")
            if n == 1 and field[0] == ord("0"):
                raise _addr_error("IPv4 field has octet with leading zero")
            if int(field[: n + 1]) > 255:
                raise _addr_error("IPv4 field has value >255")
    if len(fields) < 4:
        raise _addr_error("IPv4 address too short")


def _parse_ipv6(text: bytes) -> None:
    """parseIPv6: groups of 1-4 hex digits, at most one `::` standing for at least one zero
    group, an IPv4 address in the last 32 bits, a non-empty zone after `%`."""
    address, percent, zone = text.partition(b"%")
    if percent and not zone:
        raise _addr_error("zone must be a non-empty string")
    rest, size, ellipsis = address, 0, False
    if rest.startswith(b"::"):
        rest, ellipsis = rest[2:], True
    while rest and size < 16:
        digits = len(rest) - len(rest.lstrip(b"0123456789abcdefABCDEF"))
        if digits > 4:
            raise _addr_error("each group must have 4 or less digits")
        if digits == 0:
            raise _addr_error("each colon-separated field must have at least one digit")
        if rest[digits : digits + 1] == b".":  # the embedded IPv4 address
            if not ellipsis and size != 12:
                raise _addr_error(
                    "embedded IPv4 address must replace the final 2 fields of the address"
                )
            if size + 4 > 16:
                raise _addr_error(
                    "too many hex fields to fit an embedded IPv4 at the end of the address"
                )
            _ipv4_fields(rest)
            rest, size = b"", size + 4
            break
        rest, size = rest[digits:], size + 2
        if not rest:
            break
        if rest[:1] != b":":
            raise _addr_error("unexpected character, want colon")
        if len(rest) == 1:
            raise _addr_error("colon must be followed by more characters")
        rest = rest[1:]
        if rest[:1] == b":":
            if ellipsis:
                raise _addr_error("multiple :: in address")
            rest, ellipsis = rest[1:], True
    if rest:
        raise _addr_error("trailing garbage after address")
    if size < 16 and not ellipsis:
        raise _addr_error("address string too short")
    if size == 16 and ellipsis:
        raise _addr_error("the :: must expand to at least one field of zeros")


# --- proxies, as the cache's HTTP client reads them from its environment -------------------------
#
# Go's net/http takes a proxy from the environment with golang.org/x/net/http/httpproxy
# (http/httpproxy/proxy.go, vendored into go1.26.8 at x/net v0.47.1-0.20260731170545-cb1d721f7fb3):
# FromEnvironment reads HTTPS_PROXY, else https_proxy, for https requests (HTTP_PROXY, else
# http_proxy, for http ones), the first that is not empty; parseProxy reads it with url.Parse and,
# when that fails or gives no scheme or no host, reads "http://" + it instead (so
# `proxy.example.com:3128` is an http proxy), keeping the first error if that fails too; net/http's
# transport then dials the URL's port, else its scheme's (portMap), and takes no scheme but http,
# https, socks5 and socks5h. One reading of Go's is refused here: a value written with its scheme
# that Go cannot read as written. Go then reads `http://http://proxy:3128:3128` and takes the
# scheme for the proxy's host (`http`, on port 80): never what was meant, and the network policy
# would open port 80 rather than the port written.
_WRITTEN_WITH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
PROXY_VARIABLES: tuple[tuple[str, str], ...] = (
    ("HTTPS_PROXY", "https_proxy"),
    ("HTTP_PROXY", "http_proxy"),
)
"""The variables Go reads a proxy from, for https then for http requests, each upper case first."""
PROXY_PORTS: Mapping[str, int] = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}
"""The port Go's transport dials for a proxy URL without one, by its scheme."""


def proxy_url(value: str) -> GoURL:
    """A proxy variable's value as Go's httpproxy reads it; raises GoURLError where it refuses it
    (after both readings), where the transport could not use it (no host, another scheme), or
    where a value written with its scheme is not read as written."""
    url: GoURL | None = None
    first: GoURLError | None = None
    try:
        url = parse_go_url(value)
    except GoURLError as err:
        first = err
    if url is None or not url.scheme or not url.host:
        if _WRITTEN_WITH_SCHEME.match(value):
            raise first or GoURLError("the proxy has no host")
        try:
            url = parse_go_url("http://" + value)
        except GoURLError:
            if first is not None:
                raise first from None
    assert url is not None
    if url.scheme not in PROXY_PORTS:
        raise GoURLError("the proxy's scheme is none of http, https, socks5 and socks5h")
    if not url.hostname:
        raise GoURLError("the proxy has no host")
    if url.port and not 1 <= int(url.port) <= 65535:
        raise GoURLError("the proxy's port is not within 1-65535")
    return url


def proxy_variables(env: Mapping[str, str]) -> list[str]:
    """The variables of `env` Go reads a proxy from (FromEnvironment's getEnvAny)."""
    names = [upper if env.get(upper) else lower for upper, lower in PROXY_VARIABLES]
    return [name for name in names if env.get(name)]


def proxies(env: Mapping[str, str]) -> dict[str, GoURL]:
    """The proxies the cache uses, by the variable Go reads each from."""
    return {name: proxy_url(env[name]) for name in proxy_variables(env)}


def proxy_port(url: GoURL) -> int:
    """The TCP port Go's transport dials for a proxy."""
    return int(url.port) if url.port else PROXY_PORTS[url.scheme]
