"""Checks of one input each: every check returns the value normalised or raises Invalid saying
what is accepted. The rules the real tools apply (the API server, the kubelet, a TLS client) come
from api_rules, pod_scheduling and given_certificates, ported from their source."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..objects import registry_config
from . import api_rules, given_certificates, go_strconv, go_url, pod_scheduling
from .ip_literal import has_zone, ip_or_none
from .model import (
    CERT_MANAGER_GROUP,
    DEFAULT_IMAGE,
    DEFAULT_RESOURCES,
    GatewayRef,
    Issuer,
    IssuerKind,
    SecretRef,
)
from .object_storage import DRIVERS, check_object_storage
from .plain import is_array, is_mapping, is_sequence
from .problems import Invalid, Shape

# Go's time.ParseDuration reads ASCII digits and nothing around them: these are used with
# fullmatch (Python's `$` would pass a trailing newline) and re.ASCII (`\d` would pass Unicode
# digits).
_GO_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+", re.ASCII)
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", re.ASCII)
_NANOSECONDS = {
    "ns": 1,
    "us": 1e3,
    "µs": 1e3,
    "μs": 1e3,
    "ms": 1e6,
    "s": 1e9,
    "m": 60e9,
    "h": 3600e9,
}
_MAX_DURATION_NS = 2**63 - 1
HOST_RULE = "a DNS name (lowercase RFC 1123, e.g. cache.example.com) or an IPv4/IPv6 address, without port or brackets"


def _rule(check: Callable[[Any], Any], accepted: str | None = None) -> Callable[[Any], Any]:
    """An api_rules check (the rule the API server or the kubelet applies) as a settings check;
    with `accepted`, a pod_scheduling check, its message (the path inside the value) after it."""

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as err:
            if accepted is None:
                raise Invalid(str(err)) from None
            raise Invalid(f"{accepted}, as the API server accepts it: {err}") from None

    return checked


check_dns_label = _rule(api_rules.dns1123_label)
"""A namespace, or an object name that is a DNS-1123 label."""
check_dns_subdomain = _rule(api_rules.dns1123_subdomain)
"""An object name that may hold dots (a DNS-1123 subdomain): Secrets, classes, issuers."""
check_service_name = _rule(api_rules.dns1035_label)
"""A Service's name: the API server wants a DNS-1035 label (a letter first)."""
check_storage = _rule(check_object_storage)
"""Object storage for the blobs: a driver and its parameters (object_storage)."""


def check_host(value: Any) -> str:
    """A host clients use to reach the cache: a DNS name or an IP literal."""
    if not isinstance(value, str):
        raise Invalid(HOST_RULE)
    address = ip_or_none(value)
    if address is not None:
        return address.compressed
    problem = _host_problem(value)
    if problem is not None:
        raise Invalid(f"{HOST_RULE} ({problem})")
    return value


def _host_problem(value: str) -> str | None:
    """Why `value`, which is no IP address, is no DNS name either; None when it is one."""
    if has_zone(value):
        return "no IPv6 zone"
    try:
        check_dns_subdomain(value)
        for label in value.split("."):  # DNS (RFC 1035) caps each label, Kubernetes names do not
            check_dns_label(label)
    except Invalid:
        return _name_problem(value)
    if value.rsplit(".", 1)[-1].isdigit():
        return "a name's last label is not all digits"
    return None


def _name_problem(name: str) -> str:
    """Why `name`, which the DNS-1123 rules refused, is no DNS name: the first rule it breaks."""
    labels = name.split(".")
    wrong = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-."))})
    if not name:
        return "no host"
    if wrong:
        return f"{', '.join(map(repr, wrong))} in it: letters, digits, '-' and '.' only"
    if name != name.lower():
        return "in lower case"
    if len(name) > 253:
        return "at most 253 characters"
    if "" in labels:
        return "no empty label: no dot first or last, nor two in a row"
    if any(len(label) > 63 for label in labels):
        return "each label at most 63 characters"
    return "each label starts and ends with a letter or a digit"


UPSTREAM_RULE = "an https URL of MSR or of another cache, https://host[:port], without path"


def _upstream_url(value: Any) -> go_url.GoURL:
    """`value` (without one trailing `/`) read as the cache reads it, with Go's net/url: what it
    refuses (a space, a tab or a newline anywhere, which Python's urlsplit would strip or drop)
    is refused here, and what it reads is checked; the error says which rule it breaks."""
    if not isinstance(value, str):
        raise Invalid(UPSTREAM_RULE)
    try:
        url = go_url.parse_go_url(value.removesuffix("/"))
    except go_url.GoURLError as err:  # its reason: Go's message may quote a password
        raise Invalid(
            f"{UPSTREAM_RULE} (Go's net/url, which the cache uses: {err.reason})"
        ) from None
    problem = _upstream_problem(url, value)
    if problem is not None:
        raise Invalid(f"{UPSTREAM_RULE} ({problem})")
    return url


def _upstream_problem(url: go_url.GoURL, value: str) -> str | None:
    """What is wrong with an upstream Go reads (no part of it quoted: it may hold a password)."""
    if url.scheme != "https" or url.opaque:
        return "https:// then the host: the cache pulls over TLS only"
    if url.userinfo is not None:
        return "no user or password: config.yaml, where upstreams go, is a ConfigMap"
    if url.path or url.raw_query or url.force_query or "#" in value:
        return "no path, query or fragment"
    if url.host.endswith(":") or (url.port and not 1 <= int(url.port) <= 65535):
        return "a port within 1-65535 after the colon, or no colon"
    # An IPv6 address has its brackets: Go 1.26 refuses a second colon in an https host.
    if not url.hostname.isascii():
        return "its host in ASCII: an internationalised name in its xn-- form"
    # Host names are case-insensitive: Go's HTTP client and TLS verification lower them.
    host = url.hostname.lower()
    if ip_or_none(host) is None and (problem := _host_problem(host)) is not None:
        return f"its host is neither a DNS name nor an IP address: {problem}"
    return None


def check_upstream(value: Any) -> str:
    """An upstream the cache pulls from: `https://host[:port]`, as distribution's downstream wants;
    returned normalised as Go's HTTP client reads it: scheme and host in lower case, without a
    trailing `/` (the port as written)."""
    return "https://" + _upstream_url(value).host.lower()


def upstream_origin(value: str) -> tuple[str, str, int]:
    """An upstream's origin, one spelling of it: scheme, host (an IP address compressed), port."""
    url = _upstream_url(value)
    address = ip_or_none(url.hostname)
    host = address.compressed if address is not None else url.hostname.lower()
    return url.scheme, host, int(url.port or 443)


def check_upstreams(value: Any) -> tuple[str, ...]:
    """One or more upstream URLs, each origin once (the cache pulls round-robin: a second
    spelling of one would only weigh it twice)."""
    if isinstance(value, str) or not is_sequence(value) or not value:
        raise Invalid('a non-empty list of https URLs, e.g. ["https://msr.example.com"]')
    upstreams = tuple(check_upstream(item) for item in value)
    seen: dict[tuple[str, str, int], str] = {}
    for upstream in upstreams:
        origin = upstream_origin(upstream)
        if origin in seen:
            raise Invalid(
                f"each upstream once: {upstream} is {seen[origin]} again "
                "(the same scheme, host and port)",
                given=upstream,
            )
        seen[origin] = upstream
    return upstreams


def check_duration(value: Any) -> str:
    """A positive Go duration with units, as distribution's `blobttl` reads it."""
    accepted = (
        "a positive Go duration with a unit, e.g. 24h, 1h30m or 90m "
        "(a bare number would be read as nanoseconds)"
    )
    if not isinstance(value, str) or not _GO_DURATION.fullmatch(value):
        raise Invalid(accepted)
    nanoseconds = sum(
        float(number) * _NANOSECONDS[unit] for number, unit in _GO_DURATION_PART.findall(value)
    )
    if not 0 < nanoseconds <= _MAX_DURATION_NS:
        raise Invalid(accepted + ", at most 2562047h (Go's limit)")
    return value


def check_quantity(value: Any) -> str:
    """A positive Kubernetes resource quantity such as 10Gi, 500m or 1.5 (quantity.go's grammar)."""
    try:
        positive = api_rules.quantity(value) > 0
    except ValueError:
        positive = False
    if not positive:
        raise Invalid(f"{api_rules.QUANTITY_RULE}, above zero")
    return str(value)


def check_port_range(value: Any) -> range:
    """A node port range as kube-apiserver's --service-node-port-range takes it: one port,
    `min-max` or `min+offset`, both ends inclusive (apimachinery's PortRange.Set, ported in
    api_rules), with ports: not empty, and no port 0."""
    accepted = (
        "a port range min-max or min+offset within 1-65535, e.g. 30000-32767 or 30000+2767 "
        "(MKE: 32768-35535)"
    )
    try:
        ports = api_rules.port_range(value)
    except ValueError:
        raise Invalid(accepted) from None
    if not ports or ports.start < 1:
        raise Invalid(accepted)
    return ports


def check_bool(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def check_port(value: Any) -> int:
    """A TCP port."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid("an integer port from 1 to 65535")
    return value


def _int_between(low: int, high: int, what: str) -> Callable[[Any], int]:
    def checked(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"an integer from {low} to {high} ({what})")
        return value

    return checked


check_percent = _int_between(1, 99, "a percentage")
"""An alert's threshold in percent."""
check_days = _int_between(1, 3650, "days")
"""How many days ahead an alert warns."""


def check_labels(value: Any) -> dict[str, str]:
    """An object's labels, as the API server takes them (ValidateLabels)."""
    accepted = "an object of label names to string values, e.g. {release: kube-prometheus-stack}"
    if not is_mapping(value) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(accepted)
    for name, text in value.items():
        try:
            api_rules.qualified_name(name)
            api_rules.label_value(text)
        except ValueError as err:
            raise Invalid(f"{accepted}, as the API server accepts them: {err}") from None
    return dict(value)


# Prometheus's legacy label names (prometheus/common model.LabelNameRE), which every Alertmanager
# routes on; `__` starts the names Prometheus reserves (model.ReservedLabelPrefix).
_PROMETHEUS_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*", re.ASCII)
ALERT_OWN_LABELS = frozenset({"alertname", "severity"})
"""The labels each alert sets itself."""


def check_alert_labels(value: Any) -> dict[str, str]:
    """Labels added to every alert, for Alertmanager's routes."""
    accepted = (
        "an object of Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __; "
        f"not {' or '.join(sorted(ALERT_OWN_LABELS))}, which each alert sets) to string values, "
        "e.g. {team: registry}"
    )
    if not is_mapping(value) or not all(
        isinstance(k, str)
        and isinstance(v, str)
        and _PROMETHEUS_LABEL.fullmatch(k)
        and not k.startswith("__")
        and k not in ALERT_OWN_LABELS
        for k, v in value.items()
    ):
        raise Invalid(accepted)
    return dict(value)


def check_runbook_url(value: Any) -> str:
    """Where the runbooks (docs/operate.md) are read: an http(s) URL, as Go reads it."""
    accepted = (
        "the http(s) URL of this project's docs/operate.md where your team reads it, without a "
        "#fragment (each alert adds its own), e.g. https://git.example.com/org/msr-cache/blob/"
        "v0.1.0/docs/operate.md"
    )
    if not isinstance(value, str):
        raise Invalid(accepted)
    try:
        url = go_url.parse_go_url(value)
    except go_url.GoURLError as err:
        raise Invalid(f"{accepted}; Go's url.Parse refuses it: {err.reason}") from None
    if url.scheme not in ("http", "https") or not url.hostname or "#" in value:
        raise Invalid(accepted)
    return value


SERVING_CERTIFICATE = (
    "your serving certificate as PEM text (-----BEGIN CERTIFICATE-----, the leaf first, then its "
    "intermediates), valid now, for TLS server authentication, as Go's crypto/x509 reads it"
)
TRUSTED_CERTIFICATES = (
    "PEM text of the certificates to trust (-----BEGIN CERTIFICATE-----: CA certificates, or a "
    "pinned self-signed certificate), as Go's crypto/x509 reads them, at least one valid now"
)


def _certificates(value: Any, accepted: str) -> list[x509.Certificate]:
    try:
        return given_certificates.certificates(value)
    except ValueError as err:
        raise Invalid(f"{accepted}. {err}") from None


def check_serving_certificate(value: Any) -> str:
    """Your serving certificate (chain, leaf first): its leaf as a Go client takes it (valid now,
    no critical extension Go does not handle, serverAuth if it lists extended key usages)."""
    leaf = _certificates(value, SERVING_CERTIFICATE)[0]
    try:
        given_certificates.check_serving_leaf([leaf], datetime.datetime.now(datetime.UTC))
    except ValueError as err:
        raise Invalid(f"{SERVING_CERTIFICATE}. {err}") from None
    return value


def check_ca_certificates(value: Any) -> str:
    """Certificates a client trusts (a bundle): trust anchors as Go takes them, at least one
    usable now (CA:TRUE is asked of what signs, in the chain check, not of an anchor). Those Go
    would skip (expired, say: a CA rotation leaves one) are accepted: `skipped_anchors` names
    them, for a warning."""
    certs = _certificates(value, TRUSTED_CERTIFICATES)
    try:
        given_certificates.check_trust_anchors(certs, datetime.datetime.now(datetime.UTC))
    except ValueError as err:
        raise Invalid(f"{TRUSTED_CERTIFICATES}. {err}") from None
    return value


def skipped_anchors(value: Any) -> list[str]:
    """The certificates of a trust bundle Go would skip now (each as a sentence saying why), as
    check_ca_certificates accepts them; none for a value it refuses."""
    try:
        certs = given_certificates.certificates(value)
    except ValueError:
        return []
    return given_certificates.unusable_anchors(certs, datetime.datetime.now(datetime.UTC))


def check_covers_hosts(cert: str, hosts: Sequence[str]) -> None:
    """Clients reach the cache by `hosts`: your certificate's SANs must match each of them."""
    leaf = given_certificates.certificates(cert)[0]
    try:
        given_certificates.check_covers_hosts(leaf, hosts)
    except ValueError as err:
        raise Invalid(f"a certificate whose SANs cover every host. {err}") from None


def check_issued_by(cert: str, ca: str) -> None:
    """tlsCaCert is what caCertPem publishes: clients must be able to verify the cache with it,
    so a chain leads from tlsCert's leaf, through the intermediates after it, to one of
    tlsCaCert's certificates, as a Go client builds it (every certificate on it usable now, and
    allowing serverAuth)."""
    chain, roots = given_certificates.certificates(cert), given_certificates.certificates(ca)
    try:
        given_certificates.check_chain(
            chain[0], chain[1:], roots, datetime.datetime.now(datetime.UTC)
        )
    except ValueError as err:
        raise Invalid(
            "the certificates that issued tlsCert (caCertPem publishes them, and clients verify "
            f"the cache with them). {err}"
        ) from None


def check_private_key(value: Any) -> str:
    """An unencrypted PEM private key."""
    accepted = "PEM text of an unencrypted private key (-----BEGIN ... PRIVATE KEY-----)"
    if not isinstance(value, str):
        raise Invalid(accepted)
    try:
        serialization.load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError):
        raise Invalid(accepted) from None
    return value


def check_key_pair(cert: str, key: str) -> None:
    """The serving certificate (first in the chain) belongs to the key."""
    leaf = x509.load_pem_x509_certificates(cert.encode())[0]
    private_key = serialization.load_pem_private_key(key.encode(), password=None)
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if leaf.public_key().public_bytes(enc, fmt) != private_key.public_key().public_bytes(enc, fmt):
        raise Invalid("the private key of the first certificate in tlsCert")


def check_resources(value: Any) -> Mapping[str, Mapping[str, str]]:
    """A container's `resources`: requests and limits of cpu, memory and ephemeral-storage."""
    accepted = (
        "an object {requests: {cpu, memory, ephemeral-storage}, limits: {...}} "
        "whose values are Kubernetes quantities"
    )
    sections = ("requests", "limits")
    # Kubernetes' names, and the snake_case one MsrCacheArgs (and the package schema) use.
    names = {
        "cpu": "cpu",
        "memory": "memory",
        "ephemeral-storage": "ephemeral-storage",
        "ephemeral_storage": "ephemeral-storage",
    }
    if not is_mapping(value) or not value or set(value) - set(sections):
        raise Invalid(accepted)
    result: dict[str, dict[str, str]] = {}
    for section, amounts in value.items():
        if not is_mapping(amounts) or not amounts or set(amounts) - set(names):
            raise Invalid(accepted)
        try:
            result[section] = {names[n]: check_quantity(amount) for n, amount in amounts.items()}
        except Invalid:
            raise Invalid(accepted) from None
    # A section given replaces the default's; one left out keeps it (the memory limit, say).
    return {**DEFAULT_RESOURCES, **result}


def check_enum(kind: type[Enum]) -> Callable[[Any], Any]:
    """One of `kind`'s values (or members)."""

    def check(value: Any) -> Any:
        try:
            return kind(value.value if isinstance(value, Enum) else value)
        except ValueError:
            raise Invalid("one of " + ", ".join(m.value for m in kind)) from None

    return check


def check_image(value: Any) -> str:
    """A container image reference the kubelet can pull, pinned: a tag other than latest (which
    moves under a running cache) or a digest."""
    accepted = "an image pinned by a tag other than latest or by a digest, e.g. "
    try:
        image = api_rules.image_reference(value)
    except ValueError as err:
        raise Invalid(f"{err}; {accepted}{DEFAULT_IMAGE}") from None
    if image.digest is None and image.tag in (None, "latest"):
        raise Invalid(accepted + DEFAULT_IMAGE)
    return value


INT32_MAX = go_strconv.int_range(32).stop - 1
"""The largest value of a Kubernetes int32 field (a Deployment's replicas, say)."""


def check_replicas(value: Any) -> int:
    """A number of pods: a Deployment's spec.replicas, an int32."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT32_MAX:
        raise Invalid(f"an integer from 1 to {INT32_MAX} (the API server's int32)")
    return value


check_generation = check_replicas
"""A generation of the generated CA: 1, 2, ... (it names objects and is kept as an int32, as every
count the cache's objects carry)."""


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_SECRET_REF_FIELDS = {"namespace", "name", "key"}


_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]{0,62}")


def check_issuer(value: Any) -> Issuer:
    """A cert-manager issuer reference (cert-manager's issuerRef): cert-manager's own Issuer or
    ClusterIssuer, or, with `group`, an external issuer's kind in that API group."""
    accepted = (
        "an object {kind, name, group (optional)}: kind Issuer or ClusterIssuer (in group "
        f"{CERT_MANAGER_GROUP}, the default), or an external issuer's kind with its API group "
        "(e.g. {kind: AWSPCAClusterIssuer, name: pca, group: awspca.cert-manager.io})"
    )
    given = {k: v for k, v in value.items() if v is not None} if is_mapping(value) else None
    if given is None or not {"kind", "name"} <= set(given) <= {"kind", "name", "group"}:
        raise Invalid(accepted)
    kind, group = given["kind"], given.get("group", CERT_MANAGER_GROUP)
    try:
        name, group = check_dns_subdomain(given["name"]), check_dns_subdomain(group)
    except Invalid:
        raise Invalid(accepted) from None
    own = {k.value for k in IssuerKind}
    if not isinstance(kind, str) or (
        kind not in own if group == CERT_MANAGER_GROUP else not _KIND.fullmatch(kind)
    ):
        raise Invalid(accepted)
    return Issuer(kind, name, group)


def check_secret_names(value: Any) -> tuple[str, ...]:
    """Names of Secrets in the cache's namespace (DNS-1123 subdomains), each once."""
    accepted = "a list of Secret names (DNS-1123 subdomains, e.g. [regcred]), each once"
    if isinstance(value, str) or not is_sequence(value):
        raise Invalid(accepted)
    names: list[str] = []
    for name in value:
        try:
            names.append(check_dns_subdomain(name))
        except Invalid as invalid:
            raise Invalid(f"{accepted}; each {invalid.accepted}", given=name) from None
    if len(set(names)) != len(names):
        raise Invalid(accepted)
    return tuple(names)


def check_secret_ref(value: Any) -> SecretRef:
    """A key of an existing Secret."""
    accepted = "an object {namespace, name, key} naming an existing Secret (key default ca.crt)"
    if not is_mapping(value) or not {"namespace", "name"} <= set(value) <= _SECRET_REF_FIELDS:
        raise Invalid(accepted)
    key = value.get("key", "ca.crt")
    try:
        ref = SecretRef(
            check_dns_label(value["namespace"]), check_dns_subdomain(value["name"]), key
        )
    except Invalid:
        raise Invalid(accepted) from None
    if not isinstance(key, str) or not _SECRET_KEY.fullmatch(key):
        raise Invalid(accepted)
    return ref


_GATEWAY_FIELDS = {"name", "namespace", "sectionName", "section_name"}


def check_gateway(value: Any) -> GatewayRef:
    """An existing Gateway API Gateway, and optionally the listener the TLSRoute attaches to:
    its name (a DNS-1123 subdomain, as every object's), its namespace (a DNS-1123 label) and the
    listener's name (Gateway API's SectionName, the same pattern as a DNS-1123 subdomain)."""
    accepted = (
        "an object {name, namespace, sectionName (optional)} naming an existing Gateway "
        "and, optionally, its TLS Passthrough listener"
    )
    given = {k: v for k, v in value.items() if v is not None} if is_mapping(value) else None
    if (
        given is None
        or not {"name", "namespace"} <= set(given) <= _GATEWAY_FIELDS
        or {"sectionName", "section_name"} <= set(given)
    ):
        raise Invalid(accepted)
    section = given.get("sectionName", given.get("section_name"))
    fields = [
        ("name", api_rules.dns1123_subdomain, given["name"]),
        ("namespace", api_rules.dns1123_label, given["namespace"]),
        *([("sectionName", api_rules.dns1123_subdomain, section)] if section is not None else []),
    ]
    for field, rule, field_value in fields:
        try:
            rule(field_value)
        except ValueError as err:
            raise Invalid(f"{accepted}; its {field} must be {err}") from None
    return GatewayRef(given["name"], given["namespace"], section)


def _overridden_paths(tree: Mapping[str, Any], prefix: str = "REGISTRY") -> set[str]:
    """distribution's env overrides (REGISTRY_<PATH>) that would replace a part of `tree`."""
    names: set[str] = set()
    for key, value in tree.items():
        name = f"{prefix}_{key.upper()}"
        names.add(name)
        if is_mapping(value):
            names |= _overridden_paths(value, name)
    return names


# What the component sets and extraEnv must not replace: the http secret, the storage
# credentials, and every part of the config.yaml it writes (with every option on).
RESERVED_ENV = frozenset(
    {"REGISTRY_HTTP_SECRET"}
    | {
        f"REGISTRY_STORAGE_{driver.upper()}_{credential.upper()}"
        for driver, spec in DRIVERS.items()
        for credential in spec.secret
    }
    | _overridden_paths(
        registry_config.registry_config(
            log_level="info",
            host_url="https://cache.invalid",
            blob_ttl="24h",
            upstreams=["https://msr.invalid"],
            trusts_upstream_ca=True,
            metrics=True,
        )
    )
)


def check_extra_env(value: Any) -> dict[str, pulumi.Input[str]]:
    """Extra environment variables of the container (distribution reads REGISTRY_* overrides).
    A value may be an Output (a secret: the stack program's encrypted extraEnv), which goes to a
    Secret; it is checked here once it resolves (`settings.resolved`)."""
    if isinstance(value, pulumi.Output):
        raise Invalid(
            "an object known when the program runs (its names make the container's env); its "
            "values may be Outputs, secrets among them"
        )
    if not is_mapping(value) or not all(
        isinstance(name, str)
        and _ENV_NAME.fullmatch(name) is not None
        and isinstance(text, (str, pulumi.Output))
        for name, text in value.items()
    ):
        raise Invalid("an object of environment variable names to string values")
    env: dict[str, pulumi.Input[str]] = dict(value)
    plain = {name: text for name, text in env.items() if isinstance(text, str)}
    reserved = sorted(RESERVED_ENV & set(env))
    if reserved:
        raise Invalid(
            f"no {', '.join(reserved)}: the component sets them (the http secret, storage "
            "credentials through objectStorage, and the config.yaml it writes)"
        )
    for name in go_url.proxy_variables(plain):
        # The network policy lets the cache out to the proxy's port: it must be the one Go dials.
        try:
            go_url.proxy_url(plain[name])
        except go_url.GoURLError as err:
            raise Invalid(
                f"{name} as Go's net/http reads a proxy: http://, https:// or socks5://host[:port],"
                f" or host[:port] for http ({err.reason})"
            ) from None
    return env


def is_output(value: Any) -> bool:
    """Whether `value` is, or holds, a Pulumi Output (its value may not be known yet)."""
    if isinstance(value, pulumi.Output):
        return True
    if is_mapping(value):
        return any(is_output(v) for v in value.values())
    if is_array(value):
        return any(is_output(v) for v in value)
    return False


def check_hosts(value: Any) -> tuple[str, ...]:
    """The hosts clients dial: names or IPs, each once; an error shows the first bad one."""
    if isinstance(value, str) or not is_sequence(value):
        raise Invalid("a list of DNS names or IP addresses")
    hosts: list[str] = []
    for host in value:
        try:
            hosts.append(check_host(host))
        except Invalid as invalid:
            raise Invalid(invalid.accepted, given=host) from None
    if len(set(hosts)) != len(hosts):
        raise Invalid("each host once")
    return tuple(hosts)


check_node_selector = _rule(
    pod_scheduling.check_node_selector, "an object of node label names to values"
)
"""Node labels, as a pod spec's nodeSelector."""
check_tolerations = _rule(pod_scheduling.check_tolerations, "a list of tolerations")
"""Tolerations, as in a pod spec."""
check_affinity = _rule(pod_scheduling.check_affinity, "a pod affinity")
"""Affinity, as in a pod spec."""
ANNOTATIONS_MAX_BYTES = 256 * 1024
"""The API server's limit on an object's annotations, the bytes of names and values together
(apimachinery pkg/api/validation/objectmeta.go: TotalAnnotationSizeLimitB, ValidateAnnotations)."""


def check_annotations(value: Any) -> dict[str, str]:
    """Annotations: qualified names to strings, within the API server's total size."""
    accepted = "an object of annotation names to string values"
    if not is_mapping(value) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(accepted)
    annotations: dict[str, str] = dict(value)
    for name in annotations:
        try:
            api_rules.qualified_name(name)
        except ValueError:
            raise Invalid(accepted) from None
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        raise Invalid(
            f"annotations of at most {ANNOTATIONS_MAX_BYTES} bytes in all, names and values "
            f"(the API server's limit); these are {size}",
            given=Shape(f"{len(annotations)} annotations of {size} bytes"),
        )
    return annotations
