"""The cache's registration with MSR, as a resource: `pulumi destroy` deregisters it.

MSR's content cache API (MSR 2.9 docs, "Deploy the cache", step 3): an admin registers a cache
with `POST /api/v0/content_caches` and `{"name", "host"}`, lists them with a GET of the same
path and removes one with `DELETE /api/v0/content_caches/{id}`; HTTP basic auth with a user and
a token. Assumed, not documented there: a GET of `/api/v0/content_caches/{id}` reads one, and MSR
refuses a second registration of a name it holds (docs/operate.md says what this code does if
not). `MsrRegistrationProvider` is a Pulumi dynamic provider: the engine runs it in a Python
process of its own (`python -m pulumi.dynamic`, in the program's directory), which imports this
module. So dynamic providers work from Python programs only, not through the component package.
The state names the provider by this module's path (`components.registration`), not by value:
every later update, refresh or destroy imports it again, so it must stay importable.

A registration is never lost by surprise. `check` normalises apiUrl and host, so spelling the
same MSR or cache another way is no change. A registration MSR already has is taken over only
when asked (`adopt`), and only once a GET of its id shows it alive: otherwise the resource that
made it may still hold it, and would deregister it on its delete. `import_` cannot work for a
dynamic provider (pulumi/pulumi#16175), so MsrRegistration refuses it. A replacement that keeps
the name deletes the old registration first, since MSR may be the same one spelled in a way no
normalisation sees (its IP). A POST that may have been carried out (no answer in time, a 5xx, a
2xx without the registration in it) is followed by lookups of the name, never by a second POST
until a lookup shows the name free, and a registration is never left outside the state: it is
found and returned, or, made but not as asked, deleted again.

The token is a secret input and a secret output (delete reads it from state, encrypted). It is
never put in an error message: a refused token is reported by user name and URL. It goes only
to apiUrl's origin: a redirect elsewhere (or to plain http) is refused, naming its target.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast
from urllib.parse import quote, urlsplit

import pulumi
import pulumi.dynamic as dynamic
from pulumi.runtime import rpc

from .inputs.go_url import GoURLError, parse_go_url
from .inputs.ip_literal import ip_or_none

PATH = "/api/v0/content_caches"
# The worst case of one operation (create, read or delete; docs/operate.md says it): each request
# waits at most TIMEOUT for an answer and is tried at most len(RETRY_DELAYS) + 1 times, waiting
# RETRY_DELAYS between tries (or what a 429's Retry-After asks); whatever is left, the operation
# gives up DEADLINE seconds after it began. No POST is sent, nor waited for, within LOOKUP_RESERVE
# of the deadline: a POST that may have been carried out leaves that long at least to look its
# name up (SETTLE_WAIT apart once the retries of a lookup are spent).
TIMEOUT = 10.0
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
DEADLINE = 60.0
LOOKUP_RESERVE = 20.0
SETTLE_WAIT = 2.0
# Go's crypto/x509 (MSR's clients, the cache) ends a chain at any certificate of the trusted pool,
# self-signed or not, and asks nothing of RFC 5280's strict profile (an authority key identifier
# on every certificate but a root, say): OpenSSL's PARTIAL_CHAIN and not X509_STRICT. Python
# 3.13's create_default_context turns both on (CPython gh-107361); 3.11 and 3.12 leave both off.
# Set whole, the flags are the same on every Python.
VERIFY_FLAGS = ssl.VERIFY_X509_TRUSTED_FIRST | ssl.VERIFY_X509_PARTIAL_CHAIN
# A change of these replaces the registration: MSR has no update of a cache's name or host.
REPLACED_BY = ("apiUrl", "name", "host")
API_URL_ACCEPTED = (
    "MSR's https:// URL, https://host[:port], without path (the provider adds "
    f"{PATH}), query or credentials (give username and token)"
)
HOST_ACCEPTED = "the cache's https:// URL, https://host[:port], without path, query or credentials"
CA_ACCEPTED = "PEM text of the CA certificates that signed MSR's API certificate"
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class RegistrationError(Exception):
    """MSR refused or failed a request; the message names the URL, never the token."""


def normalised_url(value: Any) -> str:
    """An https origin as one spelling: scheme and host in lower case (host names are
    case-insensitive), an IPv6 address compressed, the default port and a trailing slash dropped.
    Raises ValueError, saying why without quoting the URL, for anything else: a path, a query,
    credentials, a character urllib would strip or drop (spaces, tabs, newlines), or what Go
    1.26's net/url refuses (inputs.go_url.parse_go_url: the cache and MSR's own clients are Go
    programs), since what is checked must be what is used."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError("printable ASCII without spaces")
    try:
        parse_go_url(value)
    except GoURLError as err:  # its reason: Go's message may quote a part of a password
        raise ValueError(f"Go's net/url: {err.reason}") from None
    url = urlsplit(value)
    port = url.port  # raises ValueError for a port that is not a number within 0-65535
    host = url.hostname or ""
    if (
        url.scheme.lower() != "https"
        or "@" in url.netloc
        or url.netloc.endswith(":")
        or port == 0
        or url.path not in ("", "/")
        or "?" in value
        or "#" in value
    ):
        raise ValueError("https://host[:port], a port within 1-65535, nothing after it but a /")
    address = ip_or_none(host)  # a zone makes no address, and no DNS name either
    if address is None:
        if not _DNS_NAME.fullmatch(host) or host.rsplit(".", 1)[-1].isdigit():
            raise ValueError("a DNS name or an IP address (no zone) for a host")
    else:
        host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    return f"https://{host}" + (f":{port}" if port not in (None, 443) else "")


def check_ca_cert(value: Any) -> str:
    """CA certificates MSR's API may be signed by, as Python's TLS client loads them (beside the
    system's); raises ValueError."""
    if not isinstance(value, str) or "-----BEGIN CERTIFICATE-----" not in value:
        raise ValueError(CA_ACCEPTED)
    try:
        tls_context(value)
    except (ssl.SSLError, ValueError):
        raise ValueError(CA_ACCEPTED) from None
    return value


def tls_context(ca_cert_pem: str | None = None) -> ssl.SSLContext:
    """The TLS client context for MSR's API: the system's CAs plus `ca_cert_pem` (never in their
    place: a proxy or a public CA may sign MSR's API), verifying as Go's crypto/x509 does, with
    the same flags on every Python (VERIFY_FLAGS)."""
    context = ssl.create_default_context()
    context.verify_flags = VERIFY_FLAGS
    if ca_cert_pem:
        context.load_verify_locations(cadata=ca_cert_pem)
    return context


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, what it accepts) for each input MSR's API could not take."""
    found: list[tuple[str, str]] = []
    for key, accepted in (("apiUrl", API_URL_ACCEPTED), ("host", HOST_ACCEPTED)):
        try:
            normalised_url(props.get(key))
        except ValueError:
            found.append((key, accepted))
    for key in ("username", "token", "name"):
        if not isinstance(props.get(key), str) or not props[key]:
            found.append((key, "a non-empty string"))
    if props.get("caCertPem") is not None:
        try:
            check_ca_cert(props["caCertPem"])
        except ValueError:
            found.append(("caCertPem", CA_ACCEPTED))
    if props.get("adopt") not in (None, True, False):
        found.append(("adopt", "true or false"))
    return found


def _plain(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


def _identity(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` with apiUrl and host in their one spelling, where they have one (a state written
    before normalisation may hold another)."""
    found = dict(props)
    for key in ("apiUrl", "host"):
        with contextlib.suppress(ValueError):
            found[key] = normalised_url(_plain(props.get(key)))
    return found


class MsrRegistrationProvider(dynamic.ResourceProvider):
    """Create, read, diff and delete a content cache registration through MSR's API."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        # No value is shown: the token, or credentials in a URL, would be printed.
        known = {k: _plain(v) for k, v in news.items() if _plain(v) != rpc.UNKNOWN}
        failures = [
            dynamic.CheckFailure(k, f"{k}: expected {accepted}")
            for k, accepted in problems(known)
            if k in known
        ]
        inputs = dict(news)
        failed = {f.property for f in failures}
        for key in ("apiUrl", "host"):
            if key in known and key not in failed:
                spelled = normalised_url(known[key])
                inputs[key] = (
                    rpc.wrap_rpc_secret(spelled) if rpc.is_rpc_secret(news[key]) else spelled
                )
        return dynamic.CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        api = _Api(props)
        name, host = props["name"], normalised_url(props["host"])
        existing = api.find(name)
        if existing is not None:
            _may_adopt(props, existing)
            return dynamic.CreateResult(str(existing["id"]), _outputs(props))
        created, answered = api.register(name, host)
        if not answered and _host_of(created) != host:
            # Registered meanwhile by someone else (found by a lookup): not this create's.
            raise RegistrationError(_conflict(props, created))
        if answered and (
            created.get("name", name) != name or _host_of({"host": host, **created}) != host
        ):
            raise _withdrawn(api, props, created)  # this POST's, but not as asked
        return dynamic.CreateResult(str(created["id"]), _outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        found = next((c for c in _Api(props).list() if str(c.get("id")) == id_), None)
        if found is None:
            return dynamic.ReadResult(None, {})  # gone: the engine drops it from state
        return dynamic.ReadResult(
            id_, {**_outputs(props), "name": found.get("name"), "host": _host_of(found)}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        olds, news = _identity(olds), _identity(news)
        changed = [
            k
            for k in (*REPLACED_BY, "username", "token", "caCertPem")
            if olds.get(k) != news.get(k)
        ]
        replaces = [k for k in REPLACED_BY if k in changed]
        # A replacement that keeps the name removes the old registration first: at the same MSR
        # the name cannot be registered twice, and the new apiUrl may be the same MSR spelled in
        # a way no normalisation sees (its IP), where the new one would be the old one.
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and olds.get("name") == news.get("name"),
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        # Only the credentials or the CA changed: MSR keeps the registration as it is.
        return dynamic.UpdateResult(_outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _Api(props).call("DELETE", _by_id(id_), missing_ok=True)


def _host_of(cache: Mapping[str, Any]) -> Any:
    """A registration's host as MSR holds it, in its one spelling where it has one."""
    try:
        return normalised_url(cache.get("host"))
    except ValueError:
        return cache.get("host")


def _may_adopt(props: Mapping[str, Any], existing: Mapping[str, Any]) -> None:
    """Raises unless the registration MSR already has may become this resource's."""
    if _host_of(existing) != normalised_url(props["host"]):
        raise RegistrationError(_conflict(props, existing))
    if props.get("adopt") is not True:
        raise RegistrationError(_taken(props, existing))


def _conflict(props: Mapping[str, Any], existing: Mapping[str, Any]) -> str:
    return (
        f"MSR at {props['apiUrl']} already has a content cache named {props['name']!r} "
        f"(id {existing.get('id')}) with host {existing.get('host')}, not {props['host']}: "
        "delete it in MSR or give this cache another name"
    )


def _taken(props: Mapping[str, Any], existing: Mapping[str, Any]) -> str:
    return (
        f"MSR at {props['apiUrl']} already has content cache {props['name']!r} "
        f"(id {existing.get('id')}, host {existing.get('host')}), which this resource did not "
        "make, so it is not taken over silently. If a resource of this stack made it under "
        "another name or parent, keep that name or give an alias (ResourceOptions(aliases=...)). "
        "If it was registered by hand or its state was lost, take it over: msrApi.adopt: true "
        "(Python: adopt=True)"
    )


def _withdrawn(api: _Api, props: Mapping[str, Any], made: Mapping[str, Any]) -> RegistrationError:
    """The error for a registration MSR made on this create's POST but not as asked, deleted
    again first: the state could not hold it as declared, and it must not stay outside it."""
    shown = (
        f"MSR at {props['apiUrl']} answered the registration of {props['name']!r} with "
        f"{made.get('name')!r} (id {made.get('id')}) and host {made.get('host')}, not "
        f"{normalised_url(props['host'])}"
    )
    try:
        api.call("DELETE", _by_id(made.get("id")), missing_ok=True)
    except RegistrationError as err:
        return RegistrationError(f"{shown}; deleting it failed ({err}): delete it in MSR")
    return RegistrationError(f"{shown}, so it was deleted again: nothing was registered")


def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in props.items()
        if k in ("apiUrl", "username", "token", "caCertPem", "name", "host", "adopt")
    }


def _by_id(id_: Any) -> str:
    """The path of one registration."""
    return f"{PATH}/{quote(str(id_), safe='')}"


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an absolute URL, the port filled in; None for a URL without one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        return None
    return (scheme, parts.hostname, port) if parts.hostname else None


def _shown(url: str) -> str:
    """A URL to name in a message: scheme, host, port and path, without userinfo or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class _Redirected(RegistrationError):
    """MSR answered with a redirect the token may not follow."""


class _Duplicates(RegistrationError):
    """MSR holds a name more than once, which this code assumes it never does."""


class _Unreadable(RegistrationError):
    """A 2xx answer that is not JSON: the request was carried out, its result is unknown."""


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only of a GET and only within its origin (scheme, host and port), and
    refuses any other, naming its target. urllib's own handler copies every header but
    Content-Length and Content-Type onto the redirected request, Authorization (the token)
    included, to any host and from https down to http, and turns a POST answered 301, 302 or 303
    into a GET (CPython Lib/urllib/request.py, HTTPRedirectHandler.redirect_request)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        method, origin = req.get_method(), _origin(req.full_url)
        if method == "GET" and origin is not None and _origin(newurl) == origin:
            return super().redirect_request(req, fp, code, msg, headers, newurl)
        fp.close()
        why = (
            f"a {method} is not redirected"
            if _origin(newurl) == origin
            else "the token is sent to msrApi.url's origin (scheme, host and port) and nowhere "
            "else: give msrApi.url as MSR's own address"
        )
        raise _Redirected(
            f"{method} {_shown(req.full_url)}: MSR answered HTTP {code}, a redirect to "
            f"{_shown(newurl)}, which is not followed: {why}"
        )


class _Retry(Exception):
    """An attempt that failed where another may succeed: what failed, how long to wait (None: the
    next delay), and whether MSR may have carried the request out."""

    def __init__(self, failure: str, wait: float | None = None, committed: bool = False) -> None:
        super().__init__(failure)
        self.failure, self.wait, self.committed = failure, wait, committed


class _Api:
    """MSR's API at props' apiUrl, as props' user, for one operation (its DEADLINE)."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.url = str(props["apiUrl"]).rstrip("/")
        self.username = str(props["username"])
        credentials = f"{self.username}:{props['token']}".encode()
        self._authorization = "Basic " + base64.b64encode(credentials).decode()
        # MSR's CA is added to the system's trust, and upstreamCaCert (the next hop's CA) plays
        # no part.
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=tls_context(props.get("caCertPem"))),
            _SameOriginRedirects(),
        )
        self._deadline = time.monotonic() + DEADLINE

    def list(self) -> list[dict[str, Any]]:
        """Every registration MSR lists."""
        listed: Any = self.call("GET", PATH)
        if listed is None:
            return []
        if not isinstance(listed, list) or not all(
            isinstance(c, dict) for c in cast(list[Any], listed)
        ):
            raise RegistrationError(f"GET {self.url}{PATH}: the answer is not a list of caches")
        return cast(list[dict[str, Any]], listed)

    def get(self, id_: Any) -> dict[str, Any] | None:
        """The registration of this id as MSR holds it; None when MSR has none (404)."""
        got: Any = self.call("GET", _by_id(id_), missing_ok=True)
        if got is not None and not isinstance(got, dict):
            raise RegistrationError(f"GET {self.url}{_by_id(id_)}: the answer is not a cache")
        return cast(dict[str, Any] | None, got)

    def find(self, name: str) -> dict[str, Any] | None:
        """The registration MSR holds under `name`, None without one. Each one the list shows
        is read by its id first: the list may come from a replica that has not seen a delete
        yet, and a dead id is never adopted or returned. Raises when MSR holds the name twice."""
        live: list[dict[str, Any]] = []
        for listed in self.list():
            if listed.get("name") != name or listed.get("id") in (None, ""):
                continue
            got = self.get(listed["id"])
            if got is not None and got.get("name", name) == name:
                live.append({**listed, **got})
        if len(live) > 1:
            ids = ", ".join(f"{c.get('id')} (host {c.get('host')})" for c in live)
            raise _Duplicates(
                f"MSR at {self.url} holds {len(live)} content caches named {name!r}: {ids}. "
                "This code assumes MSR holds a name once, and takes none of them: delete the "
                "ones no cache uses in MSR"
            )
        return live[0] if live else None

    def register(self, name: str, host: str) -> tuple[dict[str, Any], bool]:
        """POST the registration: (MSR's answer, True), or (what a lookup of the name found,
        False). After an attempt MSR may have carried out (no answer in time, a 5xx, a 2xx
        without the registration in it), no POST is sent until a lookup shows the name free;
        when a lookup fails, or no attempt is left, the name is looked up until the deadline."""
        url, body = self.url + PATH, {"name": name, "host": host}
        post_by = self._deadline - LOOKUP_RESERVE
        failure, attempts, sent = f"no time left of {DEADLINE:g} s", 0, False
        for delay in (*RETRY_DELAYS, None):
            remaining = post_by - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            try:
                answer = self._attempt("POST", url, body, min(TIMEOUT, remaining), False)
            except _Retry as retry:
                failure, sent = retry.failure, sent or retry.committed
                wait = retry.wait if retry.wait is not None else (delay or 0.0)
            except _Unreadable as unreadable:
                failure, sent = str(unreadable), True
                break
            except RegistrationError as refused:
                if not sent:  # refused, and no attempt before it may have been carried out
                    raise
                failure = str(refused)  # the name our own earlier attempt may have taken
                break
            else:
                made = cast(dict[str, Any], answer) if isinstance(answer, dict) else {}
                if made.get("id") not in (None, ""):
                    return made, True
                failure, sent = "a 2xx answer without the registration in it", True
                break
            if sent:
                try:
                    if (found := self.find(name)) is not None:
                        return found, False
                except _Duplicates:
                    raise
                except RegistrationError:
                    break  # not known to be free: no POST until it is
            if delay is None or time.monotonic() + wait >= post_by:
                break
            time.sleep(wait)
        if not sent:
            raise RegistrationError(f"POST {url}: {failure}, {attempts} attempts")
        if (found := self._settle(name)) is not None:
            return found, False
        raise RegistrationError(
            f"POST {url}: {failure}; MSR may have registered {name!r} all the same, and no "
            f"lookup of the name found it within {DEADLINE:g} s. Run pulumi up again: if MSR "
            "lists it by then, take it over with msrApi.adopt: true (Python: adopt=True)"
        )

    def _settle(self, name: str) -> dict[str, Any] | None:
        """After a POST MSR may have carried out: the name looked up until the deadline, whatever
        fails meanwhile; the registration found, or None."""
        while True:
            try:
                if (found := self.find(name)) is not None:
                    return found
            except _Duplicates:
                raise
            except RegistrationError:
                pass  # MSR unreachable or failing: the next lookup may tell
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(SETTLE_WAIT, remaining))

    def call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        """One request, retried while MSR answers 5xx or 429 or cannot be reached (a POST is
        `register`'s: retrying it is not this simple)."""
        url = self.url + path
        failure, attempts = f"no time left of {DEADLINE:g} s", 0
        for delay in (*RETRY_DELAYS, None):
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            try:
                return self._attempt(method, url, body, min(TIMEOUT, remaining), missing_ok)
            except _Retry as retry:
                failure = retry.failure
                wait = retry.wait if retry.wait is not None else (delay or 0.0)
            if delay is None or time.monotonic() + wait >= self._deadline:
                break
            time.sleep(wait)
        raise RegistrationError(f"{method} {url}: {failure}, {attempts} attempts")

    def _attempt(self, method: str, url: str, body: Any, timeout: float, missing_ok: bool) -> Any:
        """One attempt; raises _Retry where another may succeed, RegistrationError otherwise."""
        try:
            return self._once(method, url, body, timeout)
        except urllib.error.HTTPError as err:
            if err.code == 404 and missing_ok:
                return None
            if err.code in (401, 403):
                raise RegistrationError(
                    f"MSR at {self.url} refused user {self.username!r} (HTTP {err.code}): "
                    "check msrApi.username and msrApi.token (an admin's access token)"
                ) from None
            if err.code == 429:  # refused, not carried out: MSR asks to slow down
                raise _Retry("HTTP 429", self._retry_after(err, method, url)) from None
            if err.code < 500:
                raise RegistrationError(
                    f"{method} {url}: HTTP {err.code}: {_detail(err)}"
                ) from None
            raise _Retry(f"HTTP {err.code}", committed=True) from None
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, ssl.SSLError):  # no retry makes a certificate trusted
                why = getattr(reason, "verify_message", None) or reason.reason
                raise RegistrationError(
                    f"{method} {url}: TLS failed ({why}): give the CA that signed MSR's "
                    "API certificate, if the system does not trust it (msrApi.caCert; in Python "
                    "ca_cert_pem)"
                ) from None
            # Refused, or a name that does not resolve: nothing was sent.
            unsent = isinstance(reason, ConnectionRefusedError | socket.gaierror)
            raise _Retry(f"cannot connect ({reason})", committed=not unsent) from None

    def _retry_after(self, err: urllib.error.HTTPError, method: str, url: str) -> float | None:
        """The wait a 429's Retry-After asks (seconds or an HTTP date), None without one; raises
        when it is past the deadline: waiting would only fail later."""
        text = (err.headers.get("Retry-After") or "").strip()
        wait: float | None = None
        if text.isdigit():
            wait = float(text)
        elif text:
            try:
                wait = email.utils.parsedate_to_datetime(text).timestamp() - time.time()
            except (TypeError, ValueError):
                wait = None
        if wait is not None and time.monotonic() + max(wait, 0.0) >= self._deadline:
            raise RegistrationError(
                f"{method} {url}: HTTP 429: MSR asks to wait {wait:.0f} s, past this operation's "
                f"{DEADLINE:g} s: run it again later"
            )
        return None if wait is None else max(wait, 0.0)

    def _once(self, method: str, url: str, body: Any, timeout: float) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", self._authorization)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with self._opener.open(request, timeout=timeout) as answer:
            status, text = answer.status, answer.read()
        try:
            return json.loads(text) if text.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Unreadable(
                f"{method} {url}: HTTP {status}, and the answer is not JSON"
            ) from None


def _detail(err: urllib.error.HTTPError) -> str:
    """MSR's error message, short."""
    try:
        return err.read().decode(errors="replace")[:300] or err.reason
    except OSError:
        return str(err.reason)


# MsrRegistration refuses ResourceOptions.import_, which the engine cannot carry out for it.
IMPORT_REFUSED = (
    "MsrRegistration {name!r}: ResourceOptions(import_=...) cannot work for a dynamic provider's "
    "resource. The engine's import reads it with its id alone, and Pulumi's Python dynamic "
    "provider host finds its provider only among the resource's properties (KeyError: "
    "'__provider'; pulumi/pulumi#16175). Take the registration over with adopt=True "
    "(msrApi.adopt: true) instead"
)


class MsrRegistrationArgs(TypedDict):
    """The registration's inputs."""

    api_url: pulumi.Input[str]
    """MSR's URL, e.g. https://msr.example.com."""
    username: pulumi.Input[str]
    """An MSR admin."""
    token: pulumi.Input[str]
    """The admin's access token (kept in state only as a secret)."""
    name: pulumi.Input[str]
    """The cache's name in MSR (users pick it in their account settings)."""
    host: pulumi.Input[str]
    """The cache's URL, https://<host>:<port>."""
    ca_cert_pem: NotRequired[pulumi.Input[str] | None]
    """PEM of the CA that signed MSR's API certificate, trusted beside the system's CAs."""
    adopt: NotRequired[pulumi.Input[bool] | None]
    """Take over a registration of the same name and host that MSR already has (registered by
    hand, or by a stack whose state was lost), once a GET of its id shows it alive; without it,
    such a registration stops create. Not for one another resource holds: its delete would
    deregister it (rename with an alias). This, not `import_`, takes one over."""


class MsrRegistration(dynamic.Resource, module="msr-cache", name="MsrRegistration"):
    """A content cache registered with MSR; deleting it deregisters the cache. Refuses
    `import_` (IMPORT_REFUSED says why): take a registration over with `adopt`."""

    def __init__(
        self,
        resource_name: str,
        args: MsrRegistrationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if opts is not None and opts.import_ is not None:
            raise pulumi.RunError(IMPORT_REFUSED.format(name=resource_name))
        props: dict[str, Any] = {
            "apiUrl": args["api_url"],
            "username": args["username"],
            "token": pulumi.Output.secret(args["token"]),
            "name": args["name"],
            "host": args["host"],
            "caCertPem": args.get("ca_cert_pem"),
            "adopt": args.get("adopt"),
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        super().__init__(
            MsrRegistrationProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
