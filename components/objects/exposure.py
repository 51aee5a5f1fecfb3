"""How clients reach the cache: one object per exposure mode, holding what the mode decides.

| exposure     | objects                              | url                                     |
|--------------|--------------------------------------|-----------------------------------------|
| nodePort     | NodePort Service, nodePort = port    | https://hosts[0]:port                   |
| hostPort     | hostPort on the pod + ClusterIP      | https://hosts[0] (:port unless 443)     |
| loadBalancer | LoadBalancer Service on port         | https://hosts[0], else the LB's address |
| ingress      | ClusterIP Service + Ingress (TLS     | https://hosts[0]                        |
|              | passthrough: the cache terminates)   |                                         |
| gateway      | ClusterIP Service + TLSRoute on a    | https://hosts[0] (:port unless 443)     |
|              | Gateway's TLS Passthrough listener   |                                         |
|              | (given, or made from its class)      |                                         |

Adding a mode is a class here (and its member of `model.Exposure`) plus its tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..inputs.ip_literal import ip_or_none
from ..inputs.model import Exposure, GatewayRef
from .certificates import service_dns_names
from .registry_config import CONTAINER_PORT, METRICS_PATH, METRICS_PORT

PORT_NAME = "https"
METRICS_PORT_NAME = "metrics"
SERVICE_PORT = 443
# ingress-nginx hands the TLS stream to the cache untouched (the controller must run with
# --enable-ssl-passthrough), so clients see the cache's own certificate.
INGRESS_ANNOTATIONS: Mapping[str, str] = {
    "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
    "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
}
NODE_HOSTS = "the FQDNs or IPs of the nodes clients connect to"
# Gateway API, Standard channel: TLSRoute is GA (v1) since Gateway API v1.5.
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"


class Mode:
    """What an exposure mode decides: its Service, its port, the hosts it needs, its URL, the
    objects it adds and who its clients are."""

    exposure: ClassVar[Exposure]
    service_type: ClassVar[str] = "ClusterIP"
    default_port: ClassVar[int | None] = 443
    """The port clients use when `port` is not given; None: it must be given."""
    port_settable: ClassVar[bool] = True
    hosts_needed: ClassVar[str | None] = NODE_HOSTS
    """What `hosts` must name, or None when the mode works without hosts."""
    names_only: ClassVar[str | None] = None
    """Why hosts must be DNS names (a rule matches a name, never an IP), or None: IPs too."""
    clients_inside: ClassVar[bool] = False
    """Whether clients come through an in-cluster proxy (whose namespace the policy lets in)
    rather than from anywhere outside the cluster."""
    assigns_address: ClassVar[bool] = False
    """Whether the cluster assigns an address clients may use (a cloud load balancer's)."""

    def url(self, host: str, port: int) -> str:
        """The https URL of `host` on `port` (443 left out)."""
        return (
            f"https://{_bracketed(host)}" if port == 443 else f"https://{_bracketed(host)}:{port}"
        )

    def service_port(self, port: int) -> dict[str, Any]:
        """The Service's one port, onto the container's https port."""
        return {"name": PORT_NAME, "protocol": "TCP", "targetPort": PORT_NAME, "port": SERVICE_PORT}

    def container_port(self, port: int) -> dict[str, Any]:
        """The container's https port."""
        return {"name": PORT_NAME, "containerPort": CONTAINER_PORT, "protocol": "TCP"}

    def ingress_spec(
        self, hosts: Sequence[str], class_name: str, service: str
    ) -> dict[str, Any] | None:
        """The Ingress in front of the Service, if the mode has one."""
        return None

    def tls_route_spec(
        self, hosts: Sequence[str], service: str, parent: GatewayRef | None
    ) -> dict[str, Any] | None:
        """The Gateway API TLSRoute in front of the Service, if the mode has one."""
        return None

    def gateway_spec(
        self, hosts: Sequence[str], class_name: str | None, port: int
    ) -> dict[str, Any] | None:
        """The Gateway API Gateway the component makes, if the mode has one."""
        return None


class NodePort(Mode):
    """A NodePort Service: clients dial a node on the node port."""

    exposure = Exposure.NODE_PORT
    service_type = "NodePort"
    default_port = None

    def url(self, host: str, port: int) -> str:
        return f"https://{_bracketed(host)}:{port}"

    def service_port(self, port: int) -> dict[str, Any]:
        return {**super().service_port(port), "nodePort": port}


class HostPort(Mode):
    """The pod binds the port on its node; a ClusterIP Service serves the cluster."""

    exposure = Exposure.HOST_PORT

    def container_port(self, port: int) -> dict[str, Any]:
        return {**super().container_port(port), "hostPort": port}


class LoadBalancer(Mode):
    """A LoadBalancer Service on the port; the cloud assigns its address."""

    exposure = Exposure.LOAD_BALANCER
    service_type = "LoadBalancer"
    hosts_needed = None
    assigns_address = True

    def service_port(self, port: int) -> dict[str, Any]:
        return {**super().service_port(port), "port": port}


class Ingress(Mode):
    """A ClusterIP Service behind an Ingress with TLS passthrough on the controller's 443."""

    exposure = Exposure.INGRESS
    port_settable = False
    hosts_needed = "the external FQDN that resolves to the ingress controller"
    names_only = "a rule matches a name, never an IP"
    clients_inside = True

    def ingress_spec(
        self, hosts: Sequence[str], class_name: str, service: str
    ) -> dict[str, Any] | None:
        backend = {"service": {"name": service, "port": {"name": PORT_NAME}}}
        paths = [{"path": "/", "pathType": "Prefix", "backend": backend}]
        return {
            "ingressClassName": class_name,
            "rules": [{"host": host, "http": {"paths": paths}} for host in hosts],
        }


class Gateway(Mode):
    """A ClusterIP Service behind a Gateway API TLSRoute: a Gateway's TLS listener in Passthrough
    mode picks the route by SNI and hands the stream to the cache untouched.

    The route attaches to a Gateway the user names, or to one the component makes from a
    GatewayClass: one listener per host, since a listener has at most one hostname (a listener
    without one would take every name the Gateway's address is reached by)."""

    exposure = Exposure.GATEWAY
    hosts_needed = "the external FQDNs the Gateway routes by SNI"
    names_only = "a TLSRoute matches the SNI, which names a host, never an IP (RFC 6066)"
    clients_inside = True
    max_listeners: ClassVar[int] = 64
    """Gateway API's limit on a Gateway's listeners (so on the hosts of a Gateway made here)."""

    def tls_route_spec(
        self, hosts: Sequence[str], service: str, parent: GatewayRef | None
    ) -> dict[str, Any] | None:
        if parent is None:
            return None
        ref = {"group": GATEWAY_API_GROUP, "kind": "Gateway", "name": parent.name,
               "namespace": parent.namespace}  # fmt: skip
        if parent.section_name is not None:
            ref["sectionName"] = parent.section_name
        # A TLSRoute has exactly one rule; a Service backend is referred to by port number.
        backend = {"group": "", "kind": "Service", "name": service, "port": SERVICE_PORT}
        return {
            "parentRefs": [ref],
            "hostnames": list(hosts),
            "rules": [{"backendRefs": [backend]}],
        }

    def gateway_spec(
        self, hosts: Sequence[str], class_name: str | None, port: int
    ) -> dict[str, Any] | None:
        if class_name is None:
            return None
        # The listener's name (a SectionName: a DNS-1123 subdomain, like every host here) is
        # its host, so reordering hosts renames nothing.
        routes = {"namespaces": {"from": "Same"},
                  "kinds": [{"group": GATEWAY_API_GROUP, "kind": "TLSRoute"}]}  # fmt: skip
        listeners = [
            {"name": host, "hostname": host, "port": port, "protocol": "TLS",
             "tls": {"mode": "Passthrough"}, "allowedRoutes": routes}
            for host in hosts
        ]  # fmt: skip
        return {"gatewayClassName": class_name, "listeners": listeners}


MODES: Mapping[Exposure, Mode] = {
    mode.exposure: mode() for mode in (NodePort, HostPort, LoadBalancer, Ingress, Gateway)
}


def url(
    mode: Mode,
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
    return mode.url(host, port)


def _bracketed(host: str) -> str:
    address = ip_or_none(host)
    return f"[{address}]" if address is not None and address.version == 6 else host


def service_spec(mode: Mode, port: int, selector: Mapping[str, str]) -> dict[str, Any]:
    """The Service in front of the cache pods."""
    return {
        "type": mode.service_type,
        "selector": dict(selector),
        "ports": [mode.service_port(port)],
    }


def load_balancer_address(status: Mapping[str, Any] | None) -> str | None:
    """The first address (IP or hostname) a cloud assigned to a LoadBalancer Service.

    Reads the SDK's typed `ServiceStatus` (a dict keyed `load_balancer`) or a manifest's status
    (`loadBalancer`)."""
    given: Mapping[str, Any] = status or {}
    balancer: Mapping[str, Any] = given.get("load_balancer") or given.get("loadBalancer") or {}
    ingress: Sequence[Mapping[str, Any]] = balancer.get("ingress") or []
    for entry in ingress:
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
