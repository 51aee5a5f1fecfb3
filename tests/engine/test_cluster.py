"""The test cluster (tests/engine/cluster.py): `make cluster` stops on Ctrl-C and on SIGTERM and a
killed test worker leaves none of its processes, cert-manager's controller included; kwokctl,
which starts it, fetches nothing, and a port taken before kube-apiserver bound it is picked
again; its StorageClasses refuse or grow a larger claim as their allowVolumeExpansion says;
cert-manager's controller issues a Certificate of a selfSigned ClusterIssuer."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import servers
from cluster import (
    CERT_MANAGER,
    EXPANDABLE,
    PROVISIONER,
    STANDARD,
    Cluster,
    missing_tools,
    running_cluster,
)
from cryptography import x509
from harness import ROOT, first_line, sans, unavailable
from pod import free_port

from toolchain import bin_dir

# kwokctl links each binary into the cluster's bin/ under its own name for it; cert-manager's
# controller is the toolchain's, which tests/engine/cluster.py starts.
COMPONENTS = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
              "kwok-controller", CERT_MANAGER}  # fmt: skip
START_TIMEOUT = 180.0
# The script's imports, as the Makefile's `cluster` target gives them (pyproject's pythonpath).
SCRIPT_PATH = os.pathsep.join(str(ROOT / p) for p in (".", "tests", "tests/registry"))


def processes_under(root: Path) -> dict[int, str]:
    """The processes whose command line names something under `root` (every component's does,
    and so does each supervisor's): {pid: its program's name}. Zombies have none: they are gone."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(root).encode() in arg for arg in argv):
            found[int(entry)] = Path(argv[0].decode(errors="replace")).name
    return found


def wait_until(probe: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.1)
    return bool(probe())


def all_running(root: Path) -> bool:
    """Whether every component runs, within seconds: the cluster is up once its KUBECONFIG is
    printed, but cert-manager's controller, which nothing waits for, may still be starting."""
    return wait_until(lambda: set(processes_under(root).values()) >= COMPONENTS, 15)


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`make cluster`'s script, started as the Makefile starts it, in a process group of its
    own (as a terminal's foreground job is), once it printed its KUBECONFIG: (it, its folder)."""
    if missing_tools():
        unavailable(f"not built: {', '.join(missing_tools())}: run `make toolchain`")
    script = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "engine" / "cluster.py")],
        env={**os.environ, "PYTHONPATH": SCRIPT_PATH, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        line = first_line(script.stdout, START_TIMEOUT)  # type: ignore[arg-type]
        if not line.startswith("export KUBECONFIG="):
            script.kill()
            _, stderr = script.communicate()
            pytest.fail(f"make cluster printed {line!r}:\n{stderr.decode()}")
        (root,) = tmp_path.glob("msr-cache-cluster-*")
        yield script, root
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
        for pid in processes_under(tmp_path):  # what a failed test left, so it does not linger
            os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_with_sigkill_leaves_no_process_of_its_cluster(
    make_cluster: tuple[subprocess.Popen[bytes], Path],
) -> None:
    # `make cluster`'s script starts its cluster as the `cluster` fixture does (running_cluster):
    # it stands in for a test worker, killed as xdist's are when they crash or are cancelled.
    script, root = make_cluster
    assert all_running(root), processes_under(root)
    script.kill()
    script.wait()
    assert wait_until(lambda: not processes_under(root), 15), processes_under(root)


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda script: os.killpg(script.pid, signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda script: script.send_signal(signal.SIGTERM), id="sigterm"),
    ],
)
def test_make_cluster_stops_on_ctrl_c_and_on_sigterm_and_leaves_nothing(
    make_cluster: tuple[subprocess.Popen[bytes], Path], stop: Any
) -> None:
    # Ctrl-C: a terminal sends SIGINT to the whole foreground process group. SIGTERM: what
    # `timeout`, a CI runner's cancel or a process manager sends, to the process alone.
    script, root = make_cluster
    assert all_running(root), processes_under(root)
    stop(script)
    try:
        _, stderr = script.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("make cluster still running a minute after the signal")
    assert script.returncode == 0, stderr.decode()
    assert "stopped" in stderr.decode()
    assert not processes_under(root)
    assert not root.exists()


def test_kwokctl_runs_the_toolchains_binaries_and_fetches_nothing(cluster: Cluster) -> None:
    if not cluster.processes:
        unavailable("MSR_CACHE_KUBECONFIG: the cluster is not one tests/engine/cluster.py started")
    # The proxy in kwokctl's environment refuses every connection: a download fails the start.
    links = {link.name: link.resolve() for link in (cluster.home / "bin").iterdir()}
    assert links and all(target.parent == bin_dir().resolve() for target in links.values())
    log = (cluster.root / "kwokctl.log").read_text()
    assert '"msg":"Cluster is started"' in log
    assert "Download" not in log


def bound_claim(cluster: Cluster, namespace: str, name: str, storage_class: str | None) -> str:
    """A 1Gi claim (of the cluster's default class if None) and a pod using it, once Bound: the
    name of its volume."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}}}  # fmt: skip
    if storage_class:
        spec["storageClassName"] = storage_class
    # As Pod Security `restricted` (the cluster's default) wants it.
    pod = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "user", "image": "registry.example.test/user:1",
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
    }  # fmt: skip
    meta = {"name": name, "namespace": namespace}
    cluster.apply([
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec},
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod},
    ])  # fmt: skip
    claim = claim_when(cluster, namespace, name, lambda c: c["status"].get("phase") == "Bound")
    return claim["spec"]["volumeName"]


def claim_when(cluster: Cluster, namespace: str, name: str, test: Any) -> dict[str, Any]:
    """The claim, once test(claim) holds."""

    def probe() -> dict[str, Any] | None:
        claim = cluster.get("persistentvolumeclaims", name, namespace)
        return claim if test(claim) else None

    return cluster.wait_for(probe, f"claim {namespace}/{name} to pass {test}")


def grow(cluster: Cluster, namespace: str, name: str, storage: str, check: bool = True) -> str:
    patch = {"spec": {"resources": {"requests": {"storage": storage}}}}
    return cluster.kubectl(
        "patch", "persistentvolumeclaim", name, f"--namespace={namespace}", "--type=merge",
        f"--patch={json.dumps(patch)}", check=check,
    )  # fmt: skip


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, deleted after it (without waiting: the next test's is
    another)."""
    name = request.node.name.replace("_", "-")[:63].rstrip("-")
    cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])
    cluster.wait_for(
        lambda: cluster.kubectl("get", "serviceaccount", "default", f"--namespace={name}",
                                check=False),
        f"the default service account of {name}",
    )  # fmt: skip
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")


def test_a_claim_of_the_expandable_class_grows_in_place(cluster: Cluster, namespace: str) -> None:
    assert cluster.get("storageclass", EXPANDABLE)["allowVolumeExpansion"] is True
    volume = bound_claim(cluster, namespace, "grows", EXPANDABLE)
    grow(cluster, namespace, "grows", "2Gi")
    grown = claim_when(
        cluster, namespace, "grows", lambda c: c["status"]["capacity"]["storage"] == "2Gi"
    )
    assert grown["spec"]["volumeName"] == volume  # the same volume: grown, not replaced
    assert grown["status"]["allocatedResources"] == {"storage": "2Gi"}
    pv = cluster.get("persistentvolume", volume)
    assert pv["spec"]["capacity"] == {"storage": "2Gi"}
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == PROVISIONER
    assert pv["spec"]["claimRef"]["name"] == "grows"


def test_the_default_class_refuses_a_larger_claim_as_the_api_server_words_it(
    cluster: Cluster, namespace: str
) -> None:
    (default,) = [
        c["metadata"]["name"]
        for c in cluster.get("storageclass")["items"]
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert default == STANDARD
    assert "allowVolumeExpansion" not in cluster.get("storageclass", STANDARD)
    volume = bound_claim(cluster, namespace, "stays", None)
    with pytest.raises(AssertionError, match="storageclass that provisions the pvc must support"):
        grow(cluster, namespace, "stays", "2Gi")
    assert cluster.get("persistentvolume", volume)["spec"]["capacity"] == {"storage": "1Gi"}


def test_a_cluster_whose_port_was_taken_meanwhile_starts_on_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under xdist: the port picked for kube-apiserver was free when picked, and another
    # worker bound it before kube-apiserver did. kwokctl does not notice (it has returned).
    if missing_tools():
        unavailable(f"not built: {', '.join(missing_tools())}: run `make toolchain`")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        picks = iter([taken])
        monkeypatch.setattr(servers, "free_port", lambda: next(picks, None) or free_port())
        with running_cluster(tmp_path / "cluster") as cluster:
            assert not cluster.server.endswith(f":{taken}")
            assert cluster.get("namespace", "default")["status"]["phase"] == "Active"


def test_cert_manager_issues_a_certificate_of_a_self_signed_cluster_issuer(
    cluster: Cluster, namespace: str
) -> None:
    # The loops the engine layer's CA Issuer does not take (tests/engine/test_custom_resources_up.py):
    # a ClusterIssuer's, and selfSigned signing.
    if not cluster.cert_manager:
        unavailable(
            "MSR_CACHE_KUBECONFIG: no cert-manager controller of tests/engine/cluster.py runs"
        )
    issuer = f"{namespace}-self-signed"  # cluster-wide: a name of this test's own
    cluster.apply([
        {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
         "metadata": {"name": issuer}, "spec": {"selfSigned": {}}},
        {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
         "metadata": {"name": "served", "namespace": namespace},
         "spec": {"secretName": "served-tls", "dnsNames": ["served.example.test"],
                  "ipAddresses": ["192.0.2.8"],
                  "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer",
                                "name": issuer}}},
    ])  # fmt: skip
    try:
        cluster.kubectl("wait", "--for=condition=Ready", "--timeout=60s",
                        f"--namespace={namespace}", "certificates.cert-manager.io/served",
                        timeout=70)  # fmt: skip
        data = cluster.get("secret", "served-tls", namespace)["data"]
        issued = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
        assert sans(issued) == (["served.example.test"], ["192.0.2.8"])
        issued.verify_directly_issued_by(issued)  # signed by its own key
        assert base64.b64decode(data["ca.crt"]) == base64.b64decode(data["tls.crt"])
    finally:
        cluster.kubectl("delete", "clusterissuer", issuer, "--wait=false")
