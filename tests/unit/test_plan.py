"""Which objects a cache has, decided from settings alone: one row per condition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pytest

from components.inputs.settings import parse
from components.objects.plan import plan
from render.stack_config import self_signed_pair

NODE_PORT: Mapping[str, Any] = {
    "upstreams": ["https://msr.example.com"],
    "hosts": ["node1.example.com"],
    "port": 30443,
}
S3 = {"driver": "s3", "region": "eu-west-1", "bucket": "b", "accesskey": "a", "secretkey": "s"}
CERT, KEY = self_signed_pair("node1.example.com")
GATEWAY: Mapping[str, Any] = {"exposure": "gateway", "port": None, "hosts": ["c.example.com"]}


def planned(**changes: Any) -> Any:
    return plan(parse({**NODE_PORT, **changes}))


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({}, "create_namespace", True),
        ({}, "service_replaced_first", True),
        ({"exposure": "loadBalancer", "port": 443}, "service_replaced_first", False),
        ({"exposure": "hostPort"}, "service_replaced_first", False),
        ({"createNamespace": False}, "create_namespace", False),
        ({}, "reads_load_balancer", False),
        ({"exposure": "loadBalancer", "port": 443}, "reads_load_balancer", True),
        ({}, "tls", "generated"),
        ({"tlsCert": CERT, "tlsKey": KEY}, "tls", "given"),
        ({"certManagerIssuer": {"kind": "Issuer", "name": "ca"}}, "tls", "cert-manager"),
        ({}, "certificate_secret", None),
        ({"certManagerIssuer": {"kind": "Issuer", "name": "ca"}}, "certificate_secret",
         "dtr-cache-tls"),
        ({}, "upstream_ca", None),
        ({"upstreamCaCert": CERT}, "upstream_ca", "given"),
        ({"upstreamCaSecret": {"namespace": "msr", "name": "ca"}}, "upstream_ca", "secret"),
        ({}, "secret_files", ("http-secret", "cache.cert.pem", "cache.key.pem")),
        ({"upstreamCaCert": CERT}, "secret_files",
         ("http-secret", "cache.cert.pem", "cache.key.pem", "msr.cert.pem")),
        ({"certManagerIssuer": {"kind": "ClusterIssuer", "name": "ca"}}, "secret_files",
         ("http-secret",)),
        ({}, "storage_secret_keys", {}),
        ({"objectStorage": S3}, "storage_secret_keys",
         {"accesskey": "s3-accesskey", "secretkey": "s3-secretkey"}),
        ({"objectStorage": {**S3, "accesskey": None, "secretkey": None}}, "storage_secret_keys",
         {}),
        ({}, "claim", None),
        ({"objectStorage": S3}, "claim", None),
        ({}, "disruption_budget", None),
        ({}, "network_policy", True),
        ({"networkPolicy": False}, "network_policy", False),
        ({}, "egress_ports", frozenset()),
        ({"objectStorage": {**S3, "regionendpoint": "https://minio.example.com:9000"}},
         "egress_ports", frozenset({443, 9000})),
        ({"extraEnv": {"HTTPS_PROXY": "http://proxy.example.com:3128"}}, "egress_ports",
         frozenset({3128})),
        ({}, "proxies_resolve_later", False),
        ({}, "env_secret_keys", {}),
        ({"extraEnv": {"HTTPS_PROXY": "http://proxy.example.com:3128"}}, "env_secret_keys", {}),
        ({}, "metrics_service", None),
        ({}, "service_monitor", None),
        ({}, "ingress", None),
        ({}, "tls_route", None),
        ({}, "gateway", None),
        ({**GATEWAY, "gateway": {"name": "gw", "namespace": "infra"}}, "gateway", None),
        ({**GATEWAY, "gateway": {"name": "gw", "namespace": "infra"}}, "ingress", None),
        ({**GATEWAY, "gatewayClassName": "eg"}, "ingress", None),
    ],
)  # fmt: skip
def test_each_condition_decides_its_object(
    changes: Mapping[str, Any], field: str, expected: Any
) -> None:
    assert getattr(planned(**changes), field) == expected


@pytest.mark.parametrize(
    ("secret", "keys", "later", "egress"),
    [
        ("HTTPS_PROXY", {"HTTPS_PROXY": "HTTPS_PROXY"}, True, frozenset({443})),
        ("http_proxy", {"http_proxy": "http_proxy"}, True, frozenset({443})),
        ("REGISTRY_LOG_FORMATTER", {"REGISTRY_LOG_FORMATTER": "REGISTRY_LOG_FORMATTER"}, False,
         frozenset({443, 3128})),
    ],
)  # fmt: skip
def test_extra_env_outputs_go_to_a_secret_and_a_secret_proxy_port_is_read_later(
    secret: str, keys: Mapping[str, str], later: bool, egress: frozenset[int]
) -> None:
    """Each extraEnv Output (a secret) gets a key of the env Secret, under its own name; a proxy
    variable among them is read once it resolves, with the plain ones (Go picks between them), so
    none of the proxies' ports is planned before."""
    env: dict[str, Any] = {
        "HTTPS_PROXY": "http://proxy.example.com:3128",
        "REGISTRY_LOG_FORMATTER": "json",
    }
    env[secret] = pulumi.Output.secret("http://proxy.example.com:8080")
    p = planned(extraEnv=env, objectStorage=S3)
    assert p.env_secret_keys == keys
    assert (p.proxies_resolve_later, p.egress_ports) == (later, egress)


def test_a_storage_size_makes_a_claim() -> None:
    claim = planned(storageSize="50Gi", storageClass="fast").claim
    assert claim == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "50Gi"}},
        "storageClassName": "fast",
    }


def test_more_replicas_get_a_disruption_budget() -> None:
    budget = planned(replicas=3).disruption_budget
    assert budget is not None and budget["maxUnavailable"] == 1


def test_metrics_get_a_service_and_a_monitor_on_request() -> None:
    metrics = planned(metrics=True)
    assert metrics.metrics_service is not None and metrics.service_monitor is None
    assert metrics.metrics_service["ports"][0]["port"] == 5001
    monitored = planned(metrics=True, serviceMonitor=True).service_monitor
    assert monitored is not None and monitored["endpoints"][0]["path"] == "/metrics"


@pytest.mark.parametrize(
    ("gateway", "parent"),
    [({"gateway": {"name": "gw", "namespace": "infra", "sectionName": "tls"}},
      {"name": "gw", "namespace": "infra", "sectionName": "tls"}),
     ({"gatewayClassName": "eg", "namespace": "caches"}, {"name": "dtr-cache", "namespace": "caches"})],
    ids=["existing", "made"],
)  # fmt: skip
def test_gateway_exposure_gets_a_tls_route_to_its_gateway(
    gateway: Mapping[str, Any], parent: Mapping[str, str]
) -> None:
    route = planned(**GATEWAY, **gateway).tls_route
    assert route is not None and route["hostnames"] == ["c.example.com"]
    (ref,) = route["parentRefs"]
    assert {k: ref[k] for k in ("name", "namespace", "sectionName") if k in ref} == parent


def test_a_gateway_class_makes_a_gateway() -> None:
    made = planned(**GATEWAY, gatewayClassName="eg").gateway
    assert made is not None and made["gatewayClassName"] == "eg"
    assert [(x["hostname"], x["port"]) for x in made["listeners"]] == [("c.example.com", 443)]


def test_ingress_exposure_gets_an_ingress_for_its_hosts() -> None:
    ingress = planned(exposure="ingress", port=None, hosts=["cache.example.com"]).ingress
    assert ingress is not None
    assert [rule["host"] for rule in ingress["rules"]] == ["cache.example.com"]
    assert ingress["ingressClassName"] == "nginx"


@pytest.mark.parametrize(
    ("changes", "service_type", "port"),
    [
        ({}, "NodePort", {"name": "https", "port": 443, "nodePort": 30443}),
        ({"exposure": "hostPort", "port": 8443}, "ClusterIP", {"name": "https", "port": 443}),
        ({"exposure": "loadBalancer", "port": 5443}, "LoadBalancer",
         {"name": "https", "port": 5443}),
        ({"exposure": "ingress", "port": None, "hosts": ["c.example.com"]}, "ClusterIP",
         {"name": "https", "port": 443}),
        ({**GATEWAY, "gatewayClassName": "eg", "port": 8443}, "ClusterIP",
         {"name": "https", "port": 443}),
    ],
)  # fmt: skip
def test_the_service_follows_the_exposure(
    changes: Mapping[str, Any], service_type: str, port: Mapping[str, Any]
) -> None:
    service = planned(**changes).service
    assert service["type"] == service_type
    (only,) = service["ports"]
    assert {k: only[k] for k in port} == port and ("nodePort" in only) == ("nodePort" in port)
