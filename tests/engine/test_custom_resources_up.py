"""Every custom resource the component can make goes through the real `pulumi up` into a real API
server (tests/engine/cluster.py, which installs the released CRDs of cert-manager v1.21.1, the Prometheus
Operator's ServiceMonitor and PrometheusRule v0.93.0 and Gateway API v1.6.1): cert-manager's
Certificate, named after an Issuer; the ServiceMonitor of the metrics Service and the
PrometheusRule of the cache's alerts; a Gateway made from a GatewayClass; and the TLSRoute on it.
One stack makes all five, as a user's stack may (test_monitoring_up.py reads the alerts back).

Each is dry-run by the API server in the preview before `up` makes it. pulumi-kubernetes 4.25,
the provider the toolchain builds, previews a create as the inputs themselves, without asking the
API server, when they hold an unknown value, when the kind is not served, or when its
server-side apply dry run is refused because the namespace does not exist yet
(provider/pkg/provider/provider.go `Create`, provider/pkg/await/await.go `Creation` and
`namespaceError`, at v4.25.0): a stack's first preview into a namespace it makes itself checks
none of its objects, which the test shows first. So the namespace is the user's here
(createNamespace: false), as it must exist anyway for the namespaced Issuer the Certificate
names; the preview's answer for each object, which its plan records (`pulumi preview
--save-plan`), is then the API server's: what only a server writes (a uid, a creation time, a
generation, the CRD's defaults) and the very spec `up` then stores.

Then the API server's own CEL rules (x-kubernetes-validations of the released CRDs): a program of
the test's own makes a TLSRoute from the component's own builder for a host the component's
settings refuse (an IP address), through pulumi_kubernetes directly, so no check of the project
stands between it and the API server, which refuses it in the preview's dry run and in `up`.

The Certificate then issues: the test cluster runs cert-manager's own control loops (of
github.com/cert-manager/cert-manager v1.21.1, the Issuer's, the CertificateRequest's approval and
CA signing, and the Certificate's: toolchain/cert-manager-controller, as upstream's cmd/controller
starts them), which a CA Issuer of the user's signs through. The certificate in the Secret has the
SANs the stack promises (certSans); the cache, laid out from what the API server holds as the
kubelet mounts it (tests/registry/pod.py), serves it to a client that trusts only caCertPem.

On a cluster of MSR_CACHE_KUBECONFIG (as `make test-cluster` sets it), the first test needs the
CRDs and a cert-manager controller of that cluster (one holding cert-manager's leader-election
Lease), and is unavailable, saying which it lacks, without them: nothing of ours issues there.

What this cannot prove: cert-manager's webhook (the API server validates with the CRDs' schemas
alone, not with the webhook's checks), ACME and the other issuers, the released controller's own
flags and main; kwok starts the pod without its volumes, so the Deployment is Available without
them. No Prometheus scrapes and no Gateway controller routes.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import ROOT, sans, unavailable
from pod import lay_out, without_downstream
from pulumi_cli import Project, Stack, program_project, require_tools
from registry_client import request
from servers import REGISTRY, Registry, require, running

POLICY = ("--policy-pack", str(ROOT / "policy"))
# Each test runs the CLI several times: bounded by each run's own timeout, not the suite's.
pytestmark = pytest.mark.timeout(900)
MSR = "https://msr.example.com"
HOSTS = ["a.crs.example.test", "b.crs.example.test"]
GATEWAY_CLASS = "eg"
ISSUER = "cache-ca"
# kubectl's full names of the custom resources' kinds, so no short name of another CRD is taken.
CERTIFICATES = "certificates.cert-manager.io"
SERVICE_MONITORS = "servicemonitors.monitoring.coreos.com"
RULES = "prometheusrules.monitoring.coreos.com"
GATEWAYS = "gateways.gateway.networking.k8s.io"
TLS_ROUTES = "tlsroutes.gateway.networking.k8s.io"
KINDS = {
    "Certificate": CERTIFICATES,
    "ServiceMonitor": SERVICE_MONITORS,
    "PrometheusRule": RULES,
    "Gateway": GATEWAYS,
    "TLSRoute": TLS_ROUTES,
}
# The CRDs the first test's objects need: the four kinds, and what cert-manager issues through.
CRDS = (*KINDS.values(), "issuers.cert-manager.io", "certificaterequests.cert-manager.io")
# The Lease a running cert-manager controller holds and renews (its leader election, on by
# default, in any namespace it is told).
CERT_MANAGER_LEASE = "cert-manager-controller"


@pytest.fixture(scope="module")
def project(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Project:
    require_tools()
    return Project(tmp_path_factory.mktemp("project"), env={"KUBECONFIG": str(cluster.kubeconfig)})


def issuing(cluster: Cluster) -> None:
    """Unavailable unless the cluster has the CRDs and a cert-manager controller issues in it:
    the test cluster's (tests/engine/cluster.py starts ours, and a failure to start fails the test);
    on a cluster of MSR_CACHE_KUBECONFIG, one that renews its leader-election Lease."""
    if cluster.cert_manager:
        assert cluster.cert_manager.process.poll() is None, cluster.cert_manager.tail()
        return
    served = {crd["metadata"]["name"] for crd in cluster.get("crd")["items"]}
    missing = [crd for crd in CRDS if crd not in served]
    if missing:
        unavailable(f"the cluster of {cluster.kubeconfig} lacks the CRDs {', '.join(missing)} "
                    "(tests/engine/cluster.py installs them, as tools.toml pins them)")  # fmt: skip
    leases = json.loads(cluster.kubectl(
        "get", "leases", "--all-namespaces", f"--field-selector=metadata.name={CERT_MANAGER_LEASE}",
        "--output=json"))["items"]  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    held = [
        lease for lease in leases
        if lease["spec"].get("renewTime") and now - datetime.datetime.fromisoformat(
            lease["spec"]["renewTime"]) < datetime.timedelta(minutes=2)
    ]  # fmt: skip
    if not held:
        unavailable(f"no cert-manager controller issues in the cluster of {cluster.kubeconfig} "
                    f"(no Lease {CERT_MANAGER_LEASE} renewed in the last 2 minutes): the "
                    "Certificate would never be Ready")  # fmt: skip


def ca_pair(name: str) -> tuple[str, str]:
    """(certificate, key) PEMs of a CA for cert-manager's CA Issuer, as a strict verifier wants
    a CA (CA:TRUE, keyCertSign, a subject key ID)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=True, encipher_only=False,
                          decipher_only=False)  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def the_one(cluster: Cluster, kind: str, namespace: str) -> dict[str, Any]:
    """The only object of `kind` in `namespace`, as the API server stores it."""
    items = cluster.get(kind, namespace=namespace)["items"]
    assert len(items) == 1, (kind, [i["metadata"]["name"] for i in items])
    return items[0]


def previewed_creates(stack: Stack, plan: Path) -> dict[str, dict[str, Any]]:
    """What `pulumi preview` says each custom resource it would create will be: {kind: the
    provider's answer for it}, as the preview's plan (`--save-plan`) records it."""
    stack.preview("--save-plan", str(plan), *POLICY)
    found: dict[str, dict[str, Any]] = {}
    for urn, resource in json.loads(plan.read_text())["resourcePlans"].items():
        kind = resource["goal"]["type"].rsplit(":", 1)[-1]  # kubernetes:<apiVersion>:<kind>
        if kind in KINDS and resource["steps"] == ["create"]:
            assert kind not in found, urn
            found[kind] = resource["state"]
    return found


def dry_run(answer: dict[str, Any]) -> bool:
    """Whether a preview's answer for an object is the API server's: a uid and a creation time
    are written only by a server that took the object; the provider's own answer, when it does
    not ask, is the inputs."""
    metadata = answer.get("metadata") or {}
    return bool(metadata.get("uid") and metadata.get("creationTimestamp"))


def served_by(service: dict[str, Any], container: dict[str, Any], port_name: str) -> int:
    """The container port the Service's port `port_name` reaches (its targetPort, by name)."""
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == port_name]
    target = port["targetPort"]
    (container_port,) = [p for p in container["ports"] if target in (p["name"], p["containerPort"])]
    return container_port["containerPort"]


def certificate_source(
    pod: dict[str, Any], container: dict[str, Any], path: str
) -> tuple[str, str]:
    """(Secret, key) the file at `path` in the container comes from: its volume's Secret, or the
    projected Secret whose item lands there."""
    directory, file = posixpath.split(path)
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"].rstrip("/") == directory]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    if "secret" in volume:
        return volume["secret"]["secretName"], file
    sources = [s["secret"] for s in volume["projected"]["sources"] if "secret" in s]
    ((name, key),) = [
        (s["name"], item["key"]) for s in sources for item in s["items"] if item["path"] == file
    ]
    return name, key


@dataclasses.dataclass(frozen=True)
class Cache:
    """The cache's objects the custom resources point at, as the API server stores them."""

    namespace: str
    pod: dict[str, Any]  # the Deployment's pod template's spec
    container: dict[str, Any]
    registry: dict[str, Any]  # config.yaml, from the ConfigMap the pod mounts
    service: dict[str, Any]

    @classmethod
    def read(cls, cluster: Cluster, namespace: str, service: str) -> Cache:
        pod = cluster.get("deployment", service, namespace)["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (config_map,) = [v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v]
        data = cluster.get("configmap", config_map, namespace)["data"]
        return cls(namespace, pod, container, yaml.safe_load(data["config.yaml"]),
                   cluster.get("service", service, namespace))  # fmt: skip

    @property
    def service_name(self) -> str:
        return self.service["metadata"]["name"]


def port_of(address: str) -> int:
    """The port of a listen address of config.yaml (`:5001`, `0.0.0.0:443`)."""
    return int(address.rsplit(":", 1)[1])


def check_certificate(certificate: dict[str, Any], cache: Cache, sans: list[str]) -> None:
    """The SANs the stack promises (`sans`, its certSans output: the hosts, then the Service's
    names), signed by the Issuer named, into the Secret the cache reads its pair from."""
    spec = certificate["spec"]
    names = [f"{cache.service_name}.{cache.namespace}.svc",
             f"{cache.service_name}.{cache.namespace}.svc.cluster.local"]  # fmt: skip
    assert spec["dnsNames"] == [*HOSTS, *names]
    assert "ipAddresses" not in spec  # a Gateway routes names only
    assert sans == [f"DNS:{name}" for name in spec["dnsNames"]]
    assert spec["commonName"] == HOSTS[0]
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": ISSUER}
    tls = cache.registry["http"]["tls"]
    source = spec["secretName"]
    assert certificate_source(cache.pod, cache.container, tls["certificate"]) == (source, "tls.crt")
    assert certificate_source(cache.pod, cache.container, tls["key"]) == (source, "tls.key")


def check_service_monitor(monitor: dict[str, Any], cache: Cache, cluster: Cluster) -> None:
    """It selects the metrics Service alone, on the port that reaches where config.yaml serves
    the metrics, at their path."""
    labels = monitor["spec"]["selector"]["matchLabels"]
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    selected = cluster.kubectl("get", "services", f"--namespace={cache.namespace}",
                               f"--selector={selector}", "--output=name").split()  # fmt: skip
    assert selected == [f"service/{cache.service_name}-metrics"], selected
    metrics = cluster.get("service", f"{cache.service_name}-metrics", cache.namespace)
    (endpoint,) = monitor["spec"]["endpoints"]
    debug = cache.registry["http"]["debug"]
    assert served_by(metrics, cache.container, endpoint["port"]) == port_of(debug["addr"])
    assert endpoint["path"] == debug["prometheus"]["path"]


def check_gateway_and_route(gateway: dict[str, Any], route: dict[str, Any], cache: Cache) -> None:
    """The Gateway, of the class given: a TLS Passthrough listener per host on 443 that admits
    TLSRoutes of its namespace; the TLSRoute on it, for the hosts, onto the Service's port that
    reaches the cache's https address."""
    assert gateway["spec"]["gatewayClassName"] == GATEWAY_CLASS
    listeners = {listener["hostname"]: listener for listener in gateway["spec"]["listeners"]}
    assert sorted(listeners) == sorted(HOSTS)
    for listener in listeners.values():
        mode = (listener["protocol"], listener["tls"]["mode"], listener["port"])
        assert mode == ("TLS", "Passthrough", 443), listener
        routes = listener["allowedRoutes"]
        assert routes["namespaces"]["from"] == "Same"
        assert {"group": "gateway.networking.k8s.io", "kind": "TLSRoute"} in routes["kinds"]
    (parent,) = route["spec"]["parentRefs"]
    assert parent == {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                      "name": gateway["metadata"]["name"], "namespace": cache.namespace}  # fmt: skip
    assert route["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    assert route["spec"]["hostnames"] == HOSTS
    (rule,) = route["spec"]["rules"]
    (backend,) = rule["backendRefs"]
    assert (backend["kind"], backend["name"]) == ("Service", cache.service_name)
    (port,) = [p for p in cache.service["spec"]["ports"] if p["port"] == backend["port"]]
    https = port_of(cache.registry["http"]["addr"])
    assert served_by(cache.service, cache.container, port["name"]) == https


def test_every_custom_resource_is_dry_run_then_made_as_promised_the_certificate_issued_and_served(
    project: Project, cluster: Cluster, tmp_path: Path
) -> None:
    issuing(cluster)
    require(REGISTRY)
    namespace = "custom-resources"
    ca_pem, ca_key = ca_pair("custom-resources test CA")
    config = {"upstreams": [MSR], "namespace": namespace, "createNamespace": False,
              "exposure": "gateway", "hosts": HOSTS, "gatewayClassName": GATEWAY_CLASS,
              "certManagerIssuer": {"kind": "Issuer", "name": ISSUER}, "tlsCaCert": ca_pem,
              "metrics": True, "serviceMonitor": True}  # fmt: skip
    stack = project.stack("custom-resources", config)
    # Into a namespace that does not exist yet, the provider does not ask the API server.
    unasked = previewed_creates(stack, tmp_path / "unasked.json")
    assert sorted(unasked) == sorted(KINDS)
    assert not any(dry_run(answer) for answer in unasked.values()), unasked

    # The user's namespace, and the CA Issuer in it that signs the cache's certificate.
    ca = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
          "metadata": {"name": ISSUER, "namespace": namespace},
          "stringData": {"tls.crt": ca_pem, "tls.key": ca_key}}  # fmt: skip
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
              "metadata": {"name": ISSUER, "namespace": namespace},
              "spec": {"ca": {"secretName": ISSUER}}}  # fmt: skip
    cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    cluster.apply([ca, issuer])
    previewed = previewed_creates(stack, tmp_path / "plan.json")
    assert sorted(previewed) == sorted(KINDS)
    for kind, answer in previewed.items():
        assert dry_run(answer), (kind, answer)
        assert answer["metadata"]["generation"] == 1, (kind, answer["metadata"])
    # A default of the released CRD's schema, which the component leaves out.
    (backend,) = previewed["TLSRoute"]["spec"]["rules"][0]["backendRefs"]
    assert backend["weight"] == 1, backend

    stack.up(*POLICY)
    outputs = stack.outputs()
    assert outputs["url"] == f"https://{HOSTS[0]}"
    stored = {kind: the_one(cluster, KINDS[kind], namespace) for kind in KINDS}
    for kind, obj in stored.items():
        # The preview showed what the API server then stored.
        assert obj["spec"] == previewed[kind]["spec"], kind
    cache = Cache.read(cluster, namespace, outputs["serviceName"])
    check_certificate(stored["Certificate"], cache, outputs["certSans"])
    check_service_monitor(stored["ServiceMonitor"], cache, cluster)
    check_gateway_and_route(stored["Gateway"], stored["TLSRoute"], cache)

    # cert-manager issues it: the certificate in the Secret has the SANs the stack promises, and
    # the CA the stack publishes signed it; the cache, laid out as the kubelet mounts what the
    # API server holds, serves it under the URL's host to a client that trusts only that CA.
    certificate = stored["Certificate"]["metadata"]["name"]
    cluster.kubectl("wait", "--for=condition=Ready", "--timeout=60s", f"--namespace={namespace}",
                    f"{CERTIFICATES}/{certificate}", timeout=70)  # fmt: skip
    secret = cluster.get("secret", stored["Certificate"]["spec"]["secretName"], namespace)
    issued = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    assert sans(issued) == ([san.removeprefix("DNS:") for san in outputs["certSans"]], [])
    assert outputs["caCertPem"] == ca_pem
    issued.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem.encode()))
    pod = lay_out(cluster.deployed(namespace), tmp_path / "pod")
    with running(Registry(pod, namespace, without_downstream)) as server:
        assert request(server.pod.port, HOSTS[0], outputs["caCertPem"]).status == 200
        assert request(server.pod.port, HOSTS[1], outputs["caCertPem"]).status == 200

    # The controller's writes (the Certificate's status, the Secret) are no change to the stack.
    stack.preview("--expect-no-changes", *POLICY)

    stack.destroy()
    for kind in (*KINDS.values(), "deployments", "services", "networkpolicies"):
        assert not cluster.get(kind, namespace=namespace)["items"], kind
    # cert-manager keeps the Secret it wrote (it owns it only with --enable-certificate-owner-ref,
    # which the released controller leaves off, as ours does); the CA's is the user's.
    secrets = [s["metadata"]["name"] for s in cluster.get("secrets", namespace=namespace)["items"]]
    assert sorted(secrets) == sorted([ISSUER, stored["Certificate"]["spec"]["secretName"]])
    config_maps = cluster.get("configmaps", namespace=namespace)["items"]
    assert [c["metadata"]["name"] for c in config_maps] == ["kube-root-ca.crt"]  # the cluster's
    # Only what the user made before is left: the Issuer, in the namespace.
    assert cluster.get("issuers.cert-manager.io", ISSUER, namespace)
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


# A program of the test's own: the component's TLSRoute, made by its own builder, for a host its
# settings refuse (an IP address: SNI names hosts, RFC 6066), straight through pulumi_kubernetes.
CEL_PROGRAM = """
import pulumi_kubernetes as k8s

from components.objects import exposure
from components.inputs.model import Exposure, GatewayRef

NAMESPACE = "cel-refused"
spec = exposure.MODES[Exposure.GATEWAY].tls_route_spec(
    ["cache.cel.example.test", "192.0.2.7"], "dtr-cache", GatewayRef("shared", NAMESPACE)
)
k8s.apiextensions.CustomResource(
    "route",
    api_version=exposure.GATEWAY_API_VERSION,
    kind="TLSRoute",
    metadata={"name": "dtr-cache", "namespace": NAMESPACE},
    spec=spec,
)
"""


def test_the_api_server_refuses_a_tls_route_breaking_a_cel_rule_in_preview_and_in_up(
    cluster: Cluster, tmp_path: Path
) -> None:
    require_tools()
    namespace = "cel-refused"
    env = {"KUBECONFIG": str(cluster.kubeconfig)}
    stack = program_project(tmp_path, "cel", CEL_PROGRAM, env).stack("cel", {})
    # The namespace exists, so the preview's create is the API server's dry run.
    cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])

    # The rule's own message, under the field it is declared on, in the API server's words.
    refusal = 'TLSRoute.gateway.networking.k8s.io "dtr-cache" is invalid: spec.hostnames'
    preview = stack.preview(check=False)
    assert preview.code != 0, preview
    assert refusal in preview.stdout and "Hostnames cannot contain an IP" in preview.stdout, preview
    assert "Preview failed" in preview.stdout, preview  # the dry run's refusal, not the program's
    # Without a preview, the create itself is refused, and nothing is made.
    up = stack.up(check=False)
    assert up.code != 0, up
    assert refusal in up.stdout and "Hostnames cannot contain an IP" in up.stdout, up
    assert not cluster.get(TLS_ROUTES, namespace=namespace)["items"]
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")
