"""go_url.parse_go_url, the port of Go's net/url, against Go.

First the cases of Go's own tests, go1.26.8's src/net/url/url_test.go (the fields this port
keeps): TestParse, TestParseErrors (with its cases for CVE-2025-47912 and CVE-2026-25679), the
absolute URLs of TestParseRequestURI (Parse reads a URL with a scheme and no `#` as
ParseRequestURI does), TestParseStrictIpv6 (go.dev/issue/75223: refused by default),
TestInvalidUserPassword, TestRejectControlCharacters and TestURLHostnameAndPort.

Then every reader of a URL in the component (upstreams, msrApi.url, object storage endpoints,
proxies) refuses what Go 1.26 refuses.

Then the real Go judges: tests/unit/go_url, a program of the standard library alone built with the Go
on this machine (`go build`, GOTOOLCHAIN=local), reads every case here, a generated corpus and
the proxies of go_url.proxy_url, and the port must read each one as it does.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from harness import ROOT, unavailable

from components.inputs.checks import check_upstream
from components.inputs.go_url import GoURL, GoURLError, parse_go_url, proxy_url
from components.inputs.object_storage import check_object_storage
from components.inputs.problems import Invalid
from components.registration import normalised_url

# TestParse's urltests: (input, scheme, opaque, userinfo as written, host, path, raw query,
# fragment).
PARSED = [
    ("http://www.google.com", "http", "", None, "www.google.com", "", "", ""),
    ("http://www.google.com/", "http", "", None, "www.google.com", "/", "", ""),
    ("http://www.google.com/file%20one%26two", "http", "", None, "www.google.com",
     "/file one&two", "", ""),
    ("http://www.google.com/#file%20one%26two", "http", "", None, "www.google.com", "/", "",
     "file one&two"),
    ("ftp://webmaster@www.google.com/", "ftp", "", "webmaster", "www.google.com", "/", "", ""),
    ("ftp://john%20doe@www.google.com/", "ftp", "", "john%20doe", "www.google.com", "/", "", ""),
    ("http://www.google.com/?foo=bar?", "http", "", None, "www.google.com", "/", "foo=bar?", ""),
    ("http://www.google.com/?q=go+language", "http", "", None, "www.google.com", "/",
     "q=go+language", ""),
    ("http://www.google.com/?q=go%20language", "http", "", None, "www.google.com", "/",
     "q=go%20language", ""),
    ("http://www.google.com/a%20b?q=c+d", "http", "", None, "www.google.com", "/a b", "q=c+d",
     ""),
    ("http:www.google.com/?q=go+language", "http", "www.google.com/", None, "", "",
     "q=go+language", ""),
    ("http:%2f%2fwww.google.com/?q=go+language", "http", "%2f%2fwww.google.com/", None, "", "",
     "q=go+language", ""),
    ("mailto:/webmaster@golang.org", "mailto", "", None, "", "/webmaster@golang.org", "", ""),
    ("mailto:webmaster@golang.org", "mailto", "webmaster@golang.org", None, "", "", "", ""),
    ("/foo?query=http://bad", "", "", None, "", "/foo", "query=http://bad", ""),
    ("//foo", "", "", None, "foo", "", "", ""),
    ("//user@foo/path?a=b", "", "", "user", "foo", "/path", "a=b", ""),
    ("///threeslashes", "", "", None, "", "///threeslashes", "", ""),
    ("http://user:password@google.com", "http", "", "user:password", "google.com", "", "", ""),
    ("http://j@ne:password@google.com", "http", "", "j@ne:password", "google.com", "", "", ""),
    ("http://jane:p@ssword@google.com", "http", "", "jane:p@ssword", "google.com", "", "", ""),
    ("http://j@ne:password@google.com/p@th?q=@go", "http", "", "j@ne:password", "google.com",
     "/p@th", "q=@go", ""),
    ("http://www.google.com/?q=go+language#foo", "http", "", None, "www.google.com", "/",
     "q=go+language", "foo"),
    ("http://www.google.com/?q=go+language#foo&bar", "http", "", None, "www.google.com", "/",
     "q=go+language", "foo&bar"),
    ("http://www.google.com/?q=go+language#foo%26bar", "http", "", None, "www.google.com", "/",
     "q=go+language", "foo&bar"),
    ("file:///home/adg/rabbits", "file", "", None, "", "/home/adg/rabbits", "", ""),
    ("file:///C:/FooBar/Baz.txt", "file", "", None, "", "/C:/FooBar/Baz.txt", "", ""),
    ("MaIlTo:webmaster@golang.org", "mailto", "webmaster@golang.org", None, "", "", "", ""),
    ("a/b/c", "", "", None, "", "a/b/c", "", ""),
    ("http://%3Fam:pa%3Fsword@google.com", "http", "", "%3Fam:pa%3Fsword", "google.com", "", "",
     ""),
    ("http://192.168.0.1/", "http", "", None, "192.168.0.1", "/", "", ""),
    ("http://192.168.0.1:8080/", "http", "", None, "192.168.0.1:8080", "/", "", ""),
    ("http://[fe80::1]/", "http", "", None, "[fe80::1]", "/", "", ""),
    ("http://[fe80::1]:8080/", "http", "", None, "[fe80::1]:8080", "/", "", ""),
    ("https://[2001:db8::1]:8443/test/path", "https", "", None, "[2001:db8::1]:8443",
     "/test/path", "", ""),
    ("http://[fe80::1%25en0]/", "http", "", None, "[fe80::1%en0]", "/", "", ""),
    ("http://[fe80::1%25en0]:8080/", "http", "", None, "[fe80::1%en0]:8080", "/", "", ""),
    ("http://[fe80::1%25%65%6e%301-._~]/", "http", "", None, "[fe80::1%en01-._~]", "/", "", ""),
    ("http://[fe80::1%25%65%6e%301-._~]:8080/", "http", "", None, "[fe80::1%en01-._~]:8080", "/",
     "", ""),
    ("http://rest.rsc.io/foo%2fbar/baz%2Fquux?alt=media", "http", "", None, "rest.rsc.io",
     "/foo/bar/baz/quux", "alt=media", ""),
    ("mysql://a,b,c/bar", "mysql", "", None, "a,b,c", "/bar", "", ""),
    ("scheme://!$&'()*+,;=hello!:1/path", "scheme", "", None, "!$&'()*+,;=hello!:1", "/path",
     "", ""),
    ("http://host/!$&'()*+,;=:@[hello]", "http", "", None, "host", "/!$&'()*+,;=:@[hello]", "",
     ""),
    ("http://example.com/oid/[order_id]", "http", "", None, "example.com", "/oid/[order_id]", "",
     ""),
    ("http://192.168.0.2:8080/foo", "http", "", None, "192.168.0.2:8080", "/foo", "", ""),
    ("http://192.168.0.2:/foo", "http", "", None, "192.168.0.2:", "/foo", "", ""),
    ("http://[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:8080/foo", "http", "", None,
     "[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:8080", "/foo", "", ""),
    ("http://[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:/foo", "http", "", None,
     "[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:", "/foo", "", ""),
    ("http://hello.\u4e16\u754c.com/foo", "http", "", None, "hello.\u4e16\u754c.com", "/foo", "",
     ""),
    ("http://hello.%e4%b8%96%e7%95%8c.com/foo", "http", "", None, "hello.\u4e16\u754c.com",
     "/foo", "", ""),
    ("http://hello.%E4%B8%96%E7%95%8C.com/foo", "http", "", None, "hello.\u4e16\u754c.com",
     "/foo", "", ""),
    ("http://example.com//foo", "http", "", None, "example.com", "//foo", "", ""),
    ('myscheme://authority<"hi">/foo', "myscheme", "", None, 'authority<"hi">', "/foo", "", ""),
    ("tcp://[2020::2020:20:2020:2020%25Windows%20Loves%20Spaces]:2020", "tcp", "", None,
     "[2020::2020:20:2020:2020%Windows Loves Spaces]:2020", "", "", ""),
    ("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", "magnet", "", None, "",
     "", "xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", ""),
    ("mailto:?subject=hi", "mailto", "", None, "", "", "subject=hi", ""),
    # go.dev/issue/75859: other schemes keep listing hosts with colons.
    ("postgres://host1:1,host2:2,host3:3", "postgres", "", None, "host1:1,host2:2,host3:3", "",
     "", ""),
    ("postgresql://host1:1,host2:2,host3:3", "postgresql", "", None, "host1:1,host2:2,host3:3",
     "", "", ""),
    ("mongodb://user:password@host1:1,host2:2,host3:3", "mongodb", "", "user:password",
     "host1:1,host2:2,host3:3", "", "", ""),
    ("mongodb+srv://user:password@host1:1,host2:2,host3:3", "mongodb+srv", "", "user:password",
     "host1:1,host2:2,host3:3", "", "", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "scheme", "opaque", "userinfo", "host", "path", "query", "fragment"), PARSED
)
def test_parses_as_go_does(
    raw: str, scheme: str, opaque: str, userinfo: str | None, host: str, path: str, query: str,
    fragment: str,
) -> None:  # fmt: skip
    url = parse_go_url(raw)
    assert (url.scheme, url.opaque, url.userinfo, url.host, url.path, url.raw_query,
            url.fragment) == (scheme, opaque, userinfo, host, path, query, fragment)  # fmt: skip


def test_a_lone_question_mark_forces_an_empty_query() -> None:
    assert parse_go_url("http://www.google.com/?").force_query is True


# TestParseErrors, TestInvalidUserPassword and TestRejectControlCharacters: (input, refused).
PARSE_ERRORS = [
    ("http://[::1]", False),
    ("http://[::1]:80", False),
    ("http://[::1]:namedport", True),
    ("http://x:namedport", True),
    ("http://[::1]/", False),
    ("http://[::1]a", True),
    ("http://[::1]%23", True),
    ("http://[::1%25en0]", False),
    ("http://[::1]:", False),
    ("http://x:", False),
    ("http://[::1]:%38%30", True),
    ("http://[::1%25%41]", False),
    ("http://[%10::1]", True),
    ("http://[::1]/%48", False),
    ("http://%41:8080/", True),
    ("mysql://x@y(z:123)/foo", True),
    ("mysql://x@y(1.2.3.4:123)/foo", True),
    (" http://foo.com", True),
    ("ht tp://foo.com", True),
    ("ahttp://foo.com", False),
    ("1http://foo.com", True),
    ("http://[]%20%48%54%54%50%2f%31%2e%31%0a%4d%79%48%65%61%64%65%72%3a%20%31%32%33%0a%0a/",
     True),
    ("http://a b.com/", True),
    ("cache_object://foo", True),
    ("cache_object:foo", True),
    ("cache_object:foo/bar", True),
    ("cache_object/:foo/bar", False),
    # CVE-2025-47912: brackets hold an IPv6 address, an IPv4-mapped one too, and nothing else.
    ("http://[192.168.0.1]/", True),
    ("http://[192.168.0.1]:8080/", True),
    ("http://[::ffff:192.168.0.1]/", False),
    ("http://[::ffff:192.168.0.1000]/", True),
    ("http://[::ffff:192.168.0.1]:8080/", False),
    ("http://[::ffff:c0a8:1]/", False),
    ("http://[not-an-ip]/", True),
    ("http://[fe80::1%foo]/", True),
    ("http://[fe80::1", True),
    ("http://fe80::1]/", True),
    ("http://[test.com]/", True),
    # CVE-2026-25679: a `[` only at the start of the host.
    ("http://example.com[::1]", True),
    ("http://example.com[::1", True),
    ("http://[::1", True),
    ("http://.[::1]", True),
    ("http:// [::1]", True),
    ("hxxp://mathepqo[.]serveftp(.)com:9059", True),
    ("http://user^:passwo^rd@foo.com/", True),
    ("http://foo.com/?foo\nbar", True),
    ("http\r://foo.com/", True),
    ("http://foo\x7f.com/", True),
    ("http://foo.com/ctl\x80", False),  # not an ASCII control character
]  # fmt: skip

# TestParseRequestURI's URLs with a scheme (and no `#`), which Parse reads as it does.
REQUEST_URIS = [
    ("http://foo.com", False),
    ("http://foo.com/", False),
    ("http://foo.com/path", False),
    ("http://192.168.0.1/", False),
    ("http://192.168.0.1:8080/", False),
    ("http://[fe80::1]/", False),
    ("http://[fe80::1]:8080/", False),
    ("http://[fe80::1%25en0]/", False),
    ("http://[fe80::1%25en0]:8080/", False),
    ("http://[fe80::1%25%65%6e%301-._~]/", False),
    ("http://[fe80::1%25%65%6e%301-._~]:8080/", False),
    ("http://192.168.0.%31/", True),
    ("http://192.168.0.%31:8080/", True),
    ("http://[fe80::%31]/", True),
    ("http://[fe80::%31]:8080/", True),
    ("http://[fe80::%31%25en0]/", True),
    ("http://[fe80::%31%25en0]:8080/", True),
    ("http://[fe80::1%en0]/", True),
    ("http://[fe80::1%en0]:8080/", True),
    ("https://[1:2:3:4:5:6:7:8]", False),
    ("https://[2001:db8::a:b:c:d]", False),
    ("https://[fe80::1%25eth0]", False),
    ("https://[fe80::abc:def%254]", False),
    ("https://[2001:db8::1]/path", False),
    ("https://[fe80::1%25eth0]/path?query=1", False),
    ("https://[::ffff:192.0.2.1]", False),
    ("https://[:1] ", True),
    ("https://[1:2:3:4:5:6:7:8:9]", True),
    ("https://[1::1::1]", True),
    ("https://[1:2:3:]", True),
    ("https://[ffff::127.0.0.4000]", True),
    ("https://[0:0::test.com]:80", True),
    ("https://[2001:db8::test.com]", True),
    ("https://[test.com]", True),
    # go.dev/issue/75223: one colon at most outside brackets in an http(s) host. These are
    # TestParseStrictIpv6's too, which only GODEBUG=urlstrictcolons=0 lets through.
    ("https://1:2:3:4:5:6:7:8", True),
    ("https://1:2:3:4:5:6:7:8:80", True),
    ("https://example.com:80:", True),
]  # fmt: skip

# The findings of issue 25, and the neighbours of the colon rule.
ISSUE_25 = [
    ("https://[10.0.0.1]", True),
    ("https://[msr.example.com]:8443", True),
    ("http://[minio.local]:9000", True),
    ("http://proxy.example.com:3128:3128", True),
    ("https://msr.example.com[::1]:443", True),
    ("https://MSR.Example.com", False),
    ("http://localhost:1:2", True),  # doc/godebug.md's examples of urlstrictcolons
    ("http://::1/", True),
    ("HTTP://a:1:2", True),  # the scheme is read in lower case first
    ("socks5://a:1:2", False),  # the old reading: the last colon starts the port
    ("//a:1:2", False),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "refused"), PARSE_ERRORS + REQUEST_URIS + ISSUE_25)
def test_refuses_what_go_refuses(raw: str, refused: bool) -> None:
    if refused:
        with pytest.raises(GoURLError):
            parse_go_url(raw)
    else:
        parse_go_url(raw)


def test_control_characters_are_named_as_go_names_them() -> None:
    with pytest.raises(ValueError, match="net/url: invalid control character in URL"):
        parse_go_url("https://msr.example.com\t")


@pytest.mark.parametrize(("raw", "why"), [
    ("https://[10.0.0.1]", "brackets hold an IPv6 address and nothing else"),
    ("https://[msr.example.com]:8443", "brackets hold an IPv6 address and nothing else"),
    ("https://msr.example.com[::1]", "a `[` only at the start of the host"),
    ("http://proxy.example.com:3128:3128", "one colon at most, before the port"),
])  # fmt: skip
def test_a_refusal_of_the_new_rules_says_why(raw: str, why: str) -> None:
    with pytest.raises(GoURLError) as refused:
        parse_go_url(raw)
    assert why in refused.value.reason


def test_a_refusal_never_quotes_the_url_in_its_reason() -> None:
    with pytest.raises(GoURLError) as refused:
        parse_go_url("http://user:s3cret@proxy.example.com:3128:3128")
    assert "3128" in str(refused.value)  # Go's own message quotes the port
    assert "3128" not in refused.value.reason and "s3cret" not in refused.value.reason


# TestURLHostnameAndPort.
@pytest.mark.parametrize(("host", "hostname", "port"), [
    ("foo.com:80", "foo.com", "80"),
    ("foo.com", "foo.com", ""),
    ("foo.com:", "foo.com", ""),
    ("FOO.COM", "FOO.COM", ""),
    ("1.2.3.4", "1.2.3.4", ""),
    ("1.2.3.4:80", "1.2.3.4", "80"),
    ("[1:2:3:4]", "1:2:3:4", ""),
    ("[1:2:3:4]:80", "1:2:3:4", "80"),
    ("[::1]:80", "::1", "80"),
    ("[::1]", "::1", ""),
    ("[::1]:", "::1", ""),
    ("localhost", "localhost", ""),
    ("localhost:443", "localhost", "443"),
    ("some.super.long.domain.example.org:8080", "some.super.long.domain.example.org", "8080"),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:17000",
     "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "17000"),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", ""),
    ("[google.com]:80", "google.com", "80"),
    ("google.com]:80", "google.com]", "80"),
    ("google.com:80_invalid_port", "google.com:80_invalid_port", ""),
    ("[::1]extra]:80", "::1]extra", "80"),
    ("google.com]extra:extra", "google.com]extra:extra", ""),
])  # fmt: skip
def test_hostname_and_port_split_as_go_splits_them(host: str, hostname: str, port: str) -> None:
    url = GoURL(host=host)
    assert (url.hostname, url.port) == (hostname, port)


# --- every reader of a URL here refuses what Go 1.26 refuses ------------------------------------

GO_1_26_REFUSES = [
    "https://[10.0.0.1]",  # CVE-2025-47912
    "https://[msr.example.com]:8443",
    "https://[::ffff:10.0.0.1000]",
    "https://msr.example.com[::1]",  # CVE-2026-25679
    "https://msr.example.com:8443:8443",  # go.dev/issue/75223
    "https://fd00::1",
]


@pytest.mark.parametrize("url", GO_1_26_REFUSES)
def test_each_url_check_refuses_what_go_1_26_refuses(url: str) -> None:
    """The upstreams, msrApi.url (and the cache's URL registered with it), an object storage
    endpoint and a proxy: each is refused where Go 1.26 refuses it, saying so."""
    with pytest.raises(Invalid, match="Go's net/url"):
        check_upstream(url)
    with pytest.raises(ValueError, match="Go's net/url"):
        normalised_url(url)
    with pytest.raises(ValueError, match="Go's net/url"):
        check_object_storage({"driver": "s3", "bucket": "b", "region": "r", "regionendpoint": url})
    with pytest.raises(GoURLError):
        proxy_url(url)


@pytest.mark.parametrize(("url", "one"), [
    ("https://MSR.Example.com", "https://msr.example.com"),
    ("HTTPS://MSR.EXAMPLE.COM:443/", "https://msr.example.com"),
    ("https://[FD00::1]:8443", "https://[fd00::1]:8443"),
])  # fmt: skip
def test_msr_api_urls_go_takes_in_any_case_have_one_spelling(url: str, one: str) -> None:
    parse_go_url(url)
    assert normalised_url(url) == one


def test_a_refused_msr_api_url_is_not_quoted() -> None:
    with pytest.raises(ValueError) as refused:
        normalised_url("https://admin:s3cret@[msr.example.com]")
    assert "s3cret" not in str(refused.value) and "msr.example.com" not in str(refused.value)


# --- the real Go judges ---------------------------------------------------------------------------

GO_JUDGE = ROOT / "tests" / "unit" / "go_url"


@pytest.fixture(scope="module")
def go_url(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/unit/go_url built with the Go on this machine (never another toolchain it would fetch)."""
    if shutil.which("go") is None:
        unavailable("go is missing: install Go 1.26 (https://go.dev/doc/install)")
    built = tmp_path_factory.mktemp("go_url") / "go_url"
    done = subprocess.run(
        ["go", "build", "-o", str(built), "."], cwd=GO_JUDGE,
        env={**os.environ, "GOTOOLCHAIN": "local"}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return built


def _judge(program: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [str(program), *args], input=stdin, env=env, capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def _text(field: str | None) -> str:
    """A string Go printed as bytes (base64 in JSON), read as the port reads bytes."""
    return base64.b64decode(field or "").decode(errors="replace")


def _as_go_reads_it(raw: str) -> dict[str, Any]:
    """What the port makes of `raw`, in the shape tests/unit/go_url prints, its bytes as text."""
    try:
        url = parse_go_url(raw)
    except GoURLError:
        return {"refused": True}
    user, colon, password = (url.userinfo or "").partition(":")
    return {
        "refused": False, "scheme": url.scheme, "opaque": url.opaque,
        "has_user": url.userinfo is not None,
        "username": unquote_to_bytes(user).decode(errors="replace"),
        "password": unquote_to_bytes(password).decode(errors="replace"),
        "has_password": bool(colon), "host": url.host, "hostname": url.hostname,
        "port": url.port, "path": url.path, "raw_query": url.raw_query,
        "force_query": url.force_query, "fragment": url.fragment,
    }  # fmt: skip


def _go_read(printed: dict[str, Any]) -> dict[str, Any]:
    if "error" in printed:
        return {"refused": True}
    flags = ("has_user", "has_password", "force_query")
    return {"refused": False, **{k: v if k in flags else _text(v) for k, v in printed.items()}}


def _differences(program: Path, cases: Sequence[str]) -> list[tuple[str, Any, Any]]:
    stdin = "".join(json.dumps(case) + "\n" for case in cases)
    printed = _judge(program, "parse", stdin=stdin)
    assert len(printed) == len(cases)
    return [
        (case, ours, go)
        for case, read in zip(cases, printed, strict=True)
        if (ours := _as_go_reads_it(case)) != (go := _go_read(read))
    ]


def test_the_judge_is_the_go_the_port_follows(go_url: Path) -> None:
    # The port is of go1.26.8; another Go 1.26 release must read URLs alike (the cases below
    # say whether it does), and another minor version is not the Go this project builds with.
    (version,) = _judge(go_url, "version")
    assert version.startswith("go1.26"), version


def test_every_case_here_is_read_as_the_go_here_reads_it(go_url: Path) -> None:
    cases = [case[0] for case in (*PARSED, *PARSE_ERRORS, *REQUEST_URIS, *ISSUE_25)]
    assert _differences(go_url, cases) == []


def _generated(seed: int, count: int) -> Iterator[str]:
    """URLs assembled from the parts where readings differ: schemes with and without the colon
    rule, credentials, hosts in and out of brackets, addresses of each family, zones, escapes,
    ports and extra colons; each then mutated a little."""
    rng = random.Random(seed)
    schemes = ["http", "https", "HTTPS", "s3", "socks5", "postgres", "", "1x", "ht_tp"]
    separators = ["://", "://", "://", ":", ":/", "//", ""]
    users = ["", "", "u@", "u:p@", "u:p%20w@", "j@ne:p@ss@", "u^@", "u:%zz@", "%41:%e4@"]
    hosts = [
        "msr.example.com", "MSR.Example.COM", "10.0.0.1", "fd00::1", "a,b", "", "%41", "%e4%b8",
        "a b", "a[", "a]", "a[::1]", "[", "]", "[]", "[::]", "[::1]", "[10.0.0.1]", "[1::2::3]",
        "[msr.example.com]", "[fe80::1%25en0]", "[fe80::1%en0]", "[fe80::1%25]", "[::%2541]",
        "[::ffff:1.2.3.4]", "[::ffff:01.2.3.4]", "[::ffff:1.2.3.256]", "[::1.2.3.4]",
        "[1:2:3:4:5:6:1.2.3.4]", "[1:2:3:4:5:6:7:1.2.3.4]", "[1:2:3:4:5:6:7:8]",
        "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7::]", "[::1:2:3:4:5:6:7:8]", "[12345::]",
        "[1:2:3:]", "[:1]", "[1.2.3.4%25z]", "[%31::]", "[%e4::]", "[::1]]",
    ]  # fmt: skip
    ports = ["", "", ":", ":80", ":3128:3128", ":x", ":99999", "::", ":%38", ":1:"]
    tails = ["", "/", "/v2/", "/a%20b", "/%zz", "?", "?a=b", "#", "#f%20g", "#%zz", "/[x]"]
    noise = "[]:%@/?#. \t0aA\x80"
    for _ in range(count):
        parts = [rng.choice(p) for p in (schemes, separators, users, hosts, ports, tails)]
        text = "".join(parts)
        for _ in range(rng.choice([0, 0, 1, 2])):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(noise) + text[at + rng.choice([0, 1]) :]
        yield text


def test_generated_urls_are_read_as_go_reads_them(go_url: Path) -> None:
    cases = sorted(set(_generated(seed=25, count=20_000)))
    assert _differences(go_url, cases)[:5] == []


def _ipv6_literals(seed: int, count: int) -> Iterator[str]:
    """Bracketed hosts that are IPv6 addresses or nearly, for the port of netip.ParseAddr."""
    rng = random.Random(seed)
    fine = ["0", "1", "ffff", "FfFf", "0db8", "1.2.3.4", "255.255.255.255"]
    wrong = ["12345", "g", "", "01.2.3.4", "1.2.3", "1.2.3.256", "1.2.3.4.5", "1..2.3", "%41"]
    joins = [":"] * 12 + ["::", ":::"]
    zones = ["", "", "", "%25en0", "%25", "%2541", "%25%20", "%25a%25b", "%en0"]

    def group() -> str:
        return rng.choice(fine if rng.random() < 0.9 else wrong)

    for _ in range(count):
        text = rng.choice(["", "", "::"]) + group()
        for _ in range(rng.choice([1, 2, 5, 6, 7, 7, 7, 8])):  # 7 joins make 8 groups
            text += rng.choice(joins) + group()
        yield f"https://[{text}{rng.choice(zones)}]:443"


def test_near_ipv6_literals_are_read_as_go_reads_them(go_url: Path) -> None:
    cases = sorted(set(_ipv6_literals(seed=47912, count=20_000)))
    accepted = [c for c in cases if not _as_go_reads_it(c)["refused"]]
    assert len(accepted) > 300  # the corpus reaches both sides of the rule
    assert _differences(go_url, cases)[:5] == []


# Proxies: (the value of HTTPS_PROXY, what the port refuses that Go's net/http takes, or None).
PROXIES = [
    ("http://proxy.example.com:3128", None),
    ("https://proxy.example.com", None),
    ("socks5://proxy.example.com:1080", None),
    ("proxy.example.com:3128", None),  # read again as http://proxy.example.com:3128
    ("10.0.0.1:3128", None),
    ("http://user:pw@proxy.example.com:3128", None),
    ("http://[fd00::1]:3128", None),
    ("[fd00::1]:3128", None),
    ("http://[10.0.0.1]:3128", "not read as written"),
    ("http://proxy.example.com:3128:3128", "not read as written"),  # Go: the proxy `http:`
    ("https://proxy.example.com[::1]:3128", "not read as written"),
    ("http:///path", "not read as written"),
    ("ftp://proxy.example.com", "none of http, https, socks5 and socks5h"),
    ("http://proxy.example.com:99999", "not within 1-65535"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "ours"), PROXIES)
def test_proxies_are_read_as_go_net_http_reads_them(
    go_url: Path, value: str, ours: str | None
) -> None:
    (printed,) = _judge(go_url, "proxy", env={"PATH": os.environ["PATH"], "HTTPS_PROXY": value})
    go = _go_read(printed)
    try:
        url = proxy_url(value)
    except GoURLError:
        assert ours is not None or go["refused"], f"Go takes {value!r} as {go}"
        if ours == "not read as written":
            assert not go["refused"]
            # Go did take it, but not as written: the scheme became the host, or no host.
            assert go["hostname"] in ("", value.partition(":")[0]), go
        elif ours is not None:
            assert not go["refused"]
        return
    assert ours is None and not go["refused"]
    assert (url.scheme, url.host) == (go["scheme"], go["host"])
