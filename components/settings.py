"""Validated settings: every input of a cache, checked at once before any resource exists.

The component and the stack program both go through :func:`parse`. It collects every problem
instead of stopping at the first, and raises one :class:`ConfigError` that names each config key,
what was given and what is accepted.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum, StrEnum
from typing import Any
from urllib.parse import urlsplit

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import api_rules, given_certificates, pod_scheduling, registry_config
from .object_storage import DRIVERS, ObjectStorage, check_object_storage


class Exposure(StrEnum):
    """How clients outside the cluster reach the cache."""

    NODE_PORT = "nodePort"
    HOST_PORT = "hostPort"
    LOAD_BALANCER = "loadBalancer"
    INGRESS = "ingress"


class LogLevel(StrEnum):
    """distribution's log levels."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"
    DEBUG = "debug"


class KeyAlgorithm(StrEnum):
    """Algorithm of the generated CA and serving keys."""

    RSA = "RSA"
    ECDSA = "ECDSA"


class AccessMode(StrEnum):
    """Access mode of the cache's PersistentVolumeClaim."""

    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_ONCE_POD = "ReadWriteOncePod"
    READ_WRITE_MANY = "ReadWriteMany"


class IssuerKind(StrEnum):
    """The kind of cert-manager issuer that signs the serving certificate."""

    ISSUER = "Issuer"
    CLUSTER_ISSUER = "ClusterIssuer"


DEFAULT_IMAGE = "mirantis/dtr-content-cache:2.9.16"
DEFAULT_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
# What `parse` fills in for a key that is not given (None: unset). Pulumi.yaml declares the
# same defaults, except CONDITIONAL_DEFAULTS; tests/test_stack.py keeps the two in step.
DEFAULTS: Mapping[str, Any] = {
    "exposure": Exposure.NODE_PORT.value,
    "hosts": [],
    "namespace": "dtr",
    "createNamespace": True,
    "name": "dtr-cache",
    "image": DEFAULT_IMAGE,
    "blobTtl": "24h",
    "replicas": 1,
    "storageAccessMode": AccessMode.READ_WRITE_ONCE.value,
    "ingressClassName": "nginx",
    "logLevel": LogLevel.INFO.value,
    "tlsKeyAlgorithm": KeyAlgorithm.RSA.value,
    "networkPolicy": True,
    "ingressNamespace": "ingress-nginx",
    "nodePortRange": "30000-32767",
    "metrics": False,
    "metricsNamespace": "monitoring",
    "serviceMonitor": False,
}
# Defaults of keys that only apply with another key (and are errors without it). Pulumi passes a
# declared default to the program as if the user had set it, so Pulumi.yaml only describes these.
CONDITIONAL_DEFAULTS = frozenset(
    {
        "ingressClassName",
        "storageAccessMode",
        "tlsKeyAlgorithm",
        "ingressNamespace",
        "metricsNamespace",
        "nodePortRange",
    }
)
# Namespaces every cluster has: pulumi-kubernetes (>= 4.29) refuses to create an object that
# exists, so createNamespace must be false for them.
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

# snake_case argument of MsrCacheArgs -> camelCase config key (also the schema's property name).
CONFIG_KEYS: Mapping[str, str] = {
    "upstreams": "upstreams",
    "exposure": "exposure",
    "hosts": "hosts",
    "port": "port",
    "namespace": "namespace",
    "create_namespace": "createNamespace",
    "name": "name",
    "image": "image",
    "blob_ttl": "blobTtl",
    "upstream_ca_cert": "upstreamCaCert",
    "tls_cert": "tlsCert",
    "tls_key": "tlsKey",
    "tls_ca_cert": "tlsCaCert",
    "replicas": "replicas",
    "storage_size": "storageSize",
    "storage_class": "storageClass",
    "storage_access_mode": "storageAccessMode",
    "ingress_class_name": "ingressClassName",
    "log_level": "logLevel",
    "resources": "resources",
    "tls_key_algorithm": "tlsKeyAlgorithm",
    "object_storage": "objectStorage",
    "node_selector": "nodeSelector",
    "tolerations": "tolerations",
    "affinity": "affinity",
    "priority_class_name": "priorityClassName",
    "network_policy": "networkPolicy",
    "ingress_namespace": "ingressNamespace",
    "node_port_range": "nodePortRange",
    "metrics": "metrics",
    "metrics_namespace": "metricsNamespace",
    "service_monitor": "serviceMonitor",
    "cert_manager_issuer": "certManagerIssuer",
    "upstream_ca_secret": "upstreamCaSecret",
    "extra_env": "extraEnv",
    "pod_annotations": "podAnnotations",
}
PROJECT = "msr-cache"
"""The stack config namespace of the component's inputs (the project's name)."""
PYTHON_NAMES: Mapping[str, str] = {camel: snake for snake, camel in CONFIG_KEYS.items()}
STORAGE_CREDENTIALS = frozenset().union(*(d.secret for d in DRIVERS.values()))
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
HIDDEN = "<secret>"


def known_keys() -> tuple[str, ...]:
    """The input names, as this process's caller spells them."""
    return tuple(CONFIG_KEYS) if _caller is Caller.PYTHON else tuple(CONFIG_KEYS.values())


def redacted(key: str, given: Any) -> Any:
    """`given` as an error may show it: no private key, credential or password in it. Private
    keys are hidden wherever they were pasted; a URL loses its userinfo; storage credentials
    (any case) and every extraEnv value are hidden."""
    if key == "tlsKey" and given is not None:
        return HIDDEN
    if key == "extraEnv" and isinstance(given, Mapping):
        return {name: HIDDEN for name in given}
    if key == "objectStorage" and isinstance(given, Mapping):
        given = {
            k: HIDDEN if str(k).lower() in STORAGE_CREDENTIALS else v for k, v in given.items()
        }
    return _scrubbed(given)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        if _PRIVATE_KEY.search(value):
            return "<a private key, not shown>"
        if "@" in value and "://" in value:
            scheme, _, rest = value.partition("://")
            authority, slash, path = rest.partition("/")
            if "@" in authority:
                return f"{scheme}://{HIDDEN}@{authority.rpartition('@')[2]}{slash}{path}"
        return value
    if isinstance(value, Mapping):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v) for v in value]
    return value


# Inputs that may be Outputs of other resources (another cache's url and CA, a certificate made
# elsewhere): they are checked now when their value is known, else when it resolves. Every other
# input decides which objects exist, so it must be known when the program runs.
DEFERRABLE = frozenset({"upstreams", "upstreamCaCert", "tlsCert", "tlsKey", "tlsCaCert"})
# Inputs whose structure must be known but whose credentials may be Outputs (a key made by
# another resource): their own check accepts Outputs where it can.
PARTLY_DEFERRABLE = frozenset({"objectStorage"})


class Caller(StrEnum):
    """Who wrote the inputs, and so how an error spells their keys."""

    PYTHON = "python"
    """A Python program: MsrCacheArgs' snake_case names, e.g. blob_ttl."""
    STACK = "stack"
    """Stack config in Pulumi.<stack>.yaml: namespaced camelCase, e.g. msr-cache:blobTtl."""
    PACKAGE = "package"
    """Another language through the component package: the schema's camelCase, e.g. blobTtl."""


_caller = Caller.PYTHON


def set_caller(caller: Caller) -> None:
    """Spell keys for `caller` in every error this process reports from now on: a stack program
    and the package host are each a process of their own, and each sets it once at start."""
    global _caller
    _caller = caller


def spelled(key: str, namespace: str | None = None) -> str:
    """`key` (camelCase, possibly with a path such as `hosts[0]`) as the caller wrote it; a key
    with a `namespace` is always that project's stack config."""
    if namespace is not None:
        return f"{namespace}:{key}"
    if _caller is Caller.STACK:
        return f"{PROJECT}:{key}"
    if _caller is Caller.PYTHON:
        head, sep, rest = key.partition("[")
        return PYTHON_NAMES.get(head, head) + sep + rest
    return key


@dataclasses.dataclass(frozen=True)
class Problem:
    """One invalid input: its config key, what was given and what is accepted."""

    key: str
    given: Any
    accepted: str
    namespace: str | None = None
    """The config namespace of `key` when it is another project's stack config (an example's);
    None for the component's own inputs, spelled as their caller wrote them."""

    def __str__(self) -> str:
        return f"{spelled(self.key, self.namespace)}: got {self._shown()}; expected {self.accepted}"

    def _shown(self) -> str:
        shown = repr(redacted(self.key, self.given))
        return shown if len(shown) <= 80 else shown[:77] + "..."


@dataclasses.dataclass(frozen=True)
class Misnamed:
    """A resource name (not an input) that would make names Kubernetes refuses."""

    key: str
    """What is named, e.g. "MsrCache resource name" or "stack name"."""
    given: str
    accepted: str

    def __str__(self) -> str:
        return f"{self.key}: got {self.given!r}; expected {self.accepted}"


@dataclasses.dataclass(frozen=True)
class UnknownKey:
    """A key no input has: a typo, most likely, named with the closest known key."""

    key: str
    """The key exactly as written."""
    known: tuple[str, ...]
    """The keys the caller could have meant, spelled as the caller writes them."""
    namespace: str | None = None

    def __str__(self) -> str:
        written = f"{self.namespace}:{self.key}" if self.namespace else self.key
        if _caller is Caller.STACK and self.namespace is None:
            written = f"{PROJECT}:{self.key}"
        by_case = {k.lower(): k for k in self.known}
        close = difflib.get_close_matches(self.key.lower(), list(by_case), n=1, cutoff=0.6)
        if close:
            return f"{written}: unknown key; did you mean {by_case[close[0]]}?"
        return f"{written}: unknown key; expected one of {', '.join(sorted(self.known))}"


def unknown_keys(given: Iterable[str], known: Iterable[str]) -> list[UnknownKey]:
    """An UnknownKey for each key of `given` not in `known` (both as the caller spells them)."""
    known = tuple(known)
    return [UnknownKey(key, known) for key in sorted(set(given) - set(known))]


class ConfigError(pulumi.RunError):
    """A user's configuration mistake; Pulumi shows it as a message, without a stack trace."""

    def __init__(self, problems: Sequence[Problem | UnknownKey | Misnamed]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration:\n{lines}")

    @property
    def keys(self) -> tuple[str, ...]:
        """The config keys that were wrong, in the order they were checked."""
        return tuple(p.key for p in self.problems)


@dataclasses.dataclass(frozen=True)
class Storage:
    """A PersistentVolumeClaim for the cache's blobs."""

    size: str
    access_mode: AccessMode
    storage_class: str | None = None

    @property
    def single_node(self) -> bool:
        """Whether only one node (or pod) can mount the claim at a time."""
        return self.access_mode in (AccessMode.READ_WRITE_ONCE, AccessMode.READ_WRITE_ONCE_POD)


@dataclasses.dataclass(frozen=True)
class Issuer:
    """A cert-manager issuer."""

    kind: IssuerKind
    name: str


@dataclasses.dataclass(frozen=True)
class SecretRef:
    """A key of an existing Secret in the cluster."""

    namespace: str
    name: str
    key: str


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a cache is made from, validated. PEM fields and upstreams stay `Input`s:
    they may be Outputs of other resources, checked by `check_*` when they resolve."""

    upstreams: pulumi.Input[Sequence[pulumi.Input[str]]]
    exposure: Exposure
    hosts: tuple[str, ...]
    port: int
    namespace: str
    create_namespace: bool
    name: str
    image: str
    blob_ttl: str
    replicas: int
    log_level: LogLevel
    resources: Mapping[str, Mapping[str, str]]
    tls_key_algorithm: KeyAlgorithm
    ingress_class_name: str | None
    storage: Storage | None
    upstream_ca_cert: pulumi.Input[str] | None
    tls_cert: pulumi.Input[str] | None
    tls_key: pulumi.Input[str] | None
    tls_ca_cert: pulumi.Input[str] | None
    object_storage: ObjectStorage | None = None
    node_selector: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    affinity: Mapping[str, Any] | None = None
    priority_class_name: str | None = None
    network_policy: bool = True
    ingress_namespace: str | None = None
    metrics: bool = False
    metrics_namespace: str | None = None
    node_port_range: range | None = None
    service_monitor: bool = False
    cert_manager_issuer: Issuer | None = None
    upstream_ca_secret: SecretRef | None = None
    extra_env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    pod_annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def generates_tls(self) -> bool:
        """Whether the component makes its own CA and serving certificate."""
        return self.tls_cert is None and self.cert_manager_issuer is None

    @property
    def trusts_upstream_ca(self) -> bool:
        """Whether the cache is given a CA for its upstreams (pasted, or read from a Secret)."""
        return self.upstream_ca_cert is not None or self.upstream_ca_secret is not None


# --- value checks: each returns the normalised value or raises Invalid(accepted) -------------


class Invalid(ValueError):
    """Raised by the `check_*` functions: `accepted` says what would have been accepted."""

    def __init__(self, accepted: str) -> None:
        super().__init__(accepted)
        self.accepted = accepted


_GO_DURATION = re.compile(r"^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
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


def _rule(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An api_rules check (the rule the API server or the kubelet applies) as a settings check."""

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as err:
            raise Invalid(str(err)) from None

    return checked


check_dns_label = _rule(api_rules.dns1123_label)
"""A namespace, or an object name that is a DNS-1123 label."""
check_dns_subdomain = _rule(api_rules.dns1123_subdomain)
"""An object name that may hold dots (a DNS-1123 subdomain): Secrets, classes, issuers."""
check_service_name = _rule(api_rules.dns1035_label)
"""A Service's name: the API server wants a DNS-1035 label (a letter first)."""


def ip_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells, or None when it is a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_host(value: Any) -> str:
    """A host clients use to reach the cache: a DNS name or an IP literal."""
    if not isinstance(value, str):
        raise Invalid(HOST_RULE)
    address = ip_or_none(value)
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            raise Invalid(HOST_RULE + " (no IPv6 zone)")
        return address.compressed
    try:
        check_dns_subdomain(value)
        for label in value.split("."):  # DNS (RFC 1035) caps each label, Kubernetes names do not
            check_dns_label(label)
    except Invalid:
        raise Invalid(HOST_RULE) from None
    if value.rsplit(".", 1)[-1].isdigit():
        raise Invalid(HOST_RULE + " (a name's last label is not all digits)")
    return value


def check_upstream(value: Any) -> str:
    """An upstream the cache pulls from: `https://host[:port]`, as distribution's downstream wants."""
    accepted = "an https URL of MSR or of another cache, https://host[:port], without path"
    if not isinstance(value, str):
        raise Invalid(accepted)
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError on a port outside 0-65535
    except ValueError:
        raise Invalid(accepted) from None
    if url.scheme != "https" or not url.hostname or url.path not in ("", "/") or url.port == 0:
        raise Invalid(accepted)
    if url.netloc.endswith(":"):
        raise Invalid(accepted)
    if url.query or url.fragment or url.username or url.password:
        raise Invalid(accepted)
    try:
        check_host(url.hostname)
    except Invalid:
        raise Invalid(accepted) from None
    return value.rstrip("/")


def check_upstreams(value: Any) -> tuple[str, ...]:
    """One or more upstream URLs."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise Invalid('a non-empty list of https URLs, e.g. ["https://msr.example.com"]')
    return tuple(check_upstream(item) for item in value)


def check_duration(value: Any) -> str:
    """A positive Go duration with units, as distribution's `blobttl` reads it."""
    accepted = (
        "a positive Go duration with a unit, e.g. 24h, 1h30m or 90m "
        "(a bare number would be read as nanoseconds)"
    )
    if not isinstance(value, str) or not _GO_DURATION.match(value):
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


_GO_INT = re.compile(r"^[+-]?[0-9]+$")


def check_port_range(value: Any) -> range:
    """A port range as kube-apiserver's --service-node-port-range takes it: `min-max`
    (inclusive) or one port (apimachinery's util/net PortRange.Set), not empty."""
    accepted = "a port range min-max within 1-65535, e.g. 30000-32767 (MKE: 32768-35535)"
    if not isinstance(value, str):
        raise Invalid(accepted)
    low_text, hyphen, high_text = value.strip().partition("-")
    if not _GO_INT.match(low_text) or (hyphen and not _GO_INT.match(high_text)):
        raise Invalid(accepted)
    low = int(low_text)
    high = int(high_text) if hyphen else low
    if not 1 <= low <= high <= 65535:
        raise Invalid(accepted)
    return range(low, high + 1)


def _shown_range(ports: range) -> str:
    return f"{ports.start}-{ports.stop - 1}"


def check_port(value: Any) -> int:
    """A TCP port."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid("an integer port from 1 to 65535")
    return value


def _certificates(value: Any) -> list[x509.Certificate]:
    try:
        return given_certificates.certificates(value)
    except ValueError as err:
        raise Invalid(str(err)) from None


def check_serving_certificate(value: Any) -> str:
    """Your serving certificate (chain, leaf first): valid now, as a client checks it."""
    leaf = _certificates(value)[0]
    try:
        given_certificates.check_valid_now([leaf], datetime.datetime.now(datetime.UTC))
    except ValueError as err:
        raise Invalid(f"a certificate valid now: {err}") from None
    return value


def check_ca_certificates(value: Any) -> str:
    """CA certificates (a bundle): each may sign, as a client requires of the CA it trusts."""
    for cert in _certificates(value):
        try:
            given_certificates.check_is_ca(cert)
        except ValueError as err:
            raise Invalid(f"CA certificates: {err}") from None
    return value


def check_covers_hosts(cert: str, hosts: Sequence[str]) -> None:
    """Clients reach the cache by `hosts`: your certificate's SANs must match each of them."""
    leaf = given_certificates.certificates(cert)[0]
    try:
        given_certificates.check_covers_hosts(leaf, hosts)
    except ValueError as err:
        raise Invalid(f"a certificate whose SANs cover every host: {err}") from None


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


# The children pulumi-kubernetes auto-names `<resource name>-<role>-<8 hex>`, the longest role.
_AUTONAMED_ROLE = "storage"


def check_resource_name(name: str | None, what: str = "MsrCache resource name") -> list[Misnamed]:
    """`name` prefixes the names pulumi-kubernetes gives the ConfigMap, Secrets and claim
    (`<name>-config-<8 hex>`, ...; pulumi-kubernetes' AssignNameIfAutonamable keeps it as it is),
    which the API server wants as DNS-1123 subdomains."""
    if name is None:
        return []
    try:
        api_rules.dns1123_subdomain(f"{name}-{_AUTONAMED_ROLE}-00000000")
    except ValueError:
        accepted = (
            "lowercase a-z, 0-9, '-' and '.', starting with a letter or digit, at most "
            f"{253 - len(_AUTONAMED_ROLE) - 10} characters: it prefixes the names of the "
            "auto-named ConfigMap, Secrets and claim"
        )
        return [Misnamed(what, name, accepted)]
    return []


def over_limit(resources: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What the API server says of each request above its limit (ValidateResourceRequirements:
    a request must be less than or equal to its limit); a limit left out is the default's."""
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    found = []
    for name in sorted(set(requests) & set(limits)):
        if api_rules.quantity(requests[name]) > api_rules.quantity(limits[name]):
            default = "" if limits is not DEFAULT_RESOURCES["limits"] else " (the default limit)"
            found.append(
                f"requests.{name} {requests[name]} at most limits.{name} {limits[name]}{default}"
            )
    return found


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
    if not isinstance(value, Mapping) or not value or set(value) - set(sections):
        raise Invalid(accepted)
    result: dict[str, dict[str, str]] = {}
    for section, amounts in value.items():
        if not isinstance(amounts, Mapping) or not amounts or set(amounts) - set(names):
            raise Invalid(accepted)
        try:
            result[section] = {names[n]: check_quantity(amount) for n, amount in amounts.items()}
        except Invalid:
            raise Invalid(accepted) from None
    return result


def _enum(kind: type[Enum]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return kind(value.value if isinstance(value, Enum) else value)
        except ValueError:
            raise Invalid("one of " + ", ".join(m.value for m in kind)) from None

    return check


def _of_type(kind: type, accepted: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Invalid(accepted)
        return value

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


def _min_replicas(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("an integer of at least 1")
    return value


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _passes(check: Callable[[str], Any]) -> Callable[[str], bool]:
    def passes(value: str) -> bool:
        try:
            check(value)
        except ValueError:
            return False
        return True

    return passes


def _string_map(keys: Callable[[str], bool], accepted: str) -> Callable[[Any], dict[str, str]]:
    def check(value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and keys(k) and isinstance(v, str) for k, v in value.items()
        ):
            raise Invalid(accepted)
        return dict(value)

    return check


def _pod_scheduling(check: Callable[[Any], Any], accepted: str) -> Callable[[Any], Any]:
    """A pod_scheduling check, its message (the path inside the value) after what is accepted."""

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as err:
            raise Invalid(f"{accepted}, as the API server accepts it: {err}") from None

    return checked


def check_issuer(value: Any) -> Issuer:
    """A cert-manager issuer reference."""
    accepted = "an object {kind: Issuer|ClusterIssuer, name: <issuer name>}"
    if not isinstance(value, Mapping) or set(value) != {"kind", "name"}:
        raise Invalid(accepted)
    try:
        return Issuer(IssuerKind(value["kind"]), check_dns_subdomain(value["name"]))
    except (ValueError, Invalid):
        raise Invalid(accepted) from None


def check_secret_ref(value: Any) -> SecretRef:
    """A key of an existing Secret."""
    accepted = "an object {namespace, name, key} naming an existing Secret (key default ca.crt)"
    if not isinstance(value, Mapping) or not {"namespace", "name"} <= set(value) <= {
        "namespace",
        "name",
        "key",
    }:
        raise Invalid(accepted)
    key = value.get("key", "ca.crt")
    try:
        ref = SecretRef(
            check_dns_label(value["namespace"]), check_dns_subdomain(value["name"]), key
        )
    except Invalid:
        raise Invalid(accepted) from None
    if not isinstance(key, str) or not _SECRET_KEY.match(key):
        raise Invalid(accepted)
    return ref


def _overridden_paths(tree: Mapping[str, Any], prefix: str = "REGISTRY") -> set[str]:
    """distribution's env overrides (REGISTRY_<PATH>) that would replace a part of `tree`."""
    names = set()
    for key, value in tree.items():
        name = f"{prefix}_{key.upper()}"
        names.add(name)
        if isinstance(value, Mapping):
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


def check_extra_env(value: Any) -> dict[str, str]:
    """Extra environment variables of the container (distribution reads REGISTRY_* overrides)."""
    env = _string_map(
        _ENV_NAME.fullmatch, "an object of environment variable names to string values"
    )(value)
    reserved = sorted(RESERVED_ENV & set(env))
    if reserved:
        raise Invalid(
            f"no {', '.join(reserved)}: the component sets them (the http secret, storage "
            "credentials through objectStorage, and the config.yaml it writes)"
        )
    return env


def _object_storage(value: Any) -> Any:
    try:
        return check_object_storage(value)
    except ValueError as err:
        raise Invalid(str(err)) from None


def is_output(value: Any) -> bool:
    """Whether `value` is, or holds, a Pulumi Output (its value may not be known yet)."""
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(is_output(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_output(v) for v in value)
    return False


_CHECKS: Mapping[str, Callable[[Any], Any]] = {
    "upstreams": check_upstreams,
    "exposure": _enum(Exposure),
    "hosts": lambda v: v,  # checked below, per host, so the error names the bad one
    "port": check_port,
    "namespace": check_dns_label,
    "createNamespace": _of_type(bool, "true or false"),
    "name": check_service_name,
    "image": check_image,
    "blobTtl": check_duration,
    "upstreamCaCert": check_ca_certificates,
    "tlsCert": check_serving_certificate,
    "tlsKey": check_private_key,
    "tlsCaCert": check_ca_certificates,
    "replicas": _min_replicas,
    "storageSize": check_quantity,
    "storageClass": check_dns_subdomain,
    "storageAccessMode": _enum(AccessMode),
    "ingressClassName": check_dns_subdomain,
    "logLevel": _enum(LogLevel),
    "resources": check_resources,
    "tlsKeyAlgorithm": _enum(KeyAlgorithm),
    "objectStorage": _object_storage,
    "nodeSelector": _pod_scheduling(
        pod_scheduling.check_node_selector, "an object of node label names to values"
    ),
    "tolerations": _pod_scheduling(pod_scheduling.check_tolerations, "a list of tolerations"),
    "affinity": _pod_scheduling(pod_scheduling.check_affinity, "a pod affinity"),
    "priorityClassName": check_dns_subdomain,
    "networkPolicy": _of_type(bool, "true or false"),
    "ingressNamespace": check_dns_label,
    "nodePortRange": check_port_range,
    "metrics": _of_type(bool, "true or false"),
    "metricsNamespace": check_dns_label,
    "serviceMonitor": _of_type(bool, "true or false"),
    "certManagerIssuer": check_issuer,
    "upstreamCaSecret": check_secret_ref,
    "extraEnv": check_extra_env,
    "podAnnotations": _string_map(
        _passes(api_rules.qualified_name), "an object of annotation names to string values"
    ),
}


def parse(raw: Mapping[str, Any], resource_name: str | None = None) -> Settings:
    """Validate `raw` (camelCase config keys; None or absent means unset) into Settings, for the
    MsrCache named `resource_name` (which prefixes its auto-named objects' names).

    Raises ConfigError listing every problem. Deferrable inputs given as Outputs are accepted
    as they are; their own check runs when they resolve (see `resolved`).
    """
    problems: list[Problem | UnknownKey | Misnamed] = [
        *unknown_keys((key for key in raw if key not in _CHECKS), known_keys()),
        *check_resource_name(resource_name),
    ]

    given = {k: v for k, v in raw.items() if v is not None and k in _CHECKS}
    values: dict[str, Any] = {}
    for key, check in _CHECKS.items():
        value = given.get(key, DEFAULTS.get(key))
        if value is None:
            values[key] = None
            continue
        if is_output(value) and key not in PARTLY_DEFERRABLE:
            if key in DEFERRABLE:
                values[key] = value
            else:
                problems.append(
                    Problem(
                        key,
                        "an Output",
                        "a plain value known when the program runs "
                        "(it decides which Kubernetes objects are made)",
                    )
                )
                values[key] = None  # so no check below reads it
            continue
        try:
            values[key] = check(value)
        except Invalid as invalid:
            problems.append(Problem(key, value, invalid.accepted))
            values[key] = None

    if "upstreams" not in given:
        problems.append(Problem("upstreams", None, "at least one https URL of MSR (required)"))

    def problem(key: str, accepted: str) -> None:
        problems.append(Problem(key, given.get(key), accepted))

    exposure = values["exposure"]
    hosts = _check_hosts(values["hosts"], exposure, problems) if values["hosts"] is not None else ()

    port = values["port"]
    if exposure is Exposure.NODE_PORT and "port" not in given:
        problem(
            "port",
            "the node port clients connect to (required with exposure nodePort), "
            "e.g. 30443; the cluster's NodePort range applies (Kubernetes: 30000-32767)",
        )
    elif exposure is Exposure.INGRESS and "port" in given:
        problem("port", "no port with exposure ingress: clients use the ingress controller's 443")
    if port is None and exposure is not None:
        port = 443  # hostPort and loadBalancer; nodePort has none, it must be chosen
    node_ports = values["nodePortRange"]
    if exposure is Exposure.NODE_PORT and node_ports and values["port"] and port not in node_ports:
        problem(
            "port",
            f"a node port within the cluster's NodePort range {_shown_range(node_ports)} "
            "(set nodePortRange for another, e.g. MKE's 32768-35535)",
        )
    if exposure is not None and exposure is not Exposure.NODE_PORT and "nodePortRange" in given:
        problem("nodePortRange", "no nodePortRange unless exposure is nodePort")
    if values["createNamespace"] and values["namespace"] in BUILT_IN_NAMESPACES:
        problem(
            "createNamespace",
            f"false with namespace {values['namespace']}: it always exists, and "
            "pulumi-kubernetes refuses to create an object that exists",
        )

    if exposure is not None and exposure is not Exposure.INGRESS and "ingressClassName" in given:
        problem("ingressClassName", "no ingressClassName unless exposure is ingress")

    tls = {k: given.get(k) for k in ("tlsCert", "tlsKey", "tlsCaCert")}
    if (tls["tlsCert"] is None) != (tls["tlsKey"] is None):
        missing = "tlsKey" if tls["tlsKey"] is None else "tlsCert"
        problems.append(Problem(missing, None, "tlsCert and tlsKey together, or neither"))
    elif tls["tlsCert"] is not None and "certManagerIssuer" in given:
        problem("certManagerIssuer", "certManagerIssuer or tlsCert/tlsKey, not both")
    elif (
        tls["tlsCert"] is None and tls["tlsCaCert"] is not None and "certManagerIssuer" not in given
    ):
        problem(
            "tlsCaCert",
            "tlsCaCert only with tlsCert/tlsKey or certManagerIssuer (it names their issuer)",
        )
    elif tls["tlsCert"] is not None and "tlsKeyAlgorithm" in given:
        problem("tlsKeyAlgorithm", "no tlsKeyAlgorithm with tlsCert/tlsKey: the key is yours")
    elif isinstance(values["tlsCert"], str) and isinstance(values["tlsKey"], str):
        try:
            check_key_pair(values["tlsCert"], values["tlsKey"])
        except Invalid as invalid:
            problems.append(Problem("tlsKey", values["tlsKey"], invalid.accepted))
    if isinstance(values["tlsCert"], str) and hosts:
        try:
            check_covers_hosts(values["tlsCert"], hosts)
        except Invalid as invalid:
            problems.append(Problem("tlsCert", "your certificate", invalid.accepted))

    if "upstreamCaSecret" in given and "upstreamCaCert" in given:
        problem("upstreamCaSecret", "upstreamCaSecret or upstreamCaCert, not both")
    network_policy = values["networkPolicy"]
    if "ingressNamespace" in given and (exposure is not Exposure.INGRESS or not network_policy):
        problem("ingressNamespace", "ingressNamespace only with exposure ingress and networkPolicy")
    metrics = values["metrics"]
    if "metricsNamespace" in given and (not metrics or not network_policy):
        problem("metricsNamespace", "metricsNamespace only with metrics and networkPolicy")
    if values["serviceMonitor"] and not metrics:
        problem(
            "serviceMonitor", "serviceMonitor only with metrics: true (it scrapes the metrics port)"
        )
    if values["objectStorage"] is not None and "storageSize" in given:
        problem("storageSize", "no storageSize with objectStorage: the blobs go to the bucket")

    storage = None
    if values["storageSize"] is not None and values["objectStorage"] is None:
        storage = Storage(
            values["storageSize"], values["storageAccessMode"], values["storageClass"]
        )
    else:
        for key in ("storageClass", "storageAccessMode"):
            if key in given:
                problem(key, f"no {key} without storageSize (the cache then uses an emptyDir)")
    replicas = values["replicas"]
    if (
        storage is not None
        and storage.access_mode
        and storage.single_node
        and replicas
        and replicas > 1
    ):
        problem(
            "replicas",
            f"1 with storageAccessMode {storage.access_mode.value}: only one node "
            "can mount the claim; use ReadWriteMany storage or no storageSize for more",
        )

    resources = {**DEFAULT_RESOURCES, **(values["resources"] or {})}
    if values["resources"] is not None:
        problems += [Problem("resources", given["resources"], a) for a in over_limit(resources)]
    if metrics and values["name"] is not None:
        try:
            check_service_name(f"{values['name']}-metrics")
        except Invalid as invalid:
            problem("name", f"a name whose metrics Service <name>-metrics is {invalid.accepted}")

    if problems:
        raise ConfigError(problems)
    return Settings(
        upstreams=values["upstreams"],
        exposure=exposure,
        hosts=hosts,
        port=port,
        namespace=values["namespace"],
        create_namespace=values["createNamespace"],
        name=values["name"],
        image=values["image"],
        blob_ttl=values["blobTtl"],
        replicas=replicas,
        log_level=values["logLevel"],
        resources=resources,
        tls_key_algorithm=values["tlsKeyAlgorithm"],
        ingress_class_name=values["ingressClassName"] if exposure is Exposure.INGRESS else None,
        storage=storage,
        upstream_ca_cert=values["upstreamCaCert"],
        tls_cert=values["tlsCert"],
        tls_key=values["tlsKey"],
        tls_ca_cert=values["tlsCaCert"],
        object_storage=values["objectStorage"],
        node_selector=values["nodeSelector"] or {},
        tolerations=values["tolerations"] or (),
        affinity=values["affinity"],
        priority_class_name=values["priorityClassName"],
        network_policy=bool(network_policy),
        ingress_namespace=values["ingressNamespace"]
        if exposure is Exposure.INGRESS and network_policy
        else None,
        metrics=bool(metrics),
        metrics_namespace=values["metricsNamespace"] if metrics and network_policy else None,
        node_port_range=node_ports if exposure is Exposure.NODE_PORT else None,
        service_monitor=bool(values["serviceMonitor"]),
        cert_manager_issuer=values["certManagerIssuer"],
        upstream_ca_secret=values["upstreamCaSecret"],
        extra_env=values["extraEnv"] or {},
        pod_annotations=values["podAnnotations"] or {},
    )


def _check_hosts(value: Any, exposure: Exposure | None, problems: list[Problem]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        problems.append(Problem("hosts", value, "a list of DNS names or IP addresses"))
        return ()
    hosts = []
    for host in value:
        try:
            hosts.append(check_host(host))
        except Invalid as invalid:
            problems.append(Problem("hosts", host, invalid.accepted))
    if exposure is None:
        return tuple(hosts)
    if not value and exposure is not Exposure.LOAD_BALANCER:
        problems.append(
            Problem(
                "hosts",
                [],
                f"at least one host with exposure {exposure.value}: " + HOSTS_NEEDED[exposure],
            )
        )
    if exposure is Exposure.INGRESS:
        for host in hosts:
            if ip_or_none(host) is not None:
                problems.append(
                    Problem(
                        "hosts",
                        host,
                        "DNS names only with exposure ingress: an "
                        "Ingress rule matches a name, never an IP",
                    )
                )
    if len(set(hosts)) != len(hosts):
        problems.append(Problem("hosts", list(value), "each host once"))
    return tuple(hosts)


HOSTS_NEEDED: Mapping[Exposure, str] = {
    Exposure.NODE_PORT: "the FQDNs or IPs of the nodes clients connect to",
    Exposure.HOST_PORT: "the FQDNs or IPs of the nodes clients connect to",
    Exposure.INGRESS: "the external FQDN that resolves to the ingress controller",
    Exposure.LOAD_BALANCER: "optional: names for the load balancer's address",
}


def resolved(key: str, value: Any) -> Any:
    """Check a deferrable input once its Output resolves; raises ConfigError like `parse`."""
    try:
        return _CHECKS[key](value)
    except Invalid as invalid:
        raise ConfigError([Problem(key, value, invalid.accepted)]) from None


def from_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """MsrCacheArgs (snake_case) as config keys (camelCase), for `parse`."""
    raw: dict[str, Any] = {}
    for name, value in args.items():
        raw[CONFIG_KEYS.get(name, name)] = value
    return raw


def resolved_pair(cert: str, key: str, hosts: Sequence[str]) -> None:
    """Check, once both resolve, that tlsKey is the key of tlsCert's first certificate and that
    the certificate covers `hosts`."""
    try:
        check_key_pair(cert, key)
    except Invalid as invalid:
        raise ConfigError([Problem("tlsKey", key, invalid.accepted)]) from None
    try:
        check_covers_hosts(cert, hosts)
    except Invalid as invalid:
        raise ConfigError([Problem("tlsCert", "your certificate", invalid.accepted)]) from None


def resolved_secret_pem(ref: SecretRef, data: Mapping[str, str] | None) -> str:
    """The PEM at `ref.key` of a Secret's (base64) data, once read; raises ConfigError naming
    upstreamCaSecret when the key is missing or holds no certificate."""
    data = data or {}
    if ref.key not in data:
        raise ConfigError(
            [
                Problem(
                    "upstreamCaSecret",
                    f"{ref.namespace}/{ref.name}",
                    f"a key {ref.key!r} in it (it has {', '.join(sorted(data)) or 'no keys'})",
                )
            ]
        )
    pem = base64.b64decode(data[ref.key]).decode(errors="replace")
    try:
        return check_ca_certificates(pem)
    except Invalid as invalid:
        raise ConfigError(
            [
                Problem(
                    "upstreamCaSecret", f"{ref.namespace}/{ref.name}[{ref.key}]", invalid.accepted
                )
            ]
        ) from None
