"""The NetworkPolicy: who reaches the cache's pods, and what they reach."""

from __future__ import annotations

from typing import Any

import pytest
from harness import (
    MSR,
    NETWORK_POLICY,
    NODE_PORT,
    S3,
    cache,
    deploy,
    named,
    pod_spec_selector,
    rejected,
)

from components import MsrCache


def test_network_policy_lets_in_the_cache_port_and_out_dns_and_upstreams():
    d = cache({**NODE_PORT, "upstreams": [MSR, "https://msr2.example.com:8443"]})
    spec = d.one(NETWORK_POLICY).inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": pod_spec_selector(d)}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [{"ports": [{"port": 8443, "protocol": "TCP"}]}]  # node ports: anyone
    assert spec["egress"] == [
        {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 8443, "protocol": "TCP"}]},
    ]


def test_behind_an_ingress_only_the_controller_gets_in():
    d = cache(
        {
            "exposure": "ingress",
            "hosts": ["cache.example.com"],
            "ingress_namespace": "ingress-system",
        }
    )
    (rule,) = d.one(NETWORK_POLICY).inputs["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-system"}}}
    ]
    default = cache({"exposure": "ingress", "hosts": ["cache.example.com"]})
    (rule,) = default.one(NETWORK_POLICY).inputs["spec"]["ingress"]
    assert (
        rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        == "ingress-nginx"
    )


def _let_in(d) -> list[dict[str, Any]]:
    (rule,) = d.one(NETWORK_POLICY).inputs["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8443, "protocol": "TCP"}]
    return rule["from"]


def test_behind_a_gateway_only_the_gateways_namespace_gets_in():
    hosts = {"exposure": "gateway", "hosts": ["cache.example.com"]}
    given = cache({**hosts, "gateway": {"name": "shared", "namespace": "gateway-system"}})
    assert _let_in(given) == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}}
    ]
    # The Gateway made with the cache is in the cache's namespace.
    made = cache({**hosts, "gateway_class_name": "eg", "namespace": "caches"})
    assert _let_in(made) == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "caches"}}}
    ]


def test_a_gateways_proxies_elsewhere_are_let_in_from_their_namespace():
    # Envoy Gateway runs a Gateway's proxies in its own namespace, not the Gateway's.
    d = cache({"exposure": "gateway", "hosts": ["cache.example.com"],
               "gateway": {"name": "shared", "namespace": "gateway-system"},
               "gateway_proxy_namespace": "envoy-gateway-system"})  # fmt: skip
    assert _let_in(d) == [
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}
            }
        }
    ]


def test_network_policy_follows_a_chained_upstreams_port_and_object_storage():
    def program() -> dict[str, Any]:
        central = MsrCache(
            "central", {"upstreams": [MSR], "hosts": ["c.example.com"], "port": 31443}
        )
        MsrCache("edge", {"upstreams": [central.url], "hosts": ["e.example.com"], "port": 30443,
                          "object_storage": {**S3, "regionendpoint": "https://minio.example.com:9000"}})  # fmt: skip
        return {}

    d = deploy(program)
    edge = named(d, "edge-network-policy").inputs["spec"]
    assert edge["egress"][1]["ports"] == [
        {"port": p, "protocol": "TCP"} for p in (443, 9000, 31443)
    ]


def test_network_policy_can_be_turned_off():
    assert not cache({**NODE_PORT, "network_policy": False}).all(NETWORK_POLICY)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({**NODE_PORT, "ingress_namespace": "ingress-nginx"}, "ingressNamespace"),
        ({"exposure": "gateway", "hosts": ["c.example.com"], "gateway_class_name": "eg",
          "ingress_namespace": "x"}, "ingressNamespace"),
        ({"exposure": "ingress", "hosts": ["c.example.com"], "network_policy": False,
          "ingress_namespace": "x"}, "ingressNamespace"),
        ({**NODE_PORT, "metrics_namespace": "monitoring"}, "metricsNamespace"),
        ({**NODE_PORT, "service_monitor": True}, "serviceMonitor"),
        ({**NODE_PORT, "network_policy": "yes"}, "networkPolicy"),
    ],
    ids=["ingress-namespace-without-ingress", "ingress-namespace-with-gateway",
         "ingress-namespace-without-policy",
         "metrics-namespace-without-metrics", "service-monitor-without-metrics", "policy-not-a-bool"],
)  # fmt: skip
def test_network_and_metrics_mistakes_are_named(args, key):
    assert rejected(args).keys == (key,)


def _egress_ports(d) -> list[int]:
    _, pulls = d.one(NETWORK_POLICY).inputs["spec"]["egress"]
    return [p["port"] for p in pulls["ports"]]


@pytest.mark.parametrize(
    ("env", "ports"),
    [
        ({"HTTPS_PROXY": "http://proxy.corp.example:3128"}, [443, 3128]),
        ({"HTTPS_PROXY": "proxy.corp.example:8080"}, [443, 8080]),  # host:port is an http proxy
        ({"https_proxy": "http://proxy.corp.example"}, [80, 443]),  # the scheme's port
        ({"HTTP_PROXY": "socks5://socks.corp.example"}, [443, 1080]),
        ({"HTTPS_PROXY": "", "https_proxy": "http://p.example:3129"}, [443, 3129]),  # empty: unset
        (
            {"HTTPS_PROXY": "http://a.example:3128", "https_proxy": "http://b.example:9"},
            [443, 3128],
        ),
    ],
)
def test_the_cache_may_reach_the_proxy_extra_env_names(env: dict[str, str], ports: list[int]):
    """Under the default policy a proxy in extraEnv is what the cache dials to pull: its port is
    let out, read as Go's net/http reads the variable (upper case first, host:port for http)."""
    assert _egress_ports(cache({**NODE_PORT, "extra_env": env})) == ports


@pytest.mark.parametrize(("value", "why"), [
    # Go 1.26 cannot read it as written, reads "http://" + it, and takes `http` for the proxy's
    # host, on port 80: the port written is not the port dialled (issue 25).
    ("http://proxy.corp.example:3128:3128", "one colon at most, before the port"),
    ("http://[proxy.corp.example]:3128", "brackets hold an IPv6 address and nothing else"),
    ("http://[10.0.0.3]:3128", "brackets hold an IPv6 address and nothing else"),
    ("http://proxy.corp.example[::1]:3128", "a `[` only at the start of the host"),
])  # fmt: skip
def test_a_proxy_go_would_not_read_as_written_opens_no_port(value: str, why: str):
    err = rejected({**NODE_PORT, "extra_env": {"HTTPS_PROXY": value}})
    assert err.keys == ("extraEnv",)
    assert "HTTPS_PROXY as Go's net/http reads a proxy" in str(err) and why in str(err)


def test_a_proxy_at_an_ipv6_address_is_let_out_on_its_port():
    env = {"HTTPS_PROXY": "http://[fd00::3]:3128"}
    assert _egress_ports(cache({**NODE_PORT, "extra_env": env})) == [443, 3128]
