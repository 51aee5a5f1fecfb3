"""The rules across inputs: each a small function that reports what is wrong with the checked
inputs taken together (a missing host, a port outside the cluster's range, a request over its
limit, a certificate that does not cover the hosts). `parse` runs every rule, so every conflict
is reported at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..objects.exposure import MODES, Gateway
from . import api_rules, checks
from .ip_literal import ip_or_none
from .model import DEFAULT_RESOURCES, AccessMode, Exposure
from .problems import HIDDEN, MISSING, Invalid, Misnamed, Problem, Shape, shape


class Shown(Protocol):
    """What a rule needs of an input's registry entry."""

    @property
    def key(self) -> str: ...

    def show(self, value: Any) -> Any: ...


@dataclasses.dataclass
class Found:
    """The checked inputs (by Python name; None: not given, or wrong), what was given, and the
    problems the rules report."""

    values: Mapping[str, Any]
    given: Mapping[str, Any]
    options: Mapping[str, Shown]
    problems: list[Problem] = dataclasses.field(default_factory=list[Problem])

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def report(self, name: str, accepted: str, given: Any = None) -> None:
        """A problem with input `name`: `given` (default: as given), shown as the input allows."""
        option = self.options[name]
        shown = self.given.get(name, MISSING) if given is None else given
        self.problems.append(Problem(option.key, option.show(shown), accepted))


Rule = Callable[[Found], None]


def upstreams_given(found: Found) -> None:
    """The cache must pull from somewhere."""
    if "upstreams" not in found.given:
        found.report("upstreams", "at least one https URL of MSR (required)")


def hosts_fit_the_exposure(found: Found) -> None:
    """Each mode needs the hosts it routes: node names or IPs, or the ingress' names."""
    mode, hosts = MODES.get(found["exposure"]), found["hosts"]
    if mode is None or hosts is None:
        return
    if not hosts and mode.hosts_needed:
        found.report(
            "hosts", f"at least one host with exposure {mode.exposure}: {mode.hosts_needed}", []
        )
    if mode.names_only:
        for host in hosts:
            if ip_or_none(host) is not None:
                accepted = f"DNS names only with exposure {mode.exposure}: {mode.names_only}"
                found.report("hosts", accepted, host)


def node_port_given_and_in_range(found: Found) -> None:
    """A node port is chosen by the user, within the cluster's NodePort range (kube-apiserver's
    --service-node-port-range: the API server refuses a Service outside it)."""
    if found["exposure"] is not Exposure.NODE_PORT:
        return
    if "port" not in found.given:
        found.report(
            "port",
            "the node port clients connect to (required with exposure nodePort), e.g. 30443; "
            "the cluster's NodePort range applies (Kubernetes: 30000-32767)",
        )
        return
    port, ports = found["port"], found["node_port_range"]
    if port is not None and ports is not None and port not in ports:
        found.report(
            "port",
            f"a node port within the cluster's NodePort range {ports.start}-{ports.stop - 1} "
            "(set nodePortRange for another, e.g. MKE's 32768-35535)",
        )


def one_gateway(found: Found) -> None:
    """A TLSRoute attaches to one Gateway: an existing one (gateway), or one the component makes
    from a GatewayClass (gatewayClassName), whose listeners are one per host."""
    if found["exposure"] is not Exposure.GATEWAY:
        return
    given = found.given
    if "gateway" in given and "gateway_class_name" in given:
        found.report(
            "gateway_class_name",
            "no gatewayClassName with gateway: the TLSRoute attaches to the existing Gateway "
            "named by gateway, or to one made from gatewayClassName, not both",
        )
    elif "gateway" not in given and "gateway_class_name" not in given:
        found.problems.append(
            Problem(
                found.options["gateway"].key,
                MISSING,
                "gateway {name, namespace, sectionName (optional)} naming an existing Gateway "
                "with a TLS Passthrough listener, or else gatewayClassName to have one made "
                "(exposure gateway needs one of them)",
            )
        )
    hosts, most = found["hosts"], Gateway.max_listeners
    if "gateway_class_name" in given and hosts and len(hosts) > most:
        found.report(
            "hosts",
            f"at most {most} hosts with gatewayClassName: the Gateway made has a listener per "
            f"host, and Gateway API allows {most} listeners",
            Shape(f"{len(hosts)} hosts"),
        )


# Namespaces every cluster has: pulumi-kubernetes (>= 4.29) refuses to create an object that
# exists, so createNamespace must be false for them.
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def namespace_created_only_if_new(found: Found) -> None:
    """A namespace that always exists cannot be created."""
    if found["create_namespace"] and found["namespace"] in BUILT_IN_NAMESPACES:
        found.report(
            "create_namespace",
            f"false with namespace {found['namespace']}: it always exists, and "
            "pulumi-kubernetes refuses to create an object that exists",
            True,
        )


def tls_cert_and_key_together(found: Found) -> None:
    """Your certificate needs its key, and the key must be the certificate's and cover the hosts."""
    given = found.given
    if ("tls_cert" in given) != ("tls_key" in given):
        missing = "tls_key" if "tls_key" not in given else "tls_cert"
        found.problems.append(
            Problem(found.options[missing].key, MISSING, "tlsCert and tlsKey together, or neither")
        )
        return
    cert, key, ca = found["tls_cert"], found["tls_key"], found["tls_ca_cert"]
    if isinstance(cert, str) and isinstance(key, str):
        ca = ca if isinstance(ca, str) else None
        found.problems += tls_pair_problems(cert, key, found["hosts"] or (), ca)


def tls_pair_problems(
    cert: str, key: str, hosts: Sequence[str], ca: str | None = None
) -> list[Problem]:
    """What is wrong with a certificate and key given together: the key must be the
    certificate's, its SANs must cover `hosts`, and `ca` (tlsCaCert), when given, must have
    issued it."""
    problems: list[Problem] = []
    try:
        checks.check_key_pair(cert, key)
    except Invalid as invalid:
        problems.append(Problem("tlsKey", HIDDEN, invalid.accepted))
    return problems + certificate_problems(cert, hosts, ca)


def certificate_problems(cert: str, hosts: Sequence[str], ca: str | None = None) -> list[Problem]:
    """What is wrong with a serving certificate (checked on its own) beside other inputs: its
    SANs must cover `hosts`, and `ca` (tlsCaCert), when given, must have issued it."""
    problems: list[Problem] = []
    try:
        checks.check_covers_hosts(cert, hosts)
    except Invalid as invalid:
        problems.append(Problem("tlsCert", shape(cert), invalid.accepted))
    if ca is not None:
        try:
            checks.check_issued_by(cert, ca)
        except Invalid as invalid:
            problems.append(Problem("tlsCaCert", shape(ca), invalid.accepted))
    return problems


def one_claim_for_one_pod(found: Found) -> None:
    """A ReadWriteOnce(Pod) claim is mounted by one node (or pod) at a time."""
    mode, replicas = found["storage_access_mode"], found["replicas"]
    single = mode in (AccessMode.READ_WRITE_ONCE, AccessMode.READ_WRITE_ONCE_POD)
    if found["storage_size"] is not None and single and replicas and replicas > 1:
        found.report(
            "replicas",
            f"1 with storageAccessMode {mode.value}: only one node can mount the claim; "
            "use ReadWriteMany storage or no storageSize for more",
        )


def requests_within_limits(found: Found) -> None:
    """The API server refuses a request above its limit (ValidateResourceRequirements)."""
    if found["resources"] is None or "resources" not in found.given:
        return
    for accepted in over_limit(found["resources"]):
        found.report("resources", accepted)


def over_limit(resources: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What the API server says of each request above its limit (a request must be less than
    or equal to its limit); a limit left out is the default's."""
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    found: list[str] = []
    for name in sorted(set(requests) & set(limits)):
        if api_rules.quantity(requests[name]) > api_rules.quantity(limits[name]):
            default = " (the default limit)" if limits is DEFAULT_RESOURCES["limits"] else ""
            found.append(
                f"requests.{name} {requests[name]} at most limits.{name} {limits[name]}{default}"
            )
    return found


def metrics_service_named(found: Found) -> None:
    """With metrics, `<name>-metrics` is a Service too, so a DNS-1035 label."""
    if found["metrics"] and found["name"] is not None:
        try:
            checks.check_service_name(f"{found['name']}-metrics")
        except Invalid as invalid:
            found.report(
                "name", f"a name whose metrics Service <name>-metrics is {invalid.accepted}"
            )


def service_monitor_needs_metrics(found: Found) -> None:
    """A ServiceMonitor scrapes the metrics port, which only metrics opens."""
    if found["service_monitor"] and not found["metrics"]:
        found.report(
            "service_monitor",
            "serviceMonitor only with metrics: true (it scrapes the metrics port)",
        )


# The names MSR's manual procedure gives the cache's namespace and Deployment.
PROCEDURE_NAMESPACE, PROCEDURE_NAME = "dtr", "dtr-cache"


def adoption_keeps_the_procedures_names(found: Found) -> None:
    """Taking over a manual deployment means taking over its objects: the same names."""
    if found["adopt_existing"] is not True:
        return
    for key, name in (("namespace", PROCEDURE_NAMESPACE), ("name", PROCEDURE_NAME)):
        if found[key] is not None and found[key] != name:
            found.report(
                key,
                f"{name} with adoptExisting: MSR's procedure deployed the cache as Deployment "
                f"{PROCEDURE_NAMESPACE}/{PROCEDURE_NAME}, which adoptExisting takes over",
            )


def upstream_ca_read_from_the_cluster(found: Found) -> None:
    """upstreamCaSecret names a Secret the component reads from the cluster."""
    if found["read_cluster"] is False and "upstream_ca_secret" in found.given:
        found.report(
            "upstream_ca_secret",
            "no upstreamCaSecret without readCluster: the Secret is read from the cluster, which "
            "a render reaches not; give MSR's CA as upstreamCaCert instead",
        )


RULES: tuple[Rule, ...] = (
    upstreams_given,
    hosts_fit_the_exposure,
    one_gateway,
    node_port_given_and_in_range,
    namespace_created_only_if_new,
    tls_cert_and_key_together,
    one_claim_for_one_pod,
    requests_within_limits,
    metrics_service_named,
    service_monitor_needs_metrics,
    adoption_keeps_the_procedures_names,
    upstream_ca_read_from_the_cluster,
)
"""Every rule, in the order their problems are listed."""

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
