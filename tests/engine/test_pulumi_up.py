"""The real engine deploys the cache and changes it, in the order of Pulumi's own ProgramTest
(pulumi/pulumi `pkg/testing/integration/program.go`): a preview, `pulumi up`, an empty preview,
`pulumi refresh --expect-no-changes`; then each edit is previewed (`pulumi preview --diff`),
applied (`pulumi up`) and followed by an empty preview; then `pulumi destroy`, which must leave
nothing behind. All of it with the real Pulumi CLI, its Python language host, the kubernetes,
tls and random providers and the policy pack, against a real API server (tests/engine/cluster.py).

Each edit names the operations it causes, by kind (Kubernetes) or type (tls); `pulumi preview
--diff --json` must list exactly those, and `make render-diff` exactly its Kubernetes ones. Then
what the edit is for is read back from the API server: the pods rolled onto the new config, the
certificate in the Secret has the new SAN, the claim grew, the replicas are Ready.

What this proves that the mocks and the render cannot: the CLI's config rules, the providers'
diffs and replacements, pulumi-kubernetes' await (a Deployment rolled out, a Service with a
ready endpoint, a claim Bound, a load balancer's address), the API server's admission (Pod
Security `restricted`), defaulting and validation, and the garbage collector's foreground
deletion on destroy. What it cannot: kwok runs no container, so the image, its probes and its
volumes are never exercised here: the registry server runs what the API server holds instead,
and the e2e workflow runs these tests on kind, with MSR's image.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cluster import EXPANDABLE, Cluster
from cryptography import x509
from harness import DEPLOYMENT, ROOT
from msr_api import MsrApi
from pod import lay_out, without_downstream
from pulumi_cli import PASSPHRASE, Project, Stack, program_project, require_tools
from registry_client import push_blob, request
from servers import REGISTRY, S3, Moto, Registry, require, running

from components.objects import registry_config as rc
from components.objects import workload
from render.stack_config import self_signed_pair

POLICY = ("--policy-pack", str(ROOT / "policy"))
# Each test runs the CLI several times: bounded by each run's own timeout, not the suite's.
pytestmark = pytest.mark.timeout(1200)
MSR = "https://msr.example.com"
NEW_IMAGE = "mirantis/dtr-content-cache:2.9.17"


@pytest.fixture
def stacks(cluster: Cluster) -> Iterator[list[Stack]]:
    """The stacks a test deploys: whatever is still deployed when it ends (a failed test's) is
    destroyed, so a cluster of one's own (make test-cluster) keeps no namespace or node port."""
    made: list[Stack] = []
    yield made
    for stack in made:
        if stack.live:
            stack.destroy(check=False)


def new_project(root: Path, cluster: Cluster) -> Project:
    require_tools()
    return Project(root, env={"KUBECONFIG": str(cluster.kubeconfig)})


# -- What the API server holds ----------------------------------------------------------------

KINDS = "deployments,replicasets,configmaps,secrets,services,persistentvolumeclaims"
GATEWAYS = "gateways.gateway.networking.k8s.io"
TLS_ROUTES = "tlsroutes.gateway.networking.k8s.io"


@dataclasses.dataclass(frozen=True)
class Seen:
    """A cache's namespace as the API server holds it after a `pulumi up`, and its outputs."""

    namespace: str
    items: list[dict[str, Any]]
    outputs: dict[str, Any]
    cluster: Cluster

    @classmethod
    def read(cls, cluster: Cluster, stack: Stack) -> Seen:
        outputs = stack.outputs()
        namespace = outputs["namespace"]
        items = cluster.get(KINDS, namespace=namespace)["items"]
        return cls(namespace, items, outputs, cluster)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((i for i in self.all(kind) if i["metadata"]["name"] == name), None)

    @property
    def deployment(self) -> dict[str, Any]:
        (found,) = self.all("Deployment")
        return found

    @property
    def pod_spec(self) -> dict[str, Any]:
        return self.deployment["spec"]["template"]["spec"]

    def volume(self, kind: str) -> str:
        """The name of the object the pod mounts of a kind: configMap, secret (the cache's own,
        not cert-manager's) or persistentVolumeClaim."""
        key = {"secret": "secretName", "persistentVolumeClaim": "claimName"}.get(kind, "name")
        (name,) = [v[kind][key] for v in self.pod_spec["volumes"] if kind in v]
        return name

    def certificate(self) -> x509.Certificate:
        """The serving certificate the pod mounts, from the cache's Secret."""
        secret = self.named("Secret", self.volume("secret"))
        assert secret is not None
        return x509.load_pem_x509_certificate(base64.b64decode(secret["data"][rc.CERT_FILE]))


def sans(cert: x509.Certificate) -> set[str]:
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*names.get_values_for_type(x509.DNSName),
            *(str(a) for a in names.get_values_for_type(x509.IPAddress))}  # fmt: skip


def rolled(before: Seen, after: Seen) -> None:
    """The Deployment rolled its pods: a new ReplicaSet has every replica Ready, and every
    ReplicaSet it had before is scaled to 0."""
    replicas = after.deployment["spec"]["replicas"]
    old = {rs["metadata"]["name"] for rs in before.all("ReplicaSet")}
    new = [rs for rs in after.all("ReplicaSet") if rs["metadata"]["name"] not in old]
    assert len(new) == 1, [rs["metadata"]["name"] for rs in after.all("ReplicaSet")]
    assert new[0]["status"].get("readyReplicas") == replicas, new[0]["status"]
    for rs in after.all("ReplicaSet"):
        if rs["metadata"]["name"] in old:
            assert rs["spec"]["replicas"] == 0 and not rs["status"].get("replicas"), rs["status"]
    assert after.deployment["status"].get("readyReplicas") == replicas


def image_bumped(before: Seen, after: Seen) -> None:
    (container,) = after.pod_spec["containers"]
    assert container["image"] == NEW_IMAGE
    rolled(before, after)


def config_replaced(before: Seen, after: Seen) -> None:
    """A new config object (blobttl 12h) the pods rolled onto; the old one is gone."""
    old, new = before.volume("configMap"), after.volume("configMap")
    assert old != new and after.named("ConfigMap", old) is None
    config = yaml.safe_load(after.named("ConfigMap", new)["data"]["config.yaml"])  # type: ignore[index]
    (downstream,) = config["middleware"]["registry"]
    assert downstream["options"]["blobttl"] == "12h"
    rolled(before, after)


def host_added(before: Seen, after: Seen) -> None:
    """The certificate was reissued for the new host, into a new Secret the pods rolled onto."""
    assert "node1.example.test" not in sans(before.certificate())
    assert {"node0.example.test", "node1.example.test"} <= sans(after.certificate())
    assert after.certificate().serial_number != before.certificate().serial_number
    assert after.named("Secret", before.volume("secret")) is None
    rolled(before, after)


def load_balancer_address_is_the_url_and_a_san(before: Seen, after: Seen) -> None:
    """The address the cluster gave the Service (kwok's stage, or kind's cloud provider) is the
    URL's host and a SAN of the reissued certificate."""
    (service,) = [s for s in after.all("Service") if s["spec"]["type"] == "LoadBalancer"]
    (ingress,) = service["status"]["loadBalancer"]["ingress"]
    address = ingress.get("ip") or ingress["hostname"]
    assert address not in sans(before.certificate())
    assert address in sans(after.certificate())
    assert after.outputs["url"] == f"https://{address}"
    rolled(before, after)


def on_its_own_gateway(before: Seen, after: Seen) -> None:
    """The TLSRoute moved from the shared Gateway to one made in the cache's namespace."""
    gateway = after.cluster.get(GATEWAYS, "dtr-cache", after.namespace)
    assert gateway["spec"]["gatewayClassName"] == "eg"
    route = after.cluster.get(TLS_ROUTES, "dtr-cache", after.namespace)
    (parent,) = route["spec"]["parentRefs"]
    assert (parent["name"], parent.get("namespace", after.namespace)) == (
        "dtr-cache",
        after.namespace,
    )


def moved(before: Seen, after: Seen) -> None:
    """Everything is in the new namespace, the old one is gone, the node port moved over."""
    assert after.namespace != before.namespace
    assert not after.cluster.kubectl("get", "namespace", before.namespace, "--ignore-not-found")
    (service,) = after.all("Service")
    assert service["spec"]["ports"][0]["nodePort"] == 30443
    assert after.deployment["status"].get("readyReplicas") == 1


def claim_grown_in_place(before: Seen, after: Seen) -> None:
    """The same claim asks for 2Gi, and gets it once the resizer has grown its volume (the claim
    is not awaited: components/objects/workload.py, SKIP_AWAIT)."""
    name = before.volume("persistentVolumeClaim")
    assert after.volume("persistentVolumeClaim") == name
    claim = after.named("PersistentVolumeClaim", name)
    assert claim is not None and claim["spec"]["resources"]["requests"]["storage"] == "2Gi"

    def capacity() -> bool:
        grown = after.cluster.get("persistentvolumeclaim", name, after.namespace)
        return grown["status"]["capacity"]["storage"] == "2Gi"

    after.cluster.wait_for(capacity, f"claim {name} grown to 2Gi")


def claim_replaced(before: Seen, after: Seen) -> None:
    """A new 2Gi claim, Bound, the pod rolled onto it; the 1Gi one is gone."""
    old, new = before.volume("persistentVolumeClaim"), after.volume("persistentVolumeClaim")
    assert old != new and after.named("PersistentVolumeClaim", old) is None
    claim = after.named("PersistentVolumeClaim", new)
    assert claim is not None and claim["status"]["phase"] == "Bound"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    rolled(before, after)


def two_replicas(before: Seen, after: Seen) -> None:
    assert before.deployment["status"].get("readyReplicas") == 1
    assert after.deployment["status"].get("readyReplicas") == 2


# -- What a change does, as the preview and render-diff say -----------------------------------

Ops = dict[str, str]
"""What a change does, by Kubernetes kind (`ConfigMap`) or provider type (`tls:CertRequest`):
create, update, replace or delete."""

# The Pulumi types whose operations an edit names: Kubernetes objects by kind, and the
# certificates' resources; the component, the providers and the reads change nothing.
VERBS = {"create": "create", "update": "update", "delete": "delete", "replace": "replace",
         "create-replacement": "replace", "delete-replaced": "replace"}  # fmt: skip


def kind_of(step: dict[str, Any]) -> str | None:
    typ = step["urn"].split("::")[2].rsplit("$", 1)[-1]
    if typ.startswith("kubernetes:"):
        state = step.get("newState") or step.get("oldState")
        return str(state["inputs"]["kind"])
    if typ.startswith(("tls:", "random:")):
        return f"{typ.split(':')[0]}:{typ.rsplit(':', 1)[-1]}"
    return None


def previewed(stack: Stack) -> tuple[Ops, dict[str, list[str]]]:
    """`pulumi preview --diff --json` (with the policy pack, as `make preview`): the operation
    on each kind, and why each Kubernetes kind is replaced (the properties pulumi-kubernetes
    names). A kind with objects changed in two ways is named with both."""
    plan = stack.preview("--diff", "--json", *POLICY).json()
    ops: dict[str, set[str]] = {}
    reasons: dict[str, list[str]] = {}
    for step in plan["steps"]:
        verb = VERBS.get(step["op"])
        kind = kind_of(step) if verb is not None else None
        if kind is None or verb is None:
            continue
        ops.setdefault(kind, set()).add(verb)
        if verb == "replace" and ":" not in kind:
            reasons.setdefault(kind, []).extend(step.get("replaceReasons") or [])
    return {k: "+".join(sorted(v)) for k, v in ops.items()}, reasons


class Review:
    """A git repository of the project with the stack's file, in which `make render-diff`
    (`python -m render.diff HEAD`) compares the stack file as last committed with the file as it
    is: what a reviewer sees on the pull request that changes it."""

    LINE = re.compile(r"^- (create|update|replace|delete) (\S+) `[^`]+`(?: \((.*)\))?")

    def __init__(self, root: Path, stack: Stack) -> None:
        self.root, self.stack = root, stack
        root.mkdir()
        for entry in ROOT.iterdir():
            if entry.name in {"Pulumi.yaml", "__main__.py", "components", "render", "policy"}:
                (root / entry.name).symlink_to(entry)
        self.git("init", "--quiet")
        self.commit("the stack deployed")

    def git(self, *args: str) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.test"}  # fmt: skip
        subprocess.run(["git", *args], cwd=self.root, env=env, check=True, capture_output=True)

    def copy_stack_file(self) -> None:
        shutil.copy(self.stack.file, self.root / self.stack.file.name)

    def commit(self, message: str) -> None:
        self.copy_stack_file()
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)

    def render_diff(self) -> tuple[Ops, dict[str, list[str]], str]:
        """render-diff's list of changes (`- replace <Kind> \\`ns/name\\` (.data)`), by kind,
        with the fields it names for each replacement; and its whole report."""
        self.copy_stack_file()
        done = subprocess.run(
            [sys.executable, "-m", "render.diff", "HEAD"], cwd=self.root, capture_output=True,
            text=True, env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        ops: dict[str, set[str]] = {}
        fields: dict[str, list[str]] = {}
        for line in done.stdout.splitlines():
            match = self.LINE.match(line)
            if match:
                verb, kind, why = match.groups()
                ops.setdefault(kind, set()).add(verb)
                if why:
                    fields.setdefault(kind, []).extend(why.split(", "))
        return {k: "+".join(sorted(v)) for k, v in ops.items()}, fields, done.stdout


def same_reasons(real: dict[str, list[str]], render: dict[str, list[str]]) -> None:
    """A replacement for the same reasons: render-diff names a field (`.data`) where
    pulumi-kubernetes names the property under it (`data["config.yaml"]`); the API server keeps
    a Secret's stringData as data, and so does the render. A replacement the program asked
    for (replaceOnChanges) comes with no reason from the engine, so there is none to compare."""
    for kind, why in real.items():
        if not why:
            continue
        why = ["data" + r.removeprefix("stringData") if r.startswith("string") else r for r in why]
        fields = [f.lstrip(".") for f in render.get(kind, [])]
        assert all(any(r.startswith(f) for f in fields) for r in why), (kind, why, fields)
        assert all(any(r.startswith(f) for r in why) for f in fields), (kind, why, fields)


# -- The scenarios ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Edit:
    """A change of config keys (None removes one), the operations it must cause, and what must
    be true of the cluster once it is applied (given what was there before and after)."""

    change: Mapping[str, Any]
    ops: Ops
    then: Callable[[Seen, Seen], None] | None = None


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A stack deployed, then edited; `url` is the stack's url output."""

    config: dict[str, Any]
    url: str
    edits: tuple[Edit, ...] = ()


# Objects that carry the image's version label, and so change in place with the image.
LABELLED = {"Namespace": "update", "Service": "update", "NetworkPolicy": "update",
            "ConfigMap": "update", "Secret": "update"}  # fmt: skip
# The serving certificate made anew (new SANs): the request, the certificate, the Secret
# holding it, and the Deployment that mounts it (its pods roll).
REISSUED = {"tls:CertRequest": "replace", "tls:LocallySignedCert": "replace",
            "Secret": "replace", "Deployment": "update"}  # fmt: skip

# Everything lives in the namespace, and the certificates name it (the CA's subject, the
# Service's names among the SANs); the keys stay.
MOVED = {"Namespace": "replace", "Service": "replace", "ConfigMap": "replace",
         "Secret": "replace", "Deployment": "replace", "NetworkPolicy": "replace",
         "tls:SelfSignedCert": "replace", "tls:CertRequest": "replace",
         "tls:LocallySignedCert": "replace"}  # fmt: skip

SCENARIOS = {
    "nodeport": Scenario(
        {"hosts": ["node0.example.test"], "port": 30443},
        "https://node0.example.test:30443",
        (
            Edit(
                {"blobTtl": "12h"},
                {"ConfigMap": "replace", "Deployment": "update"},
                config_replaced,
            ),
            Edit({"hosts": ["node0.example.test", "node1.example.test"]}, REISSUED, host_added),
            # A node port is held once per cluster: the Service lets go of it before its
            # successor in the new namespace takes it (it is deleted before it is replaced).
            Edit({"namespace": "nodeport-moved"}, MOVED, moved),
            # A Service that becomes a LoadBalancer, its hosts dropped: the address the cluster
            # gives it becomes a SAN and the URL's host. The preview shows the address as
            # unknown, so the certificate, its Secret and the config show as replaced, as `up`
            # replaces them.
            Edit(
                {"exposure": "loadBalancer", "hosts": None, "port": None},
                {**REISSUED, "ConfigMap": "replace", "Service": "update"},
                load_balancer_address_is_the_url_and_a_san,
            ),
        ),
    ),
    "hostport": Scenario(
        {"exposure": "hostPort", "hosts": ["node1.example.test"], "port": 8443},
        "https://node1.example.test:8443",
        (Edit({"image": NEW_IMAGE}, {**LABELLED, "Deployment": "update"}, image_bumped),),
    ),
    "ingress": Scenario(
        {
            "exposure": "ingress",
            "hosts": ["cache.ingress.example.test"],
            "ingressClassName": "nginx",
        },
        "https://cache.ingress.example.test",
    ),
    # A TLSRoute on an existing Gateway, then on a Gateway of its own (gatewayClassName).
    "gateway": Scenario(
        {
            "exposure": "gateway",
            "hosts": ["cache.gateway.example.test"],
            "gateway": {"name": "shared", "namespace": "gateway-system", "sectionName": "tls"},
        },
        "https://cache.gateway.example.test",
        (
            # The gateway's proxies, let in by the network policy, are now in the cache's own
            # namespace, where the Gateway is.
            Edit(
                {"gateway": None, "gatewayClassName": "eg"},
                {"Gateway": "create", "TLSRoute": "update", "NetworkPolicy": "update"},
                on_its_own_gateway,
            ),
        ),
    ),
    # A claim of a class that allows expansion (allowVolumeExpansion, read from the cluster):
    # raised, it grows in place.
    "pvc-expandable": Scenario(
        {
            "hosts": ["node0.example.test"],
            "port": 30444,
            "storageSize": "1Gi",
            "storageClass": EXPANDABLE,
        },
        "https://node0.example.test:30444",
        (Edit({"storageSize": "2Gi"}, {"PersistentVolumeClaim": "update"}, claim_grown_in_place),),
    ),
    # A claim of the default class, which the program cannot read (nor can it grow, here):
    # raised, it is replaced, as the preview says, and the pod rolls onto the new one.
    "pvc-default-class": Scenario(
        {"hosts": ["node0.example.test"], "port": 30452, "storageSize": "1Gi"},
        "https://node0.example.test:30452",
        (
            Edit(
                {"storageSize": "2Gi"},
                {"PersistentVolumeClaim": "replace", "Deployment": "update"},
                claim_replaced,
            ),
        ),
    ),
}


def volumes_of(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    """The PersistentVolumes bound to a claim of `namespace`."""
    volumes = cluster.get("persistentvolumes")["items"]
    return [v for v in volumes if v["spec"].get("claimRef", {}).get("namespace") == namespace]


def condition(obj: dict[str, Any], kind: str) -> str:
    return next(c["status"] for c in obj["status"].get("conditions", []) if c["type"] == kind)


def serve_deployed(cluster: Cluster, namespace: str, tmp: Path) -> Registry:
    """The registry server running exactly what the API server holds: the pod laid out from the
    Deployment, its ConfigMap and Secrets (tests/registry/pod.py), a claim as a folder of its own."""
    deployment = cluster.deployed(namespace)
    volumes = deployment.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["volumes"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]: tmp / "claim"
        for v in volumes
        if "persistentVolumeClaim" in v
    }
    # distribution 2.8 has no downstream middleware (MSR's): the one key taken out.
    return Registry(lay_out(deployment, tmp / "pod", claims), namespace, without_downstream)


def refresh_finds_nothing_changed(stack: Stack) -> None:
    """`pulumi refresh --expect-no-changes`, but for the objects the stack only reads (a `.get`,
    such as the StorageClass): the first refresh after `up` records the inputs pulumi-kubernetes
    reads back for them, which the engine reports as an update of each (pulumi/pulumi#16401,
    open; the released CLI does it too). Every resource the stack manages must be unchanged."""
    events = [json.loads(line) for line in stack.run(
        "refresh", "--yes", "--skip-preview", "--json").stdout.splitlines() if line.strip()]  # fmt: skip
    changed = [e["resOutputsEvent"]["metadata"] for e in events if "resOutputsEvent" in e]
    drift = [m["urn"] for m in changed if m["op"] != "same" and not m["old"].get("external")]
    assert not drift, drift


def deploy(stack: Stack) -> None:
    """ProgramTest's start: a preview and `pulumi up` (one run, as `make up` runs them), an empty
    preview, and a refresh that finds nothing changed outside Pulumi. The policy pack judges
    what changes; an empty preview has nothing for it."""
    stack.up(*POLICY, preview=True)
    stack.preview("--expect-no-changes")
    refresh_finds_nothing_changed(stack)


def apply(
    stack: Stack, review: Review, edit: Edit, cluster: Cluster, config: dict[str, Any]
) -> None:
    """One edit, as a pull request goes: previewed (the operations it names, and render-diff's
    too), applied, then nothing left to do; then what it is for, read back."""
    before = Seen.read(cluster, stack)
    review.commit("before the edit")
    changed = {k: v for k, v in {**config, **edit.change}.items() if v is not None}
    stack.set_config(changed)
    ops, reasons = previewed(stack)
    render_ops, fields, report = review.render_diff()
    assert edit.ops, "an edit changes something"
    assert ops == edit.ops, (ops, edit.ops)
    kubernetes = {k: v for k, v in edit.ops.items() if ":" not in k}
    assert render_ops == kubernetes, (render_ops, kubernetes, report)
    same_reasons(reasons, fields)
    stack.up(*POLICY)
    stack.preview("--expect-no-changes")
    if edit.then is not None:
        edit.then(before, Seen.read(cluster, stack))
    config.clear()
    config.update(changed)


def destroyed(stack: Stack, cluster: Cluster, namespace: str) -> None:
    stack.destroy()
    assert not cluster.kubectl("get", "namespace", namespace, "--ignore-not-found")
    # A released volume is the provisioner's to delete (reclaimPolicy Delete), after the claim.
    cluster.wait_for(lambda: not volumes_of(cluster, namespace), f"the volumes of {namespace} gone")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_exposure_deploys_serves_and_takes_each_edit_as_previewed(
    name: str, cluster: Cluster, tmp_path: Path, stacks: list[Stack]
) -> None:
    require(REGISTRY)
    scenario = SCENARIOS[name]
    config = {"upstreams": [MSR], "namespace": name, **scenario.config}
    stack = new_project(tmp_path / "project", cluster).stack(name, config)
    stacks.append(stack)

    deploy(stack)
    assert condition(cluster.get("deployment", "dtr-cache", name), "Available") == "True"
    outputs = stack.outputs()
    assert outputs["url"] == scenario.url
    # What was deployed serves TLS under the URL's host to a client trusting only caCertPem.
    host = urlsplit(outputs["url"]).hostname or ""
    with running(serve_deployed(cluster, name, tmp_path)) as server:
        assert request(server.pod.port, host, outputs["caCertPem"]).status == 200

    review = Review(tmp_path / "review", stack)
    for edit in scenario.edits:
        apply(stack, review, edit, cluster, config)
    destroyed(stack, cluster, config["namespace"])


def test_ha_over_s3_serves_from_the_bucket_and_scales_with_the_key_only_in_a_secret(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack]
) -> None:
    require(REGISTRY)
    (tmp_path / "moto").mkdir()
    with running(Moto(tmp_path / "moto", setup_actions=3)) as moto:
        s3 = S3(moto)
        storage = s3.storage()
        secret_key = storage.pop("secretkey")
        config = {"upstreams": [MSR], "namespace": "ha", "hosts": ["node0.example.test"],
                  "port": 30445, "objectStorage": storage}  # fmt: skip
        project = new_project(tmp_path / "project", cluster)
        stack = project.stack("ha", config, secrets={"objectStorage.secretkey": secret_key})
        stacks.append(stack)
        assert secret_key not in stack.file.read_text()

        deploy(stack)
        assert secret_key not in json.dumps(cluster.get("configmaps", namespace="ha"))
        ca = stack.outputs()["caCertPem"]
        with running(serve_deployed(cluster, "ha", tmp_path)) as server:
            blob = push_blob(server.pod.port, "node0.example.test", ca, "library/ha", b"a layer")
        hexdigest = blob.removeprefix("sha256:")
        assert f"docker/registry/v2/blobs/sha256/{hexdigest[:2]}/{hexdigest}/data" in s3.objects()

        # A second replica on the same bucket, and a budget that keeps one up during drains.
        scale = Edit({"replicas": 2}, {"Deployment": "update", "PodDisruptionBudget": "create"},
                     two_replicas)  # fmt: skip
        apply(stack, Review(tmp_path / "review", stack), scale, cluster, config)
        deployment = cluster.get("deployment", "dtr-cache", "ha")
        assert condition(deployment, "Available") == "True"
        destroyed(stack, cluster, "ha")


def objects_in(folder: Path) -> list[tuple[str, str, str]]:
    """The objects a render wrote: kind, namespace and name (an auto-named one's without its
    suffix)."""
    found = []
    for path in folder.rglob("*.yaml"):
        obj = yaml.safe_load(path.read_text())
        meta = obj["metadata"]
        auto = (meta.get("annotations") or {}).get("pulumi.com/autonamed") == "true"
        name = meta["name"].rsplit("-", 1)[0] if auto else meta["name"]
        found.append((obj["kind"], meta.get("namespace", ""), name))
    return sorted(found)


def test_a_render_stack_writes_the_objects_the_render_writes_and_reads_no_cluster(
    tmp_path: Path,
) -> None:
    # pulumi-kubernetes' own render mode (renderYamlToDirectory), with no cluster to reach: the
    # program reads nothing (the StorageClass included) and writes the custom resources.
    require_tools()
    out = tmp_path / "manifests"
    config = {"upstreams": [MSR], "hosts": ["node0.example.test"], "port": 30460,
              "storageSize": "1Gi", "storageClass": "fast", "metrics": True,
              "serviceMonitor": True, "renderYamlToDirectory": str(out)}  # fmt: skip
    stack = Project(tmp_path / "project").stack("render", config)
    stack.up(*POLICY)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert any("servicemonitor" in name for name in written), written
    (claim,) = [
        yaml.safe_load((out / n).read_text()) for n in written if "persistentvolumeclaim" in n
    ]
    assert claim["metadata"]["annotations"][workload.FIXED_SIZE] == "1Gi"
    # `make render` of the same stack file writes the same objects (an auto-named one's suffix
    # is random in the provider's render, a digest in the project's).
    rendered = tmp_path / "rendered"
    subprocess.run([sys.executable, "-m", "render", "render", str(rendered), "--project-dir",
                    str(stack.project.root)], check=True, capture_output=True,
                   env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})  # fmt: skip
    assert objects_in(rendered) == objects_in(out)
    stack.destroy()


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
    env = {"KUBECONFIG": str(cluster.kubeconfig)}
    stack = program_project(tmp_path, "composed", COMPOSED, env).stack("composed", {})
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


@pytest.fixture
def seeded(cluster: Cluster) -> Iterator[str]:
    """The manual procedure's cache, applied with `kubectl apply` (client-side) as the procedure
    does, its pods running; its namespace goes with the test, whatever happens."""
    cluster.kubectl("apply", "--filename=-", stdin=yaml.safe_dump_all(seed_objects()))
    # On kind the image is pulled first: minutes, not seconds.
    cluster.kubectl("rollout", "status", "--namespace=dtr", "deployment/dtr-cache",
                    "--timeout=300s", timeout=330)  # fmt: skip
    yield "dtr"
    cluster.kubectl("delete", "namespace", "dtr", "--ignore-not-found", "--wait=true",
                    timeout=180)  # fmt: skip


def test_without_adopt_existing_up_stops_at_the_procedures_namespace_and_changes_nothing_of_it(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack], seeded: str
) -> None:
    # What docs/operate.md says of it: pulumi-kubernetes 4.25 creates by server-side apply, so
    # the namespace MSR's procedure applied is not refused as existing; its fields kubectl owns
    # are, and nothing is forced without adoptExisting.
    before = {i["metadata"]["name"] + i["kind"]: i["metadata"]["resourceVersion"]
              for i in cluster.get("namespace,all,configmaps,secrets", namespace=seeded)["items"]}  # fmt: skip
    config = {"upstreams": [MSR], "hosts": ["node0.example.test"], "port": 30447}
    stack = new_project(tmp_path / "project", cluster).stack("unadopted", config)
    stacks.append(stack)
    # The preview does not see it coming: a preview's create forces the apply (see plan.py).
    stack.preview(*POLICY)
    result = stack.up(*POLICY, check=False)
    assert result.code != 0
    assert "Server-Side Apply field conflict" in result.stdout, result
    assert 'conflict with "kubectl-client-side-apply"' in result.stdout, result
    assert ".metadata.labels.pod-security.kubernetes.io/enforce" in result.stdout, result
    # And nothing else: the Namespace fails first, with every other registration of the program
    # outstanding, when the CLI closes its plugins with SIGINT (pulumi/pulumi#19603). Before
    # __main__.py's end_silently_on_sigint, the program printed that as a KeyboardInterrupt
    # traceback under the stack, in every run of this case.
    printed = result.stdout + result.stderr
    for python in ("Traceback (most recent call last)", "KeyboardInterrupt", "Exception ignored"):
        assert python not in printed, result
    # Nothing of the procedure's changed, and no object of the cache was made beside it.
    after = {i["metadata"]["name"] + i["kind"]: i["metadata"]["resourceVersion"]
             for i in cluster.get("namespace,all,configmaps,secrets", namespace=seeded)["items"]}  # fmt: skip
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) <= {k for k in after if k.endswith("Pod") or "ReplicaSet" in k}
    stack.destroy()


def test_adopt_existing_takes_over_the_manual_deployment_and_its_running_pods(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack], seeded: str
) -> None:
    (manual,) = cluster.get("replicasets", namespace=seeded)["items"]
    # The runbook (docs/operate.md): the procedure's Deployment goes, its ReplicaSet and pods stay.
    cluster.kubectl(
        "delete", "deployment", "dtr-cache", f"--namespace={seeded}", "--cascade=orphan"
    )
    config = {"upstreams": [MSR], "hosts": ["node0.example.test"], "port": 30447,
              "createNamespace": False, "adoptExisting": True}  # fmt: skip
    stack = new_project(tmp_path / "project", cluster).stack("adopted", config)
    stacks.append(stack)

    deploy(stack)
    adopted = cluster.get("deployment", "dtr-cache", seeded)
    assert adopted["spec"]["selector"] == {"matchLabels": {"app": "dtr-cache"}}
    assert condition(adopted, "Available") == "True"
    # The Deployment took the procedure's ReplicaSet over and rolled its pods onto the new one.
    before = cluster.get("replicaset", manual["metadata"]["name"], seeded)
    assert before["metadata"]["ownerReferences"][0]["uid"] == adopted["metadata"]["uid"]
    assert before["spec"]["replicas"] == 0
    # The procedure's Service, upserted with the fields kubectl owned taken over.
    (port,) = cluster.get("service", "dtr-cache", seeded)["spec"]["ports"]
    assert (port["port"], port["nodePort"], port["targetPort"]) == (443, 30447, "https")

    stack.destroy()
    assert not cluster.kubectl("get", "deployment", f"--namespace={seeded}", "--ignore-not-found")


def test_msr_registration_on_up_survives_a_refresh_and_goes_with_destroy(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack]
) -> None:
    api = MsrApi()
    try:
        config = {"upstreams": [MSR], "namespace": "registered", "hosts": ["node0.example.test"],
                  "port": 30448, "msrApi": {"url": api.url, "username": "admin", "caCert": api.ca_pem}}  # fmt: skip
        project = new_project(tmp_path / "project", cluster)
        stack = project.stack("registered", config, secrets={"msrApi.token": api.state.token})
        stacks.append(stack)

        deploy(stack)
        outputs = stack.outputs()
        (registered,) = api.state.caches.values()
        assert registered == {
            "id": outputs["msrRegistrationId"], "name": "registered", "host": outputs["url"]
        }  # fmt: skip
        assert api.state.caches == {registered["id"]: registered}

        stack.destroy()
        assert api.state.caches == {}
    finally:
        api.close()


def test_the_fleet_example_deploys_a_central_cache_and_a_region_chained_to_it(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack]
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
    stacks.append(stack)

    deploy(stack)
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

    stack.destroy()
    for namespace in ("msr-cache-central", "msr-cache-asia"):
        assert not cluster.kubectl("get", "namespace", namespace, "--ignore-not-found")


def test_the_yaml_example_deploys_the_cache_through_the_component_package(
    cluster: Cluster, tmp_path: Path, stacks: list[Stack]
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
    stacks.append(stack)

    deploy(stack)
    outputs = stack.outputs()
    assert outputs["url"] == "https://node1.example.com:30443"
    deployment = cluster.get("deployment", "dtr-cache", "msr-cache")
    assert condition(deployment, "Available") == "True"
    claim = cluster.get("persistentvolumeclaims", namespace="msr-cache")["items"][0]
    assert claim["status"]["phase"] == "Bound"

    stack.destroy()
    assert not cluster.kubectl("get", "namespace", "msr-cache", "--ignore-not-found")
