"""The cache's registration with MSR, as a resource: `pulumi destroy` deregisters it.

MSR's content cache API (MSR 2.9 docs, "Deploy the cache", step 3): an admin registers a cache
with `POST /api/v0/content_caches` and `{"name", "host"}`, lists them with a GET of the same
path and removes one with `DELETE /api/v0/content_caches/{id}`; HTTP basic auth with a user and
a token. `MsrRegistrationProvider` is a Pulumi dynamic provider: the engine runs it in a Python
process of its own (`python -m pulumi.dynamic`, in the program's directory), which imports this
module. So dynamic providers work from Python programs only, not through the component package.
The state names the provider by this module's path (`components.registration`), not by value:
every later update, refresh or destroy imports it again, so it must stay importable.

A registration is never lost by surprise. `check` normalises apiUrl and host, so spelling the
same MSR or cache another way is no change. A registration MSR already has is taken over only
when asked (`adopt`, or `import_` with its id): otherwise the resource that made it may still
hold it, and would deregister it on its delete. A replacement that keeps the name deletes the
old registration first, since MSR may be the same one spelled in a way no normalisation sees (its
IP). A POST that may have been committed (a timeout, a 5xx) is followed by a lookup of the name,
not a second POST.

The token is a secret input and a secret output (delete reads it from state, encrypted). It is
never put in an error message: a refused token is reported by user name and URL.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic as dynamic
from pulumi.runtime import rpc

from .ip_literal import ip_or_none
from .registry_config import GoURLError, parse_go_url

PATH = "/api/v0/content_caches"
# The worst case of one operation (create, read or delete; docs/operate.md says it): each request
# waits at most TIMEOUT for an answer and is tried at most len(RETRY_DELAYS) + 1 times, waiting
# RETRY_DELAYS between tries (or what a 429's Retry-After asks); whatever is left, the operation
# gives up DEADLINE seconds after it began.
TIMEOUT = 10.0
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
DEADLINE = 60.0
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
    1.26's net/url refuses (registry_config.parse_go_url: the cache and MSR's own clients are Go
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
        ssl.create_default_context().load_verify_locations(cadata=value)
    except (ssl.SSLError, ValueError):
        raise ValueError(CA_ACCEPTED) from None
    return value


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
            created = existing
        else:
            created = api.register(name, host)
            if _host_of(created) != host:  # registered meanwhile, found by a lookup
                raise RegistrationError(_conflict(props, created))
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
        _Api(props).call("DELETE", f"{PATH}/{id_}", missing_ok=True)


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
        f"(Python: adopt=True, or ResourceOptions(import_={str(existing.get('id'))!r}))"
    )


def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in props.items()
        if k in ("apiUrl", "username", "token", "caCertPem", "name", "host", "adopt")
    }


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
        # MSR's CA is added to the system's trust, never in its place (a proxy or a public CA
        # may sign MSR's API), and upstreamCaCert (the next hop's CA) plays no part.
        self._context = ssl.create_default_context()
        if props.get("caCertPem"):
            self._context.load_verify_locations(cadata=props["caCertPem"])
        self._deadline = time.monotonic() + DEADLINE

    def list(self) -> list[dict[str, Any]]:
        return self.call("GET", PATH) or []

    def find(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.list() if c.get("name") == name), None)

    def register(self, name: str, host: str) -> dict[str, Any]:
        """POST the registration; after a failure MSR may have committed (a timeout, a 5xx), the
        name is looked up before the next POST, so a retry never registers it twice."""
        return self.call("POST", PATH, {"name": name, "host": host}, lambda: self.find(name))

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        committed: Callable[[], Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """One request, retried while MSR answers 5xx or 429 or cannot be reached; `committed`
        finds what an earlier attempt may have made, before the next one."""
        url = self.url + path
        failure, attempts, maybe_done = f"no time left of {DEADLINE:g} s", 0, False
        for delay in (*RETRY_DELAYS, None):
            if maybe_done and committed is not None and (done := committed()) is not None:
                return done
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            try:
                return self._attempt(method, url, body, min(TIMEOUT, remaining), missing_ok)
            except _Retry as retry:
                failure, maybe_done = retry.failure, maybe_done or retry.committed
                wait = retry.wait if retry.wait is not None else (delay or 0.0)
            except RegistrationError:
                # A refusal after an attempt that may have been committed (the name taken by
                # our own first POST, say): what MSR holds decides.
                if maybe_done and committed is not None and (done := committed()) is not None:
                    return done
                raise
            if delay is None or time.monotonic() + wait >= self._deadline:
                break
            time.sleep(wait)
        if maybe_done and committed is not None:  # the last attempt may have been carried out
            with contextlib.suppress(RegistrationError):
                if (done := committed()) is not None:
                    return done
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
                raise RegistrationError(
                    f"{method} {url}: TLS failed ({reason.reason}): give the CA that signed MSR's "
                    "API certificate, if the system does not trust it (msrApi.caCert; in Python "
                    "ca_cert_pem)"
                ) from None
            raise _Retry(f"cannot connect ({reason})", committed=True) from None

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
        with urllib.request.urlopen(request, timeout=timeout, context=self._context) as answer:
            text = answer.read()
        try:
            return json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            raise RegistrationError(f"{method} {url}: the answer is not JSON") from None


def _detail(err: urllib.error.HTTPError) -> str:
    """MSR's error message, short."""
    try:
        return err.read().decode(errors="replace")[:300] or err.reason
    except OSError:
        return str(err.reason)


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
    hand, or by a stack whose state was lost); without it, such a registration stops create. Not
    for one another resource holds: its delete would deregister it (rename with an alias)."""


class MsrRegistration(dynamic.Resource, module="msr-cache", name="MsrRegistration"):
    """A content cache registered with MSR; deleting it deregisters the cache."""

    def __init__(
        self,
        resource_name: str,
        args: MsrRegistrationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
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
