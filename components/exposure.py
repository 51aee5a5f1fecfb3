"""How clients reach the cache: the Service, the optional Ingress, and the URL they use.

| exposure     | objects                              | url                                     |
|--------------|--------------------------------------|-----------------------------------------|
| nodePort     | NodePort Service, nodePort = port    | https://hosts[0]:port                   |
| hostPort     | hostPort on the pod + ClusterIP      | https://hosts[0] (:port unless 443)     |
| loadBalancer | LoadBalancer Service on port         | https://hosts[0], else the LB's address |
| ingress      | ClusterIP Service + Ingress (TLS     | https://hosts[0]                        |
|              | passthrough: the cache terminates)   |                                         |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .certificates import service_dns_names
from .registry_config import CONTAINER_PORT, METRICS_PATH, METRICS_PORT
from .settings import Exposure, ip_or_none

PORT_NAME = "https"
METRICS_PORT_NAME = "metrics"
SERVICE_PORT = 443
SERVICE_TYPES: Mapping[Exposure, str] = {
    Exposure.NODE_PORT: "NodePort",
    Exposure.HOST_PORT: "ClusterIP",
    Exposure.LOAD_BALANCER: "LoadBalancer",
    Exposure.INGRESS: "ClusterIP",
}
# ingress-nginx hands the TLS stream to the cache untouched (the controller must run with
# --enable-ssl-passthrough), so clients see the cache's own certificate.
INGRESS_ANNOTATIONS: Mapping[str, str] = {
    "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
    "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
}


def url(
    exposure: Exposure,
    hosts: Sequence[str],
    port: int,
    service: str,
    namespace: str,
    load_balancer_address: str | None = None,
) -> str:
    """The https URL clients, MSR and downstream caches use for the cache."""
    host = hosts[0] if hosts else load_balancer_address
    if host is None:
        # A load balancer without hosts whose address is not assigned (a render, or a
        # cluster without a load-balancer controller): only the in-cluster name works.
        host = service_dns_names(service, namespace)[0]
    if exposure is Exposure.INGRESS:
        port = 443
    if exposure is Exposure.NODE_PORT or port != 443:
        return f"https://{_bracketed(host)}:{port}"
    return f"https://{_bracketed(host)}"


def _bracketed(host: str) -> str:
    address = ip_or_none(host)
    return f"[{address}]" if address is not None and address.version == 6 else host


def service_port(exposure: Exposure, port: int) -> dict[str, Any]:
    """The Service's one port, onto the container's https port."""
    spec: dict[str, Any] = {"name": PORT_NAME, "protocol": "TCP", "targetPort": PORT_NAME}
    spec["port"] = port if exposure is Exposure.LOAD_BALANCER else SERVICE_PORT
    if exposure is Exposure.NODE_PORT:
        spec["nodePort"] = port
    return spec


def service_spec(exposure: Exposure, port: int, selector: Mapping[str, str]) -> dict[str, Any]:
    """The Service in front of the cache pods."""
    return {
        "type": SERVICE_TYPES[exposure],
        "selector": dict(selector),
        "ports": [service_port(exposure, port)],
    }


def container_port(exposure: Exposure, port: int) -> dict[str, Any]:
    """The container's https port; with hostPort, also bound on the node."""
    spec: dict[str, Any] = {"name": PORT_NAME, "containerPort": CONTAINER_PORT, "protocol": "TCP"}
    if exposure is Exposure.HOST_PORT:
        spec["hostPort"] = port
    return spec


def ingress_spec(hosts: Sequence[str], ingress_class_name: str, service: str) -> dict[str, Any]:
    """An Ingress routing each host to the Service; TLS passes through to the cache."""
    backend = {"service": {"name": service, "port": {"name": PORT_NAME}}}
    paths = [{"path": "/", "pathType": "Prefix", "backend": backend}]
    return {
        "ingressClassName": ingress_class_name,
        "rules": [{"host": host, "http": {"paths": paths}} for host in hosts],
    }


def load_balancer_address(status: Mapping[str, Any] | None) -> str | None:
    """The first address (IP or hostname) a cloud assigned to a LoadBalancer Service.

    Reads the SDK's typed `ServiceStatus` (a dict keyed `load_balancer`) or a manifest's status
    (`loadBalancer`)."""
    ingress = (status or {}).get("load_balancer") or (status or {}).get("loadBalancer") or {}
    for entry in ingress.get("ingress") or []:
        address = entry.get("ip") or entry.get("hostname")
        if address:
            return str(address)
    return None


# Tells the metrics Service from the cache's Service, for the ServiceMonitor's selector.
METRICS_LABELS: Mapping[str, str] = {"app.kubernetes.io/component": "metrics"}


def metrics_service_spec(selector: Mapping[str, str]) -> dict[str, Any]:
    """A ClusterIP Service for distribution's debug port: in the cluster only, never a node port."""
    return {
        "type": "ClusterIP",
        "selector": dict(selector),
        "ports": [
            {
                "name": METRICS_PORT_NAME,
                "port": METRICS_PORT,
                "targetPort": METRICS_PORT_NAME,
                "protocol": "TCP",
            }
        ],
    }


def service_monitor_spec(selector: Mapping[str, str]) -> dict[str, Any]:
    """A Prometheus Operator ServiceMonitor scraping the metrics Service."""
    return {
        "selector": {"matchLabels": {**selector, **METRICS_LABELS}},
        "endpoints": [{"port": METRICS_PORT_NAME, "path": METRICS_PATH, "interval": "30s"}],
    }
