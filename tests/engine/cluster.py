"""A real Kubernetes control plane without containers, on 127.0.0.1, for the engine layer.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real ones, built by
`make toolchain`; kwok stands in for kubelets: its fake nodes take the pods the scheduler places
there and mark them Running and Ready, so Deployments become Available, Services get endpoints
and the garbage collector finishes foreground deletions, as pulumi-kubernetes' await expects.
What kwok cannot do, no test here can: pull or run an image, mount volumes, run probes.

Upstream's harness starts it: `kwokctl create cluster --runtime binary` (kwok v0.8.0), given
the toolchain's binaries, makes the certificates and the kubeconfig and starts the five
processes with their flags. It is never let near the web: every binary it could fetch is named
(a local path is linked, not downloaded) and its environment carries a proxy that refuses every
connection. What kwokctl cannot do is done here, each for a reason said where it is done:
- the processes' lifetime: kwokctl starts each one in a session of its own and returns, leaving
  them to init (`kwokctl delete cluster` stops them by their pid files); here kwokctl runs under
  a supervisor (tests/supervisor.py) that adopts them as a child subreaper, so they end with the
  test process even when it is killed with SIGKILL;
- the ports: kwokctl counts down from 32767 for free ones, so two clusters started at once
  (two test workers) pick the same; here every port is given, or the component's server is off;
- what the cluster holds (kwokctl applies nothing but its own CRDs): the nodes, the
  StorageClasses and the released CRDs, with kubectl;
- kwok's Stages: kwokctl passes its default ones only when it is given none, so the defaults
  (from kwok's module, as kwokctl embeds them) go with ours.

The cluster has what the cache meets in production:
- Pod Security Admission enforcing `restricted` by default (every namespace but kube-system), an
  admission configuration kwokctl passes to kube-apiserver;
- a default StorageClass with `WaitForFirstConsumer`, whose claims kwok provisions once the
  scheduler has picked a node (as a CSI provisioner would), and a second one, EXPANDABLE, that
  also allows volume expansion: kwok grows a claim of it as CSI's external-resizer and the
  kubelet grow a filesystem volume online;
- load-balancer addresses: kwok Stages set a LoadBalancer Service's and an Ingress's
  `status.loadBalancer` (LB_ADDRESS), as a cloud controller and an ingress controller would;
- the released CRDs of Gateway API, cert-manager, ServiceMonitor and PrometheusRule (every file
  tools.toml shares for them), so the API server validates custom resources with their schemas
  and CEL rules;
- cert-manager's control loops for the selfSigned and CA issuers (`cert-manager-controller`,
  built by `make toolchain` from cert-manager's module: toolchain/cert-manager-controller), so a
  Certificate naming such an Issuer or ClusterIssuer is issued into its Secret. It runs beside
  the cluster, as a client of the API server with the cluster's kubeconfig, under a supervisor
  of its own; nothing waits for it (it needs no port), so it adds nothing to the start.

Every wait is bounded. By hand: `make cluster` (this file as a script) starts one, prints its
KUBECONFIG, and stops it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from harness import CONFIG_MAP, DEPLOYMENT, PVC, SECRET, SERVICE, Deployment
from servers import PortTaken, Process, on_free_ports
from supervisor import Supervised

from render.provider_mocks import Registered
from toolchain import bin_dir, share_dir

# What `deployed` reads back: kubectl's name of each kind, and its Pulumi type token.
KINDS = {
    "deployments.apps": DEPLOYMENT,
    "configmaps": CONFIG_MAP,
    "secrets": SECRET,
    "services": SERVICE,
    "persistentvolumeclaims": PVC,
}
# The address kwok gives LoadBalancer Services and Ingresses (TEST-NET-1, RFC 5737).
LB_ADDRESS = "192.0.2.10"
NODES = ("kwok-node-0", "kwok-node-1")
SERVICE_RANGE = "10.96.0.0/16"
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
CERT_MANAGER = "cert-manager-controller"
# kwokctl's option naming each binary, and the toolchain's binary it names.
BINARIES = {
    "etcdBinary": "etcd",
    "kubeApiserverBinary": "kube-apiserver",
    "kubeControllerManagerBinary": "kube-controller-manager",
    "kubeSchedulerBinary": "kube-scheduler",
    "kwokControllerBinary": "kwok",
    "kubectlBinary": "kubectl",
}
NAME = "msr-cache"  # the kwokctl cluster's name; kwokctl calls its kubeconfig context kwok-<name>
# Where any download kwokctl tried would go: the discard port, which nothing serves here, so the
# start fails naming the URL instead of fetching it. Go does not proxy loopback addresses, so
# kwokctl and the processes it starts still reach the API server and etcd on 127.0.0.1.
NO_WEB = "http://127.0.0.1:9"
READY_TIMEOUT = 120.0
CRD_SOURCES = ("gateway-api", "cert-manager", "prometheus-operator")
# The StorageClasses: the default one, whose claims cannot be expanded (as on many clusters), and
# one that allows expansion. Both wait for the first consumer and kwok provisions both.
STANDARD = "standard"
EXPANDABLE = "expandable"
PROVISIONER = "kwok.x-k8s.io/volume"


def missing_tools() -> list[str]:
    """The toolchain binaries this cluster needs that `make toolchain` has not built."""
    tools = (*CONTROL_PLANE, "kubectl", "kwokctl", CERT_MANAGER)
    return [t for t in tools if not (bin_dir() / t).exists()]


class Cluster:
    """A running control plane; `kubectl()` talks to it as cluster-admin."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kubeconfig = root / "kubeconfig"
        self.processes: list[Process] = []  # kwokctl's (it supervises the control plane)
        self.cert_manager: Process | None = None  # None: no controller of ours issues here
        self.env: dict[str, str] = {}  # kwokctl's
        self.server = ""
        self.context = f"kwok-{NAME}"

    @property
    def home(self) -> Path:
        """kwokctl's folder for this cluster: pki/, logs/, etcd/, bin/ (links to the toolchain)."""
        return self.root / "kwok" / "clusters" / NAME

    # -- starting --------------------------------------------------------------------------

    def start(self) -> None:
        """Start every process and set the cluster up; fails naming what did not come up."""
        self.root.mkdir(parents=True, exist_ok=True)
        on_free_ports(3, self._create)
        self._wait_ready()
        self._set_up()
        self._start_cert_manager()

    def _create(self, ports: list[int]) -> None:
        """`kwokctl create cluster` on these ports (kube-apiserver, etcd's client and peer),
        until they are listened on by its processes; PortTaken if one was taken meanwhile."""
        apiserver, etcd, peer = ports
        shutil.rmtree(self.root / "kwok", ignore_errors=True)  # an attempt that found one taken
        self.kubeconfig.unlink(missing_ok=True)
        admission = self.root / "admission.yaml"
        admission.write_text(yaml.safe_dump(_admission_config()))
        stages = [
            *(yaml.safe_load(p.read_text()) for p in sorted(share_dir("kwok").glob("*.yaml"))),
            *_stages(),
        ]
        config = self.root / "kwokctl.yaml"
        config.write_text(yaml.safe_dump_all([_kwokctl(apiserver, etcd, peer, admission), *stages]))
        self.env = env = {
            "PATH": f"{bin_dir()}:/usr/bin:/bin",  # its kubectl is the toolchain's
            "HOME": str(self.root),
            "KWOK_WORKDIR": str(self.root / "kwok"),  # not ~/.kwok: nothing of the user's
            **{
                proxy: NO_WEB
                for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
            },
        }
        command = [
            str(bin_dir() / "kwokctl"), f"--config={config}", f"--name={NAME}",
            "create", "cluster", f"--kubeconfig={self.kubeconfig}",
        ]  # fmt: skip
        # --stay: kwokctl returns once it has started them; they are what the supervisor keeps.
        self.processes = [Process("kwokctl", command, env, self.root / "kwokctl.log", stay=True)]
        self.server = f"https://127.0.0.1:{apiserver}"
        self._wait_listening({apiserver, etcd, peer})

    def _wait_listening(self, ports: set[int]) -> None:
        kwokctl = self.processes[0]
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if kwokctl.process.poll() is not None:  # it failed: its supervisor ended the rest
                raise AssertionError(f"kwokctl create cluster failed:\n{self.logs(30)}")
            taken = [log.stem for log in self._logs() if "address already in use" in _read(log)]
            if taken:  # a component exits, but kwokctl does not notice: it has returned
                kwokctl.stop()
                raise PortTaken(f"{', '.join(taken)}: an address was in use")
            if ports <= kwokctl.listening():
                return
            time.sleep(0.1)
        kwokctl.stop()
        raise AssertionError(
            f"not listening on {sorted(ports)} after {READY_TIMEOUT}s:\n{self.logs()}"
        )

    @classmethod
    def existing(cls, kubeconfig: Path, root: Path) -> Cluster:
        """A cluster something else runs (kind, in the e2e workflow), through the current
        context of `kubeconfig`: the same tests then meet real kubelets and MSR's image."""
        cluster = cls(root)
        cluster.kubeconfig = kubeconfig
        cluster.context = yaml.safe_load(kubeconfig.read_text())["current-context"]
        return cluster

    def kubeconfig_with(self, contexts: set[str]) -> Path:
        """A kubeconfig with more contexts, each naming this cluster as cluster-admin: for stack
        files whose kubeContext names another cluster."""
        config = yaml.safe_load(self.kubeconfig.read_text())
        (current,) = [c for c in config["contexts"] if c["name"] == self.context]
        config["contexts"] += [{"name": c, "context": current["context"]} for c in sorted(contexts)]
        path = self.root / "kubeconfig-contexts"
        path.write_text(yaml.safe_dump(config))
        return path

    def _wait_ready(self) -> None:
        """Until /readyz answers 200 to cluster-admin (kwokctl's admin certificate), failing
        with the logs if the processes are gone."""
        pki = self.home / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.processes[0].process.poll() is not None:
                raise AssertionError(f"the control plane is gone:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"kube-apiserver not ready after {READY_TIMEOUT}s:\n{self.logs()}")

    def _set_up(self) -> None:
        """Nodes, the StorageClasses and the CRDs; then until the control plane works: the
        default namespace has its service account and every node is Ready. (kwokctl's own
        `scale node` would add nodes too, one more process for what this one apply does.)"""
        crds = [p for source in CRD_SOURCES for p in sorted(share_dir(source).glob("*.yaml"))]
        self.apply([*_nodes(), *_storage_classes()])
        self.kubectl("apply", "--server-side", *(f"--filename={p}" for p in crds))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        self.kubectl("wait", "--for=condition=Ready", "--timeout=60s", "node", "--all")
        self.wait_for(
            lambda: self.kubectl(
                "get", "serviceaccount", "default", "--namespace=default", check=False
            ),
            "the default service account (kube-controller-manager)",
        )

    def _start_cert_manager(self) -> None:
        """cert-manager's controller, against this cluster, once its CRDs are Established (its
        informers list them first). Its environment is kwokctl's: no proxy reaches the web, which
        the selfSigned and CA issuers never need."""
        command = [str(bin_dir() / CERT_MANAGER), f"--kubeconfig={self.kubeconfig}"]
        log = self.root / f"{CERT_MANAGER}.log"
        self.cert_manager = Process(CERT_MANAGER, command, self.env, log)

    # -- using -----------------------------------------------------------------------------

    def kubectl(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        timeout: float = READY_TIMEOUT,
    ) -> str:
        """kubectl as cluster-admin; its stdout ('' when check is False and it failed)."""
        kubectl = Supervised(
            [str(bin_dir() / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            stdout, stderr = kubectl.communicate(stdin, timeout)
        except subprocess.TimeoutExpired:
            kubectl.stop()
            raise AssertionError(
                f"kubectl {' '.join(args)}: still running after {timeout}s"
            ) from None
        if kubectl.returncode != 0:
            if not check:
                return ""
            raise AssertionError(f"kubectl {' '.join(args)}: {stderr.strip()}")
        return stdout

    def apply(self, objects: Sequence[dict[str, Any]]) -> None:
        """Server-side apply of `objects`, as cluster-admin."""
        self.kubectl("apply", "--server-side", "--filename=-", stdin=yaml.safe_dump_all(objects))

    def get(self, kind: str, name: str = "", namespace: str = "") -> dict[str, Any]:
        """One object (or the list of a kind) as the API server stores it."""
        args = ["get", kind, *([name] if name else []), "--output=json"]
        if namespace:
            args.append(f"--namespace={namespace}")
        return json.loads(self.kubectl(*args))

    def deployed(self, namespace: str) -> Deployment:
        """The cache's objects in `namespace` as the API server holds them, in the shape the
        mocks give (tests/harness.py), so tests/registry/pod.py lays out exactly what was deployed."""
        resources = []
        for kind, typ in KINDS.items():
            for obj in self.get(kind, namespace=namespace)["items"]:
                resources.append(Registered(typ, obj["metadata"]["name"], obj, [], "", obj))
        return Deployment(resources, {}, [])

    def wait_for(self, probe: Any, what: str, timeout: float = READY_TIMEOUT) -> Any:
        """Until probe() is truthy; its value. Fails naming `what`, with the logs' tails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"waited {timeout}s for {what}:\n{self.logs()}")

    def _logs(self) -> list[Path]:
        """kwokctl's log, then each process's (kwokctl writes them in its folder), then
        cert-manager's controller's."""
        processes = sorted((self.home / "logs").glob("*.log"))
        controller = [self.cert_manager.log] if self.cert_manager else []
        return [self.root / "kwokctl.log", *processes, *controller]

    def logs(self, lines: int = 15) -> str:
        """The last lines of each log."""
        tails = (
            f"--- {log.stem}\n" + "\n".join(_read(log).splitlines()[-lines:])
            for log in self._logs()
        )
        return "\n".join(tails)

    def stop(self) -> None:
        """Stop every process: cert-manager's controller first (a client, which would retry
        against an API server gone); then as kwokctl stops them (`kwokctl stop cluster`: SIGKILL
        to each, by its pid file, the last started first, so that none waits on one already
        gone, as kube-apiserver's graceful shutdown would on etcd); then the supervisor ends
        whatever is left. The logs stay."""
        if self.cert_manager:
            self.cert_manager.stop()
            self.cert_manager = None
        if self.processes and self.processes[0].process.poll() is None:
            command = [str(bin_dir() / "kwokctl"), f"--name={NAME}", "stop", "cluster"]
            kwokctl = Supervised(command, env=self.env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                kwokctl.wait(READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                kwokctl.stop()
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def _kwokctl(apiserver: int, etcd: int, peer: int, admission: Path) -> dict[str, Any]:
    """kwokctl's configuration: the binary runtime on 127.0.0.1, the toolchain's binaries, the
    ports given, and what each component needs beyond kwokctl's flags (`override` replaces a
    flag kwokctl sets; the others are added)."""

    def patch(
        name: str, add: dict[str, str], override: dict[str, str] | None = None
    ) -> dict[str, Any]:
        args = [{"key": k, "value": v} for k, v in add.items()]
        args += [{"key": k, "value": v, "override": True} for k, v in (override or {}).items()]
        return {"name": name, "extraArgs": args}

    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "options": {
            "runtime": "binary",
            # Its default, 0.0.0.0, would open etcd (plain HTTP, no authentication) to the network.
            "bindAddress": "127.0.0.1",
            "kubeApiserverPort": apiserver,
            "etcdPort": etcd,
            "etcdPeerPort": peer,
            # A local path is linked into the cluster's bin/, never fetched.
            **{option: str(bin_dir() / tool) for option, tool in BINARIES.items()},
        },
        "componentsPatches": [
            # A test cluster lives minutes: durability buys nothing and fsync costs seconds.
            patch("etcd", {"unsafe-no-fsync": "true"}),
            patch("kube-apiserver", {
                "admission-control-config-file": str(admission),
                # kube-apiserver's default range is 10.0.0.0/24: 254 Services.
                "service-cluster-ip-range": SERVICE_RANGE,
            }),
            # kwokctl gives each a port of its own choosing (the same in two clusters started
            # at once), for metrics and health checks nothing here reads: no server at all.
            patch("kube-controller-manager", {}, {"secure-port": "0"}),
            patch("kube-scheduler", {}, {"secure-port": "0"}),
            # kwok's server (logs, exec, port-forward of its fake pods) has nothing to serve
            # here; without an address or a node port it listens on no port. Its fake nodes and
            # pods get addresses of private ranges kwokctl leaves empty or to kwok's default.
            patch("kwok-controller", {"cidr": "10.244.0.0/16"},
                  {"server-address": "", "node-port": "0", "node-ip": "10.240.0.1"}),
        ],
    }  # fmt: skip


def _admission_config() -> dict[str, Any]:
    """Pod Security Admission at `restricted` for every namespace without its own labels, as a
    hardened cluster is set up (kube-system exempt: it runs nothing here)."""
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [{"name": "PodSecurity", "configuration": {
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "restricted", "enforce-version": "latest",
                         "warn": "restricted", "warn-version": "latest",
                         "audit": "restricted", "audit-version": "latest"},
            "exemptions": {"namespaces": ["kube-system"]},
        }}],
    }  # fmt: skip


def _nodes() -> list[dict[str, Any]]:
    """kwok's fake nodes: one per replica of an HA cache. kwok manages every node; the
    annotation and taint-free spec are what kwokctl gives its nodes."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
        }
        for name in NODES
    ]


def _storage_classes() -> list[dict[str, Any]]:
    """STANDARD, the default: claims wait for their first consumer, as on most clouds, and cannot
    be expanded (the API server refuses a larger request, as on a cluster whose driver cannot
    resize). EXPANDABLE: the same, with allowVolumeExpansion."""
    default = {"storageclass.kubernetes.io/is-default-class": "true"}
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name, **({"annotations": default} if name == STANDARD else {})},
            "provisioner": PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            **({"allowVolumeExpansion": True} if name == EXPANDABLE else {}),
        }
        for name in (STANDARD, EXPANDABLE)
    ]


def _stages() -> list[dict[str, Any]]:
    """kwok Stages of ours, beside kwok's own node and pod stages:
    - a claim of either class is provisioned once the scheduler has chosen its node
      (`volume.kubernetes.io/selected-node`), as an external provisioner does under
      WaitForFirstConsumer: a PersistentVolume bound to it, then the claim Bound;
    - a Bound claim of EXPANDABLE that asks for more than its status.capacity grows: its volume's
      capacity, then the claim's status.capacity and allocatedResources, as CSI's external-resizer
      (ControllerExpandVolume, the PV) and the kubelet (NodeExpandVolume, the claim) do for an
      online expansion of a filesystem volume. kube-controller-manager's expand controller
      leaves such a claim to an external resizer ("waiting for an external controller to expand
      this PVC"), and the API server has already refused a larger request for STANDARD;
    - a volume it provisioned is deleted once released, as reclaimPolicy Delete asks;
    - a LoadBalancer Service and an Ingress get LB_ADDRESS in status.loadBalancer."""
    alive = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
    classes = {"key": ".spec.storageClassName", "operator": "In", "values": [STANDARD, EXPANDABLE]}
    selected = {"key": '.metadata.annotations["volume.kubernetes.io/selected-node"]',
                "operator": "Exists"}  # fmt: skip
    claim_ready = [classes, alive, selected, {"key": ".status.phase", "operator": "NotIn",
                                              "values": ["Bound"]}]  # fmt: skip
    claim_grown = [
        {"key": ".spec.storageClassName", "operator": "In", "values": [EXPANDABLE]},
        alive,
        {"key": ".status.phase", "operator": "In", "values": ["Bound"]},
        # The key is a jq expression: requested and provisioned sizes differ (both are quantities
        # the API server has put in canonical form).
        {"key": ".spec.resources.requests.storage == .status.capacity.storage",
         "operator": "In", "values": ["false"]},
    ]  # fmt: skip
    # The volume a claim gets, its capacity what it requests: created for a new claim, and, for a
    # grown one, merged into the volume it has (kwok creates, finds it exists, then patches).
    volume = """apiVersion: v1
kind: PersistentVolume
metadata:
  name: pvc-{{ .metadata.uid }}
  annotations:
    pv.kubernetes.io/provisioned-by: PROVISIONER
spec:
  accessModes:
  {{ YAML .spec.accessModes 2 }}
  capacity:
  {{ YAML .spec.resources.requests 2 }}
  persistentVolumeReclaimPolicy: Delete
  storageClassName: {{ .spec.storageClassName | Quote }}
  volumeMode: {{ default "Filesystem" .spec.volumeMode | Quote }}
  claimRef:
    apiVersion: v1
    kind: PersistentVolumeClaim
    name: {{ .metadata.name | Quote }}
    namespace: {{ .metadata.namespace | Quote }}
    uid: {{ .metadata.uid | Quote }}
  hostPath:
    path: /tmp/kwok-volumes/pvc-{{ .metadata.uid }}
""".replace("PROVISIONER", PROVISIONER)
    grown = """capacity:
  storage: {{ .spec.resources.requests.storage | Quote }}
allocatedResources:
  storage: {{ .spec.resources.requests.storage | Quote }}
"""
    status = f"loadBalancer:\n  ingress:\n  - ip: {LB_ADDRESS}\n"
    no_address = {"key": ".status.loadBalancer.ingress", "operator": "DoesNotExist"}
    return [
        _stage("claim-provision", "v1", "PersistentVolumeClaim", claim_ready, {"steps": [
            {"apply": {"template": volume}},
        ]}),
        _stage("claim-expand", "v1", "PersistentVolumeClaim", claim_grown, {"steps": [
            {"apply": {"template": volume, "type": "merge"}},
            {"patch": {"subresource": "status", "root": "status", "type": "merge",
                       "template": grown}},
            {"event": {"type": "Normal", "reason": "VolumeResizeSuccessful",
                       "message": "resize volume succeeded (kwok stands in for the resizer)"}},
        ]}),
        # The provisioner deletes what it provisioned once released (reclaimPolicy Delete).
        _stage("volume-reclaim", "v1", "PersistentVolume", [
            {"key": '.metadata.annotations["pv.kubernetes.io/provisioned-by"]', "operator": "In",
             "values": [PROVISIONER]},
            {"key": ".status.phase", "operator": "In", "values": ["Released"]},
        ], {"delete": True}),
        _stage("service-load-balancer", "v1", "Service", [
            alive, {"key": ".spec.type", "operator": "In", "values": ["LoadBalancer"]}, no_address,
        ], {"statusTemplate": status}),
        _stage("ingress-load-balancer", "networking.k8s.io/v1", "Ingress", [alive, no_address],
               {"statusTemplate": status}),
    ]  # fmt: skip


def _stage(
    name: str, group: str, kind: str, match: list[dict[str, Any]], then: dict[str, Any]
) -> dict[str, Any]:
    """A kwok Stage: what `then` does to a `kind` object matching every expression."""
    spec: dict[str, Any] = {
        "resourceRef": {"apiGroup": group, "kind": kind},
        "selector": {"matchExpressions": match},
    }
    if "steps" in then:
        spec["steps"] = then["steps"]
    else:
        spec["next"] = then
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name},
            "spec": spec}  # fmt: skip


@contextmanager
def running_cluster(root: Path) -> Iterator[Cluster]:
    """A started cluster, stopped on exit whatever happened."""
    cluster = Cluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


class Stopped(BaseException):
    """SIGINT or SIGTERM: `make cluster` stops its cluster. A BaseException, as
    KeyboardInterrupt is, so that no `except Exception` on the way swallows it."""


def _stop(signum: int, _frame: object) -> None:
    # Once: a second Ctrl-C must not cut the stop short (the processes would still end with
    # their supervisors, but the folder would be left behind).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def main() -> int:
    """`make cluster`: start one, print how to reach it, and on Ctrl-C (SIGINT, to the whole
    process group as a terminal sends it) or SIGTERM (`timeout`, a CI runner's cancel, a
    process manager) stop it and remove its folder. Each process runs in a session of its own
    under its supervisor, so the terminal's SIGINT reaches only this one, which stops them in
    order; and if this one is killed outright, the supervisors stop them anyway."""
    missing = missing_tools()
    if missing:
        print(f"not built: {', '.join(missing)}; run `make toolchain` first", file=sys.stderr)
        return 1
    # Before anything starts, so that a signal during the start stops what has started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    root = Path(tempfile.mkdtemp(prefix="msr-cache-cluster-"))
    try:
        with running_cluster(root) as cluster:
            print(f"export KUBECONFIG={cluster.kubeconfig}")
            print(f"# logs in {root}; Ctrl-C stops it", flush=True)
            while True:
                signal.pause()
    except Stopped as stopped:
        shutil.rmtree(root, ignore_errors=True)
        print(f"# {stopped}: stopped, {root} removed", file=sys.stderr)
        return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
