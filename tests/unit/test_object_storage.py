"""Object storage for the blobs: the driver's config.yaml section, credentials kept in a Secret."""

from __future__ import annotations

import json

import pulumi
import pytest
from harness import (
    NODE_PORT,
    S3,
    SECRET,
    cache,
    config_yaml,
    container,
    named,
    pod_spec,
    rejected,
)


def test_s3_holds_the_blobs_and_its_keys_stay_secret():
    d = cache({**NODE_PORT, "object_storage": S3, "replicas": 3})
    storage = config_yaml(d)["storage"]
    assert storage == {
        "delete": {"enabled": True},
        "s3": {"region": "eu-west-1", "bucket": "msr-cache"},
        "redirect": {"disable": True},
    }
    credentials = named(d, "edge-storage")
    assert credentials.inputs["stringData"] == {
        "s3-accesskey": "AKIAEXAMPLE",
        "s3-secretkey": "s3-secret-value",
    }
    assert "stringData" in credentials.secret_paths
    env = {e["name"]: e for e in container(d)["env"]}
    for key in ("ACCESSKEY", "SECRETKEY"):
        ref = env[f"REGISTRY_STORAGE_S3_{key}"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": credentials.outputs["metadata"]["name"], "key": f"s3-{key.lower()}"}
    assert "s3-secret-value" not in json.dumps([r.inputs for r in d.resources if r.typ != SECRET])
    assert not d.all("kubernetes:core/v1:PersistentVolumeClaim")
    assert "/var/lib/registry" not in {m["mountPath"] for m in container(d)["volumeMounts"]}
    assert d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["replicas"] == 3


def test_gcs_key_file_is_mounted_where_config_yaml_points():
    d = cache(
        {
            **NODE_PORT,
            "object_storage": {"driver": "gcs", "bucket": "b", "keyfile": '{"type": "x"}'},
        }
    )
    assert config_yaml(d)["storage"]["gcs"] == {
        "bucket": "b",
        "keyfile": "/storage-credentials/gcs-keyfile.json",
    }
    mounts = {m["mountPath"]: m for m in container(d)["volumeMounts"]}
    assert mounts["/storage-credentials"]["readOnly"] is True
    volume = next(
        v for v in pod_spec(d)["volumes"] if v["name"] == mounts["/storage-credentials"]["name"]
    )
    assert volume["secret"]["items"] == [{"key": "gcs-keyfile.json", "path": "gcs-keyfile.json"}]
    assert named(d, "edge-storage").inputs["stringData"] == {"gcs-keyfile.json": '{"type": "x"}'}
    assert not [e for e in container(d)["env"] if e["name"].startswith("REGISTRY_STORAGE")]


def test_azure_account_key_reaches_the_container_from_the_secret():
    azure = {
        "driver": "azure",
        "accountname": "acct",
        "accountkey": "azure-key",
        "container": "blobs",
    }
    d = cache({**NODE_PORT, "object_storage": azure})
    assert config_yaml(d)["storage"]["azure"] == {"accountname": "acct", "container": "blobs"}
    names = [e["name"] for e in container(d)["env"]]
    assert "REGISTRY_STORAGE_AZURE_ACCOUNTKEY" in names


def test_storage_credentials_may_be_outputs_of_other_resources():
    d = cache(
        {**NODE_PORT, "object_storage": {**S3, "secretkey": pulumi.Output.secret("from-iam")}}
    )
    assert named(d, "edge-storage").inputs["stringData"]["s3-secretkey"] == "from-iam"


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ({"driver": "oss", "bucket": "b"}, "driver one of s3, azure, gcs, swift"),
        ({"driver": "s3", "bucket": "b"}, "missing region"),
        ({**S3, "regoin": "x"}, "unknown regoin"),
        ({"driver": "swift", "username": "u", "authurl": "https://k.example.com", "container": "c"}, "missing password"),
        ({**S3, "secretkey": ""}, "credential secretkey"),
        ({**S3, "bucket": ["b"]}, "parameter bucket"),
        ("s3://bucket", "an object {driver"),
    ],
    ids=["unknown-driver", "missing-region", "unknown-parameter", "swift-password", "empty-credential",
         "list-parameter", "not-an-object"],
)  # fmt: skip
def test_object_storage_mistakes_are_named(storage, expected):
    err = rejected({**NODE_PORT, "object_storage": storage})
    assert err.keys == ("objectStorage",) and expected in str(err)
    assert "s3-secret-value" not in str(err) and "AKIAEXAMPLE" not in str(err)


def test_object_storage_takes_no_claim():
    err = rejected({**NODE_PORT, "object_storage": S3, "storage_size": "10Gi"})
    assert err.keys == ("storageSize",)


@pytest.mark.parametrize("endpoint", [
    "https://AKIAEXAMPLE:s3-secret-value@s3.example.com",
    "https://AKIAEXAMPLE@s3.example.com",
    "http://AKIAEXAMPLE:s3-secret-value@minio.example.com:9000/",
])  # fmt: skip
def test_credentials_in_an_endpoint_are_refused_not_written_into_the_config_map(endpoint):
    err = rejected({**NODE_PORT, "object_storage": {**S3, "regionendpoint": endpoint}})
    assert err.keys == ("objectStorage",)
    assert "without credentials" in str(err) and "accesskey and secretkey" in str(err)
    assert "s3-secret-value" not in str(err) and "AKIAEXAMPLE" not in str(err)


@pytest.mark.parametrize("endpoint", [
    " https://s3.example.com",  # Go refuses it; Python's urlsplit would strip the space
    "https://s3.exa\tmple.com",
    "https://s3.example.com:99999",
    "https://s3.example.com:",
    "s3.example.com",
    "ftp://s3.example.com",
])  # fmt: skip
def test_an_endpoint_is_checked_as_the_driver_reads_it(endpoint):
    err = rejected({**NODE_PORT, "object_storage": {**S3, "regionendpoint": endpoint}})
    assert err.keys == ("objectStorage",)
    assert "regionendpoint as an http(s)://host[:port]" in str(err)


# Go 1.26's net/url, which the driver reads the endpoint with (issue 25); the Go of MSR's image,
# older, takes each of them (docs/configuration.md).
@pytest.mark.parametrize(("endpoint", "why"), [
    ("http://[minio.local]:9000", "brackets hold an IPv6 address and nothing else"),
    ("http://[10.0.0.9]:9000", "brackets hold an IPv6 address and nothing else"),
    ("http://minio.local[::1]:9000", "a `[` only at the start of the host"),
    ("http://minio.local:9000:9000", "one colon at most, before the port"),
    ("http://fd00::9:9000", "one colon at most, before the port"),
])  # fmt: skip
def test_an_endpoint_go_1_26_refuses_is_refused_saying_why(endpoint, why):
    err = rejected({**NODE_PORT, "object_storage": {**S3, "regionendpoint": endpoint}})
    assert err.keys == ("objectStorage",)
    assert "Go's net/url, which the cache uses" in str(err) and why in str(err)


def test_an_ipv6_endpoint_in_brackets_is_accepted_and_its_port_let_out():
    endpoint = "http://[fd00::9]:9000"
    d = cache({**NODE_PORT, "object_storage": {**S3, "regionendpoint": endpoint}})
    assert config_yaml(d)["storage"]["s3"]["regionendpoint"] == endpoint
    policy = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs
    assert {"port": 9000, "protocol": "TCP"} in policy["spec"]["egress"][1]["ports"]


def test_an_endpoint_is_written_as_it_was_checked_and_its_port_let_out():
    endpoint = "http://minio.example.com:9000"
    d = cache({**NODE_PORT, "object_storage": {**S3, "regionendpoint": endpoint}})
    assert config_yaml(d)["storage"]["s3"]["regionendpoint"] == endpoint
    policy = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs
    assert {"port": 9000, "protocol": "TCP"} in [
        port for rule in policy["spec"]["egress"] for port in rule.get("ports", [])
    ]
