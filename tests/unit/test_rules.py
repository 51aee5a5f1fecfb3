"""The rules across inputs: every conflict reported, each by the input it concerns."""

from __future__ import annotations

import json

import pytest
from harness import (
    ABSENT,
    BASE,
    refused,
    refused_as,
    with_changes,
)

from components.inputs.model import (
    DEFAULT_RESOURCES,
    AccessMode,
    Exposure,
)
from components.inputs.settings import parse
from render.stack_config import self_signed_pair

# These cases are written as stack config, so errors spell keys as msr-cache:<key>.
pytestmark = pytest.mark.usefixtures("stack_spelling")


def test_every_mistake_is_reported_at_once() -> None:
    err = refused(
        with_changes(
            {
                "upstreams": ["http://msr.example.com"],
                "hosts": ["bad_host", "node2.example.com"],
                "port": 0,
                "replicas": 0,
                "logLevel": "verbose",
                "blobTtl": "24",
            }
        )
    )
    assert set(err.keys) == {"upstreams", "hosts", "port", "replicas", "logLevel", "blobTtl"}
    assert len(err.keys) == len(err.problems) == 6
    for key in err.keys:
        assert f"msr-cache:{key}" in str(err)


def test_many_replicas_share_a_read_write_many_claim() -> None:
    s = parse(
        with_changes(
            {
                "replicas": 3,
                "storageSize": "100Gi",
                "storageAccessMode": "ReadWriteMany",
                "storageClass": "nfs",
            }
        )
    )
    assert s.replicas == 3
    assert s.storage is not None
    assert (s.storage.size, s.storage.access_mode, s.storage.storage_class) == (
        "100Gi",
        AccessMode.READ_WRITE_MANY,
        "nfs",
    )
    assert not s.storage.single_node


def test_many_replicas_without_a_claim_are_accepted() -> None:
    assert parse(with_changes({"replicas": 3})).replicas == 3


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_a_namespace_that_always_exists_is_not_created(namespace: str) -> None:
    err = refused({**BASE, "namespace": namespace})
    assert err.keys == ("createNamespace",)
    assert parse({**BASE, "namespace": namespace, "createNamespace": False}).namespace == namespace


@pytest.mark.parametrize(
    ("port", "node_ports"),
    [(80, None), (29999, None), (32768, None), (30443, "32768-35535"), (35536, "32768-35535")],
)
def test_a_node_port_outside_the_range_is_refused(port: int, node_ports: str | None) -> None:
    raw = {**BASE, "port": port, **({"nodePortRange": node_ports} if node_ports else {})}
    err = refused(raw)
    assert err.keys == ("port",)
    assert (node_ports or "30000-32767") in str(err)


def test_mkes_node_port_range_takes_its_ports() -> None:
    assert parse({**BASE, "port": 33000, "nodePortRange": "32768-35535"}).port == 33000


def test_node_port_range_only_with_node_port() -> None:
    raw = {**BASE, "exposure": "hostPort", "nodePortRange": "32768-35535"}
    assert refused(raw).keys == ("nodePortRange",)


def test_the_longest_name_with_metrics_still_names_its_metrics_service() -> None:
    assert parse({**BASE, "name": "a" * 55, "metrics": True}).name == "a" * 55


def test_requests_alone_keep_the_default_limits() -> None:
    s = parse({**BASE, "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}})
    assert s.resources["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert s.resources["limits"] == DEFAULT_RESOURCES["limits"]


def test_a_request_over_the_default_limit_says_so() -> None:
    err = refused({**BASE, "resources": {"requests": {"memory": "2Gi"}}})
    assert "requests.memory 2Gi at most limits.memory 1Gi (the default limit)" in str(err)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("asia", True), ("eu-west.1", True), ("Asia", False), ("my_stack", False), ("a" * 236, True),
     ("a" * 237, False)],
)  # fmt: skip
def test_the_resource_name_must_make_valid_auto_names(name: str, accepted: bool) -> None:
    if accepted:
        assert parse(BASE, resource_name=name).name == "dtr-cache"
    else:
        err = refused_as(BASE, resource_name=name)
        assert f"MsrCache resource name: got {json.dumps(name)[:60]}" in str(err)


def test_own_certificate_must_cover_every_host() -> None:
    cert, key = self_signed_pair("node1.example.com")
    err = refused({**BASE, "hosts": ["node1.example.com", "node2.example.com"], "tlsCert": cert,
                    "tlsKey": key})  # fmt: skip
    assert err.keys == ("tlsCert",)
    assert 'does not cover host "node2.example.com"' in str(err)


def test_load_balancer_needs_no_hosts() -> None:
    s = parse(with_changes({"exposure": "loadBalancer", "hosts": ABSENT, "port": ABSENT}))
    assert s.hosts == ()
    assert s.exposure is Exposure.LOAD_BALANCER


def test_an_upstream_ca_secret_needs_the_cluster_read() -> None:
    secret = {"upstreamCaSecret": {"namespace": "msr", "name": "msr-nginx-ca-cert"}}
    assert parse({**BASE, **secret}).upstream_ca_secret is not None
    err = refused({**BASE, **secret, "readCluster": False})
    assert err.keys == ("upstreamCaSecret",)
    assert "upstreamCaCert instead" in str(err)
