"""The cache's registration with MSR, as a resource: `pulumi destroy` deregisters it.

MSR's content cache API (MSR 2.9 docs, "Deploy the cache", step 3): an admin registers a cache
with `POST /api/v0/content_caches` and `{"name", "host"}`, lists them with a GET of the same
path and removes one with `DELETE /api/v0/content_caches/{id}`; HTTP basic auth with a user and
a token. `MsrRegistrationProvider` is a Pulumi dynamic provider: the engine runs it in a Python
process of its own (`python -m pulumi.dynamic`, in the program's directory), which imports this
module. So dynamic providers work from Python programs only, not through the component package.

The token is a secret input and a secret output (delete reads it from state, encrypted). It is
never put in an error message: a refused token is reported by user name and URL.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic as dynamic
from pulumi.runtime import rpc

PATH = "/api/v0/content_caches"
# Waits between attempts when MSR answers 5xx or cannot be reached: five attempts in 7.5 s.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
TIMEOUT = 30.0
# A change of these replaces the registration: MSR has no update of a cache's name or host.
REPLACED_BY = ("apiUrl", "name", "host")


class RegistrationError(Exception):
    """MSR refused or failed a request; the message names the URL, never the token."""


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, what it accepts) for each input MSR's API could not take."""
    found: list[tuple[str, str]] = []
    for key in ("apiUrl", "host"):
        value = props.get(key)
        url = urlsplit(value) if isinstance(value, str) else None
        if url is None or url.scheme != "https" or not url.hostname or url.username or url.password:
            found.append((key, "an https:// URL, without credentials (give username and token)"))
    for key in ("username", "token", "name"):
        if not isinstance(props.get(key), str) or not props[key]:
            found.append((key, "a non-empty string"))
    return found


class MsrRegistrationProvider(dynamic.ResourceProvider):
    """Create, read, diff and delete a content cache registration through MSR's API."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        # No value is shown: the token, or credentials in a URL, would be printed.
        known = {k: v for k, v in news.items() if v != rpc.UNKNOWN}
        failures = [
            dynamic.CheckFailure(k, f"{k}: expected {accepted}")
            for k, accepted in problems(known)
            if k in known
        ]
        return dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        api = _Api(props)
        existing = api.find(props["name"])
        if existing is not None:
            if existing["host"] != props["host"]:
                raise RegistrationError(
                    f"MSR at {props['apiUrl']} already has a content cache named "
                    f"{props['name']!r} with host {existing['host']}, not {props['host']}: "
                    "delete it in MSR or give this cache another name"
                )
            created = existing  # registered before (by hand, or a state lost): adopt it
        else:
            created = api.call("POST", PATH, {"name": props["name"], "host": props["host"]})
        return dynamic.CreateResult(str(created["id"]), _outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        found = next((c for c in _Api(props).list() if str(c["id"]) == id_), None)
        if found is None:
            return dynamic.ReadResult(None, {})  # gone: the engine drops it from state
        return dynamic.ReadResult(
            id_, {**_outputs(props), "name": found["name"], "host": found["host"]}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [
            k
            for k in (*REPLACED_BY, "username", "token", "caCertPem")
            if olds.get(k) != news.get(k)
        ]
        replaces = [k for k in REPLACED_BY if k in changed]
        # The same name at the same MSR cannot be registered twice: remove the old one first.
        same_name = all(olds.get(k) == news.get(k) for k in ("apiUrl", "name"))
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and same_name,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        # Only the credentials or the CA changed: MSR keeps the registration as it is.
        return dynamic.UpdateResult(_outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _Api(props).call("DELETE", f"{PATH}/{id_}", missing_ok=True)


def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in props.items()
        if k in ("apiUrl", "username", "token", "caCertPem", "name", "host")
    }


class _Api:
    """MSR's API at props' apiUrl, as props' user."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.url = str(props["apiUrl"]).rstrip("/")
        self.username = str(props["username"])
        credentials = f"{self.username}:{props['token']}".encode()
        self._authorization = "Basic " + base64.b64encode(credentials).decode()
        ca = props.get("caCertPem")
        self._context = (
            ssl.create_default_context(cadata=ca) if ca else ssl.create_default_context()
        )

    def list(self) -> list[dict[str, Any]]:
        return self.call("GET", PATH) or []

    def find(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.list() if c.get("name") == name), None)

    def call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        """One request, retried while MSR answers 5xx or cannot be reached."""
        url = self.url + path
        failure = ""
        for delay in (*RETRY_DELAYS, None):
            try:
                return self._once(method, url, body)
            except urllib.error.HTTPError as err:
                if err.code == 404 and missing_ok:
                    return None
                if err.code in (401, 403):
                    raise RegistrationError(
                        f"MSR at {self.url} refused user {self.username!r} (HTTP {err.code}): "
                        "check msrApi.username and msrApi.token (an admin's access token)"
                    ) from None
                if err.code < 500:
                    raise RegistrationError(
                        f"{method} {url}: HTTP {err.code}: {_detail(err)}"
                    ) from None
                failure = f"HTTP {err.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                reason = getattr(err, "reason", err)
                if isinstance(reason, ssl.SSLError):  # no retry makes a certificate trusted
                    raise RegistrationError(
                        f"{method} {url}: TLS failed ({reason.reason}): give the CA MSR's API "
                        "is signed by (caCertPem)"
                    ) from None
                failure = f"cannot connect ({reason})"
            if delay is not None:
                time.sleep(delay)
        attempts = len(RETRY_DELAYS) + 1
        raise RegistrationError(f"{method} {url}: {failure}, {attempts} attempts")

    def _once(self, method: str, url: str, body: Any) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", self._authorization)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=self._context) as answer:
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
    """The CA MSR's API is signed by, if not one the system trusts."""


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
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        super().__init__(
            MsrRegistrationProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
