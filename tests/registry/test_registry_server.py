"""config.yaml, the certificates and the secrets, proved against distribution's own server.

Each test deploys caches under the mocks, lays their pods out as the kubelet would
(tests/registry/pod.py) and runs Debian's `docker-registry` (distribution 2.8.2, which MSR's cache is
built on) on what the component wrote. The stock server has no MSR `downstream` middleware:
only that block is removed, and where a test pulls through, distribution's `proxy.remoteurl`
stands in for it. Distribution ignores keys it does not know, so each key the component writes
is shown to take effect, not only that the server starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from harness import PVC, Deployment, cache, pod_spec, served_cert
from mocks import LOAD_BALANCER_IP
from pod import Pod, lay_out, stored, without_downstream
from registry_client import (
    SKOPEO,
    Response,
    cert_dir,
    digest,
    location_path,
    oci_image,
    plain,
    probe_status,
    push_blob,
    request,
    skopeo,
)
from servers import (
    REGISTRY,
    RUNNING,
    S3,
    Moto,
    Names,
    Registry,
    pull_through,
    require,
    running,
)

from components.objects import registry_config as rc

pytestmark = pytest.mark.usefixtures("registry_tools")

HOST = "cache.example.com"
SERVICE_NAMES = ["dtr-cache.dtr.svc", "dtr-cache.dtr.svc.cluster.local"]
# Per exposure mode: the cache's inputs, and the SANs a client of that mode checks
# (DNS names, IP addresses): its hosts, the load balancer's address, the in-cluster names.
MODES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "nodePort": (
        {"hosts": [HOST, "10.0.0.5", "2001:db8::5"], "port": 30443},
        [HOST, *SERVICE_NAMES],
        ["10.0.0.5", "2001:db8::5"],
    ),
    "hostPort": (
        {"hosts": [HOST, "10.0.0.6"], "port": 443},
        [HOST, *SERVICE_NAMES],
        ["10.0.0.6"],
    ),
    "loadBalancer": (
        {"hosts": [HOST]},
        [HOST, *SERVICE_NAMES],
        [LOAD_BALANCER_IP],
    ),
    "ingress": ({"hosts": [HOST]}, [HOST, *SERVICE_NAMES], []),
    "gateway": (
        {"hosts": [HOST], "gateway": {"name": "shared", "namespace": "gateway-system"}},
        [HOST, *SERVICE_NAMES],
        [],
    ),
}
CASES = [(mode, algorithm) for mode in MODES for algorithm in ("RSA", "ECDSA")]


@pytest.fixture(scope="session")
def registry_tools() -> None:
    require(REGISTRY, SKOPEO)


class Served:
    """A deployed cache, its pod on disk and its server running."""

    def __init__(self, d: Deployment, pod: Pod, server: Registry) -> None:
        self.d, self.pod, self.server = d, pod, server
        self.ca: str = d.outputs["ca_cert_pem"].value

    def get(self, name: str, path: str = "/v2/", method: str = "GET", **kw: Any) -> Response:
        """A request to the server dialled as `name`, trusting only the cache's caCertPem."""
        return request(self.pod.port, name, self.ca, method, path, **kw)


def serve(
    tmp: Path,
    args: dict[str, Any],
    name: str = "edge",
    changed: Callable[[dict[str, Any]], dict[str, Any]] = without_downstream,
    extra_env: dict[str, str] | None = None,
) -> Served:
    """Deploy a cache, lay its pod out under `tmp` and serve it (config.yaml `changed`)."""
    d = cache(args, name=name)
    pod = lay_out(d, tmp)
    return Served(d, pod, Registry(pod, name, changed, extra_env))


@pytest.fixture(autouse=True)
def stop_what_the_test_started() -> Iterator[None]:
    before = list(RUNNING)
    yield
    for process in [p for p in RUNNING if p not in before]:
        process.stop()


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{a}" for m, a in CASES])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    mode, algorithm = request.param
    args = {**MODES[mode][0], "exposure": mode, "tls_key_algorithm": algorithm, "metrics": True}
    s = serve(tmp_path_factory.mktemp(f"{mode}-{algorithm}"), args)
    yield s
    s.server.stop()


def _mode(request: pytest.FixtureRequest) -> str:
    return request.node.callspec.params["served"][0]


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _leaves(item, f"{prefix}{key}.").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{prefix}{i}.").items()
        }
    return {prefix.rstrip("."): value}


def _changed(before: Any, after: Any) -> set[str]:
    a, b = _leaves(before), _leaves(after)
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def test_the_server_runs_config_yaml_with_only_paths_addresses_and_middleware_changed(
    served: Served,
) -> None:
    written = served.pod.config
    assert _changed(written, served.pod.rewritten()) == {
        "http.addr", "http.debug.addr", "http.tls.certificate", "http.tls.key",
        "storage.filesystem.rootdirectory",
    }  # fmt: skip
    assert _changed(served.pod.rewritten(), served.server.config) == {
        k for k in _leaves(written) if k.startswith("middleware.")
    }


def test_every_san_the_component_writes_answers(
    served: Served, request: pytest.FixtureRequest
) -> None:
    cert = served_cert(served.d)
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = ext.get_values_for_type(x509.DNSName)
    addresses = [str(a) for a in ext.get_values_for_type(x509.IPAddress)]
    _, want_names, want_addresses = MODES[_mode(request)]
    assert (names, addresses) == (want_names, want_addresses)
    for name in [*names, *addresses]:
        answer = served.get(name)
        assert (name, answer.status, answer.body) == (name, 200, b"{}")


@pytest.mark.parametrize("name", ["other.example.com", "example.com", "10.0.0.99", "::1"])
def test_a_name_outside_the_sans_is_refused(served: Served, name: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        served.get(name)


def test_upload_locations_carry_http_host(served: Served) -> None:
    url = served.d.outputs["url"].value
    assert served.server.config["http"]["host"] == url
    started = served.get(HOST, "/v2/library/probe/blobs/uploads/", "POST")
    assert started.status == 202
    assert started.headers["Location"].startswith(f"{url}/v2/library/probe/blobs/uploads/")


def test_blobs_can_be_deleted(served: Served) -> None:
    # blobttl expires blobs by deleting them: the cache needs storage.delete.enabled.
    blob = push_blob(served.pod.port, HOST, served.ca, "library/gone", b"layer")
    path = f"/v2/library/gone/blobs/{blob}"
    assert served.get(HOST, path, "DELETE").status == 202
    assert served.get(HOST, path).status == 404


def test_metrics_and_health_answer_on_the_metrics_port(served: Served) -> None:
    port = served.pod.metrics_port
    assert port is not None
    path = served.pod.config["http"]["debug"]["prometheus"]["path"]
    served.get(HOST)  # counted by distribution's own request metrics
    metrics = plain(port, path)
    assert metrics.status == 200
    assert b'registry_http_requests_total{code="200",handler="base",method="get"}' in metrics.body
    health = plain(port, "/debug/health")
    assert (health.status, health.body) == (200, b"{}")


def test_the_metrics_port_also_serves_go_debug_pages_in_plain_http(served: Served) -> None:
    # What docs/deploy.md warns of: the network policy admits only metricsNamespace to this port.
    port = served.pod.metrics_port
    assert port is not None
    assert plain(port, "/debug/vars").status == 200
    assert plain(port, "/debug/pprof/").status == 200


def test_the_kubelets_probes_pass(served: Served) -> None:
    (container,) = pod_spec(served.d)["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    here = {rc.CONTAINER_PORT: served.pod.port, rc.METRICS_PORT: served.pod.metrics_port}
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        port = here[ports[check["port"]]]
        assert port is not None
        assert probe_status(port, check["path"], check["scheme"]) == 200, probe


def test_the_http_secret_from_the_secret_signs_upload_state(served: Served) -> None:
    secret = served.pod.env["REGISTRY_HTTP_SECRET"]
    started = served.get(HOST, "/v2/library/probe/blobs/uploads/", "POST")
    (state,) = parse_qs(urlsplit(started.headers["Location"]).query)["_state"]
    token = base64.urlsafe_b64decode(state)
    mac, message = token[:32], token[32:]
    assert hmac.compare_digest(mac, hmac.new(secret.encode(), message, hashlib.sha256).digest())
    assert json.loads(message)["Name"] == "library/probe"
    assert "No HTTP secret provided" not in served.server.log.read_text()


# Each key the component writes, shown to take effect by what the server does without it.
NODE_PORT = {"hosts": [HOST], "port": 30443, "tls_key_algorithm": "ECDSA"}


def _without(*path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The stand-in config.yaml without the key at `path`."""

    def change(config: dict[str, Any]) -> dict[str, Any]:
        changed = without_downstream(config)
        parent = changed
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return changed

    return change


def test_without_delete_enabled_the_server_refuses_deletes(tmp_path: Path) -> None:
    s = serve(tmp_path, NODE_PORT, changed=_without("storage", "delete"))
    blob = push_blob(s.pod.port, HOST, s.ca, "library/kept", b"layer")
    answer = s.get(HOST, f"/v2/library/kept/blobs/{blob}", "DELETE")
    assert (answer.status, json.loads(answer.body)["errors"][0]["code"]) == (405, "UNSUPPORTED")


def test_without_http_host_locations_name_whatever_host_the_client_dialled(tmp_path: Path) -> None:
    s = serve(tmp_path, NODE_PORT, changed=_without("http", "host"))
    started = s.get("dtr-cache.dtr.svc", "/v2/library/probe/blobs/uploads/", "POST")
    assert started.headers["Location"].startswith("https://dtr-cache.dtr.svc/v2/")


@pytest.mark.parametrize(("level", "seen", "unseen"), [
    ("debug", "level=debug", None), ("info", "level=info", "level=debug"),
    ("warn", None, "level=info"),
])  # fmt: skip
def test_log_level_sets_what_the_server_logs(
    tmp_path: Path, level: str, seen: str | None, unseen: str | None
) -> None:
    s = serve(tmp_path, {**NODE_PORT, "log_level": level})
    s.get(HOST)
    s.server.stop()
    log = s.server.log.read_text()
    assert seen is None or seen in log
    assert unseen is None or unseen not in log


# HA: replicas share the claim, and an upload may continue on any replica.
HA = {**NODE_PORT, "replicas": 2, "storage_size": "1Gi", "storage_access_mode": "ReadWriteMany"}


def _replica(d: Deployment, root: Path, name: str, secret: bool = True) -> Registry:
    """One replica of `d`'s pod on the claim they share (under `root`), served; without its
    http secret with `secret=False`, as when each replica makes its own."""
    claims = {d.one(PVC).outputs["metadata"]["name"]: root / "claim"}
    pod = lay_out(d, root / name, claims)
    if not secret:
        del pod.env["REGISTRY_HTTP_SECRET"]
    return Registry(pod, name, without_downstream)


def _continue_upload(first: Registry, second: Registry, ca: str) -> Response:
    """Start an upload on `first`; send its data and finish it on `second`."""
    started = request(first.pod.port, HOST, ca, "POST", "/v2/library/ha/blobs/uploads/")
    data = b"begun on one replica, finished on the other"
    path = location_path(started.headers["Location"])
    return request(second.pod.port, HOST, ca, "PUT", f"{path}&digest={digest(data)}", body=data,
                   headers={"Content-Type": "application/octet-stream"})  # fmt: skip


def test_replicas_sharing_the_http_secret_finish_each_others_uploads(tmp_path: Path) -> None:
    d = cache(HA)
    ca = d.outputs["ca_cert_pem"].value
    a, b = _replica(d, tmp_path, "a"), _replica(d, tmp_path, "b")
    finished = _continue_upload(a, b, ca)
    assert finished.status == 201, finished
    blob = finished.headers["Docker-Content-Digest"]
    assert request(a.pod.port, HOST, ca, path=f"/v2/library/ha/blobs/{blob}").status == 200


def test_replicas_with_secrets_of_their_own_cannot(tmp_path: Path) -> None:
    # Without the shared Secret each replica makes a random secret, as distribution does.
    d = cache(HA)
    a, b = _replica(d, tmp_path, "a"), _replica(d, tmp_path, "b", secret=False)
    assert "No HTTP secret provided - generated random secret" in b.log.read_text()
    refused = _continue_upload(a, b, d.outputs["ca_cert_pem"].value)
    assert json.loads(refused.body)["errors"][0]["code"] == "BLOB_UPLOAD_INVALID", refused


# A chain: an "upstream MSR" (a second cache, served as a plain registry) behind the cache.
ORIGIN = "msr.example.com:30443"
IMAGE = "library/hello:1"


class Chain:
    """The upstream with an image pushed, the cache pulling through it, and the names both are
    dialled by routed to them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names = Names()
        origin = serve(root / "msr", {"hosts": ["msr.example.com"], "port": 30443}, "msr")
        self.origin = origin
        self.names.route(ORIGIN, origin.pod.port)
        self.image = oci_image(root / "image", "1", b"hello through the cache\\n")
        pushed = self.skopeo("copy", "--dest-cert-dir", cert_dir(root / "msr-ca", origin.ca),
                             f"oci:{root / 'image'}:1", f"docker://{ORIGIN}/{IMAGE}")  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        args = {**NODE_PORT, "upstreams": [f"https://{ORIGIN}"], "upstream_ca_cert": origin.ca}
        d = cache(args)
        pod = lay_out(d, root / "edge")
        self.cache = Served(d, pod, pull_through(pod, "edge", self.names.env))
        self.names.route(HOST + ":30443", pod.port)

    def skopeo(self, *args: str) -> Any:
        return skopeo(*args, env=self.names.env, home=self.root)

    def pull(self, into: str) -> Any:
        """Copy the image through the cache, trusting only the cache's CA."""
        return self.skopeo(
            "copy", "--src-cert-dir", cert_dir(self.root / "edge-ca", self.cache.ca),
            f"docker://{HOST}:30443/{IMAGE}", f"oci:{self.root / into}:1",
        )  # fmt: skip


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    c = Chain(tmp_path)
    yield c
    c.names.close()


def test_an_image_pulls_through_the_cache_from_its_upstream(chain: Chain) -> None:
    pulled = chain.pull("pulled")
    assert pulled.returncode == 0, pulled.stderr
    index = json.loads((chain.root / "pulled" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == chain.image["manifest"]


def test_pulled_blobs_land_under_the_caches_rootdirectory(chain: Chain) -> None:
    assert chain.pull("pulled").returncode == 0
    for part in ("layer", "config"):
        data = stored(chain.cache.pod, chain.image[part])
        assert data.exists(), part
        assert digest(data.read_bytes()) == chain.image[part]


def test_what_was_cached_is_served_with_the_upstream_stopped(chain: Chain) -> None:
    assert chain.pull("pulled").returncode == 0
    # Both blobs: the config blob is stored in the background too, and may land after the layer.
    for part in ("layer", "config"):
        assert stored(chain.cache.pod, chain.image[part]).exists(), part
    chain.origin.server.stop()
    again = chain.pull("again")
    assert again.returncode == 0, again.stderr
    index = json.loads((chain.root / "again" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == chain.image["manifest"]
    # Not a leftover: what the cache never pulled is gone with the upstream.
    missing = chain.skopeo(
        "inspect",
        "--cert-dir",
        str(chain.root / "edge-ca"),
        f"docker://{HOST}:30443/library/other:1",
    )
    assert missing.returncode != 0


# S3: moto's S3 API as the endpoint, with IAM authentication on.
def s3_args(s3: S3) -> dict[str, Any]:
    return {**NODE_PORT, "object_storage": s3.storage()}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    with running(Moto(tmp_path_factory.mktemp("moto"), setup_actions=3)) as moto:
        yield S3(moto)


def test_the_s3_config_takes_pushes_and_pulls(s3: S3, tmp_path: Path) -> None:
    s = serve(tmp_path, s3_args(s3))
    blob = push_blob(s.pod.port, HOST, s.ca, "library/s3", b"an s3 layer")
    pulled = s.get(HOST, f"/v2/library/s3/blobs/{blob}")
    assert (pulled.status, pulled.body) == (200, b"an s3 layer")
    hexdigest = blob.removeprefix("sha256:")
    assert f"docker/registry/v2/blobs/sha256/{hexdigest[:2]}/{hexdigest}/data" in s3.objects()


def test_s3_credentials_reach_the_server_only_from_the_storage_secret(
    s3: S3, tmp_path: Path
) -> None:
    s = serve(tmp_path, s3_args(s3))
    storage = s.pod.config["storage"]["s3"]
    assert "accesskey" not in storage and "secretkey" not in storage
    assert s3.secret not in (s.pod.path("/config/config.yaml")).read_text()
    env = {e["name"]: e for e in pod_spec(s.d)["containers"][0]["env"]}
    for name in ("REGISTRY_STORAGE_S3_ACCESSKEY", "REGISTRY_STORAGE_S3_SECRETKEY"):
        assert "secretKeyRef" in env[name]["valueFrom"]
    assert s.pod.env["REGISTRY_STORAGE_S3_SECRETKEY"] == s3.secret


def test_a_wrong_s3_secret_key_fails(s3: S3, tmp_path: Path) -> None:
    s = serve(tmp_path, s3_args(s3), extra_env={"REGISTRY_STORAGE_S3_SECRETKEY": "wrong"})
    started = s.get(HOST, "/v2/library/s3/blobs/uploads/", "POST")
    assert started.status == 500
    assert "SignatureDoesNotMatch" in s.server.log.read_text()


def test_without_redirect_disable_the_server_sends_clients_to_the_bucket(
    s3: S3, tmp_path: Path
) -> None:
    s = serve(tmp_path, s3_args(s3), changed=_without("storage", "redirect"))
    blob = push_blob(s.pod.port, HOST, s.ca, "library/s3", b"a redirected layer")
    answer = s.get(HOST, f"/v2/library/s3/blobs/{blob}")
    assert answer.status == 307
    assert answer.headers["Location"].startswith(
        s3.moto.url + f"/{s3.bucket}/docker/registry/v2/blobs/"
    )


# A CA rotation, as a client sees it: the bundle of step one verifies the server of step two.
def test_clients_holding_step_ones_bundle_verify_the_cache_after_step_two(tmp_path: Path) -> None:
    step_one = cache({**NODE_PORT, "next_ca": True})
    bundle = step_one.outputs["ca_cert_pem"].value
    step_two = serve(tmp_path, {**NODE_PORT, "ca_generation": 2})
    assert request(step_two.pod.port, HOST, bundle).status == 200
    # Without step one, a client that only ever had the first CA would be cut off.
    first_only = cache(NODE_PORT).outputs["ca_cert_pem"].value
    with pytest.raises(ssl.SSLCertVerificationError):
        request(step_two.pod.port, HOST, first_only)
