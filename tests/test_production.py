"""Production options under mocks: object storage, high availability, network policy, metrics,
cert-manager, the upstream CA from a Secret, extra environment and pod annotations."""

import base64
import json
from typing import Any

import pulumi
import pytest
import yaml
from harness import Deployment, deploy
from test_msr_cache import MSR, cache, config_yaml, pod_spec, upstream_ca
from test_stack import run_stack

from components import ConfigError, MsrCache

NODE_PORT = {"hosts": ["n1.example.com"], "port": 30443}
S3 = {"driver": "s3", "region": "eu-west-1", "bucket": "msr-cache", "accesskey": "AKIAEXAMPLE",
      "secretkey": "s3-secret-value"}  # fmt: skip
SECRET = "kubernetes:core/v1:Secret"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"


def named(d: Deployment, name: str) -> Any:
    return next(r for r in d.resources if r.name == name)


def container(d: Deployment) -> dict[str, Any]:
    return pod_spec(d)["containers"][0]


def rejected(args: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        MsrCache("bad", {"upstreams": [MSR], **args})  # type: ignore[typeddict-item]
    return raised.value


# --- object storage ---------------------------------------------------------------------------


def test_s3_holds_the_blobs_and_its_keys_stay_secret():
    d = cache({**NODE_PORT, "object_storage": S3, "replicas": 3})
    storage = config_yaml(d)["storage"]
    assert storage == {
        "delete": {"enabled": True},
        "s3": {"region": "eu-west-1", "bucket": "msr-cache"},
        "redirect": {"disable": True},
    }
    credentials = named(d, "edge-storage")
    assert credentials.inputs["stringData"] == {
        "s3-accesskey": "AKIAEXAMPLE",
        "s3-secretkey": "s3-secret-value",
    }
    assert "stringData" in credentials.secret_paths
    env = {e["name"]: e for e in container(d)["env"]}
    for key in ("ACCESSKEY", "SECRETKEY"):
        ref = env[f"REGISTRY_STORAGE_S3_{key}"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": credentials.outputs["metadata"]["name"], "key": f"s3-{key.lower()}"}
    assert "s3-secret-value" not in json.dumps([r.inputs for r in d.resources if r.typ != SECRET])
    assert not d.all("kubernetes:core/v1:PersistentVolumeClaim")
    assert "/var/lib/registry" not in {m["mountPath"] for m in container(d)["volumeMounts"]}
    assert d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["replicas"] == 3


def test_gcs_key_file_is_mounted_where_config_yaml_points():
    d = cache(
        {
            **NODE_PORT,
            "object_storage": {"driver": "gcs", "bucket": "b", "keyfile": '{"type": "x"}'},
        }
    )
    assert config_yaml(d)["storage"]["gcs"] == {
        "bucket": "b",
        "keyfile": "/storage-credentials/gcs-keyfile.json",
    }
    mounts = {m["mountPath"]: m for m in container(d)["volumeMounts"]}
    assert mounts["/storage-credentials"]["readOnly"] is True
    volume = next(
        v for v in pod_spec(d)["volumes"] if v["name"] == mounts["/storage-credentials"]["name"]
    )
    assert volume["secret"]["items"] == [{"key": "gcs-keyfile.json", "path": "gcs-keyfile.json"}]
    assert named(d, "edge-storage").inputs["stringData"] == {"gcs-keyfile.json": '{"type": "x"}'}
    assert not [e for e in container(d)["env"] if e["name"].startswith("REGISTRY_STORAGE")]


def test_azure_account_key_reaches_the_container_from_the_secret():
    azure = {
        "driver": "azure",
        "accountname": "acct",
        "accountkey": "azure-key",
        "container": "blobs",
    }
    d = cache({**NODE_PORT, "object_storage": azure})
    assert config_yaml(d)["storage"]["azure"] == {"accountname": "acct", "container": "blobs"}
    names = [e["name"] for e in container(d)["env"]]
    assert "REGISTRY_STORAGE_AZURE_ACCOUNTKEY" in names


def test_storage_credentials_may_be_outputs_of_other_resources():
    d = cache(
        {**NODE_PORT, "object_storage": {**S3, "secretkey": pulumi.Output.secret("from-iam")}}
    )
    assert named(d, "edge-storage").inputs["stringData"]["s3-secretkey"] == "from-iam"


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ({"driver": "oss", "bucket": "b"}, "driver one of s3, azure, gcs, swift"),
        ({"driver": "s3", "bucket": "b"}, "missing region"),
        ({**S3, "regoin": "x"}, "unknown regoin"),
        ({"driver": "swift", "username": "u", "authurl": "https://k.example.com", "container": "c"}, "missing password"),
        ({**S3, "secretkey": ""}, "credential secretkey"),
        ({**S3, "bucket": ["b"]}, "parameter bucket"),
        ("s3://bucket", "an object {driver"),
    ],
    ids=["unknown-driver", "missing-region", "unknown-parameter", "swift-password", "empty-credential",
         "list-parameter", "not-an-object"],
)  # fmt: skip
def test_object_storage_mistakes_are_named(storage, expected):
    err = rejected({**NODE_PORT, "object_storage": storage})
    assert err.keys == ("objectStorage",) and expected in str(err)
    assert "s3-secret-value" not in str(err) and "AKIAEXAMPLE" not in str(err)


def test_object_storage_takes_no_claim():
    err = rejected({**NODE_PORT, "object_storage": S3, "storage_size": "10Gi"})
    assert err.keys == ("storageSize",)


# --- high availability ------------------------------------------------------------------------


def test_replicas_spread_over_nodes_share_one_secret_and_keep_a_budget():
    d = cache({**NODE_PORT, "object_storage": S3, "replicas": 3})
    spread = pod_spec(d)["topologySpreadConstraints"]
    assert spread == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": pod_spec_selector(d)},
        }
    ]
    assert d.one(PDB).inputs["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": pod_spec_selector(d)},
    }
    # Every replica reads the one http secret (distribution requires it behind a load balancer).
    assert len(d.all("random:index/randomPassword:RandomPassword")) == 1
    assert len(d.all("kubernetes:apps/v1:Deployment")) == 1


def pod_spec_selector(d: Deployment) -> dict[str, str]:
    return d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["selector"]["matchLabels"]


def test_a_single_replica_has_no_budget_and_no_spread():
    d = cache(NODE_PORT)
    assert not d.all(PDB) and "topologySpreadConstraints" not in pod_spec(d)


def test_scheduling_options_pass_through():
    tolerations = [
        {"key": "dedicated", "operator": "Equal", "value": "registry", "effect": "NoSchedule"}
    ]
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}  # fmt: skip
    d = cache({**NODE_PORT, "node_selector": {"node-role.example.com/registry": "true"},
               "tolerations": tolerations, "affinity": affinity, "priority_class_name": "registry-critical"})  # fmt: skip
    spec = pod_spec(d)
    assert spec["nodeSelector"] == {"node-role.example.com/registry": "true"}
    assert spec["tolerations"] == tolerations
    assert spec["affinity"] == affinity
    assert spec["priorityClassName"] == "registry-critical"


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"tolerations": [{"key": "a", "operator": "Maybe"}]}, "tolerations"),
        ({"tolerations": {"key": "a"}}, "tolerations"),
        ({"affinity": {"nodeAfinity": {}}}, "affinity"),
        ({"node_selector": {"zone": 1}}, "nodeSelector"),
        ({"priority_class_name": "Critical"}, "priorityClassName"),
        ({"pod_annotations": {"bad key!": "x"}}, "podAnnotations"),
        ({"extra_env": {"1BAD": "x"}}, "extraEnv"),
        ({"extra_env": {"REGISTRY_HTTP_SECRET": "x"}}, "extraEnv"),
        ({"affinity": {"nodeAffinity": "yes please"}}, "affinity"),
        ({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "x"}}}]}}}, "affinity"),
        ({"tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]}, "tolerations"),
        ({"tolerations": [{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}]},
         "tolerations"),
        ({"node_selector": {"zone": "not a label value!"}}, "nodeSelector"),
    ],
    ids=["toleration-operator", "tolerations-not-a-list", "affinity-typo", "selector-number",
         "priority-uppercase", "annotation-name", "env-name", "env-http-secret",
         "affinity-not-an-object", "pod-anti-affinity-without-topology-key",
         "toleration-exists-with-value", "toleration-seconds-without-no-execute",
         "selector-bad-value"],
)  # fmt: skip
def test_pod_option_mistakes_are_named(args, key):
    assert rejected({**NODE_PORT, **args}).keys == (key,)


# --- network policy ---------------------------------------------------------------------------


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
        ({"exposure": "ingress", "hosts": ["c.example.com"], "network_policy": False,
          "ingress_namespace": "x"}, "ingressNamespace"),
        ({**NODE_PORT, "metrics_namespace": "monitoring"}, "metricsNamespace"),
        ({**NODE_PORT, "service_monitor": True}, "serviceMonitor"),
        ({**NODE_PORT, "network_policy": "yes"}, "networkPolicy"),
    ],
    ids=["ingress-namespace-without-ingress", "ingress-namespace-without-policy",
         "metrics-namespace-without-metrics", "service-monitor-without-metrics", "policy-not-a-bool"],
)  # fmt: skip
def test_network_and_metrics_mistakes_are_named(args, key):
    assert rejected(args).keys == (key,)


# --- metrics ----------------------------------------------------------------------------------


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


# --- cert-manager -----------------------------------------------------------------------------


def test_cert_manager_issues_the_certificate_with_the_same_sans():
    d = cache({"hosts": ["node1.example.com", "192.0.2.10"], "port": 30443, "tls_key_algorithm": "ECDSA",
               "cert_manager_issuer": {"kind": "ClusterIssuer", "name": "internal-ca"}})  # fmt: skip
    assert not [r for r in d.resources if r.typ.startswith("tls:")]
    certificate = d.one("kubernetes:cert-manager.io/v1:Certificate").inputs
    spec = certificate["spec"]
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    assert spec["issuerRef"] == {
        "group": "cert-manager.io",
        "kind": "ClusterIssuer",
        "name": "internal-ca",
    }
    assert spec["dnsNames"] == [
        "node1.example.com",
        "dtr-cache.dtr.svc",
        "dtr-cache.dtr.svc.cluster.local",
    ]
    assert spec["ipAddresses"] == ["192.0.2.10"]
    assert spec["privateKey"]["algorithm"] == "ECDSA"
    volume = next(v for v in pod_spec(d)["volumes"] if v["name"] == "dtr-certs")
    (source,) = volume["projected"]["sources"]
    assert source["secret"] == {
        "name": spec["secretName"],
        "items": [
            {"key": "tls.crt", "path": "cache.cert.pem"},
            {"key": "tls.key", "path": "cache.key.pem"},
        ],
    }
    assert set(d.one(SECRET).inputs["stringData"]) == {"http-secret"}
    assert d.outputs["ca_cert_pem"].value == ""


def test_cert_manager_with_the_upstream_ca_and_the_issuers_ca():
    ca = upstream_ca()
    d = cache({**NODE_PORT, "cert_manager_issuer": {"kind": "Issuer", "name": "ca"},
               "upstream_ca_cert": ca, "tls_ca_cert": ca})  # fmt: skip
    volume = next(v for v in pod_spec(d)["volumes"] if v["name"] == "dtr-certs")
    assert volume["projected"]["sources"][1]["secret"]["items"] == [
        {"key": "msr.cert.pem", "path": "msr.cert.pem"}
    ]
    assert d.outputs["ca_cert_pem"].value == ca


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"cert_manager_issuer": {"kind": "Vault", "name": "v"}}, "certManagerIssuer"),
        ({"cert_manager_issuer": {"name": "v"}}, "certManagerIssuer"),
    ],
    ids=["unknown-kind", "no-kind"],
)
def test_cert_manager_mistakes_are_named(args, key):
    assert rejected({**NODE_PORT, **args}).keys == (key,)


def test_cert_manager_or_your_own_certificate_not_both():
    from render.stack_config import self_signed_pair

    cert, key = self_signed_pair("n1.example.com")
    err = rejected({**NODE_PORT, "tls_cert": cert, "tls_key": key,
                    "cert_manager_issuer": {"kind": "Issuer", "name": "ca"}})  # fmt: skip
    assert err.keys == ("certManagerIssuer",)


# --- the upstream CA from a Secret ------------------------------------------------------------


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
    with pytest.raises(Exception, match=r"upstream_ca_secret: got .*a key 'ca.pem'"):
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


# --- extra environment and pod annotations ----------------------------------------------------


def test_extra_env_and_pod_annotations_reach_the_pod():
    d = cache({**NODE_PORT, "extra_env": {"REGISTRY_LOG_FORMATTER": "json"},
               "pod_annotations": {"example.com/owner": "platform"}})  # fmt: skip
    assert {"name": "REGISTRY_LOG_FORMATTER", "value": "json"} in container(d)["env"]
    template = d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    assert template["metadata"]["annotations"] == {"example.com/owner": "platform"}


# --- the stack program ------------------------------------------------------------------------


def test_object_options_reach_the_component_from_stack_config():
    d = run_stack({"upstreams": [MSR], **NODE_PORT, "replicas": 2, "objectStorage": S3, "metrics": True,
                   "extraEnv": {"REGISTRY_LOG_FORMATTER": "json"}, "tolerations": [{"operator": "Exists"}]})  # fmt: skip
    config = yaml.safe_load(d.one("kubernetes:core/v1:ConfigMap").inputs["data"]["config.yaml"])
    assert config["storage"]["s3"]["bucket"] == "msr-cache" and "debug" in config["http"]
    assert d.all(PDB) and d.all(NETWORK_POLICY)


def test_the_readmes_production_stack_is_valid():
    from conftest import ROOT

    from components.settings import parse

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Production") :]
    block = section[
        section.index("```yaml\n") + len("```yaml\n") : section.index(
            "```\n", section.index("```yaml")
        )
    ]
    stack = yaml.safe_load(block)["config"]
    raw = {k.removeprefix("msr-cache:"): v for k, v in stack.items()}
    raw["objectStorage"] = {
        **raw["objectStorage"],
        "secretkey": "decrypted",
    }  # as Pulumi decrypts it
    program_keys = {"kubeContext"}
    settings = parse({k: v for k, v in raw.items() if k not in program_keys})
    assert settings.replicas == 3 and settings.object_storage and settings.metrics
    assert settings.cert_manager_issuer and settings.upstream_ca_secret and settings.network_policy
