"""How clients reach the cache: each exposure mode's Service, port, URL and Ingress."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from harness import (
    GATEWAY,
    INGRESS,
    NETWORK_POLICY,
    NODE_PORT,
    SERVICE,
    TLS_ROUTE,
    cache,
    config_yaml,
    container,
    named,
    pod_labels,
    pod_spec,
    sans,
    served_cert,
    settings,
)

from components.inputs.model import Exposure, GatewayRef
from components.objects import exposure
from components.objects.exposure import MODES


@pytest.mark.parametrize(
    ("exposure_", "hosts", "port", "lb", "expected"),
    [
        (Exposure.NODE_PORT, ["node1.example.com"], 30443, None, "https://node1.example.com:30443"),
        (Exposure.NODE_PORT, ["node1.example.com"], 443, None, "https://node1.example.com:443"),
        (Exposure.NODE_PORT, ["fd00::1"], 30443, None, "https://[fd00::1]:30443"),
        (Exposure.NODE_PORT, ["10.0.0.5", "n2.example.com"], 32000, None, "https://10.0.0.5:32000"),
        (Exposure.HOST_PORT, ["node1.example.com"], 443, None, "https://node1.example.com"),
        (Exposure.HOST_PORT, ["node1.example.com"], 8443, None, "https://node1.example.com:8443"),
        (Exposure.HOST_PORT, ["fd00::1"], 443, None, "https://[fd00::1]"),
        (
            Exposure.LOAD_BALANCER,
            ["cache.example.com"],
            443,
            "203.0.113.7",
            "https://cache.example.com",
        ),
        (Exposure.LOAD_BALANCER, [], 443, "203.0.113.7", "https://203.0.113.7"),
        (Exposure.LOAD_BALANCER, [], 8443, "lb.example.net", "https://lb.example.net:8443"),
        (Exposure.LOAD_BALANCER, [], 443, "2001:db8::7", "https://[2001:db8::7]"),
        (Exposure.LOAD_BALANCER, [], 443, None, "https://dtr-cache.dtr.svc"),
        (
            Exposure.INGRESS,
            ["cache.example.com", "c2.example.com"],
            443,
            None,
            "https://cache.example.com",
        ),
        (Exposure.GATEWAY, ["cache.example.com", "c2.example.com"], 443, None,
         "https://cache.example.com"),
        (Exposure.GATEWAY, ["cache.example.com"], 8443, None, "https://cache.example.com:8443"),
    ],
    ids=[
        "nodeport",
        "nodeport-443-kept",
        "nodeport-ipv6",
        "nodeport-first-host",
        "hostport-443",
        "hostport-8443",
        "hostport-ipv6",
        "lb-host-first",
        "lb-address",
        "lb-hostname-port",
        "lb-ipv6",
        "lb-unassigned",
        "ingress",
        "gateway",
        "gateway-8443",
    ],
)  # fmt: skip
def test_url_follows_the_exposure(
    exposure_: Exposure, hosts: list[str], port: int, lb: str | None, expected: str
) -> None:
    assert exposure.url(MODES[exposure_], hosts, port, "dtr-cache", "dtr", lb) == expected


def test_url_of_settings() -> None:
    s = settings(exposure="ingress", port=None, hosts=["cache.example.com"])
    assert exposure.url(s.mode, s.hosts, s.port, s.name, s.namespace) == (
        "https://cache.example.com"
    )


# --- exposure: Service, container port, Ingress -----------------------------------------------

SELECTOR = {"app.kubernetes.io/name": "msr-cache", "app.kubernetes.io/instance": "dtr-cache"}


@pytest.mark.parametrize(
    ("exposure_", "kind", "service_port"),
    [
        (Exposure.NODE_PORT, "NodePort", 443),
        (Exposure.HOST_PORT, "ClusterIP", 443),
        (Exposure.LOAD_BALANCER, "LoadBalancer", 30443),
        (Exposure.INGRESS, "ClusterIP", 443),
        (Exposure.GATEWAY, "ClusterIP", 443),
    ],
)
def test_service_follows_the_exposure(exposure_: Exposure, kind: str, service_port: int) -> None:
    spec = exposure.service_spec(MODES[exposure_], 30443, SELECTOR)
    assert spec["type"] == kind
    assert spec["selector"] == SELECTOR
    (port,) = spec["ports"]
    assert port["port"] == service_port
    assert port["targetPort"] == exposure.PORT_NAME == "https"
    assert port["protocol"] == "TCP"
    if exposure_ is Exposure.NODE_PORT:
        assert port["nodePort"] == 30443
    else:
        assert "nodePort" not in port


@pytest.mark.parametrize("exposure_", list(Exposure))
def test_container_binds_the_host_port_only_with_host_port(exposure_: Exposure) -> None:
    port = MODES[exposure_].container_port(9443)
    assert port["name"] == "https"
    assert port["containerPort"] == 8443  # the cache listens on 8443 whatever clients dial
    if exposure_ is Exposure.HOST_PORT:
        assert port["hostPort"] == 9443
    else:
        assert "hostPort" not in port


HOSTS = ("cache.example.com", "cache.example.org")


def test_ingress_routes_to_the_https_port() -> None:
    spec = MODES[Exposure.INGRESS].ingress_spec(HOSTS, "nginx", "dtr-cache")
    assert spec["ingressClassName"] == "nginx"
    assert spec["rules"]
    for rule in spec["rules"]:
        (path,) = rule["http"]["paths"]
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        assert path["backend"] == {"service": {"name": "dtr-cache", "port": {"name": "https"}}}
    assert "tls" not in spec  # passthrough: the cache terminates TLS itself


def test_ingress_has_one_rule_per_host() -> None:
    spec = MODES[Exposure.INGRESS].ingress_spec(HOSTS, "nginx", "dtr-cache")
    assert [rule["host"] for rule in spec["rules"]] == list(HOSTS)


GATEWAY_API = "gateway.networking.k8s.io"
# A TLS Passthrough listener of a Gateway made with the cache: it admits TLSRoutes of its own
# namespace only.
PASSTHROUGH = {"protocol": "TLS", "tls": {"mode": "Passthrough"},
               "allowedRoutes": {"namespaces": {"from": "Same"},
                                 "kinds": [{"group": GATEWAY_API, "kind": "TLSRoute"}]}}  # fmt: skip


def test_a_tls_route_sends_its_hosts_sni_to_the_services_https_port() -> None:
    parent = GatewayRef("shared", "gateway-system", "tls-passthrough")
    assert MODES[Exposure.GATEWAY].tls_route_spec(HOSTS, "dtr-cache", parent) == {
        "parentRefs": [{"group": GATEWAY_API, "kind": "Gateway", "name": "shared",
                        "namespace": "gateway-system", "sectionName": "tls-passthrough"}],
        "hostnames": list(HOSTS),
        # One rule (a TLSRoute has exactly one), to the Service's port by number (443).
        "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "dtr-cache",
                                    "port": 443}]}],
    }  # fmt: skip


def test_a_tls_route_without_a_listener_attaches_to_the_whole_gateway() -> None:
    spec = MODES[Exposure.GATEWAY].tls_route_spec(HOSTS, "dtr-cache", GatewayRef("gw", "infra"))
    assert spec is not None
    assert spec["parentRefs"] == [
        {"group": GATEWAY_API, "kind": "Gateway", "name": "gw", "namespace": "infra"}
    ]


def test_a_gateway_made_has_a_passthrough_listener_per_host_on_the_port() -> None:
    # A listener has at most one hostname: one per host keeps the Gateway to the names the
    # certificate covers. Each listener is named after its host.
    assert MODES[Exposure.GATEWAY].gateway_spec(HOSTS, "eg", 8443) == {
        "gatewayClassName": "eg",
        "listeners": [
            {"name": "cache.example.com", "hostname": "cache.example.com", "port": 8443,
             **PASSTHROUGH},
            {"name": "cache.example.org", "hostname": "cache.example.org", "port": 8443,
             **PASSTHROUGH},
        ],
    }  # fmt: skip


@pytest.mark.parametrize("exposure_", [e for e in Exposure if e is not Exposure.GATEWAY])
def test_only_the_gateway_exposure_has_gateway_api_objects(exposure_: Exposure) -> None:
    mode = MODES[exposure_]
    assert mode.tls_route_spec(HOSTS, "dtr-cache", GatewayRef("gw", "infra")) is None
    assert mode.gateway_spec(HOSTS, "eg", 443) is None


@pytest.mark.parametrize(
    ("status", "address"),
    [
        ({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}, "203.0.113.7"),
        ({"loadBalancer": {"ingress": [{"hostname": "lb.example.net"}]}}, "lb.example.net"),
        ({"load_balancer": {"ingress": [{"ip": "203.0.113.7"}]}}, "203.0.113.7"),
        ({"loadBalancer": {"ingress": [{}, {"hostname": "lb.example.net"}]}}, "lb.example.net"),
        ({"loadBalancer": {"ingress": []}}, None),
        ({"loadBalancer": {"ingress": None}}, None),
        ({"loadBalancer": {}}, None),
        ({"loadBalancer": None}, None),
        ({}, None),
        (None, None),
    ],
    ids=[
        "ip",
        "hostname",
        "snake-case",
        "first-with-address",
        "empty-ingress",
        "null-ingress",
        "no-ingress",
        "null-lb",
        "empty-status",
        "no-status",
    ],
)
def test_load_balancer_address_from_status(
    status: Mapping[str, Any] | None, address: str | None
) -> None:
    assert exposure.load_balancer_address(status) == address


def test_metrics_serve_prometheus_and_health_on_the_debug_port():
    d = cache(
        {
            **NODE_PORT,
            "metrics": True,
            "service_monitor": True,
            "metrics_namespace": "observability",
        }
    )
    assert config_yaml(d)["http"]["debug"] == {
        "addr": ":5001",
        "prometheus": {"enabled": True, "path": "/metrics"},
    }
    c = container(d)
    assert {"name": "metrics", "containerPort": 5001, "protocol": "TCP"} in c["ports"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/debug/health", "port": "metrics", "scheme": "HTTP"}
    metrics = named(d, "edge-metrics-service").inputs
    assert metrics["spec"]["type"] == "ClusterIP"  # never a node port
    assert metrics["spec"]["ports"][0]["name"] == "metrics"
    monitor = d.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    rule = d.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs
    assert rule["metadata"]["name"] == "dtr-cache" and rule["spec"]["groups"][0]["rules"]
    dashboard = named(d, "edge-dashboard").inputs["metadata"]
    assert dashboard["namespace"] == "dtr" and dashboard["labels"]["grafana_dashboard"] == "1"
    main_service = named(d, "edge-service").inputs
    assert (
        not monitor["spec"]["selector"]["matchLabels"].items()
        <= main_service["metadata"]["labels"].items()
    )
    (_https, scrape) = d.one(NETWORK_POLICY).inputs["spec"]["ingress"]
    assert scrape == {
        "ports": [{"port": 5001, "protocol": "TCP"}],
        "from": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
        ],
    }


def test_without_metrics_there_is_no_debug_server():
    d = cache(NODE_PORT)
    assert "debug" not in config_yaml(d)["http"]
    assert not [
        r for r in d.all("kubernetes:core/v1:Service") if r.name.endswith("metrics-service")
    ]


def test_ingress_passes_tls_through_to_the_cache():
    d = cache(
        {"exposure": "ingress", "hosts": ["cache.example.com"], "ingress_class_name": "public"}
    )
    ingress = d.one(INGRESS).inputs
    assert ingress["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
        "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
    }
    assert ingress["spec"]["ingressClassName"] == "public"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "cache.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == d.outputs["service_name"].value
    assert d.one(SERVICE).inputs["spec"]["type"] == "ClusterIP"


@pytest.mark.parametrize(
    ("args", "service_type", "ports"),
    [
        (
            {"hosts": ["n1.example.com"], "port": 30443},
            "NodePort",
            {"port": 443, "nodePort": 30443},
        ),
        ({"exposure": "loadBalancer", "port": 5443}, "LoadBalancer", {"port": 5443}),
        ({"exposure": "hostPort", "hosts": ["n1.example.com"]}, "ClusterIP", {"port": 443}),
    ],
    ids=["nodePort", "loadBalancer", "hostPort"],
)
def test_service_exposes_the_cache_port(args, service_type, ports):
    d = cache(args)
    spec = d.one(SERVICE).inputs["spec"]
    assert spec["type"] == service_type
    assert {k: spec["ports"][0].get(k) for k in ports} == ports
    assert spec["ports"][0]["targetPort"] == "https"
    assert spec["selector"].items() <= pod_labels(d).items()
    assert not d.all(INGRESS)


def test_host_port_binds_the_node_port():
    d = cache({"exposure": "hostPort", "hosts": ["n1.example.com"], "port": 8443})
    (port,) = pod_spec(d)["containers"][0]["ports"]
    assert port["hostPort"] == 8443


def test_gateway_exposure_routes_tls_through_an_existing_gateway():
    d = cache({"exposure": "gateway", "hosts": ["cache.example.com"], "namespace": "caches",
               "gateway": {"name": "shared", "namespace": "infra", "section_name": "tls"}})  # fmt: skip
    route = d.one(TLS_ROUTE).inputs
    assert (route["apiVersion"], route["kind"]) == ("gateway.networking.k8s.io/v1", "TLSRoute")
    assert route["metadata"]["namespace"] == "caches"
    assert route["metadata"]["name"] == d.outputs["service_name"].value
    assert route["spec"]["hostnames"] == ["cache.example.com"]
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io",
        "kind": "Gateway", "name": "shared", "namespace": "infra", "sectionName": "tls"}]  # fmt: skip
    ((backend,),) = [rule["backendRefs"] for rule in route["spec"]["rules"]]
    service = d.one(SERVICE).inputs["spec"]
    assert service["type"] == "ClusterIP"
    assert (backend["name"], backend["port"]) == (d.outputs["service_name"].value,
                                                  service["ports"][0]["port"])  # fmt: skip
    assert not d.all(GATEWAY) and not d.all(INGRESS)
    assert d.outputs["url"].value == "https://cache.example.com"


def test_gateway_exposure_makes_its_gateway_from_a_class():
    d = cache({"exposure": "gateway", "hosts": ["cache.example.com", "c2.example.com"],
               "gateway_class_name": "eg", "port": 8443})  # fmt: skip
    gateway = d.one(GATEWAY).inputs
    assert (gateway["apiVersion"], gateway["kind"]) == ("gateway.networking.k8s.io/v1", "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "eg"
    assert [(x["hostname"], x["port"], x["protocol"], x["tls"]) for x in gateway["spec"]["listeners"]] == [
        ("cache.example.com", 8443, "TLS", {"mode": "Passthrough"}),
        ("c2.example.com", 8443, "TLS", {"mode": "Passthrough"}),
    ]  # fmt: skip
    route = d.one(TLS_ROUTE).inputs
    (parent,) = route["spec"]["parentRefs"]
    # The route attaches to that Gateway, beside it in the cache's namespace.
    assert (parent["name"], parent["namespace"]) == (
        gateway["metadata"]["name"], gateway["metadata"]["namespace"]
    ) == ("dtr-cache", "dtr")  # fmt: skip
    assert route["metadata"]["namespace"] == "dtr"
    assert d.outputs["url"].value == "https://cache.example.com:8443"


def test_moving_from_ingress_to_gateway_keeps_the_service_and_swaps_the_route():
    # docs/deploy.md's migration: one `pulumi up` deletes the Ingress and creates the TLSRoute; the
    # Service (its name, type and ports) is untouched, and the certificate keeps its SANs.
    hosts = {"hosts": ["cache.example.com"]}
    before = cache({**hosts, "exposure": "ingress"})
    after = cache({**hosts, "exposure": "gateway", "gateway": {"name": "gw", "namespace": "gw"}})
    assert after.one(SERVICE).inputs == before.one(SERVICE).inputs
    assert (before.all(TLS_ROUTE), after.all(INGRESS)) == ([], [])
    assert len(before.all(INGRESS)) == len(after.all(TLS_ROUTE)) == 1
    assert sans(served_cert(after)) == sans(served_cert(before))
    assert after.outputs["url"].value == before.outputs["url"].value
