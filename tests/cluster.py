"""A real Kubernetes control plane without containers, on 127.0.0.1, for the engine layer.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real ones, built by
`make toolchain`; kwok stands in for kubelets: its fake nodes take the pods the scheduler places
there and mark them Running and Ready, so Deployments become Available, Services get endpoints
and the garbage collector finishes foreground deletions, as pulumi-kubernetes' await expects.
What kwok cannot do, no test here can: pull or run an image, mount volumes, run probes.

The cluster has what the cache meets in production:
- Pod Security Admission enforcing `restricted` by default (every namespace but kube-system);
- a default StorageClass with `WaitForFirstConsumer`, whose claims kwok provisions once the
  scheduler has picked a node (as a CSI provisioner would);
- load-balancer addresses: kwok Stages set a LoadBalancer Service's and an Ingress's
  `status.loadBalancer` (LB_ADDRESS), as a cloud controller and an ingress controller would;
- the released CRDs of Gateway API, cert-manager and ServiceMonitor (tools.toml), so the API
  server validates custom resources with their schemas and CEL rules.

Every process is started and stopped by PID with its log in the cluster's folder; each wait is
bounded. By hand: `make cluster` (this file as a script) starts one and prints its KUBECONFIG.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
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
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import CONFIG_MAP, DEPLOYMENT, PVC, SECRET, SERVICE, Deployment
from pod import free_port
from servers import Process

from render.engine import Registered
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
READY_TIMEOUT = 120.0
CRD_SOURCES = ("gateway-api", "cert-manager", "prometheus-operator")


def missing_tools() -> list[str]:
    """The toolchain binaries this cluster needs that `make toolchain` has not built."""
    return [t for t in (*CONTROL_PLANE, "kubectl") if not (bin_dir() / t).exists()]


class Cluster:
    """A running control plane; `kubectl()` talks to it as cluster-admin."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = root / "pki"
        self.kubeconfig = root / "kubeconfig"
        self.processes: list[Process] = []
        self.server = ""
        self.context = "test"  # the kubeconfig's one context

    # -- starting --------------------------------------------------------------------------

    def start(self) -> None:
        self.pki.mkdir(parents=True, exist_ok=True)
        apiserver_port = free_port()
        self.server = f"https://127.0.0.1:{apiserver_port}"
        self._make_pki()
        self._write_kubeconfig()
        etcd = self._start_etcd()
        self._start_apiserver(apiserver_port, etcd)
        self._wait_ready()
        self._start_controllers()
        self._start_kwok()
        self._set_up()

    def _make_pki(self) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _certificate("test-cluster-ca", ca_key, ca_key, None, ca=True)
        self._write("ca", ca, ca_key)
        serving_key = ec.generate_private_key(ec.SECP256R1())
        first_service_ip = next(ipaddress.ip_network(SERVICE_RANGE).hosts())
        names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
        ips = [ipaddress.ip_address("127.0.0.1"), first_service_ip]
        self._write(
            "apiserver",
            _certificate("kube-apiserver", serving_key, ca_key, ca, dns=names, ips=ips),
            serving_key,
        )
        admin_key = ec.generate_private_key(ec.SECP256R1())
        self._write(
            "admin",
            _certificate("cluster-admin", admin_key, ca_key, ca, groups=["system:masters"]),
            admin_key,
        )
        # The key the API server signs service account tokens with, and checks them against.
        sa_key = ec.generate_private_key(ec.SECP256R1())
        (self.pki / "sa.key").write_bytes(_key_pem(sa_key))
        (self.pki / "sa.pub").write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def _write(self, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        (self.pki / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (self.pki / f"{name}.key").write_bytes(_key_pem(key))
        (self.pki / f"{name}.key").chmod(0o600)

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {
                "server": self.server, "certificate-authority": str(self.pki / "ca.crt")}}],
            "users": [{"name": "admin", "user": {
                "client-certificate": str(self.pki / "admin.crt"),
                "client-key": str(self.pki / "admin.key")}}],
            "contexts": [{"name": self.context, "context": {"cluster": "test", "user": "admin"}}],
            "current-context": self.context,
        }  # fmt: skip
        self.kubeconfig.write_text(yaml.safe_dump(config))

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

    def _process(self, name: str, args: Sequence[str]) -> Process:
        env = {"PATH": f"{bin_dir()}:/usr/bin:/bin", "HOME": str(self.root)}
        process = Process(name, [str(bin_dir() / name), *args], env, self.root / f"{name}.log")
        self.processes.append(process)
        return process

    def _start_etcd(self) -> str:
        client, peer = free_port(), free_port()
        data = self.root / "etcd"
        self._process("etcd", [
            f"--data-dir={data}", "--name=default",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--listen-metrics-urls=", "--log-level=warn",
            # A test cluster lives minutes: durability buys nothing and fsync costs seconds.
            "--unsafe-no-fsync",
        ]).wait_for(client)  # fmt: skip
        return f"http://127.0.0.1:{client}"

    def _start_apiserver(self, port: int, etcd: str) -> None:
        admission = self.root / "admission.yaml"
        admission.write_text(yaml.safe_dump(_admission_config()))
        pki = self.pki
        self._process("kube-apiserver", [
            f"--etcd-servers={etcd}", "--bind-address=127.0.0.1", f"--secure-port={port}",
            "--advertise-address=127.0.0.1",
            # Endpoints may not be loopback addresses: no `kubernetes` Service endpoints.
            "--endpoint-reconciler-type=none",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--authorization-mode=RBAC",
            f"--admission-control-config-file={admission}",
            f"--cert-dir={self.root / 'apiserver-certs'}",
        ])  # fmt: skip

    def _wait_ready(self) -> None:
        """Until /readyz answers 200 to cluster-admin, failing with the log if the server exits."""
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(self.pki / "admin.crt", self.pki / "admin.key")
        apiserver = self.processes[-1]
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if apiserver.process.poll() is not None:
                raise AssertionError(f"kube-apiserver exited:\n{apiserver.tail()}")
            try:
                with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(
            f"kube-apiserver not ready after {READY_TIMEOUT}s:\n{apiserver.tail()}"
        )

    def _start_controllers(self) -> None:
        kubeconfig = f"--kubeconfig={self.kubeconfig}"
        self._process("kube-controller-manager", [
            kubeconfig, "--leader-elect=false", "--secure-port=0",
            f"--service-account-private-key-file={self.pki / 'sa.key'}",
            f"--root-ca-file={self.pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
        ])  # fmt: skip
        self._process("kube-scheduler", [kubeconfig, "--leader-elect=false", "--secure-port=0"])

    def _start_kwok(self) -> None:
        stages = [
            *(yaml.safe_load(p.read_text()) for p in sorted(share_dir("kwok").glob("*.yaml"))),
            *_stages(),
        ]
        config = self.root / "kwok.yaml"
        config.write_text(yaml.safe_dump_all(stages))
        self._process("kwok", [
            f"--kubeconfig={self.kubeconfig}", f"--config={config}",
            "--manage-all-nodes=true", f"--server-address=127.0.0.1:{free_port()}",
            "--node-ip=10.240.0.1", "--cidr=10.244.0.0/16",
        ])  # fmt: skip

    def _set_up(self) -> None:
        """Nodes, the StorageClass and the CRDs; then until the control plane works: the
        default namespace has its service account and every node is Ready."""
        crds = [p for source in CRD_SOURCES for p in sorted(share_dir(source).glob("*.yaml"))]
        self.apply([*_nodes(), _storage_class()])
        self.kubectl("apply", "--server-side", *(f"--filename={p}" for p in crds))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        self.kubectl("wait", "--for=condition=Ready", "--timeout=60s", "node", "--all")
        self.wait_for(
            lambda: self.kubectl(
                "get", "serviceaccount", "default", "--namespace=default", check=False
            ),
            "the default service account (kube-controller-manager)",
        )

    # -- using -----------------------------------------------------------------------------

    def kubectl(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        timeout: float = READY_TIMEOUT,
    ) -> str:
        """kubectl as cluster-admin; its stdout ('' when check is False and it failed)."""
        done = subprocess.run(
            [str(bin_dir() / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if done.returncode != 0:
            if not check:
                return ""
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def apply(self, objects: Sequence[dict[str, Any]]) -> None:
        self.kubectl("apply", "--server-side", "--filename=-", stdin=yaml.safe_dump_all(objects))

    def get(self, kind: str, name: str = "", namespace: str = "") -> dict[str, Any]:
        """One object (or the list of a kind) as the API server stores it."""
        args = ["get", kind, *([name] if name else []), "--output=json"]
        if namespace:
            args.append(f"--namespace={namespace}")
        return json.loads(self.kubectl(*args))

    def deployed(self, namespace: str) -> Deployment:
        """The cache's objects in `namespace` as the API server holds them, in the shape the
        mocks give (tests/harness.py), so tests/pod.py lays out exactly what was deployed."""
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

    def logs(self, lines: int = 15) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(lines)}" for p in self.processes)

    def stop(self) -> None:
        """Stop every process, the last started first."""
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


def _certificate(
    common_name: str,
    key: ec.EllipticCurvePrivateKey,
    signing_key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    *,
    ca: bool = False,
    groups: Sequence[str] = (),
    dns: Sequence[str] = (),
    ips: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address] = (),
) -> x509.Certificate:
    """A certificate for the cluster: the CA, the API server's, or a client's (groups are the
    O= attributes the API server reads as group membership)."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups),
    ])  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        ).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                   x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )  # fmt: skip
    if dns or ips:
        names = [*(x509.DNSName(d) for d in dns), *(x509.IPAddress(i) for i in ips)]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


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


def _storage_class() -> dict[str, Any]:
    """The default StorageClass: claims wait for their first consumer, as on most clouds."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


PROVISIONER = "kwok.x-k8s.io/volume"


def _stages() -> list[dict[str, Any]]:
    """kwok Stages of ours, beside kwok's own node and pod stages:
    - a claim of the default class is provisioned once the scheduler has chosen its node
      (`volume.kubernetes.io/selected-node`), as an external provisioner does under
      WaitForFirstConsumer: a PersistentVolume bound to it, then the claim Bound;
    - a volume it provisioned is deleted once released, as reclaimPolicy Delete asks;
    - a LoadBalancer Service and an Ingress get LB_ADDRESS in status.loadBalancer."""
    claim_ready = [
        {"key": ".spec.storageClassName", "operator": "In", "values": ["standard"]},
        {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
        {
            "key": '.metadata.annotations["volume.kubernetes.io/selected-node"]',
            "operator": "Exists",
        },
        {"key": ".status.phase", "operator": "NotIn", "values": ["Bound"]},
    ]
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
    status = f"loadBalancer:\n  ingress:\n  - ip: {LB_ADDRESS}\n"
    no_address = {"key": ".status.loadBalancer.ingress", "operator": "DoesNotExist"}
    alive = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
    return [
        _stage("claim-provision", "v1", "PersistentVolumeClaim", claim_ready, {"steps": [
            {"apply": {"template": volume}},
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


def main() -> int:
    """`make cluster`: start one, print how to reach it, stop it on Ctrl-C."""
    missing = missing_tools()
    if missing:
        print(f"not built: {', '.join(missing)}; run `make toolchain` first", file=sys.stderr)
        return 1
    root = Path(tempfile.mkdtemp(prefix="msr-cache-cluster-"))
    with running_cluster(root) as cluster:
        print(f"export KUBECONFIG={cluster.kubeconfig}")
        print(f"# logs in {root}; Ctrl-C stops it", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
