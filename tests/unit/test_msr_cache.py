"""MsrCache under mocks: the objects Kubernetes receives, the certificate clients check, the outputs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from harness import (
    CONFIG_MAP,
    MSR,
    NODE_PORT,
    SECRET,
    Deployment,
    cache,
    config_yaml,
    deploy,
    named,
    pod_spec,
    rejected,
    sans,
    served_cert,
    upstream_ca,
)
from pulumi.output import Unknown

from components import ConfigError, MsrCache
from components.objects import workload
from render.pulumi_kubernetes_replacement import replaced_by
from render.stack_config import self_signed_pair


def test_no_secret_reaches_a_config_map():
    d = cache({"hosts": ["n1.example.com"], "port": 30443})
    http_secret = d.one("random:index/randomPassword:RandomPassword").outputs["result"]
    key = d.one(SECRET).inputs["stringData"]["cache.key.pem"]
    for config_map in d.all(CONFIG_MAP):
        text = json.dumps(config_map.inputs)
        assert "PRIVATE KEY" not in text and key not in text
        assert http_secret not in text
        assert "secret" not in yaml.safe_load(config_map.inputs["data"]["config.yaml"])["http"]
    env = pod_spec(d)["containers"][0]["env"]
    assert env == [
        {
            "name": "REGISTRY_HTTP_SECRET",
            "valueFrom": {
                "secretKeyRef": {
                    "name": d.one(SECRET).outputs["metadata"]["name"],
                    "key": "http-secret",
                }
            },
        }
    ]
    assert d.one(SECRET).inputs["stringData"]["http-secret"] == http_secret


def test_secret_values_are_sent_as_secrets():
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "upstream_ca_cert": upstream_ca()})
    secret = d.one(SECRET)
    assert "stringData" in secret.secret_paths
    assert set(secret.inputs["stringData"]) == {
        "cache.cert.pem",
        "cache.key.pem",
        "msr.cert.pem",
        "http-secret",
    }
    for key in ("url", "ca_cert_pem", "namespace", "service_name", "registration"):
        assert not d.outputs[key].secret, key


def rolled_names(d: Deployment) -> dict[str, str]:
    """The ConfigMap's and Secret's names, and the names the Deployment's pod template refers to."""
    volumes = {v["name"]: v for v in pod_spec(d)["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod_spec(d)["containers"][0]["volumeMounts"]}
    (env,) = pod_spec(d)["containers"][0]["env"]
    return {
        "config map": d.one(CONFIG_MAP).outputs["metadata"]["name"],
        "secret": d.one(SECRET).outputs["metadata"]["name"],
        "pod's config volume": volumes[mounts["/config"]]["configMap"]["name"],
        "pod's certs volume": volumes[mounts["/certs"]]["secret"]["secretName"],
        "pod's http secret": env["valueFrom"]["secretKeyRef"]["name"],
    }


def test_config_and_certificates_roll_the_pods():
    # Unnamed, the ConfigMap and Secret are auto-named anew whenever their data changes (the
    # provider replaces them), and the pod template refers to them by that name: a change to
    # either is a new pod template, so the pods roll. The mocks, like the render, leave secret
    # values out of the name: the certificate change here is one that adds a key to the Secret.
    args = {"hosts": ["n1.example.com"], "port": 30443}
    before = cache(args)
    for typ in (CONFIG_MAP, SECRET):
        assert "name" not in before.one(typ).inputs["metadata"]
    names = rolled_names(before)
    assert names["pod's config volume"] == names["config map"]
    assert names["pod's certs volume"] == names["pod's http secret"] == names["secret"]

    assert rolled_names(cache(args)) == names  # nothing changed: the pods stay

    new_config = rolled_names(cache({**args, "log_level": "debug"}))
    assert new_config["config map"] != names["config map"]
    assert new_config["pod's config volume"] == new_config["config map"]
    assert new_config["secret"] == names["secret"]  # the Secret's data did not change
    assert new_config["pod's certs volume"] == names["pod's certs volume"]

    new_ca = rolled_names(cache({**args, "upstream_ca_cert": upstream_ca()}))
    assert new_ca["secret"] != names["secret"]
    assert new_ca["pod's certs volume"] == new_ca["pod's http secret"] == new_ca["secret"]


def test_children_are_named_for_the_cache_and_parented_to_it():
    d = cache({"hosts": ["n1.example.com"], "port": 30443}, name="asia")
    component = d.one("msr-cache:index:MsrCache")
    children = [r for r in d.resources if r is not component]
    assert {r.name for r in children} >= {
        "asia-namespace",
        "asia-service",
        "asia-config",
        "asia-certs",
        "asia-deployment",
        "asia-ca",
        "asia-cert",
        "asia-http-secret",
    }
    assert all(r.name.startswith("asia-") for r in children)
    child_urns = [u for u in d.urns if not u.endswith("::asia")]
    assert child_urns and all("msr-cache:index:MsrCache$" in u for u in child_urns)


def test_existing_namespace_is_used_as_is():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "namespace": "caches",
            "create_namespace": False,
        }
    )
    assert not d.all("kubernetes:core/v1:Namespace")
    assert d.outputs["namespace"].value == "caches"
    assert {
        r.inputs["metadata"]["namespace"] for r in d.resources if r.typ.startswith("kubernetes:")
    } == {"caches"}
    assert "dtr-cache.caches.svc" in sans(served_cert(d))[0]


def test_created_namespace_holds_every_object():
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "namespace": "edge-cache"})
    assert d.one("kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "edge-cache"
    namespaced = [
        r for r in d.resources if r.typ.startswith("kubernetes:") and "Namespace" not in r.typ
    ]
    assert {r.inputs["metadata"]["namespace"] for r in namespaced} == {"edge-cache"}


def test_preview_completes_with_unknown_values():
    d = cache({"hosts": ["n1.example.com"], "port": 30443}, preview=True)
    assert d.outputs["url"] == d.outputs["url"].__class__(
        "https://n1.example.com:30443", True, False
    )
    assert not d.outputs["ca_cert_pem"].known
    assert {r.inputs["kind"] for r in d.resources if "kind" in r.inputs} >= {
        "Deployment",
        "Service",
        "ConfigMap",
    }
    # What is known before deployment shows in the preview: the whole pod spec but its names.
    container = pod_spec(d)["containers"][0]
    assert container["image"] == "mirantis/dtr-content-cache:2.9.16"


def test_preview_of_a_load_balancer_leaves_its_url_unknown():
    d = cache({"exposure": "loadBalancer"}, preview=True)
    assert not d.outputs["url"].known
    assert not d.outputs["registration"].known


def test_a_preview_shows_a_load_balancer_address_yet_to_come_in_the_sans_not_the_url():
    # A Service that becomes a LoadBalancer has no address in a preview; `pulumi up` waits for
    # one, which then becomes a SAN: the preview must show the certificate changing too.
    d = cache({"exposure": "loadBalancer", "hosts": ["cache.example.com"]}, preview=True)
    request = d.one("tls:index/certRequest:CertRequest").inputs
    assert isinstance(request["dnsNames"], Unknown) and isinstance(request["ipAddresses"], Unknown)
    assert d.outputs["url"].known and d.outputs["url"].value == "https://cache.example.com"


@pytest.mark.parametrize(
    ("storage_class", "read_cluster", "annotated"),
    [("fast", True, False), ("nfs", True, True), (None, True, True), ("fast", False, True)],
)
def test_a_claim_whose_class_cannot_grow_carries_its_size_so_a_new_size_replaces_it(
    storage_class: str | None, read_cluster: bool, annotated: bool
) -> None:
    # The mocks' cluster has fast (it allows expansion) and nfs (it does not): tests/mocks.py.
    storage = {"storage_size": "5Gi", **({"storage_class": storage_class} if storage_class else {})}
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "read_cluster": read_cluster, **storage})
    claim = d.one("kubernetes:core/v1:PersistentVolumeClaim").inputs
    annotations = claim["metadata"].get("annotations", {})
    assert annotations.get(workload.FIXED_SIZE) == ("5Gi" if annotated else None)
    assert annotations[workload.SKIP_AWAIT] == "true"
    # The engine replaces the claim when that annotation changes, and render-diff says so.
    (claim_resource,) = d.all("kubernetes:core/v1:PersistentVolumeClaim")
    assert claim_resource.replace_on_changes == [workload.FIXED_SIZE_PATH]
    renamed = {
        **claim,
        "metadata": {**claim["metadata"], "annotations": {workload.FIXED_SIZE: "9Gi"}},
    }
    assert replaced_by(claim, renamed) == [f".metadata.annotations.{workload.FIXED_SIZE}"]


@pytest.mark.parametrize(
    ("args", "key", "python_name"),
    [
        ({"upstreams": ["http://msr.example.com"]}, "upstreams", "upstreams"),
        ({"blob_ttl": "10"}, "blobTtl", "blob_ttl"),
        ({"exposure": "ingress", "hosts": ["192.0.2.1"]}, "hosts", "hosts"),
        ({"hosts": ["n1.example.com"]}, "port", "port"),
        (
            {"hosts": ["n1.example.com"], "port": 30443, "storage_size": "5Gi", "replicas": 2},
            "replicas",
            "replicas",
        ),
        ({"hosts": ["n1.example.com"], "port": 30443, "blob_ttll": "1h"}, "blob_ttll", "blob_ttll"),
        ({"exposure": "gateway", "hosts": ["c.example.com"]}, "gateway", "gateway"),
        ({"exposure": "gateway", "hosts": ["c.example.com"], "gateway_class_name": "eg",
          "gateway": {"name": "gw", "namespace": "infra"}}, "gatewayClassName",
         "gateway_class_name"),
    ],
    ids=[
        "http-upstream",
        "bare-ttl",
        "ingress-ip",
        "nodePort-without-port",
        "rwo-replicas",
        "typo",
        "gateway-neither",
        "gateway-both",
    ],
)  # fmt: skip
def test_bad_input_creates_nothing(args, key, python_name):
    registered: list[Any] = []

    def program() -> dict[str, Any]:
        try:
            MsrCache("bad", {"upstreams": [MSR], **args})  # type: ignore[typeddict-item]
        except ConfigError as err:
            registered.append(err)
        return {}

    d = deploy(program)
    (err,) = registered
    assert key in err.keys and f"  - {python_name}: " in str(err)  # as the caller wrote it
    assert d.resources == []


def test_an_upstream_output_is_checked_when_it_resolves():
    def program() -> dict[str, Any]:
        c = MsrCache(
            "late",
            {
                "upstreams": pulumi.Output.from_input(["http://msr.example.com"]),
                "hosts": ["n1.example.com"],
                "port": 30443,
            },
        )
        return {"url": c.url}

    with pytest.raises(Exception, match=r'- upstreams: got \["http://msr'):
        deploy(program)


def test_chained_caches_each_through_their_own_provider():
    def program() -> dict[str, Any]:
        central_k8s = k8s.Provider("central-k8s", context="central")
        edge_k8s = k8s.Provider("edge-k8s", context="edge")
        central = MsrCache(
            "central",
            {"upstreams": [MSR], "exposure": "ingress", "hosts": ["cache.example.com"]},
            opts=pulumi.ResourceOptions(providers=[central_k8s]),
        )
        edge = MsrCache(
            "edge",
            {
                "upstreams": [central.url],
                "upstream_ca_cert": central.ca_cert_pem,
                "hosts": ["edge.example.com"],
                "port": 30443,
            },
            opts=pulumi.ResourceOptions(providers=[edge_k8s]),
        )
        return {"central_url": central.url, "central_ca": central.ca_cert_pem, "edge_url": edge.url}

    d = deploy(program)
    edge_config = next(r for r in d.all(CONFIG_MAP) if r.name == "edge-config")
    options = yaml.safe_load(edge_config.inputs["data"]["config.yaml"])["middleware"]["registry"][
        0
    ]["options"]
    assert options["upstreams"] == ["https://cache.example.com"]
    assert options["cas"] == ["/certs/msr.cert.pem"]
    edge_secret = next(r for r in d.all(SECRET) if r.name == "edge-certs")
    assert edge_secret.inputs["stringData"]["msr.cert.pem"] == d.outputs["central_ca"].value
    for r in d.resources:
        if r.typ.startswith("kubernetes:") and not r.typ.startswith("pulumi:providers"):
            owner = r.name.split("-")[0]
            assert f"::{owner}-k8s::" in r.provider, (r.name, r.provider)


def ca_secret(pem: str, key: str = "ca.crt") -> dict[tuple[str, str], dict]:
    return {("kubernetes:core/v1:Secret", "msr/msr-nginx-ca-cert"):
            {"data": {key: base64.b64encode(pem.encode()).decode()}}}  # fmt: skip


def deploy_with_secret_ca(ref: dict[str, str], cluster: dict) -> Deployment:
    def program() -> dict[str, Any]:
        MsrCache("edge", {"upstreams": [MSR], **NODE_PORT, "upstream_ca_secret": ref})
        return {}

    return deploy(program, cluster=cluster)


def test_upstream_ca_is_read_from_msrs_secret():
    ca = upstream_ca()
    d = deploy_with_secret_ca({"namespace": "msr", "name": "msr-nginx-ca-cert"}, ca_secret(ca))
    assert named(d, "edge-certs").inputs["stringData"]["msr.cert.pem"] == ca
    assert config_yaml(d)["middleware"]["registry"][0]["options"]["cas"] == ["/certs/msr.cert.pem"]


def test_a_missing_key_in_the_ca_secret_is_named():
    with pytest.raises(
        Exception,
        match=r'upstream_ca_secret: got Secret msr/msr-nginx-ca-cert; expected a key "ca.pem"',
    ):
        deploy_with_secret_ca(
            {"namespace": "msr", "name": "msr-nginx-ca-cert", "key": "ca.pem"},
            ca_secret(upstream_ca()),
        )


def test_pasted_or_read_ca_not_both():
    err = rejected({**NODE_PORT, "upstream_ca_cert": upstream_ca(),
                    "upstream_ca_secret": {"namespace": "msr", "name": "ca"}})  # fmt: skip
    assert err.keys == ("upstreamCaSecret",)


def test_a_bad_secret_reference_is_named():
    assert rejected({**NODE_PORT, "upstream_ca_secret": {"name": "ca"}}).keys == (
        "upstreamCaSecret",
    )


def test_a_tls_ca_cert_output_is_checked_against_tls_cert_when_they_resolve():
    """tlsCaCert as an Output (another stack's CA, say) must still have issued tlsCert: it is
    published as caCertPem, which clients verify the cache with."""
    cert, key = self_signed_pair("n1.example.com")
    other_ca, _ = self_signed_pair("other-ca.example.com")

    def program() -> dict[str, Any]:
        c = MsrCache(
            "late",
            {
                "upstreams": [MSR],
                "hosts": ["n1.example.com"],
                "port": 30443,
                "tls_cert": pulumi.Output.from_input(cert),
                "tls_key": pulumi.Output.secret(key),
                "tls_ca_cert": pulumi.Output.from_input(other_ca),
            },
        )
        return {"ca": c.ca_cert_pem}

    with pytest.raises(
        Exception,
        match=r"- tls_ca_cert: got PEM text with 1 block \(CERTIFICATE\); expected the certificates that issued tlsCert",
    ):
        deploy(program)
