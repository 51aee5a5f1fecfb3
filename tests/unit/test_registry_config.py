"""The config.yaml the cache reads, as distribution and MSR's downstream middleware take it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from harness import MSR, SECRET, UPSTREAMS, cache, config_yaml, pod_spec, upstream_ca

from components.inputs import go_url
from components.objects import registry_config as rc


def written(trusts_upstream_ca: bool, log_level: str = "info") -> dict[str, Any]:
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
    config = written(trusts_upstream_ca=False, log_level="debug")
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
    trusting = written(trusts_upstream_ca=True)["middleware"]["registry"][0]["options"]
    assert trusting["cas"] == ["/certs/msr.cert.pem"]
    plain = written(trusts_upstream_ca=False)["middleware"]["registry"][0]["options"]
    assert "cas" not in plain


@pytest.mark.parametrize("trusts_upstream_ca", [True, False])
def test_registry_config_holds_no_secret(trusts_upstream_ca: bool) -> None:
    config = written(trusts_upstream_ca)
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


def test_config_yaml_is_what_the_cache_reads():
    d = cache(
        {
            "hosts": ["n1.example.com"],
            "port": 30443,
            "blob_ttl": "1h30m",
            "log_level": "debug",
            "upstreams": [MSR, "https://msr2.example.com:8443"],
        }
    )
    config = config_yaml(d)
    assert config["version"] == 0.1
    assert config["log"]["level"] == "debug"
    assert config["storage"] == {
        "delete": {"enabled": True},
        "filesystem": {"rootdirectory": "/var/lib/registry"},
    }
    assert config["http"]["tls"] == {
        "certificate": "/certs/cache.cert.pem",
        "key": "/certs/cache.key.pem",
    }
    (middleware,) = config["middleware"]["registry"]
    assert middleware == {
        "name": "downstream",
        "options": {"blobttl": "1h30m", "upstreams": [MSR, "https://msr2.example.com:8443"]},
    }
    # The cache listens where the container port and probes point.
    port = pod_spec(d)["containers"][0]["ports"][0]["containerPort"]
    assert config["http"]["addr"] == f":{port}"


def test_config_yaml_holds_upstreams_in_lower_case():
    """Host names are case-insensitive: the cache dials, and verifies TLS for, the host in lower
    case whatever its spelling, so config.yaml holds that one spelling (issue 25)."""
    d = cache({"hosts": ["n1.example.com"], "port": 30443,
               "upstreams": ["HTTPS://MSR.Example.com/", "https://Cache.Central.Example.com:8443"]})  # fmt: skip
    options = config_yaml(d)["middleware"]["registry"][0]["options"]
    assert options["upstreams"] == [MSR, "https://cache.central.example.com:8443"]
    policy = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy["egress"][1]["ports"] == [
        {"port": 443, "protocol": "TCP"}, {"port": 8443, "protocol": "TCP"},
    ]  # fmt: skip


def test_upstream_ca_is_trusted_through_the_secret():
    ca = upstream_ca()
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "upstream_ca_cert": ca})
    assert config_yaml(d)["middleware"]["registry"][0]["options"]["cas"] == ["/certs/msr.cert.pem"]
    assert d.one(SECRET).inputs["stringData"]["msr.cert.pem"] == ca
    mounts = {m["mountPath"]: m for m in pod_spec(d)["containers"][0]["volumeMounts"]}
    assert mounts["/certs"]["readOnly"] is True


# A proxy variable as Go's httpproxy.parseProxy and net/http's transport read it (cases ours, by
# the rules registry_config names): (value, scheme, host, port) or None where Go cannot use it.
@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("http://proxy.example:3128", ("http", "proxy.example", 3128)),
        # url.Parse reads a scheme "proxy.example" and no host: then "http://" + it
        ("proxy.example:3128", ("http", "proxy.example", 3128)),
        ("proxy.example", ("http", "proxy.example", 80)),  # no scheme: "http://" + it
        ("https://proxy.example", ("https", "proxy.example", 443)),
        ("socks5://10.0.0.1", ("socks5", "10.0.0.1", 1080)),
        ("socks5h://socks.example:1081", ("socks5h", "socks.example", 1081)),
        ("http://[fd00::1]:3128", ("http", "fd00::1", 3128)),
        ("ftp://proxy.example", None),  # the transport takes no ftp proxy
        (" http://proxy.example", None),  # both readings refused: the first error stands
        ("http://proxy.example:70000", None),
        ("//:3128", None),  # no host to dial
        # Written with a scheme, not readable as written: Go reads "http://" + it, whose host
        # is the scheme (`http:`), and dials port 80 (tests/unit/test_go_url.py shows it). Refused.
        ("http://proxy.example:3128:3128", None),
        ("http://[proxy.example]:3128", None),
        ("http:///", None),
        ("[fd00::1]:3128", ("http", "fd00::1", 3128)),  # no scheme: "http://" + it
    ],
)
def test_a_proxy_is_read_as_go_reads_it(value: str, read: tuple[str, str, int] | None) -> None:
    if read is None:
        with pytest.raises(go_url.GoURLError):
            go_url.proxy_url(value)
        return
    url = go_url.proxy_url(value)
    assert (url.scheme, url.hostname, go_url.proxy_port(url)) == read


def test_the_proxy_variable_go_reads_is_upper_case_first_and_not_empty() -> None:
    env = {"HTTPS_PROXY": "", "https_proxy": "a.example:1", "HTTP_PROXY": "b.example:2",
           "http_proxy": "c.example:3"}  # fmt: skip
    assert go_url.proxy_variables(env) == ["https_proxy", "HTTP_PROXY"]
