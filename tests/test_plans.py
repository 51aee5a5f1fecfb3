"""The pure plans: registry config, certificate SANs, exposure and the pod spec, without Pulumi."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from components import certificates, exposure, workload
from components import registry_config as rc
from components.exposure import MODES
from components.model import Exposure
from components.settings import Settings, parse

UPSTREAMS = ["https://msr-b.example.com", "https://msr-a.example.com:8443"]


def settings(**changes: Any) -> Settings:
    """A nodePort cache on node1.example.com:30443, with `changes` (camelCase config keys)."""
    return parse({"upstreams": UPSTREAMS, "hosts": ["node1.example.com"], "port": 30443, **changes})


# --- registry config ---------------------------------------------------------------------------


def config_yaml(trusts_upstream_ca: bool, log_level: str = "info") -> dict[str, Any]:
    text = rc.dump(
        rc.registry_config(
            log_level=log_level,
            host_url="https://node1.example.com:30443",
            blob_ttl="1h30m",
            upstreams=UPSTREAMS,
            trusts_upstream_ca=trusts_upstream_ca,
        )
    )
    return yaml.safe_load(text)


def keys(tree: Any) -> Iterator[str]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield str(key)
            yield from keys(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from keys(item)


def test_registry_config_is_what_the_cache_reads() -> None:
    config = config_yaml(trusts_upstream_ca=False, log_level="debug")
    assert config["version"] == 0.1
    assert config["log"] == {"level": "debug"}
    assert config["storage"] == {
        "delete": {"enabled": True},
        "filesystem": {"rootdirectory": "/var/lib/registry"},
    }
    assert config["http"] == {
        "addr": ":8443",
        "host": "https://node1.example.com:30443",
        "tls": {"certificate": "/certs/cache.cert.pem", "key": "/certs/cache.key.pem"},
    }
    (middleware,) = config["middleware"]["registry"]
    assert middleware["name"] == "downstream"
    assert middleware["options"]["blobttl"] == "1h30m"
    assert middleware["options"]["upstreams"] == UPSTREAMS


def test_registry_config_trusts_msr_ca_only_when_given() -> None:
    trusting = config_yaml(trusts_upstream_ca=True)["middleware"]["registry"][0]["options"]
    assert trusting["cas"] == ["/certs/msr.cert.pem"]
    plain = config_yaml(trusts_upstream_ca=False)["middleware"]["registry"][0]["options"]
    assert "cas" not in plain


@pytest.mark.parametrize("trusts_upstream_ca", [True, False])
def test_registry_config_holds_no_secret(trusts_upstream_ca: bool) -> None:
    config = config_yaml(trusts_upstream_ca)
    assert "secret" not in set(keys(config))
    assert "secret" not in config["http"]


def test_registry_config_dump_keeps_the_docs_order() -> None:
    text = rc.dump(
        rc.registry_config(
            log_level="info",
            host_url="https://cache.example.com",
            blob_ttl="24h",
            upstreams=UPSTREAMS,
            trusts_upstream_ca=False,
        )
    )
    top = [line.split(":")[0] for line in text.splitlines() if line and not line[0].isspace()]
    assert top == ["version", "log", "storage", "http", "middleware"]


# --- certificate SANs ---------------------------------------------------------------------------

SERVICE_NAMES = ("dtr-cache.dtr.svc", "dtr-cache.dtr.svc.cluster.local")


def test_sans_split_names_from_addresses() -> None:
    sans = certificates.subject_alt_names(
        ["node1.example.com", "10.0.0.5", "fd00::1", "node2.example.com"], "dtr-cache", "dtr"
    )
    assert sans.dns_names == ("node1.example.com", "node2.example.com", *SERVICE_NAMES)
    assert sans.ip_addresses == ("10.0.0.5", "fd00::1")
    assert sans.common_name == "node1.example.com"


@pytest.mark.parametrize("hosts", [[], ["10.0.0.5"], ["cache.example.com"]])
def test_sans_always_hold_the_service_names(hosts: list[str]) -> None:
    sans = certificates.subject_alt_names(hosts, "cache", "region-asia")
    assert sans.dns_names[-2:] == ("cache.region-asia.svc", "cache.region-asia.svc.cluster.local")


@pytest.mark.parametrize(
    ("address", "dns_names", "ip_addresses"),
    [
        ("203.0.113.7", ("cache.example.com", *SERVICE_NAMES), ("203.0.113.7",)),
        ("2001:db8::7", ("cache.example.com", *SERVICE_NAMES), ("2001:db8::7",)),
        ("lb-1.elb.example.com", ("cache.example.com", "lb-1.elb.example.com", *SERVICE_NAMES), ()),
        (None, ("cache.example.com", *SERVICE_NAMES), ()),
    ],
    ids=["ipv4", "ipv6", "hostname", "none"],
)
def test_sans_hold_the_load_balancer_address(
    address: str | None, dns_names: tuple[str, ...], ip_addresses: tuple[str, ...]
) -> None:
    sans = certificates.subject_alt_names(["cache.example.com"], "dtr-cache", "dtr", address)
    assert sans.dns_names == dns_names
    assert sans.ip_addresses == ip_addresses


def test_sans_without_hosts_name_the_load_balancer() -> None:
    sans = certificates.subject_alt_names([], "dtr-cache", "dtr", "lb-1.elb.example.com")
    assert sans.common_name == "lb-1.elb.example.com"


def test_sans_are_unique_in_order() -> None:
    sans = certificates.subject_alt_names(
        [
            "b.example.com",
            "10.0.0.2",
            "a.example.com",
            "b.example.com",
            "10.0.0.2",
            "dtr-cache.dtr.svc",
        ],
        "dtr-cache",
        "dtr",
        "a.example.com",
    )
    assert sans.dns_names == ("b.example.com", "a.example.com", *SERVICE_NAMES)
    assert sans.ip_addresses == ("10.0.0.2",)


def test_common_name_is_the_first_host_even_an_ip() -> None:
    sans = certificates.subject_alt_names(["10.0.0.5", "node1.example.com"], "dtr-cache", "dtr")
    assert sans.common_name == "10.0.0.5"


# --- exposure: URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exposure_", "hosts", "port", "lb", "expected"),
    [
        (Exposure.NODE_PORT, ["node1.example.com"], 30443, None, "https://node1.example.com:30443"),
        (Exposure.NODE_PORT, ["node1.example.com"], 443, None, "https://node1.example.com:443"),
        (Exposure.NODE_PORT, ["fd00::1"], 30443, None, "https://[fd00::1]:30443"),
        (Exposure.NODE_PORT, ["10.0.0.5", "n2.example.com"], 32000, None, "https://10.0.0.5:32000"),
        (Exposure.HOST_PORT, ["node1.example.com"], 443, None, "https://node1.example.com"),
        (Exposure.HOST_PORT, ["node1.example.com"], 8443, None, "https://node1.example.com:8443"),
        (Exposure.HOST_PORT, ["fd00::1"], 443, None, "https://[fd00::1]"),
        (
            Exposure.LOAD_BALANCER,
            ["cache.example.com"],
            443,
            "203.0.113.7",
            "https://cache.example.com",
        ),
        (Exposure.LOAD_BALANCER, [], 443, "203.0.113.7", "https://203.0.113.7"),
        (Exposure.LOAD_BALANCER, [], 8443, "lb.example.net", "https://lb.example.net:8443"),
        (Exposure.LOAD_BALANCER, [], 443, "2001:db8::7", "https://[2001:db8::7]"),
        (Exposure.LOAD_BALANCER, [], 443, None, "https://dtr-cache.dtr.svc"),
        (
            Exposure.INGRESS,
            ["cache.example.com", "c2.example.com"],
            443,
            None,
            "https://cache.example.com",
        ),
    ],
    ids=[
        "nodeport",
        "nodeport-443-kept",
        "nodeport-ipv6",
        "nodeport-first-host",
        "hostport-443",
        "hostport-8443",
        "hostport-ipv6",
        "lb-host-first",
        "lb-address",
        "lb-hostname-port",
        "lb-ipv6",
        "lb-unassigned",
        "ingress",
    ],
)
def test_url_follows_the_exposure(
    exposure_: Exposure, hosts: list[str], port: int, lb: str | None, expected: str
) -> None:
    assert exposure.url(MODES[exposure_], hosts, port, "dtr-cache", "dtr", lb) == expected


def test_url_of_settings() -> None:
    s = settings(exposure="ingress", port=None, hosts=["cache.example.com"])
    assert exposure.url(s.mode, s.hosts, s.port, s.name, s.namespace) == (
        "https://cache.example.com"
    )


# --- exposure: Service, container port, Ingress -----------------------------------------------

SELECTOR = {"app.kubernetes.io/name": "msr-cache", "app.kubernetes.io/instance": "dtr-cache"}


@pytest.mark.parametrize(
    ("exposure_", "kind", "service_port"),
    [
        (Exposure.NODE_PORT, "NodePort", 443),
        (Exposure.HOST_PORT, "ClusterIP", 443),
        (Exposure.LOAD_BALANCER, "LoadBalancer", 30443),
        (Exposure.INGRESS, "ClusterIP", 443),
    ],
)
def test_service_follows_the_exposure(exposure_: Exposure, kind: str, service_port: int) -> None:
    spec = exposure.service_spec(MODES[exposure_], 30443, SELECTOR)
    assert spec["type"] == kind
    assert spec["selector"] == SELECTOR
    (port,) = spec["ports"]
    assert port["port"] == service_port
    assert port["targetPort"] == exposure.PORT_NAME == "https"
    assert port["protocol"] == "TCP"
    if exposure_ is Exposure.NODE_PORT:
        assert port["nodePort"] == 30443
    else:
        assert "nodePort" not in port


@pytest.mark.parametrize("exposure_", list(Exposure))
def test_container_binds_the_host_port_only_with_host_port(exposure_: Exposure) -> None:
    port = MODES[exposure_].container_port(9443)
    assert port["name"] == "https"
    assert port["containerPort"] == 8443  # the cache listens on 8443 whatever clients dial
    if exposure_ is Exposure.HOST_PORT:
        assert port["hostPort"] == 9443
    else:
        assert "hostPort" not in port


HOSTS = ("cache.example.com", "cache.example.org")


def test_ingress_routes_to_the_https_port() -> None:
    spec = MODES[Exposure.INGRESS].ingress_spec(HOSTS, "nginx", "dtr-cache")
    assert spec["ingressClassName"] == "nginx"
    assert spec["rules"]
    for rule in spec["rules"]:
        (path,) = rule["http"]["paths"]
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        assert path["backend"] == {"service": {"name": "dtr-cache", "port": {"name": "https"}}}
    assert "tls" not in spec  # passthrough: the cache terminates TLS itself


def test_ingress_has_one_rule_per_host() -> None:
    spec = MODES[Exposure.INGRESS].ingress_spec(HOSTS, "nginx", "dtr-cache")
    assert [rule["host"] for rule in spec["rules"]] == list(HOSTS)


@pytest.mark.parametrize(
    ("status", "address"),
    [
        ({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}, "203.0.113.7"),
        ({"loadBalancer": {"ingress": [{"hostname": "lb.example.net"}]}}, "lb.example.net"),
        ({"load_balancer": {"ingress": [{"ip": "203.0.113.7"}]}}, "203.0.113.7"),
        ({"loadBalancer": {"ingress": [{}, {"hostname": "lb.example.net"}]}}, "lb.example.net"),
        ({"loadBalancer": {"ingress": []}}, None),
        ({"loadBalancer": {"ingress": None}}, None),
        ({"loadBalancer": {}}, None),
        ({"loadBalancer": None}, None),
        ({}, None),
        (None, None),
    ],
    ids=[
        "ip",
        "hostname",
        "snake-case",
        "first-with-address",
        "empty-ingress",
        "null-ingress",
        "no-ingress",
        "null-lb",
        "empty-status",
        "no-status",
    ],
)
def test_load_balancer_address_from_status(
    status: Mapping[str, Any] | None, address: str | None
) -> None:
    assert exposure.load_balancer_address(status) == address


# --- workload ---------------------------------------------------------------------------------


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
