"""Which Kubernetes objects a cache has, and the plain data of each: decided from Settings alone,
without Pulumi, so every condition is a table row in tests/unit/test_plan.py. MsrCache turns the
plan into resources and fills in what only exists at deployment (names, certificates, the
upstreams' resolved ports)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from ..inputs import go_url
from ..inputs.model import Exposure
from ..inputs.settings import Settings
from . import exposure, workload
from . import registry_config as rc

TlsSource = Literal["generated", "given", "cert-manager"]
UpstreamCa = Literal["given", "secret"] | None


@dataclasses.dataclass(frozen=True)
class Plan:
    """The objects of one cache."""

    create_namespace: bool
    service: Mapping[str, Any]
    """The Service's spec."""
    service_replaced_first: bool
    """Whether a Service being replaced goes before its successor is made: a node port is held
    once per cluster, so a successor (in a renamed namespace, say) could not take it."""
    reads_load_balancer: bool
    """Whether the URL and SANs wait for the address the cloud assigns."""
    tls: TlsSource
    """Who makes the serving certificate."""
    certificate_secret: str | None
    """With cert-manager, the Secret its Certificate fills."""
    upstream_ca: UpstreamCa
    """Where MSR's CA comes from: pasted, read from a Secret, or the image's trust."""
    secret_files: tuple[str, ...]
    """The keys of the cache's Secret, mounted at /certs (and the http secret)."""
    storage_secret_keys: Mapping[str, str]
    """Object storage credential -> its key in the storage Secret (none: no such Secret)."""
    env_secret_keys: Mapping[str, str]
    """extraEnv variable whose value is an Output (a secret) -> its key in the env Secret (none:
    no such Secret, every variable is a plain value of the Deployment)."""
    claim: Mapping[str, Any] | None
    """The PersistentVolumeClaim's spec."""
    disruption_budget: Mapping[str, Any] | None
    """The PodDisruptionBudget's spec."""
    network_policy: bool
    egress_ports: frozenset[int]
    """TCP ports the pods reach besides DNS and the upstreams (object storage's, proxies')."""
    proxies_resolve_later: bool
    """Whether a proxy variable of extraEnv is an Output (a secret): then the proxies' ports are
    not in egress_ports but read once extraEnv resolves (`proxy_ports`)."""
    metrics_service: Mapping[str, Any] | None
    service_monitor: Mapping[str, Any] | None
    alerts: bool
    """Whether a PrometheusRule alerts on the cache (its spec waits for the claim's name and the
    certificates' expiry: `monitoring.rule_spec`)."""
    dashboard_namespace: str | None
    """The namespace of the Grafana dashboard's ConfigMap (None: no dashboard)."""
    ingress: Mapping[str, Any] | None
    """The Ingress' spec (its annotations are exposure.INGRESS_ANNOTATIONS)."""
    tls_route: Mapping[str, Any] | None
    """The Gateway API TLSRoute's spec."""
    gateway: Mapping[str, Any] | None
    """The spec of the Gateway made with the cache (with gatewayClassName)."""
    deployment_annotations: Mapping[str, str]
    """Annotations of the Deployment itself (a reloader's, restarting the pods on a renewal)."""
    annotations: Mapping[str, str]
    """Annotations of every object of the cache (taking over what another tool applied)."""
    ca_generations: tuple[int, ...]
    """The generated CAs, by generation: the one signing the serving certificate first, then
    the next one of a rotation (both published in caCertPem, in this order)."""


def plan(s: Settings) -> Plan:
    """The objects `s` asks for."""
    selector = workload.selector_labels(s.name, s.adopt_existing)
    storage = s.object_storage
    env_keys = workload.env_secret_keys(s)
    plain_env = {name: value for name, value in s.extra_env.items() if isinstance(value, str)}
    later = any(name in env_keys for pair in go_url.PROXY_VARIABLES for name in pair)
    proxies = frozenset[int]() if later else proxy_ports(plain_env)
    return Plan(
        create_namespace=s.create_namespace,
        service=exposure.service_spec(s.mode, s.port, selector),
        service_replaced_first=s.mode.exposure is Exposure.NODE_PORT,
        reads_load_balancer=s.mode.assigns_address,
        tls=_tls_source(s),
        certificate_secret=_certificate_secret(s),
        upstream_ca=_upstream_ca(s),
        secret_files=_secret_files(s),
        storage_secret_keys={k: storage.secret_key(k) for k in sorted(storage.credentials)}
        if storage
        else {},
        claim=workload.claim_spec(s.storage) if s.storage is not None else None,
        disruption_budget=workload.disruption_budget_spec(s) if s.replicas > 1 else None,
        network_policy=s.network_policy,
        env_secret_keys=env_keys,
        egress_ports=frozenset(storage.ports() if storage else ()) | proxies,
        proxies_resolve_later=later,
        metrics_service=exposure.metrics_service_spec(selector) if s.metrics else None,
        service_monitor=exposure.service_monitor_spec(selector) if s.service_monitor else None,
        alerts=s.service_monitor and s.alerts is not False,
        dashboard_namespace=(s.dashboard_namespace or s.namespace)
        if s.metrics and s.dashboard is not False
        else None,
        ingress=s.mode.ingress_spec(s.hosts, s.ingress_class_name or "", s.name),
        tls_route=s.mode.tls_route_spec(s.hosts, s.name, s.gateway_parent),
        gateway=s.mode.gateway_spec(s.hosts, s.gateway_class_name, s.port),
        deployment_annotations=_reloader(s),
        annotations={PATCH_FORCE: "true"} if s.adopt_existing else {},
        ca_generations=_ca_generations(s),
    )


# An object another tool applied (kubectl, in MSR's manual procedure) has fields owned by that
# tool's field manager: pulumi-kubernetes' server-side apply of it (how 4.25 creates) fails with
# a conflict, unless this annotation forces it to take them over (pulumi-kubernetes
# provider/pkg/await/await.go, patchForce). A preview forces on its own where the state holds
# nothing yet, so only `pulumi up` failed.
PATCH_FORCE = "pulumi.com/patchForce"

# stakater Reloader restarts a Deployment's pods when a Secret named in this annotation changes.
RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload"


def _reloader(s: Settings) -> dict[str, str]:
    if not s.reload_on_certificate_change or s.cert_manager_issuer is None:
        return {}
    return {RELOADER_ANNOTATION: str(_certificate_secret(s))}


def proxy_ports(env: Mapping[str, str]) -> frozenset[int]:
    """The ports of the proxies extraEnv gives the cache (HTTPS_PROXY, HTTP_PROXY): its pulls go
    through them, so the network policy must let it out to them."""
    return frozenset(go_url.proxy_port(url) for url in go_url.proxies(env).values())


def _ca_generations(s: Settings) -> tuple[int, ...]:
    if not s.generates_tls:
        return ()
    current = s.ca_generation or 1
    return (current, current + 1) if s.next_ca else (current,)


def _certificate_secret(s: Settings) -> str | None:
    return f"{s.name}-tls" if s.cert_manager_issuer is not None else None


def _tls_source(s: Settings) -> TlsSource:
    if s.cert_manager_issuer is not None:
        return "cert-manager"
    return "given" if s.tls_cert is not None else "generated"


def _upstream_ca(s: Settings) -> UpstreamCa:
    if s.upstream_ca_cert is not None:
        return "given"
    return "secret" if s.upstream_ca_secret is not None else None


def _secret_files(s: Settings) -> tuple[str, ...]:
    files = [rc.HTTP_SECRET_KEY]
    if s.cert_manager_issuer is None:  # cert-manager's Secret holds the pair instead
        files += [rc.CERT_FILE, rc.KEY_FILE]
    if s.trusts_upstream_ca:
        files.append(rc.UPSTREAM_CA_FILE)
    return tuple(files)
