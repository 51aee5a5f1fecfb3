"""The Deployment's pod spec, the claim and the disruption budget."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
from harness import (
    CONFIG_MAP,
    DEPLOYMENT,
    MSR,
    NETWORK_POLICY,
    NODE_PORT,
    PDB,
    PVC,
    S3,
    SECRET,
    SERVICE,
    cache,
    container,
    deploy,
    named,
    pod_labels,
    pod_spec,
    pod_spec_selector,
    rejected,
    settings,
)

from components import MsrCache
from components.inputs.settings import Settings, parse
from components.objects import workload


def spec_of(s: Settings, claim: str | None = None) -> dict[str, Any]:
    return workload.deployment_spec(
        s, config_map="cache-config-x", secret="cache-certs-x", claim=claim
    )


def container_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    (container,) = spec["template"]["spec"]["containers"]
    return container


def test_pod_runs_with_runtime_default_seccomp() -> None:
    spec = spec_of(settings())
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container_of(spec)["securityContext"]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_pod_runs_as_a_user_that_is_not_root_owning_its_volumes() -> None:
    context = spec_of(settings())["template"]["spec"]["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == context["runAsGroup"] == context["fsGroup"] != 0


@pytest.mark.parametrize(
    ("exposure", "level"),
    [("nodePort", "restricted"), ("loadBalancer", "restricted"), ("ingress", "restricted"),
     ("hostPort", "privileged")],
)  # fmt: skip
def test_the_namespace_made_enforces_the_strictest_pod_security_its_exposure_allows(
    exposure: str, level: str
) -> None:
    port = {"port": 30443} if exposure == "nodePort" else {}
    raw = {"upstreams": ["https://msr.example.com"], "hosts": ["n1.example.com"], **port}
    labels = workload.namespace_labels(parse({**raw, "exposure": exposure}))
    assert labels["pod-security.kubernetes.io/enforce"] == level
    assert labels["app.kubernetes.io/instance"] == "dtr-cache"


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_probes_get_v2_over_https(probe: str) -> None:
    container = container_of(spec_of(settings()))
    assert container[probe]["httpGet"] == {"path": "/v2/", "port": "https", "scheme": "HTTPS"}
    assert container["ports"][0]["name"] == "https"


def test_default_resources() -> None:
    assert container_of(spec_of(settings()))["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_resources_override() -> None:
    resources = {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert container_of(spec_of(settings(resources=resources)))["resources"] == resources


def test_volume_mounts() -> None:
    mounts = {m["mountPath"]: m for m in container_of(spec_of(settings()))["volumeMounts"]}
    assert set(mounts) == {"/certs", "/config", "/var/lib/registry"}
    assert mounts["/certs"]["readOnly"] is True
    assert mounts["/config"]["readOnly"] is True
    assert not mounts["/var/lib/registry"].get("readOnly", False)


def mounted_at(spec: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The volume the container mounts at `path`, without its name."""
    (name,) = [m["name"] for m in container_of(spec)["volumeMounts"] if m["mountPath"] == path]
    (volume,) = [v for v in spec["template"]["spec"]["volumes"] if v["name"] == name]
    return {k: v for k, v in volume.items() if k != "name"}


def test_volumes_are_the_secret_config_map_and_cache() -> None:
    spec = spec_of(settings())
    volumes = {v["name"] for v in spec["template"]["spec"]["volumes"]}
    assert volumes == {m["name"] for m in container_of(spec)["volumeMounts"]}
    assert mounted_at(spec, "/certs")["secret"]["secretName"] == "cache-certs-x"
    assert mounted_at(spec, "/config")["configMap"]["name"] == "cache-config-x"
    assert container_of(spec)["args"] == ["start.sh", "/config/config.yaml"]


def test_cache_is_an_empty_dir_without_a_claim() -> None:
    assert mounted_at(spec_of(settings()), "/var/lib/registry") == {"emptyDir": {}}


def test_cache_is_the_claim_when_there_is_one() -> None:
    spec = spec_of(settings(storageSize="10Gi"), claim="cache-data-x")
    assert mounted_at(spec, "/var/lib/registry") == {
        "persistentVolumeClaim": {"claimName": "cache-data-x"}
    }


@pytest.mark.parametrize(
    ("changes", "strategy", "replicas"),
    [
        ({}, "RollingUpdate", 1),
        ({"replicas": 3}, "RollingUpdate", 3),
        ({"storageSize": "10Gi"}, "Recreate", 1),
        ({"storageSize": "10Gi", "storageAccessMode": "ReadWriteOnce"}, "Recreate", 1),
        ({"storageSize": "10Gi", "storageAccessMode": "ReadWriteOncePod"}, "Recreate", 1),
        (
            {"storageSize": "10Gi", "storageAccessMode": "ReadWriteMany", "replicas": 2},
            "RollingUpdate",
            2,
        ),
    ],
    ids=["empty-dir", "empty-dir-replicas", "rwo-default", "rwo", "rwop", "rwx"],
)
def test_single_node_claim_recreates_the_pod(
    changes: dict[str, Any], strategy: str, replicas: int
) -> None:
    s = settings(**changes)
    spec = spec_of(s, claim="data" if s.storage else None)
    assert spec["strategy"]["type"] == strategy
    assert spec["replicas"] == replicas


@pytest.mark.parametrize(
    ("changes", "strategy"),
    [
        ({}, {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
        (
            {"replicas": 3},
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        ),
        ({"storageSize": "10Gi"}, {"type": "Recreate"}),
    ],
    ids=["one", "replicas", "rwo"],
)
def test_host_port_rollouts_never_wait_for_a_surge_pod(
    changes: dict[str, Any], strategy: dict[str, Any]
) -> None:
    # A surge pod cannot bind the host port on a node where a replica runs: with maxSurge 1 and
    # maxUnavailable 0 the rollout would wait for it forever.
    s = settings(exposure="hostPort", port=443, **changes)
    assert spec_of(s, claim="data" if s.storage else None)["strategy"] == strategy


def test_other_rollouts_keep_every_replica_serving() -> None:
    strategy = spec_of(settings())["strategy"]
    assert strategy["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def test_http_secret_comes_from_the_secret() -> None:
    env = {e["name"]: e for e in container_of(spec_of(settings()))["env"]}
    assert env["REGISTRY_HTTP_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "cache-certs-x", "key": "http-secret"}
    }
    assert "value" not in env["REGISTRY_HTTP_SECRET"]


def test_selector_picks_the_pods() -> None:
    spec = spec_of(settings(name="region-asia"))
    selector = spec["selector"]["matchLabels"]
    pod_labels = spec["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    assert selector["app.kubernetes.io/instance"] == "region-asia"


def test_version_label_is_the_image_tag() -> None:
    labels = spec_of(settings())["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "2.9.16"
    assert container_of(spec_of(settings()))["image"] == "mirantis/dtr-content-cache:2.9.16"


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("mirantis/dtr-content-cache:2.9.16", "2.9.16"),
        ("registry.example.com:5000/msr/cache:3.1.0", "3.1.0"),
        ("mirantis/dtr-content-cache:2.9.16@sha256:" + "a" * 64, "2.9.16"),
        ("registry.example.com:5000/msr/cache", None),
        ("mirantis/dtr-content-cache@sha256:" + "a" * 64, None),
    ],
    ids=["tag", "registry-port", "tag-and-digest", "no-tag", "digest-only"],
)
def test_version_label_of_an_image(image: str, version: str | None) -> None:
    labels = workload.labels("dtr-cache", image)
    assert labels.get("app.kubernetes.io/version") == version
    assert workload.selector_labels("dtr-cache").items() <= labels.items()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"storageSize": "50Gi"},
            {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}},
        ),
        (
            {"storageSize": "1Ti", "storageAccessMode": "ReadWriteMany", "storageClass": "nfs"},
            {
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "1Ti"}},
                "storageClassName": "nfs",
            },
        ),
    ],
    ids=["default-class", "with-class"],
)
def test_claim_spec(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    storage = settings(**changes).storage
    assert storage is not None
    assert workload.claim_spec(storage) == expected


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


def test_extra_env_and_pod_annotations_reach_the_pod():
    d = cache({**NODE_PORT, "extra_env": {"REGISTRY_LOG_FORMATTER": "json"},
               "pod_annotations": {"example.com/owner": "platform"}})  # fmt: skip
    assert {"name": "REGISTRY_LOG_FORMATTER", "value": "json"} in container(d)["env"]
    template = d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    assert template["metadata"]["annotations"] == {"example.com/owner": "platform"}


# A proxy whose URL holds a password: what `pulumi config set --secret --path
# extraEnv.HTTPS_PROXY` is for.
PASSWORD = "Pr0xy-pa55-7q"
PROXY = f"http://cache:{PASSWORD}@proxy.corp.example:3128"


def _egress_ports(d: Any) -> list[int]:
    _, pulls = d.one(NETWORK_POLICY).inputs["spec"]["egress"]
    return [p["port"] for p in pulls["ports"]]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_extra_env_output_reaches_the_pod_from_a_secret_never_the_deployment(preview: bool):
    env = {"HTTPS_PROXY": pulumi.Output.secret(PROXY), "REGISTRY_LOG_FORMATTER": "json"}
    d = cache({**NODE_PORT, "extra_env": env}, preview=preview)
    kept = named(d, "edge-env")
    assert kept.typ == SECRET and kept.inputs["type"] == "Opaque"
    assert kept.inputs["stringData"] == {"HTTPS_PROXY": PROXY}
    assert "stringData" in kept.secret_paths
    variables = {e["name"]: e for e in container(d)["env"]}
    # The secret one by reference, the plain one as it is (a preview's diff still shows it).
    ref = {"name": kept.outputs["metadata"]["name"], "key": "HTTPS_PROXY"} if not preview else None
    assert set(variables["HTTPS_PROXY"]) == {"name", "valueFrom"}
    if ref is not None:
        assert variables["HTTPS_PROXY"]["valueFrom"] == {"secretKeyRef": ref}
    assert variables["REGISTRY_LOG_FORMATTER"] == {
        "name": "REGISTRY_LOG_FORMATTER",
        "value": "json",
    }
    shown = json.dumps([r.inputs for r in d.resources if r is not kept], default=str)
    assert PASSWORD not in shown and "proxy.corp.example" not in shown
    # The network policy still lets the cache out to the proxy's port, and shows it: a port is
    # no secret, and the policy is not made one.
    assert _egress_ports(d) == [443, 3128]
    assert d.one(NETWORK_POLICY).secret_paths == []


def test_without_outputs_in_extra_env_there_is_no_env_secret():
    d = cache({**NODE_PORT, "extra_env": {"HTTPS_PROXY": "http://proxy.corp.example:3128"}})
    assert {r.name for r in d.all(SECRET)} == {"edge-certs"}
    assert {"name": "HTTPS_PROXY", "value": "http://proxy.corp.example:3128"} in container(d)["env"]


def test_the_proxy_variable_go_reads_decides_the_port_once_secrets_resolve():
    """Go reads HTTPS_PROXY before https_proxy, unless it is empty: a secret one that resolves
    empty leaves the plain one in use, whose port the policy then lets out."""
    env = {"HTTPS_PROXY": pulumi.Output.secret(""), "https_proxy": "http://p.corp.example:3129"}
    assert _egress_ports(cache({**NODE_PORT, "extra_env": env})) == [443, 3129]


def test_an_extra_env_output_is_checked_when_it_resolves_without_being_shown():
    def program() -> dict[str, Any]:
        bad = f"http://cache:{PASSWORD}@proxy.corp.example:3128:3128"  # a port Go refuses
        c = MsrCache(
            "late", {"upstreams": [MSR], **NODE_PORT,
                     "extra_env": {"HTTPS_PROXY": pulumi.Output.secret(bad)}},
        )  # fmt: skip
        return {"url": c.url}

    with pytest.raises(Exception, match=r"- extra_env: got an object with keys HTTPS_PROXY; "
                       r"expected HTTPS_PROXY as Go's net/http reads a proxy") as raised:  # fmt: skip
        deploy(program)
    assert PASSWORD not in str(raised.value)


def test_extra_env_as_one_output_is_refused_naming_it():
    # Its names make the container's env, which must be known when the program runs.
    err = rejected({**NODE_PORT, "extra_env": pulumi.Output.secret({"HTTPS_PROXY": PROXY})})
    assert err.keys == ("extraEnv",) and PASSWORD not in str(err)


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


def test_resource_amounts_in_the_schemas_spelling_reach_kubernetes_spelled_its_way():
    resources = {"requests": {"ephemeral_storage": "1Gi"}, "limits": {"ephemeral-storage": "2Gi"}}
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "resources": resources})
    assert pod_spec(d)["containers"][0]["resources"] == {
        "requests": {"ephemeral-storage": "1Gi"},
        "limits": {"ephemeral-storage": "2Gi"},
    }


# Adopting a cache deployed by MSR's manual procedure (Deployment dtr/dtr-cache, app: dtr-cache).
def test_an_adopted_deployment_keeps_the_procedures_selector() -> None:
    # A Deployment's selector is immutable: the API server would refuse any other on update.
    d = cache({**NODE_PORT, "adopt_existing": True, "replicas": 2})
    assert pod_spec_selector(d) == {"app": "dtr-cache"}
    assert pod_labels(d)["app"] == "dtr-cache"
    assert pod_labels(d)["app.kubernetes.io/instance"] == "dtr-cache"  # still recommended labels
    assert d.one(SERVICE).inputs["spec"]["selector"] == {"app": "dtr-cache"}
    assert d.one(PDB).inputs["spec"]["selector"]["matchLabels"] == {"app": "dtr-cache"}
    spread = pod_spec(d)["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
    assert spread == {"app": "dtr-cache"}


@pytest.mark.parametrize("changes", [{"name": "edge-cache"}, {"namespace": "caches"}])
def test_adoption_takes_over_only_the_procedures_names(changes: dict[str, Any]) -> None:
    message = str(rejected({**NODE_PORT, "adopt_existing": True, **changes}))
    assert "with adoptExisting" in message and "dtr/dtr-cache" in message


# cert-manager renewals reach the pods through stakater Reloader.
ISSUER = {"cert_manager_issuer": {"kind": "Issuer", "name": "ca"}}


def test_reload_on_certificate_change_annotates_the_deployment_for_reloader() -> None:
    d = cache({**NODE_PORT, **ISSUER, "reload_on_certificate_change": True})
    deployment = d.one(DEPLOYMENT).inputs
    annotations = deployment["metadata"]["annotations"]
    assert annotations == {"secret.reloader.stakater.com/reload": "dtr-cache-tls"}
    # ... naming the Secret cert-manager fills, which the pods mount.
    (certs,) = [v for v in pod_spec(d)["volumes"] if "projected" in v]
    assert certs["projected"]["sources"][0]["secret"]["name"] == "dtr-cache-tls"


def test_without_it_the_deployment_has_no_reloader_annotation() -> None:
    deployment = cache({**NODE_PORT, **ISSUER}).one(DEPLOYMENT).inputs
    assert "annotations" not in deployment["metadata"]


def test_reload_needs_cert_manager() -> None:
    assert "reload_on_certificate_change" in str(
        rejected({**NODE_PORT, "reload_on_certificate_change": True})
    )


def test_an_image_read_as_a_host_by_its_capitals_is_warned_of(caplog):
    with caplog.at_level(logging.WARNING):
        d = cache({**NODE_PORT, "image": "MyOrg/dtr-content-cache:2.9.16"})
    assert pod_spec(d)["containers"][0]["image"] == "MyOrg/dtr-content-cache:2.9.16"
    (warned,) = [r.getMessage() for r in caplog.records if "MyOrg" in r.getMessage()]
    assert warned.startswith('image: "MyOrg/dtr-content-cache:2.9.16" is pulled from a registry')


def test_image_pull_secrets_reach_the_pod():
    """For a private mirror of the image: the kubelet pulls with these Secrets."""
    d = cache({**NODE_PORT, "image_pull_secrets": ["regcred", "mirror.pull"]})
    assert pod_spec(d)["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror.pull"}]
    assert "imagePullSecrets" not in pod_spec(cache(NODE_PORT))


@pytest.mark.parametrize("names", [["Reg_Cred"], ["regcred", "regcred"], "regcred", [""]], ids=str)
def test_image_pull_secrets_must_be_secret_names(names):
    assert rejected({**NODE_PORT, "image_pull_secrets": names}).keys == ("imagePullSecrets",)


def test_the_pods_run_as_the_service_account_named_without_its_token():
    d = cache({**NODE_PORT, "service_account_name": "cache-s3-reader"})
    pod = pod_spec(d)
    assert pod["serviceAccountName"] == "cache-s3-reader"
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod_spec(cache(NODE_PORT))
    assert rejected({**NODE_PORT, "service_account_name": "Cache"}).keys == ("serviceAccountName",)
