"""The cache's NetworkPolicy: who may reach its pods, and what they may reach.

In: the https port from the ingress controller's namespace with exposure ingress, from the
Gateway's namespace with exposure gateway (the cache's own when it makes the Gateway), from
anywhere otherwise (node ports, host ports and load balancers bring clients from outside the
cluster);
the metrics port only from the metrics namespace. Out: DNS, and the upstreams', object storage's
and the proxies' ports (a proxy extraEnv names, HTTPS_PROXY or HTTP_PROXY, is what the cache
dials to pull).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..inputs import go_url
from ..inputs.settings import Settings
from . import registry_config as rc
from .plan import Plan
from .workload import selector_labels

NAMESPACE_LABEL = "kubernetes.io/metadata.name"  # set on every namespace since Kubernetes 1.22


def upstream_ports(upstreams: Iterable[str]) -> set[int]:
    """The ports the cache pulls from (each upstream read as the cache reads it)."""
    return {int(port) if (port := go_url.parse_go_url(u).port) else 443 for u in upstreams}


def _from_namespace(namespace: str) -> list[dict[str, Any]]:
    return [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: namespace}}}]


def network_policy_spec(
    settings: Settings, plan: Plan, upstreams: Iterable[str], proxy_ports: Iterable[int]
) -> dict[str, Any]:
    """The NetworkPolicy's spec for the cache's pods, once its upstreams are known, and the ports
    of the proxies when they were Outputs (`plan.proxies_resolve_later`); the plan's own
    `egress_ports` are those of object storage and plain proxies."""
    selector = selector_labels(settings.name, settings.adopt_existing)
    egress_ports = upstream_ports(upstreams) | plan.egress_ports | set(proxy_ports)
    https: dict[str, Any] = {"ports": [{"port": rc.CONTAINER_PORT, "protocol": "TCP"}]}
    if settings.clients_namespace:
        https["from"] = _from_namespace(settings.clients_namespace)
    ingress = [https]
    if settings.metrics:
        metrics: dict[str, Any] = {"ports": [{"port": rc.METRICS_PORT, "protocol": "TCP"}]}
        if settings.metrics_namespace:
            metrics["from"] = _from_namespace(settings.metrics_namespace)
        ingress.append(metrics)
    dns = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    pulls = {"ports": [{"port": port, "protocol": "TCP"} for port in sorted(egress_ports)]}
    return {
        "podSelector": {"matchLabels": selector},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [dns, pulls],
    }
