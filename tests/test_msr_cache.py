"""MsrCache under mocks: the objects Kubernetes receives, the certificate clients check, the outputs."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from harness import Deployment, deploy
from mocks import LOAD_BALANCER_IP

from components import ConfigError, MsrCache
from render.stack_config import self_signed_pair

MSR = "https://msr.example.com"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
OUTPUTS = ("url", "ca_cert_pem", "namespace", "service_name", "registration")


def cache(args: dict[str, Any], name: str = "edge", **kw: Any) -> Deployment:
    """Deploy one MsrCache and observe all its outputs."""

    def program() -> dict[str, Any]:
        c = MsrCache(name, {"upstreams": [MSR], **args}, **kw)  # type: ignore[typeddict-item]
        return {key: getattr(c, key) for key in OUTPUTS}

    return deploy(
        program,
        preview=kw.pop("preview", False),
        load_balancer=kw.pop("load_balancer", LOAD_BALANCER_IP),
    )


def served_cert(d: Deployment) -> x509.Certificate:
    pem = d.one(SECRET).inputs["stringData"]["cache.cert.pem"]
    return x509.load_pem_x509_certificates(pem.encode())[0]


def sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ext.get_values_for_type(x509.DNSName), [
        str(a) for a in ext.get_values_for_type(x509.IPAddress)
    ]


def config_yaml(d: Deployment) -> dict[str, Any]:
    return yaml.safe_load(d.one(CONFIG_MAP).inputs["data"]["config.yaml"])


def pod_spec(d: Deployment) -> dict[str, Any]:
    return d.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]


IN_CLUSTER = ["dtr-cache.dtr.svc", "dtr-cache.dtr.svc.cluster.local"]


@pytest.mark.parametrize(
    ("args", "url", "dns", "ips"),
    [
        (
            {"hosts": ["node1.example.com", "node2.example.com"], "port": 30443},
            "https://node1.example.com:30443",
            ["node1.example.com", "node2.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"hosts": ["192.0.2.10"], "port": 30443},
            "https://192.0.2.10:30443",
            IN_CLUSTER,
            ["192.0.2.10"],
        ),
        (
            {"hosts": ["2001:db8::10"], "port": 32000},
            "https://[2001:db8::10]:32000",
            IN_CLUSTER,
            ["2001:db8::10"],
        ),
        (
            {"exposure": "hostPort", "hosts": ["node1.example.com", "192.0.2.10"]},
            "https://node1.example.com",
            ["node1.example.com", *IN_CLUSTER],
            ["192.0.2.10"],
        ),
        (
            {"exposure": "hostPort", "hosts": ["node1.example.com"], "port": 8443},
            "https://node1.example.com:8443",
            ["node1.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"exposure": "loadBalancer"},
            f"https://{LOAD_BALANCER_IP}",
            IN_CLUSTER,
            [LOAD_BALANCER_IP],
        ),
        (
            {"exposure": "loadBalancer", "hosts": ["cache.example.com"], "port": 5443},
            "https://cache.example.com:5443",
            ["cache.example.com", *IN_CLUSTER],
            [LOAD_BALANCER_IP],
        ),
        (
            {"exposure": "ingress", "hosts": ["cache.example.com", "cache.eu.example.com"]},
            "https://cache.example.com",
            ["cache.example.com", "cache.eu.example.com", *IN_CLUSTER],
            [],
        ),
    ],
    ids=[
        "nodePort-dns",
        "nodePort-ipv4",
        "nodePort-ipv6",
        "hostPort-443",
        "hostPort-8443",
        "loadBalancer-address",
        "loadBalancer-hosts",
        "ingress",
    ],
)
def test_certificate_and_url_follow_the_exposure(args, url, dns, ips):
    d = cache(args)
    cert = served_cert(d)
    assert sans(cert) == (dns, ips)
    assert d.outputs["url"].value == url
    assert config_yaml(d)["http"]["host"] == url
    assert json.loads(d.outputs["registration"].value) == {"name": "edge", "host": url}


LONG_HOST = "a" * 50 + ".example.com"  # 62 characters, valid in DNS; the next one is longer
ELB = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4-1234567890.eu-west-1.elb.amazonaws.com"


@pytest.mark.parametrize(
    ("args", "load_balancer", "host"),
    [
        ({"hosts": ["cache." + LONG_HOST], "port": 30443}, LOAD_BALANCER_IP, "cache." + LONG_HOST),
        ({"exposure": "loadBalancer"}, ELB, ELB),
    ],
    ids=["host-of-68-characters", "elb-hostname"],
)
def test_a_host_longer_than_a_common_name_is_a_san_only(args, load_balancer, host):
    assert len(host) > 64
    d = cache(args, load_balancer=load_balancer)
    cert = served_cert(d)
    assert host in sans(cert)[0]
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME) == []
    assert d.outputs["url"].value == f"https://{host}" + (":30443" if "port" in args else "")


def test_a_long_name_and_namespace_keep_the_ca_common_name_within_64():
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "name": "c" * 40, "namespace": "n" * 40})
    ca = x509.load_pem_x509_certificate(d.outputs["ca_cert_pem"].value.encode())
    (cn,) = ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert cn.value == "c" * 40 + " cache CA"


def test_serving_certificate_is_signed_by_the_published_ca():
    d = cache({"hosts": ["node1.example.com"], "port": 30443})
    ca = x509.load_pem_x509_certificate(d.outputs["ca_cert_pem"].value.encode())
    cert = served_cert(d)
    assert cert.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.public_key().verify(
        cert.signature,
        cert.tbs_certificate_bytes,
        padding.PKCS1v15(),
        cert.signature_hash_algorithm,
    )
    assert isinstance(ca.public_key(), rsa.RSAPublicKey) and ca.public_key().key_size == 4096
    csr = d.one("tls:index/certRequest:CertRequest").inputs
    assert csr["subject"]["commonName"] == "node1.example.com"
    signed = d.one("tls:index/locallySignedCert:LocallySignedCert").inputs
    assert "server_auth" in signed["allowedUses"]
    assert 0 < signed["earlyRenewalHours"] < signed["validityPeriodHours"]


def test_ecdsa_keys_on_request():
    d = cache({"hosts": ["node1.example.com"], "port": 30443, "tls_key_algorithm": "ECDSA"})
    key = serialization.load_pem_private_key(
        d.one(SECRET).inputs["stringData"]["cache.key.pem"].encode(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


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


def pod_labels(d: Deployment) -> dict[str, str]:
    return d.one(DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]


def test_host_port_binds_the_node_port():
    d = cache({"exposure": "hostPort", "hosts": ["n1.example.com"], "port": 8443})
    (port,) = pod_spec(d)["containers"][0]["ports"]
    assert port["hostPort"] == 8443


def test_config_yaml_is_what_the_cache_reads():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "blob_ttl": "1h30m",
            "log_level": "debug",
            "upstreams": [MSR, "https://msr2.example.com:8443"],
        }
    )
    config = config_yaml(d)
    assert config["version"] == 0.1
    assert config["log"]["level"] == "debug"
    assert config["storage"] == {
        "delete": {"enabled": True},
        "filesystem": {"rootdirectory": "/var/lib/registry"},
    }
    assert config["http"]["tls"] == {
        "certificate": "/certs/cache.cert.pem",
        "key": "/certs/cache.key.pem",
    }
    (middleware,) = config["middleware"]["registry"]
    assert middleware == {
        "name": "downstream",
        "options": {"blobttl": "1h30m", "upstreams": [MSR, "https://msr2.example.com:8443"]},
    }
    # The cache listens where the container port and probes point.
    port = pod_spec(d)["containers"][0]["ports"][0]["containerPort"]
    assert config["http"]["addr"] == f":{port}"


def upstream_ca() -> str:
    d = cache({"hosts": ["msr.example.com"], "port": 30443}, name="msr")
    return d.outputs["ca_cert_pem"].value


def test_upstream_ca_is_trusted_through_the_secret():
    ca = upstream_ca()
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "upstream_ca_cert": ca})
    assert config_yaml(d)["middleware"]["registry"][0]["options"]["cas"] == ["/certs/msr.cert.pem"]
    assert d.one(SECRET).inputs["stringData"]["msr.cert.pem"] == ca
    mounts = {m["mountPath"]: m for m in pod_spec(d)["containers"][0]["volumeMounts"]}
    assert mounts["/certs"]["readOnly"] is True


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


def test_deployment_is_the_seed_made_safe():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "image": "registry.example.com/dtr-content-cache:2.9.17",
        }
    )
    deployment = d.one(DEPLOYMENT).inputs
    assert deployment["metadata"]["name"] == "dtr-cache"
    assert deployment["metadata"]["namespace"] == "dtr"
    spec = pod_spec(d)
    (container,) = spec["containers"]
    assert container["image"] == "registry.example.com/dtr-content-cache:2.9.17"
    assert container["command"] == ["bin/sh"]
    assert container["args"] == ["start.sh", "/config/config.yaml"]
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/v2/", "port": "https", "scheme": "HTTPS"}
    assert container["resources"]["limits"]["memory"] == "1Gi"
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert (
        volumes[mounts["/certs"]["name"]]["secret"]["secretName"]
        == d.one(SECRET).outputs["metadata"]["name"]
    )
    assert (
        volumes[mounts["/config"]["name"]]["configMap"]["name"]
        == d.one(CONFIG_MAP).outputs["metadata"]["name"]
    )
    assert mounts["/config"]["readOnly"] is True
    assert volumes[mounts["/var/lib/registry"]["name"]] == {"name": "cache-data", "emptyDir": {}}
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    labels = pod_labels(d)
    assert labels["app.kubernetes.io/version"] == "2.9.17"
    assert labels["app.kubernetes.io/instance"] == "dtr-cache"


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


def test_resources_can_be_overridden():
    resources = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "resources": resources})
    assert pod_spec(d)["containers"][0]["resources"] == resources


def test_claim_holds_the_cache_and_recreates_the_pod():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "storage_size": "50Gi",
            "storage_class": "fast",
        }
    )
    claim = d.one(PVC)
    assert claim.inputs["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "50Gi"}},
        "storageClassName": "fast",
    }
    volumes = {v["name"]: v for v in pod_spec(d)["volumes"]}
    assert volumes["cache-data"] == {
        "name": "cache-data",
        "persistentVolumeClaim": {"claimName": claim.outputs["metadata"]["name"]},
    }
    assert d.one(DEPLOYMENT).inputs["spec"]["strategy"] == {"type": "Recreate"}


def test_shared_claim_allows_replicas():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "storage_size": "50Gi",
            "storage_access_mode": "ReadWriteMany",
            "replicas": 3,
        }
    )
    spec = d.one(DEPLOYMENT).inputs["spec"]
    assert spec["replicas"] == 3 and spec["strategy"]["type"] == "RollingUpdate"
    assert d.one(PVC).inputs["spec"]["accessModes"] == ["ReadWriteMany"]


def test_no_claim_by_default():
    assert not cache({"hosts": ["n1.example.com"], "port": 30443}).all(PVC)


def self_signed(host: str) -> tuple[str, str]:
    return self_signed_pair(host)


def test_your_own_certificate_replaces_the_generated_one():
    cert, key = self_signed("cache.example.com")
    d = cache(
        {"exposure": "ingress", "hosts": ["cache.example.com"], "tls_cert": cert, "tls_key": key}
    )
    assert not [r for r in d.resources if r.typ.startswith("tls:")]
    data = d.one(SECRET).inputs["stringData"]
    assert (data["cache.cert.pem"], data["cache.key.pem"]) == (cert, key)
    assert d.outputs["ca_cert_pem"].value == cert
    ca, _ = self_signed("ca.example.com")
    d = cache(
        {
            "exposure": "ingress",
            "hosts": ["cache.example.com"],
            "tls_cert": cert,
            "tls_key": key,
            "tls_ca_cert": ca,
        }
    )
    assert d.outputs["ca_cert_pem"].value == ca


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
    ],
    ids=[
        "http-upstream",
        "bare-ttl",
        "ingress-ip",
        "nodePort-without-port",
        "rwo-replicas",
        "typo",
    ],
)
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

    with pytest.raises(Exception, match=r"- upstreams: got \['http://msr"):
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


def test_resource_amounts_in_the_schemas_spelling_reach_kubernetes_spelled_its_way():
    resources = {"requests": {"ephemeral_storage": "1Gi"}, "limits": {"ephemeral-storage": "2Gi"}}
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "resources": resources})
    assert pod_spec(d)["containers"][0]["resources"] == {
        "requests": {"ephemeral-storage": "1Gi"},
        "limits": {"ephemeral-storage": "2Gi"},
    }
