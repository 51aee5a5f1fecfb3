"""Validated settings: the registry of every input of a cache, and `parse`, which checks them all
before any resource exists.

`Settings`' fields are the registry. Each field is an input: its Python name, its config key
(camelCase), its check, its default (or the default that applies only with another input), when
it applies, whether it may be an Output, whether it is secret, and what the stack config holds
(a string, or YAML structure). The tables the stack program, the render, the docs and the tests
need are derived from it; MsrCacheArgs (the package schema) must name the same inputs.

`parse` works in three steps: check each input on its own (`checks`), run the cross-field
rules (`rules`), build Settings. Every problem of every step is reported at once, in one
ConfigError.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import pulumi

from ..objects.exposure import MODES, Mode
from . import api_rules, checks, rules
from .model import (
    DEFAULT_IMAGE,
    DEFAULT_RESOURCES,
    AccessMode,
    Exposure,
    GatewayRef,
    Issuer,
    KeyAlgorithm,
    LogLevel,
    SecretRef,
    Storage,
)
from .object_storage import ObjectStorage
from .plain import as_yaml, is_mapping
from .problems import (
    HIDDEN,
    ConfigError,
    Invalid,
    Problem,
    Reported,
    Shape,
    camel_case,
    shape,
    spelled,
    unknown_keys,
)
from .problems import Caller as Caller
from .problems import caller as _caller

if TYPE_CHECKING:
    from typing_extensions import Unpack

StackType = Literal["string", "integer", "boolean", "array", "object", "objects"]
"""What stack config holds: text, a number, a boolean, a list of strings, an object, a list of
objects."""
Values = Mapping[str, Any]
"""Checked inputs by Python name (None: not given, or wrong)."""


@dataclasses.dataclass(frozen=True)
class Option:
    """One input of a cache, as the registry describes it."""

    name: str
    """The Python name (MsrCacheArgs' key)."""
    check: Callable[[Any], Any]
    """Returns the value normalised, or raises Invalid."""
    default: Any = None
    """The value when not given; a function of the other inputs for a default that only
    applies with another input (see `applies`)."""
    applies: Callable[[Values, AbstractSet[str]], bool] | None = None
    """When the input applies, from the checked values and the names given: given otherwise,
    it is an error; its value is then its default if that is a function, else None."""
    only: str = ""
    """When it applies, in words: 'with exposure ingress'."""
    outputs: Literal["no", "yes", "inside"] = "no"
    """Whether the value may be an Output of another resource: no (it decides which objects
    exist), yes (checked when it resolves), inside (its credentials may be)."""
    secret: bool = False
    """Never shown, and stored encrypted in stack config."""
    stack_type: StackType = "string"
    """What a stack's config holds: text, or YAML structure handed over as JSON."""
    pem: Literal["certificate", "key"] | None = None
    """PEM text: a render without the passphrase stands a test pair in for it."""
    production: bool = False
    """Documented among the production options."""
    shown: Callable[[Any], Any] | None = None
    """How an error shows a given value: `problems.shape` for an input that may hold a secret
    whatever its shape (no part of its value is shown)."""
    default_doc: str | None = None
    """The default as the docs say it, where it is a function of other inputs."""

    @property
    def key(self) -> str:
        """The config key (and the package schema's property): camelCase."""
        return camel_case(self.name)

    @property
    def required(self) -> bool:
        """Whether the input must be given."""
        return self.name == "upstreams"

    @property
    def conditional(self) -> bool:
        """Whether its default only applies with other inputs (so stack config only describes
        it: Pulumi hands a declared default to the program as if the user had set it)."""
        return callable(self.default) or self.applies is not None

    @property
    def declared(self) -> bool:
        """Whether Pulumi.yaml declares it: the CLI requires a declared key without a default on
        every stack and passes a declared default as if set, so only the required key and plain
        keys whose default always applies are declared; the rest are described beside them."""
        plain = self.stack_type in ("string", "integer", "boolean", "array")
        return self.required or (plain and self.default is not None and not self.conditional)

    @property
    def structured(self) -> bool:
        """Whether stack config holds YAML structure (handed to the program as JSON)."""
        return self.stack_type != "string"

    def show(self, value: Any) -> Any:
        """`value` as an error may show it."""
        if self.secret:
            return HIDDEN
        return self.shown(value) if self.shown else value


class _Registry(TypedDict, total=False):
    """What `option` takes: Option's fields after `name` and `check`."""

    default: Callable[[Values], Any] | object
    applies: Callable[[Values, AbstractSet[str]], bool] | None
    only: str
    outputs: Literal["no", "yes", "inside"]
    secret: bool
    stack_type: StackType
    pem: Literal["certificate", "key"] | None
    production: bool
    shown: Callable[[Any], Any] | None
    default_doc: str | None


def option(check: Callable[[Any], Any], **registry: Unpack[_Registry]) -> Any:
    """A field of Settings that is an input (see Option for `registry`)."""
    return dataclasses.field(default=None, metadata={"option": (check, registry)})


def _exposure(v: Values) -> Mode | None:
    return MODES.get(v["exposure"]) if v["exposure"] is not None else None


def _as_caller_spells(value: Any) -> Any:
    """An object input with its fields as its caller wrote them: the package hands MsrCache
    the schema's camelCase fields (sectionName) under MsrCacheArgs' names (section_name)."""
    if _caller() is not Caller.PACKAGE or not is_mapping(value):
        return value
    return {camel_case(str(k)): v for k, v in value.items()}


_GENERATED_CA_ONLY = "without tlsCert/tlsKey or certManagerIssuer (the CA is generated)"


def _generates_ca(values: Values, given: AbstractSet[str]) -> bool:
    return "tls_cert" not in given and values["cert_manager_issuer"] is None


RUNBOOKS = "docs/operate.md"
"""Where the alerts' runbooks are: alertRunbookUrl's default."""
_WITH_SERVICE_MONITOR = "with serviceMonitor (the rules select the series it scrapes)"
_WITH_ALERTS = "with serviceMonitor and alerts"
_WITH_ALERTS_ON_A_CLAIM = (
    "with serviceMonitor, alerts and storageSize (a volume of the cache's own)"
)


def _alerts_on(values: Values, _given: AbstractSet[str]) -> bool:
    return values["service_monitor"] is True and values["alerts"] is not False


def _alerts_on_a_claim(values: Values, given: AbstractSet[str]) -> bool:
    return _alerts_on(values, given) and "storage_size" in given


def _is(exposure: Exposure) -> Callable[[Values, AbstractSet[str]], bool]:
    return lambda v, _: v["exposure"] is exposure


def _port_applies(v: Values, given: AbstractSet[str]) -> bool:
    """Whether `port` is the cache's to choose: not behind an ingress controller (its 443), nor
    on an existing Gateway (its listener's)."""
    mode = _exposure(v)
    if mode is None:
        return True
    return mode.port_settable and not (mode.exposure is Exposure.GATEWAY and "gateway" in given)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a cache is made from, validated: the registry of inputs (see the module).

    PEM fields and upstreams stay `Input`s: they may be Outputs of other resources, checked
    when they resolve (`resolved`)."""

    upstreams: pulumi.Input[Sequence[pulumi.Input[str]]] = option(
        checks.check_upstreams, outputs="yes", stack_type="array"
    )
    exposure: Exposure = option(checks.check_enum(Exposure), default=Exposure.NODE_PORT)
    hosts: tuple[str, ...] = option(checks.check_hosts, default=[], stack_type="array")
    port: int = option(
        checks.check_port,
        default=lambda v: (mode := _exposure(v)) and mode.default_port,
        applies=_port_applies,
        only="with an exposure that has a port of its own (not ingress: its controller's 443; "
        "not gateway with an existing Gateway: its listener's)",
        stack_type="integer",
        default_doc="nodePort: required; hostPort, loadBalancer, gateway: 443",
    )
    node_port_range: range | None = option(
        checks.check_port_range,
        default="30000-32767",
        applies=_is(Exposure.NODE_PORT),
        only="with exposure nodePort",
    )
    namespace: str = option(checks.check_dns_label, default="dtr")
    create_namespace: bool = option(checks.check_bool, default=True, stack_type="boolean")
    name: str = option(checks.check_service_name, default="dtr-cache")
    image: str = option(checks.check_image, default=DEFAULT_IMAGE)
    blob_ttl: str = option(checks.check_duration, default="24h")
    upstream_ca_cert: pulumi.Input[str] | None = option(
        checks.check_ca_certificates, outputs="yes", pem="certificate", shown=shape
    )
    tls_cert: pulumi.Input[str] | None = option(
        checks.check_serving_certificate, outputs="yes", pem="certificate", shown=shape
    )
    tls_key: pulumi.Input[str] | None = option(
        checks.check_private_key, outputs="yes", secret=True, pem="key"
    )
    tls_ca_cert: pulumi.Input[str] | None = option(
        checks.check_ca_certificates,
        outputs="yes",
        pem="certificate",
        shown=shape,
        applies=lambda v, given: "tls_cert" in given or v["cert_manager_issuer"] is not None,
        only="with tlsCert/tlsKey or certManagerIssuer (it names their issuer)",
    )
    tls_key_algorithm: KeyAlgorithm | None = option(
        checks.check_enum(KeyAlgorithm),
        default=KeyAlgorithm.RSA,
        applies=lambda v, given: "tls_cert" not in given,
        only="without tlsCert/tlsKey (the key is yours)",
    )
    replicas: int = option(checks.check_replicas, default=1, stack_type="integer")
    storage_size: str | None = option(
        checks.check_quantity,
        applies=lambda v, _: v["object_storage"] is None,
        only="without objectStorage (the blobs go to the bucket)",
    )
    storage_class: str | None = option(
        checks.check_dns_subdomain,
        applies=lambda v, given: "storage_size" in given,
        only="with storageSize (else the cache uses an emptyDir)",
    )
    storage_access_mode: AccessMode | None = option(
        checks.check_enum(AccessMode),
        default=AccessMode.READ_WRITE_ONCE,
        applies=lambda v, given: "storage_size" in given,
        only="with storageSize (else the cache uses an emptyDir)",
    )
    ingress_class_name: str | None = option(
        checks.check_dns_subdomain,
        default="nginx",
        applies=_is(Exposure.INGRESS),
        only="with exposure ingress",
    )
    gateway: GatewayRef | None = option(
        checks.check_gateway, applies=_is(Exposure.GATEWAY), only="with exposure gateway",
        stack_type="object", shown=_as_caller_spells,
    )  # fmt: skip
    gateway_class_name: str | None = option(
        checks.check_dns_subdomain, applies=_is(Exposure.GATEWAY), only="with exposure gateway"
    )
    log_level: LogLevel = option(checks.check_enum(LogLevel), default=LogLevel.INFO)
    resources: Mapping[str, Mapping[str, str]] = option(
        checks.check_resources, default=DEFAULT_RESOURCES, stack_type="object"
    )
    object_storage: ObjectStorage | None = option(
        checks.check_storage,
        outputs="inside",
        stack_type="object",
        production=True,
        shown=shape,
    )
    node_selector: Mapping[str, str] = option(
        checks.check_node_selector, default={}, stack_type="object", production=True
    )
    tolerations: tuple[Mapping[str, Any], ...] = option(
        checks.check_tolerations, default=[], stack_type="objects", production=True
    )
    affinity: Mapping[str, Any] | None = option(
        checks.check_affinity, stack_type="object", production=True
    )
    priority_class_name: str | None = option(checks.check_dns_subdomain, production=True)
    image_pull_secrets: tuple[str, ...] = option(
        checks.check_secret_names, default=[], stack_type="array", production=True
    )
    service_account_name: str | None = option(
        checks.check_dns_subdomain,
        production=True,
        default_doc="the namespace's default",
    )
    network_policy: bool = option(
        checks.check_bool, default=True, stack_type="boolean", production=True
    )
    ingress_namespace: str | None = option(
        checks.check_dns_label,
        default="ingress-nginx",
        applies=lambda v, _: v["exposure"] is Exposure.INGRESS and v["network_policy"] is not False,
        only="with exposure ingress and networkPolicy",
        production=True,
    )
    gateway_proxy_namespace: str | None = option(
        checks.check_dns_label,
        applies=lambda v, _: v["exposure"] is Exposure.GATEWAY and v["network_policy"] is not False,
        only="with exposure gateway and networkPolicy",
        production=True,
        default_doc="the Gateway's namespace",
    )
    metrics: bool = option(checks.check_bool, default=False, stack_type="boolean", production=True)
    metrics_namespace: str | None = option(
        checks.check_dns_label,
        default="monitoring",
        applies=lambda v, _: v["metrics"] is True and v["network_policy"] is not False,
        only="with metrics and networkPolicy",
        production=True,
    )
    service_monitor: bool = option(
        checks.check_bool, default=False, stack_type="boolean", production=True
    )
    monitoring_labels: Mapping[str, str] | None = option(
        checks.check_labels,
        default={},
        applies=lambda v, _: v["service_monitor"] is True,
        only="with serviceMonitor (they label it and the PrometheusRule)",
        stack_type="object",
        production=True,
    )
    alerts: bool | None = option(
        checks.check_bool,
        default=True,
        applies=lambda v, _: v["service_monitor"] is True,
        only=_WITH_SERVICE_MONITOR,
        stack_type="boolean",
        production=True,
    )
    alert_labels: Mapping[str, str] | None = option(
        checks.check_alert_labels,
        default={},
        applies=_alerts_on,
        only=_WITH_ALERTS,
        stack_type="object",
        production=True,
    )
    alert_runbook_url: str | None = option(
        checks.check_runbook_url,
        applies=_alerts_on,
        only=_WITH_ALERTS,
        production=True,
        default_doc=f"{RUNBOOKS}, the path in this repository",
    )
    alert_certificate_days: int | None = option(
        checks.check_days, default=14, applies=_alerts_on, only=_WITH_ALERTS, stack_type="integer"
    )
    alert_volume_used_percent: int | None = option(
        checks.check_percent,
        default=90,
        applies=_alerts_on_a_claim,
        only=_WITH_ALERTS_ON_A_CLAIM,
        stack_type="integer",
    )
    alert_volume_full_days: int | None = option(
        checks.check_days,
        default=4,
        applies=_alerts_on_a_claim,
        only=_WITH_ALERTS_ON_A_CLAIM,
        stack_type="integer",
    )
    alert_pull_error_percent: int | None = option(
        checks.check_percent,
        default=5,
        applies=_alerts_on,
        only=_WITH_ALERTS,
        stack_type="integer",
    )
    alert_hit_ratio_percent: int | None = option(
        checks.check_percent,
        default=50,
        applies=_alerts_on,
        only=_WITH_ALERTS,
        stack_type="integer",
    )
    dashboard: bool | None = option(
        checks.check_bool,
        default=True,
        applies=lambda v, _: v["metrics"] is True,
        only="with metrics",
        stack_type="boolean",
        production=True,
    )
    dashboard_namespace: str | None = option(
        checks.check_dns_label,
        applies=lambda v, _: v["metrics"] is True and v["dashboard"] is not False,
        only="with metrics and dashboard",
        production=True,
        default_doc="the cache's namespace",
    )
    cert_manager_issuer: Issuer | None = option(
        checks.check_issuer,
        applies=lambda v, given: "tls_cert" not in given,
        only="without tlsCert/tlsKey (one or the other issues the serving certificate)",
        stack_type="object",
        production=True,
    )
    ca_generation: int | None = option(
        checks.check_generation,
        default=1,
        applies=_generates_ca,
        only=_GENERATED_CA_ONLY,
        stack_type="integer",
        production=True,
    )
    next_ca: bool | None = option(
        checks.check_bool,
        default=False,
        applies=_generates_ca,
        only=_GENERATED_CA_ONLY,
        stack_type="boolean",
        production=True,
    )
    reload_on_certificate_change: bool | None = option(
        checks.check_bool,
        default=False,
        applies=lambda v, _: v["cert_manager_issuer"] is not None,
        only="with certManagerIssuer (a generated or given certificate changes with pulumi up)",
        stack_type="boolean",
        production=True,
    )
    adopt_existing: bool = option(
        checks.check_bool, default=False, stack_type="boolean", production=True
    )
    read_cluster: bool = option(checks.check_bool, default=True, stack_type="boolean")
    upstream_ca_secret: SecretRef | None = option(
        checks.check_secret_ref,
        applies=lambda v, given: "upstream_ca_cert" not in given,
        only="without upstreamCaCert (one or the other is MSR's CA)",
        stack_type="object",
        production=True,
    )
    extra_env: Mapping[str, pulumi.Input[str]] = option(
        checks.check_extra_env,
        default={},
        outputs="inside",
        stack_type="object",
        production=True,
        shown=shape,
    )
    pod_annotations: Mapping[str, str] = option(
        checks.check_annotations, default={}, stack_type="object", production=True
    )

    def warnings(self) -> list[str]:
        """What is accepted but is likely not what was meant, each naming its input as the
        caller spells it: the component says them (pulumi.log.warn), as does the render."""
        found: list[str] = []
        host = api_rules.host_by_capitals(self.image)
        if host is not None:
            found.append(
                f"{spelled('image')}: {as_yaml(self.image)} is pulled from a registry host named "
                f"{host}: a first path component with capitals is read as a host (by the kubelet "
                f"and Docker alike), never as a Docker Hub namespace. Write it in lower case, "
                f"as a host name ({host.lower()}) or as a namespace on Docker Hub."
            )
        for key, pem in (
            ("tlsCaCert", self.tls_ca_cert),
            ("upstreamCaCert", self.upstream_ca_cert),
        ):
            if isinstance(pem, str):  # an Output is warned of when it resolves: bundle_warnings
                found += bundle_warnings(spelled(key), pem)
        return found

    @property
    def mode(self) -> Mode:
        """The exposure mode's object."""
        return MODES[self.exposure]

    @property
    def storage(self) -> Storage | None:
        """The claim for the blobs, when the cache keeps them on a volume of its own."""
        if self.storage_size is None or self.object_storage is not None:
            return None
        return Storage(
            self.storage_size, self.storage_access_mode or AccessMode.READ_WRITE_ONCE,
            self.storage_class,
        )  # fmt: skip

    @property
    def gateway_parent(self) -> GatewayRef | None:
        """The Gateway the TLSRoute attaches to: the one named, or the one made with the cache
        (named after it, in its namespace)."""
        if self.gateway is not None:
            return self.gateway
        if self.gateway_class_name is not None:
            return GatewayRef(self.name, self.namespace)
        return None

    @property
    def clients_namespace(self) -> str | None:
        """The namespace whose pods alone may reach the cache port (the in-cluster proxy's),
        or None: anyone may (clients come from outside the cluster)."""
        if not self.mode.clients_inside:
            return None
        if self.exposure is Exposure.GATEWAY:
            parent = self.gateway_parent
            if self.gateway_proxy_namespace is not None:
                return self.gateway_proxy_namespace
            return parent.namespace if parent is not None else None
        return self.ingress_namespace

    @property
    def generates_tls(self) -> bool:
        """Whether the component makes its own CA and serving certificate."""
        return self.tls_cert is None and self.cert_manager_issuer is None

    @property
    def trusts_upstream_ca(self) -> bool:
        """Whether the cache is given a CA for its upstreams (pasted, or read from a Secret)."""
        return self.upstream_ca_cert is not None or self.upstream_ca_secret is not None


OPTIONS: tuple[Option, ...] = tuple(
    Option(field.name, field.metadata["option"][0], **field.metadata["option"][1])
    for field in dataclasses.fields(Settings)
)
"""The registry: every input, in the order users read them."""
BY_KEY: Mapping[str, Option] = {o.key: o for o in OPTIONS}
CONFIG_KEYS: Mapping[str, str] = {o.name: o.key for o in OPTIONS}
"""Python name -> config key."""
DEFAULTS: Mapping[str, Any] = {
    o.key: o.default for o in OPTIONS if o.default is not None and not callable(o.default)
}
"""Defaults by config key (the conditional ones as they apply)."""
CONDITIONAL_DEFAULTS = frozenset(o.key for o in OPTIONS if o.conditional and o.default is not None)
DEFERRABLE = frozenset(o.key for o in OPTIONS if o.outputs == "yes")
STRUCTURED = frozenset(o.key for o in OPTIONS if o.structured)


def known_keys() -> tuple[str, ...]:
    """The input names, as this process's caller spells them."""
    return tuple(CONFIG_KEYS) if _caller() is Caller.PYTHON else tuple(CONFIG_KEYS.values())


def from_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """MsrCacheArgs (snake_case) as config keys (camelCase), for `parse`."""
    return {CONFIG_KEYS.get(name, name): value for name, value in args.items()}


def parse(raw: Mapping[str, Any], resource_name: str | None = None) -> Settings:
    """Validate `raw` (camelCase config keys; None or absent means unset) into Settings, for the
    MsrCache named `resource_name` (which prefixes its auto-named objects' names).

    Raises ConfigError listing every problem. Deferrable inputs given as Outputs are accepted
    as they are; their own check runs when they resolve (see `resolved`).
    """
    problems: list[Reported] = [
        *unknown_keys((key for key in raw if key not in BY_KEY), known_keys()),
        *rules.check_resource_name(resource_name),
    ]
    given = {BY_KEY[k].name: v for k, v in raw.items() if v is not None and k in BY_KEY}
    values = _checked(given, problems)
    values = _defaulted(values, given, problems)
    found = rules.Found(values, given, {o.name: o for o in OPTIONS})
    for rule in rules.RULES:
        rule(found)
    problems += found.problems
    if problems:
        raise ConfigError(problems)
    return Settings(**values)


def _checked(given: Mapping[str, Any], problems: list[Reported]) -> dict[str, Any]:
    """Step 1: each given input checked on its own (None where it is wrong)."""
    values: dict[str, Any] = {}
    for o in OPTIONS:
        if o.name not in given:
            values[o.name] = None
            continue
        value = given[o.name]
        if checks.is_output(value) and o.outputs != "inside":
            if o.outputs == "yes":
                values[o.name] = value
            else:
                problems.append(
                    Problem(
                        o.key,
                        Shape("an Output"),
                        "a plain value known when the program runs "
                        "(it decides which Kubernetes objects are made)",
                    )
                )
                values[o.name] = None
            continue
        try:
            values[o.name] = o.check(value)
        except Invalid as invalid:
            problems.append(Problem(o.key, o.show(invalid.shown(value)), invalid.accepted))
            values[o.name] = None
    return values


def _defaulted(
    values: dict[str, Any], given: Mapping[str, Any], problems: list[Reported]
) -> dict[str, Any]:
    """Step 1 ends with the defaults filled in where they apply, and inputs given where they do
    not apply refused. Unconditional defaults first: the conditions read them."""
    values = dict(values)
    for o in OPTIONS:
        if values[o.name] is None and o.name not in given and not o.conditional:
            values[o.name] = None if o.default is None else o.check(o.default)
    names = frozenset(given)
    for o in OPTIONS:
        applies = o.applies is None or o.applies(values, names)
        if not applies and o.name in given and values[o.name] is not False:
            problems.append(Problem(o.key, o.show(given[o.name]), f"{o.key} only {o.only}"))
        if applies and (o.name in given or values[o.name] is not None):
            continue  # given (and checked), or an unconditional default
        # A default that is a function of the other inputs decides either way (the port an
        # exposure uses); a constant one only where the input applies.
        default = o.default(values) if callable(o.default) else (o.default if applies else None)
        values[o.name] = None if default is None else o.check(default)
    return values


def resolved(key: str, value: Any) -> Any:
    """Check a deferrable input once its Output resolves; raises ConfigError like `parse`."""
    o = BY_KEY[key]
    try:
        return o.check(value)
    except Invalid as invalid:
        raise ConfigError([Problem(key, o.show(invalid.shown(value)), invalid.accepted)]) from None


def bundle_warnings(where: str, pem: Any) -> list[str]:
    """A warning for each certificate of a trust bundle (tlsCaCert, upstreamCaCert, the PEM of
    upstreamCaSecret, at `where`) that Go clients skip now, as checks.check_ca_certificates
    accepts such a bundle: an expired CA left beside the current one after a rotation, say."""
    return [
        f"{where}: {sentence} Go clients skip it and trust the rest of the bundle, so nothing "
        "only it signed verifies now."
        for sentence in checks.skipped_anchors(pem)
    ]


def resolved_pair(
    cert: str, key: str, hosts: Sequence[str], ca: str | None = None
) -> tuple[str, str, str | None]:
    """(cert, key, ca), checked once they resolve: tlsKey is the key of tlsCert's first
    certificate, the certificate covers `hosts`, and `ca` (tlsCaCert), when given, issued it."""
    problems = rules.tls_pair_problems(cert, key, hosts, ca)
    if problems:
        raise ConfigError(problems)
    return cert, key, ca


def resolved_secret_pem(ref: SecretRef, data: Mapping[str, str] | None) -> str:
    """The PEM at `ref.key` of a Secret's (base64) data, once read; raises ConfigError naming
    upstreamCaSecret when the key is missing or holds no CA certificate, and warns
    (pulumi.log.warn) of each certificate in it that Go clients skip (bundle_warnings)."""
    data = data or {}
    where = f"{ref.namespace}/{ref.name}"
    if ref.key not in data:
        held = ", ".join(sorted(data)) or "no keys"
        accepted = f"a key {as_yaml(ref.key)} in it (it has {held})"
        raise ConfigError([Problem("upstreamCaSecret", Shape(f"Secret {where}"), accepted)])
    pem = base64.b64decode(data[ref.key]).decode(errors="replace")
    try:
        checked = checks.check_ca_certificates(pem)
    except Invalid as invalid:
        raise ConfigError(
            [Problem("upstreamCaSecret", Shape(f"Secret {where}, key {ref.key}"), invalid.accepted)]
        ) from None
    # Read at deployment, so never seen by Settings.warnings: said here, as it would say it.
    for warning in bundle_warnings(
        f"{spelled('upstreamCaSecret')} (Secret {where}, key {ref.key})", pem
    ):
        pulumi.log.warn(warning)
    return checked
