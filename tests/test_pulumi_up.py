"""The real engine deploys the cache: `pulumi up`, `preview` and `destroy` of the stack program
with the real Pulumi CLI, its Python language host, the kubernetes, tls and random providers and
the policy pack, against a real API server (tests/cluster.py), in the order of Pulumi's own
ProgramTest: up, an empty preview, a change previewed, destroy.

What this proves that the mocks and the render cannot: the CLI's config rules, the providers'
diffs and replacements, pulumi-kubernetes' await (a Deployment Available, a Service with a ready
endpoint, a claim Bound, a load balancer's address), the API server's admission (Pod Security
`restricted`), defaulting and validation (CRD schemas with their CEL rules), and the garbage
collector's foreground deletion on destroy. What it cannot: kwok runs no container, so the
image, its probes and its volumes are never exercised here: the registry server runs what the
API server holds instead, and the e2e workflow runs these tests on kind, with MSR's image.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cluster import Cluster
from harness import DEPLOYMENT, ROOT
from msr_api import MsrApi
from pod import lay_out, without_downstream
from pulumi_cli import Project, Stack, require_tools
from registry_client import push_blob, request
from servers import REGISTRY, S3, Moto, Registry, require, running

from render.diff import changes, rendered
from render.stack_config import self_signed_pair

POLICY = ("--policy-pack", str(ROOT / "policy"))
# Each test runs the CLI several times: bounded by each run's own timeout, not the suite's.
pytestmark = pytest.mark.timeout(900)
MSR = "https://msr.example.com"


@pytest.fixture(scope="module")
def project(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Project:
    require_tools()
    return Project(tmp_path_factory.mktemp("project"), env={"KUBECONFIG": str(cluster.kubeconfig)})


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A stack deployed, then a change previewed: `change` (config keys) must show exactly as
    render-diff says it would. `url` is the stack's url output."""

    config: dict[str, Any]
    change: dict[str, Any]
    url: str | None  # None: the address the cluster gave the LoadBalancer Service


SCENARIOS = {
    "nodeport": Scenario(
        {"hosts": ["node0.example.test"], "port": 30443},
        {"blobTtl": "12h"},
        "https://node0.example.test:30443",
    ),
    "hostport": Scenario(
        {"exposure": "hostPort", "hosts": ["node1.example.test"], "port": 8443},
        {"image": "mirantis/dtr-content-cache:2.9.17"},
        "https://node1.example.test:8443",
    ),
    "loadbalancer": Scenario(
        {"exposure": "loadBalancer"},
        {"hosts": ["cache.lb.example.test"]},
        None,
    ),
    "ingress": Scenario(
        {
            "exposure": "ingress",
            "hosts": ["cache.ingress.example.test"],
            "ingressClassName": "nginx",
        },
        {"image": "mirantis/dtr-content-cache:2.9.17"},
        "https://cache.ingress.example.test",
    ),
    "gateway": Scenario(
        {
            "exposure": "gateway",
            "hosts": ["cache.gateway.example.test"],
            "gateway": {"name": "shared", "namespace": "gateway-system", "sectionName": "tls"},
        },
        {"hosts": ["cache2.gateway.example.test"]},
        "https://cache.gateway.example.test",
    ),
    "gateway-class": Scenario(
        {
            "exposure": "gateway",
            "hosts": ["a.gw.example.test", "b.gw.example.test"],
            "gatewayClassName": "eg",
        },
        {"hosts": ["a.gw.example.test"]},
        "https://a.gw.example.test",
    ),
    # A claim of the default StorageClass, which waits for its first consumer.
    "pvc": Scenario(
        {"hosts": ["node0.example.test"], "port": 30444, "storageSize": "1Gi"},
        {"logLevel": "debug"},
        "https://node0.example.test:30444",
    ),
}


def load_balancer_address(cluster: Cluster, namespace: str) -> str:
    """The address the cluster gave the cache's LoadBalancer Service (kwok gives LB_ADDRESS)."""
    (ingress,) = cluster.get("service", "dtr-cache", namespace)["status"]["loadBalancer"]["ingress"]
    return ingress.get("ip") or ingress["hostname"]


def volumes_of(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    """The PersistentVolumes bound to a claim of `namespace`."""
    volumes = cluster.get("persistentvolumes")["items"]
    return [v for v in volumes if v["spec"].get("claimRef", {}).get("namespace") == namespace]


def condition(obj: dict[str, Any], kind: str) -> str:
    return next(c["status"] for c in obj["status"].get("conditions", []) if c["type"] == kind)


def serve_deployed(cluster: Cluster, namespace: str, tmp: Path) -> Registry:
    """The registry server running exactly what the API server holds: the pod laid out from the
    Deployment, its ConfigMap and Secrets (tests/pod.py), a claim as a folder of its own."""
    deployment = cluster.deployed(namespace)
    volumes = deployment.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["volumes"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]: tmp / "claim"
        for v in volumes
        if "persistentVolumeClaim" in v
    }
    # distribution 2.8 has no downstream middleware (MSR's): the one key taken out.
    return Registry(lay_out(deployment, tmp / "pod", claims), namespace, without_downstream)


def _object(kind: Any, metadata: dict[str, Any]) -> str:
    """An object as render-diff names it: an auto-named one without its suffix."""
    name = str(metadata.get("name"))
    if (metadata.get("annotations") or {}).get("pulumi.com/autonamed") == "true":
        name = name.rsplit("-", 1)[0]
    namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{kind} `{namespace}{name}`"


Changes = dict[str, tuple[str, list[str]]]
"""What happens to each object: {"<Kind> `ns/name`": (create|update|replace|delete, why)}."""


def previewed_changes(stack: Stack) -> Changes:
    """What the real `pulumi preview` would do to each Kubernetes object, and why it replaces
    one: the property paths pulumi-kubernetes names (`data["config.yaml"]`)."""
    plan = stack.preview("--json", *POLICY).json()
    found: Changes = {}
    for step in plan["steps"]:
        typ = step["urn"].split("::")[2].rsplit("$", 1)[-1]
        verb = {"create-replacement": "replace", "delete-replaced": "replace"}.get(
            step["op"], step["op"]
        )
        if not typ.startswith("kubernetes:") or verb in {"same", "read"}:
            continue
        inputs = (step.get("newState") or step.get("oldState"))["inputs"]
        found[_object(inputs["kind"], inputs["metadata"])] = (verb, step.get("replaceReasons", []))
    return found


def rendered_files(stack: Stack, out: Path) -> dict[str, str]:
    """`make render` of the stack as its file stands: {file: YAML}."""
    files = rendered(stack.project.root, ".", stack.name, out)
    assert not isinstance(files, str), files
    return files[0]


LINE = re.compile(r"^- (create|update|replace|delete) (\S+ `[^`]+`)(?: \((.*)\))?")


def render_diff_changes(before: dict[str, str], after: dict[str, str]) -> Changes:
    r"""render-diff's list of what `pulumi up` would do between two renders (`- replace <Kind>
    \`ns/name\` (.data)` lines), read back into Changes."""
    found: Changes = {}
    for line in changes(before, after):
        match = LINE.match(line)
        assert match, line
        verb, what, why = match.groups()
        found[what] = (verb, why.split(", ") if why else [])
    return found


def agree(real: Changes, render: Changes) -> None:
    """The same objects change in the same way; a replacement for the same reasons, render-diff
    naming a field (`.data`) where pulumi-kubernetes names the property under it."""
    assert {k: v[0] for k, v in real.items()} == {k: v[0] for k, v in render.items()}, (
        real,
        render,
    )
    for what, (verb, why) in real.items():
        if verb == "replace":
            # The API server keeps a Secret's stringData as data, and so does the render.
            why = [
                "data" + r.removeprefix("stringData") if r.startswith("string") else r for r in why
            ]
            fields = render[what][1]
            assert all(any(r.startswith(f.lstrip(".")) for f in fields) for r in why), (
                what,
                why,
                fields,
            )
            assert all(any(r.startswith(f.lstrip(".")) for r in why) for f in fields), (
                what,
                why,
                fields,
            )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_up_serves_then_no_change_then_the_change_render_diff_shows_then_destroy(
    name: str, project: Project, cluster: Cluster, tmp_path: Path
) -> None:
    require(REGISTRY)
    scenario = SCENARIOS[name]
    config = {"upstreams": [MSR], "namespace": name, **scenario.config}
    stack = project.stack(name, config)

    stack.up(*POLICY)
    assert condition(cluster.get("deployment", "dtr-cache", name), "Available") == "True"
    outputs = stack.outputs()
    assert outputs["url"] == (scenario.url or f"https://{load_balancer_address(cluster, name)}")
    # What was deployed serves TLS under the URL's host to a client trusting only caCertPem.
    host = urlsplit(outputs["url"]).hostname or ""
    with running(serve_deployed(cluster, name, tmp_path)) as server:
        assert request(server.pod.port, host, outputs["caCertPem"]).status == 200

    stack.preview("--expect-no-changes", *POLICY)

    before = rendered_files(stack, tmp_path / "before")
    stack.set_config({**config, **scenario.change})
    after = rendered_files(stack, tmp_path / "after")
    agree(previewed_changes(stack), render_diff_changes(before, after))

    stack.destroy()
    assert not cluster.kubectl("get", "namespace", name, "--ignore-not-found")
    # A released volume is the provisioner's to delete (reclaimPolicy Delete), after the claim.
    cluster.wait_for(lambda: not volumes_of(cluster, name), f"the volumes of namespace {name} gone")


def test_ha_over_s3_serves_from_the_bucket_with_the_key_only_in_a_secret(
    project: Project, cluster: Cluster, tmp_path: Path
) -> None:
    require(REGISTRY)
    (tmp_path / "moto").mkdir()
    with running(Moto(tmp_path / "moto", setup_actions=3)) as moto:
        s3 = S3(moto)
        storage = s3.storage()
        secret_key = storage.pop("secretkey")
        config = {"upstreams": [MSR], "namespace": "ha", "hosts": ["node0.example.test"],
                  "port": 30445, "replicas": 2, "objectStorage": storage}  # fmt: skip
        stack = project.stack("ha", config, secrets={"objectStorage.secretkey": secret_key})
        assert secret_key not in stack.file.read_text()

        stack.up(*POLICY)
        deployment = cluster.get("deployment", "dtr-cache", "ha")
        assert condition(deployment, "Available") == "True"
        assert deployment["status"]["readyReplicas"] == 2
        assert secret_key not in json.dumps(cluster.get("configmaps", namespace="ha"))
        stack.preview("--expect-no-changes", *POLICY)

        ca = stack.outputs()["caCertPem"]
        with running(serve_deployed(cluster, "ha", tmp_path)) as server:
            blob = push_blob(server.pod.port, "node0.example.test", ca, "library/ha", b"a layer")
        hexdigest = blob.removeprefix("sha256:")
        assert f"docker/registry/v2/blobs/sha256/{hexdigest[:2]}/{hexdigest}/data" in s3.objects()

        stack.destroy()
        assert not cluster.kubectl("get", "namespace", "ha", "--ignore-not-found")


COMPOSED = """
import pulumi_kubernetes as k8s

from components import MsrCache

MsrCache("edge", {"upstreams": ["https://msr.example.com"], "namespace": "composed",
                  "hosts": ["node0.example.test"], "port": 30446})
# Beside the cache, a Deployment that no mandatory policy lets through: no seccomp profile,
# no probes, no memory limit, an image by a moving tag.
k8s.apps.v1.Deployment(
    "beside",
    metadata={"namespace": "default"},
    spec={
        "selector": {"matchLabels": {"app": "beside"}},
        "template": {
            "metadata": {"labels": {"app": "beside"}},
            "spec": {"containers": [{"name": "beside", "image": "example.test/beside:latest"}]},
        },
    },
)
"""


def test_a_mandatory_policy_violation_stops_pulumi_up_before_anything_is_made(
    cluster: Cluster, tmp_path: Path
) -> None:
    require_tools()
    source = tmp_path / "composed"
    source.mkdir()
    (source / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "composed",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(ROOT / ".venv")}},
    }))  # fmt: skip
    (source / "__main__.py").write_text(COMPOSED)
    (source / "components").symlink_to(ROOT / "components")
    project = Project(tmp_path / "project", source, env={"KUBECONFIG": str(cluster.kubeconfig)})
    stack = project.stack("composed", {})
    # As `make up` runs it: the preview first, where the pack stops it. (With --skip-preview the
    # pack judges each resource as it is made, and what came before the violation stays made.)
    result = stack.run("up", "--yes", *POLICY, check=False)
    assert result.code != 0, result
    assert "mandatory" in result.stdout and "container-memory-limit" in result.stdout, result
    assert not cluster.kubectl("get", "namespace", "composed", "--ignore-not-found")
    assert not cluster.kubectl(
        "get", "deployment", "beside", "--namespace=default", "--ignore-not-found"
    )


def seed_objects() -> list[dict[str, Any]]:
    """What MSR's manual procedure (the seed) applies: its namespace (no Pod Security level
    but privileged lets its root pod run), its Secret and ConfigMap, its Service and Deployment."""
    cert, key = self_signed_pair("node0.example.test")
    config = {
        "version": 0.1, "log": {"level": "info"},
        "storage": {"delete": {"enabled": True}, "filesystem": {"rootdirectory": "/var/lib/registry"}},
        "http": {"addr": "0.0.0.0:443", "secret": "generate-random-secret",
                 "host": "https://node0.example.test:30447",
                 "tls": {"certificate": "/certs/cache.cert.pem", "key": "/certs/cache.key.pem"}},
        "middleware": {"registry": [{"name": "downstream", "options": {
            "blobttl": "24h", "upstreams": [MSR], "cas": ["/certs/msr.cert.pem"]}}]},
    }  # fmt: skip
    labels = {"app": "dtr-cache"}
    container = {
        "name": "dtr-cache", "image": "mirantis/dtr-content-cache:2.9.16",
        "command": ["bin/sh"], "args": ["start.sh", "/config/config.yaml"],
        "ports": [{"name": "https", "containerPort": 443}],
        "volumeMounts": [{"name": "dtr-certs", "readOnly": True, "mountPath": "/certs/"},
                         {"name": "dtr-cache-config", "readOnly": True, "mountPath": "/config"}],
    }  # fmt: skip
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "dtr", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dtr-certs", "namespace": "dtr"},
         "stringData": {"cache.cert.pem": cert, "cache.key.pem": key, "msr.cert.pem": cert}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "dtr-cache-config", "namespace": "dtr"},
         "data": {"config.yaml": yaml.safe_dump(config)}},
        # MSR's "Expose the MSR cache" page: a NodePort Service onto the pod's 443.
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dtr-cache", "namespace": "dtr"},
         "spec": {"type": "NodePort", "selector": labels, "ports": [
             {"name": "https", "port": 443, "targetPort": 443, "nodePort": 30447}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "dtr-cache", "namespace": "dtr"},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"containers": [container], "volumes": [
                 {"name": "dtr-certs", "secret": {"secretName": "dtr-certs"}},
                 {"name": "dtr-cache-config",
                  "configMap": {"defaultMode": 0o666, "name": "dtr-cache-config"}}]}}}},
    ]  # fmt: skip


def test_adopt_existing_takes_over_the_manual_deployment_and_its_running_pods(
    project: Project, cluster: Cluster
) -> None:
    # As the procedure does: kubectl apply, client-side.
    cluster.kubectl("apply", "--filename=-", stdin=yaml.safe_dump_all(seed_objects()))
    # On kind the image is pulled first: minutes, not seconds.
    cluster.kubectl(
        "rollout",
        "status",
        "--namespace=dtr",
        "deployment/dtr-cache",
        "--timeout=300s",
        timeout=330,
    )
    (manual,) = cluster.get("replicasets", namespace="dtr")["items"]
    # The runbook (docs/operate.md): the procedure's Deployment goes, its ReplicaSet and pods stay.
    cluster.kubectl("delete", "deployment", "dtr-cache", "--namespace=dtr", "--cascade=orphan")
    config = {"upstreams": [MSR], "hosts": ["node0.example.test"], "port": 30447,
              "createNamespace": False, "adoptExisting": True}  # fmt: skip
    stack = project.stack("adopted", config)

    stack.up(*POLICY)
    adopted = cluster.get("deployment", "dtr-cache", "dtr")
    assert adopted["spec"]["selector"] == {"matchLabels": {"app": "dtr-cache"}}
    assert condition(adopted, "Available") == "True"
    # The Deployment took the procedure's ReplicaSet over and rolled its pods onto the new one.
    before = cluster.get("replicaset", manual["metadata"]["name"], "dtr")
    assert before["metadata"]["ownerReferences"][0]["uid"] == adopted["metadata"]["uid"]
    assert before["spec"]["replicas"] == 0
    # The procedure's Service, upserted with the fields kubectl owned taken over.
    (port,) = cluster.get("service", "dtr-cache", "dtr")["spec"]["ports"]
    assert (port["port"], port["nodePort"], port["targetPort"]) == (443, 30447, "https")
    stack.preview("--expect-no-changes", *POLICY)

    stack.destroy()
    assert not cluster.kubectl("get", "deployment", "--namespace=dtr", "--ignore-not-found")


def test_msr_registration_on_up_survives_a_refresh_and_goes_with_destroy(
    project: Project, cluster: Cluster
) -> None:
    api = MsrApi()
    try:
        config = {"upstreams": [MSR], "namespace": "registered", "hosts": ["node0.example.test"],
                  "port": 30448, "msrApi": {"url": api.url, "username": "admin", "caCert": api.ca_pem}}  # fmt: skip
        stack = project.stack("registered", config, secrets={"msrApi.token": api.state.token})

        stack.up(*POLICY)
        outputs = stack.outputs()
        (registered,) = api.state.caches.values()
        assert registered == {
            "id": outputs["msrRegistrationId"], "name": "registered", "host": outputs["url"]
        }  # fmt: skip
        stack.run("refresh", "--yes", "--skip-preview")
        stack.preview("--expect-no-changes", *POLICY)
        assert api.state.caches == {registered["id"]: registered}

        stack.destroy()
        assert api.state.caches == {}
    finally:
        api.close()


def test_the_fleet_example_deploys_a_central_cache_and_a_region_chained_to_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    require_tools()
    # The example's virtualenv is the repository's, which holds what its requirements name.
    links = {"venv": ROOT / ".venv", "components": ROOT / "components"}
    env = {"KUBECONFIG": str(cluster.kubeconfig)}
    project = Project(tmp_path / "fleet", ROOT / "examples" / "fleet", env, links)
    context = cluster.context
    config = {"msrUrl": MSR, "centralContext": context, "centralHost": "cache.central.example.test",
              "regions": [{"name": "asia", "context": context, "hosts": ["node1.example.test"],
                           "port": 30449}]}  # fmt: skip
    stack = project.stack("fleet", config)

    stack.up(*POLICY)
    outputs = stack.outputs()
    for namespace in ("msr-cache-central", "msr-cache-asia"):
        deployment = cluster.get("deployment", "dtr-cache", namespace)
        assert condition(deployment, "Available") == "True", namespace
    # The region pulls from the central cache and trusts the CA that signed it.
    region = lay_out(cluster.deployed("msr-cache-asia"), tmp_path / "asia")
    (downstream,) = region.config["middleware"]["registry"]
    assert downstream["options"]["upstreams"] == [outputs["centralUrl"]]
    (cas,) = downstream["options"]["cas"]
    assert region.path(cas).read_text() == outputs["centralCaCertPem"]
    stack.preview("--expect-no-changes", *POLICY)

    stack.destroy()
    for namespace in ("msr-cache-central", "msr-cache-asia"):
        assert not cluster.kubectl("get", "namespace", namespace, "--ignore-not-found")


def test_the_yaml_example_deploys_the_cache_through_the_component_package(
    cluster: Cluster, tmp_path: Path
) -> None:
    require_tools("pulumi-language-yaml")
    # The package is ../../components from the example, as in the repository, with the
    # repository's virtualenv as the one its PulumiPlugin.yaml names.
    package = tmp_path / "components"
    package.mkdir()
    for entry in (ROOT / "components").iterdir():
        if entry.name != "venv":
            (package / entry.name).symlink_to(entry)
    (package / "venv").symlink_to(ROOT / ".venv")
    env = {"KUBECONFIG": str(cluster.kubeconfig)}
    project = Project(tmp_path / "examples" / "yaml", ROOT / "examples" / "yaml", env)
    stack = project.stack("yaml", {})

    stack.up(*POLICY)
    outputs = stack.outputs()
    assert outputs["url"] == "https://node1.example.com:30443"
    deployment = cluster.get("deployment", "dtr-cache", "msr-cache")
    assert condition(deployment, "Available") == "True"
    claim = cluster.get("persistentvolumeclaims", namespace="msr-cache")["items"][0]
    assert claim["status"]["phase"] == "Bound"
    stack.preview("--expect-no-changes", *POLICY)

    stack.destroy()
    assert not cluster.kubectl("get", "namespace", "msr-cache", "--ignore-not-found")
