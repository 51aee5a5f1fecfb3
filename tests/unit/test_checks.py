"""Each input checked on its own, as the tool that reads it would (open-ended inputs with hypothesis)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import pytest
from harness import (
    ABSENT,
    BASE,
    CERT,
    KEY,
    refused,
    with_changes,
)
from hypothesis import given
from hypothesis import strategies as st

from components.inputs.model import (
    AccessMode,
    Exposure,
    KeyAlgorithm,
    LogLevel,
)
from components.inputs.settings import parse
from render.stack_config import self_signed_pair

_LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)

# These cases are written as stack config, so errors spell keys as msr-cache:<key>.
pytestmark = pytest.mark.usefixtures("stack_spelling")


DNS_NAMES = (
    st.lists(_LABEL, min_size=1, max_size=6)
    .filter(lambda labels: not labels[-1].isdigit())
    .map(".".join)
    .filter(lambda name: len(name) <= 253)
)


GO_UNITS = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]


QUANTITY_SUFFIXES = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E"]


@given(DNS_NAMES)
def test_any_dns_name_is_a_host(name: str) -> None:
    assert parse(with_changes({"hosts": [name]})).hosts == (name,)


@given(DNS_NAMES)
def test_any_dns_name_is_an_ingress_host(name: str) -> None:
    s = parse(with_changes({"exposure": "ingress", "port": ABSENT, "hosts": [name]}))
    assert s.hosts == (name,)


@given(st.ip_addresses())
def test_any_ip_is_a_host_in_compressed_form(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    s = parse(with_changes({"hosts": [address.exploded.upper()]}))
    assert s.hosts == (address.compressed,)


@given(st.lists(st.tuples(st.integers(1, 10_000), st.sampled_from(GO_UNITS)), min_size=1))
def test_any_go_duration_with_units_is_a_blob_ttl(parts: list[tuple[int, str]]) -> None:
    ttl = "".join(f"{number}{unit}" for number, unit in parts)
    assert parse(with_changes({"blobTtl": ttl})).blob_ttl == ttl


@given(st.integers())
def test_a_bare_number_is_never_a_blob_ttl(number: int) -> None:
    assert refused(with_changes({"blobTtl": str(number)})).keys == ("blobTtl",)


@given(st.integers(1, 10**6), st.sampled_from(QUANTITY_SUFFIXES))
def test_any_positive_quantity_is_a_storage_size(number: int, suffix: str) -> None:
    storage = parse(with_changes({"storageSize": f"{number}{suffix}"})).storage
    assert storage is not None
    assert storage.size == f"{number}{suffix}"


@given(st.integers(1, 10**6), st.sampled_from(QUANTITY_SUFFIXES))
def test_any_positive_quantity_is_a_resource_amount(number: int, suffix: str) -> None:
    amount = {"memory": f"{number}{suffix}"}
    s = parse(with_changes({"resources": {"requests": amount, "limits": amount}}))
    assert s.resources == {"requests": amount, "limits": amount}


def test_ip_hosts_are_normalised() -> None:
    s = parse(with_changes({"hosts": ["FD00:0:0::1", "10.0.0.1", "node1.example.com"]}))
    assert s.hosts == ("fd00::1", "10.0.0.1", "node1.example.com")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://msr.example.com/", "https://msr.example.com"),
        ("https://msr.example.com:8443/", "https://msr.example.com:8443"),
        ("https://cache.example.com:30443", "https://cache.example.com:30443"),
        ("https://10.0.0.1", "https://10.0.0.1"),
        ("https://[fd00::1]:443", "https://[fd00::1]:443"),
    ],
)
def test_upstream_urls_are_accepted_without_trailing_slash(given: str, kept: str) -> None:
    assert parse(with_changes({"upstreams": [given]})).upstreams == (kept,)


def test_upstreams_keep_their_order() -> None:
    upstreams = ["https://b.example.com", "https://a.example.com"]
    assert parse(with_changes({"upstreams": upstreams})).upstreams == tuple(upstreams)


@pytest.mark.parametrize("ttl", ["1h30m", "90m", "1.5h", "300ms", "24h", "10µs", "1h0m0s"])
def test_go_durations_are_accepted(ttl: str) -> None:
    assert parse(with_changes({"blobTtl": ttl})).blob_ttl == ttl


@pytest.mark.parametrize("size", ["10Gi", "500m", "1.5", "2e3", "1Ti", "512Mi", ".5"])
def test_quantities_are_accepted(size: str) -> None:
    storage = parse(with_changes({"storageSize": size})).storage
    assert storage is not None
    assert storage.size == size
    assert storage.access_mode is AccessMode.READ_WRITE_ONCE
    assert storage.storage_class is None


def test_enums_accept_their_values() -> None:
    s = parse(
        with_changes(
            {
                "logLevel": LogLevel.DEBUG,
                "tlsKeyAlgorithm": "ECDSA",
                "exposure": "hostPort",
                "port": 8443,
            }
        )
    )
    assert (s.log_level, s.tls_key_algorithm, s.exposure, s.port) == (
        LogLevel.DEBUG,
        KeyAlgorithm.ECDSA,
        Exposure.HOST_PORT,
        8443,
    )


@pytest.mark.parametrize(
    "proxy",
    ["ftp://proxy.example:21", " http://proxy.example:3128", "http://p.example:99999",
     " http://user:s3cr3t@proxy.example:3128", "proxy.example:3128\n"],
)  # fmt: skip
def test_a_proxy_go_cannot_use_is_refused(proxy: str) -> None:
    """The network policy lets the cache out to the proxy's port: it must be the one Go dials."""
    err = refused({**BASE, "extraEnv": {"HTTPS_PROXY": proxy}})
    assert err.keys == ("extraEnv",)
    assert "expected HTTPS_PROXY as Go's net/http reads a proxy" in str(err)
    assert "s3cr3t" not in str(err) and "proxy.example" not in str(err)


def test_extra_env_takes_other_registry_overrides() -> None:
    env = {"REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR": "inmemory", "HTTP_PROXY": "http://p:3128"}
    assert parse({**BASE, "extraEnv": env}).extra_env == env


# The node port ranges kube-apiserver takes (api_rules.port_range, tested there), less the empty
# range (a NodePort range has ports) and 0 (no port 0 is a node port).
@pytest.mark.parametrize(
    ("text", "included", "excluded"),
    [
        ("100-200", 200, 201),
        (" 100-200 ", 200, 201),
        ("100", 100, 101),
        ("30000-32767", 30000, 32768),
        ("32768-35535", 35535, 32767),
        ("30000+2767", 32767, 32768),
        ("30000-32767\n", 32767, 32768),
    ],
)
def test_node_port_range_is_read_as_kube_apiserver_reads_it(
    text: str, included: int, excluded: int
) -> None:
    ports = parse({**BASE, "port": included, "nodePortRange": text}).node_port_range
    assert ports is not None and included in ports and excluded not in ports


@pytest.mark.parametrize(
    "text",
    ["100 - 200", "-100", "100-", "200-100", "60000-70000", "70000-80000", "", "0-0", "x",
     "30000\n-32767", "30000 -32767", "1_0-20", "0+100", "1+-1"],
)  # fmt: skip
def test_a_malformed_node_port_range_is_refused(text: str) -> None:
    assert refused({**BASE, "nodePortRange": text}).keys == ("nodePortRange",)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        pytest.param({"name": "1cache"}, "name", id="service-name-starts-with-a-digit"),
        pytest.param({"name": "a" * 64}, "name", id="service-name-too-long"),
        pytest.param({"name": "a" * 56, "metrics": True}, "name", id="metrics-service-too-long"),
        pytest.param({"ingressClassName": "Nginx!", "exposure": "ingress"}, "ingressClassName"),
        pytest.param({"storageClass": "Fast_SSD", "storageSize": "1Gi"}, "storageClass"),
        pytest.param({"image": "mirantis/dtr-content-cache"}, "image", id="image-without-tag"),
        pytest.param({"image": "mirantis/dtr-content-cache:latest"}, "image", id="image-latest"),
        pytest.param({"image": "mirantis/Cache:1"}, "image", id="image-uppercase"),
        pytest.param(
            {"resources": {"requests": {"memory": "2Gi"}}}, "resources", id="request-over-default"
        ),
        pytest.param(
            {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}},
            "resources",
            id="request-over-limit",
        ),
        pytest.param({"resources": {"limits": {"memory": "0"}}}, "resources", id="zero-limit"),
    ],
)
def test_what_the_api_server_refuses_is_refused_first(changes: Mapping[str, Any], key: str):
    raw = {**BASE, **changes}
    if changes.get("exposure") == "ingress":
        raw = {k: v for k, v in raw.items() if k != "port"}
    assert refused(raw).keys == (key,)


@pytest.mark.parametrize(
    "image",
    [
        "mirantis/dtr-content-cache:2.9.16",
        "registry.example.com:5000/msr/cache:2.9.16",
        "mirantis/dtr-content-cache@sha256:" + "a" * 64,
        "mirantis/dtr-content-cache:2.9.16@sha256:" + "b" * 64,
    ],
)
def test_pinned_images_are_accepted(image: str) -> None:
    assert parse({**BASE, "image": image}).image == image


@pytest.mark.parametrize(
    ("valid_from_days", "valid_days", "wording"),
    [(-60, 30, "expired on"), (10, 30, "is not valid before")],
    ids=["expired", "not-yet-valid"],
)
def test_own_certificate_must_be_valid_now(valid_from_days: int, valid_days: int, wording: str):
    cert, key = self_signed_pair(
        "node1.example.com", valid_from_days=valid_from_days, valid_days=valid_days
    )
    err = refused({**BASE, "tlsCert": cert, "tlsKey": key})
    assert err.keys == ("tlsCert",)
    assert wording in str(err)


def test_a_pinned_certificate_is_trusted_as_go_trusts_it() -> None:
    """A CA input is a set of trust anchors: Go asks CA:TRUE of what signs, not of an anchor, so
    MSR's own self-signed certificate (CA:FALSE) may be pinned as upstreamCaCert."""
    pinned, _ = self_signed_pair("msr.example.com", ca=False)
    assert parse({**BASE, "upstreamCaCert": pinned}).upstream_ca_cert == pinned


@pytest.mark.parametrize("key", ["tlsCaCert", "upstreamCaCert"])
def test_an_expired_ca_certificate_alone_is_refused(key: str, pki: Mapping[str, str]) -> None:
    """Beside a valid one it is skipped, as Go skips it (tests/unit/test_certificates.py); alone,
    clients would trust nothing."""
    expired, _ = self_signed_pair("ca.example.com", valid_from_days=-60, valid_days=30)
    raw = {**BASE, key: expired}
    if key == "tlsCaCert":
        raw.update({"tlsCert": pki[CERT], "tlsKey": pki[KEY]})
    err = refused(raw)
    assert err.keys == (key,)
    assert ". The certificate expired on " in str(err)


def test_tls_ca_cert_must_have_issued_tls_cert(pki: Mapping[str, str]) -> None:
    """tlsCaCert is published as caCertPem, which clients verify the cache with."""
    other_ca, _ = self_signed_pair("other-ca.example.com")
    err = refused({**BASE, "tlsCert": pki[CERT], "tlsKey": pki[KEY], "tlsCaCert": other_ca})
    assert err.keys == ("tlsCaCert",)
    assert "expected the certificates that issued tlsCert" in str(err)
    assert 'None of them signed the certificate "node1.example.com"' in str(err)


def test_own_tls_is_accepted(pki: Mapping[str, str]) -> None:
    s = parse(with_changes({"tlsCert": CERT, "tlsKey": KEY, "tlsCaCert": CERT}, pki))
    assert not s.generates_tls
    assert (s.tls_cert, s.tls_key, s.tls_ca_cert) == (pki[CERT], pki[KEY], pki[CERT])


def test_upstream_ca_is_accepted(pki: Mapping[str, str]) -> None:
    assert parse(with_changes({"upstreamCaCert": CERT}, pki)).upstream_ca_cert == pki[CERT]


# Upstreams are read by the cache with Go's net/url: refused as it refuses them, and written as
# they were checked (Python's urlsplit strips a leading space and drops tabs and newlines).
@pytest.mark.parametrize("upstream", [
    " https://msr.example.com",
    "https://msr.example.com ",
    "https://msr.exa\tmple.com",
    "https://msr.example.com\n",
    "https://msr.example.com\r\n ",  # a folded line
    "https://msr.example.com:",
    "https://fd00::1",  # an IPv6 address needs brackets
    "https://msr.example.com#",
    "https://msr.example.com?",
    "https://%6dsr.example.com",
])  # fmt: skip
def test_an_upstream_is_refused_where_go_refuses_it(upstream: str) -> None:
    err = refused(with_changes({"upstreams": [upstream]}))
    assert err.keys == ("upstreams",)


# Go 1.26's net/url (issue 25); the older Go of MSR's image takes each of them
# (docs/configuration.md).
@pytest.mark.parametrize(("upstream", "why"), [
    ("https://[10.0.0.1]", "brackets hold an IPv6 address and nothing else"),
    ("https://[msr.example.com]:8443", "brackets hold an IPv6 address and nothing else"),
    ("https://msr.example.com[::1]", "a `[` only at the start of the host"),
    ("https://msr.example.com:443:443", "one colon at most, before the port"),
])  # fmt: skip
def test_an_upstream_go_1_26_refuses_is_refused_saying_why(upstream: str, why: str) -> None:
    err = refused(with_changes({"upstreams": [upstream]}))
    assert err.keys == ("upstreams",)
    assert "Go's net/url, which the cache uses" in str(err) and why in str(err)


# Host names are case-insensitive (RFC 4343): Go's HTTP client dials, and its TLS verification
# matches, the host in lower case; config.yaml holds the one spelling.
@pytest.mark.parametrize(("given", "kept"), [
    ("HTTPS://msr.example.com/", "https://msr.example.com"),
    ("https://MSR.Example.com", "https://msr.example.com"),
    ("https://MSR.EXAMPLE.COM:8443/", "https://msr.example.com:8443"),
    ("https://[FD00::A]:443", "https://[fd00::a]:443"),
])  # fmt: skip
def test_an_upstream_is_written_in_lower_case(given: str, kept: str) -> None:
    assert parse(with_changes({"upstreams": [given]})).upstreams == (kept,)


@pytest.mark.parametrize(("upstream", "why"), [
    ("https://msr_x.example.com", "'_' in it: letters, digits, '-' and '.' only"),
    ("https://-msr.example.com", "each label starts and ends with a letter or a digit"),
    ("https://msr..example.com", "no empty label"),
    (f"https://{'a' * 64}.example.com", "each label at most 63 characters"),
    ("https://10.0.0", "a name's last label is not all digits"),
    ("https://[fe80::1%25eth0]", "no IPv6 zone"),
    ("https://msr.ex%C3%A4mple.com", "in ASCII: an internationalised name in its xn-- form"),
    ("http://msr.example.com", "the cache pulls over TLS only"),
    ("https://msr.example.com/v2/", "no path, query or fragment"),
    ("https://msr.example.com:0", "a port within 1-65535"),
    ("https://admin:s3cret@msr.example.com", "no user or password"),
])  # fmt: skip
def test_a_bad_upstream_is_refused_saying_why(upstream: str, why: str) -> None:
    err = refused(with_changes({"upstreams": [upstream]}))
    assert err.keys == ("upstreams",)
    assert why in str(err)
    assert "s3cret" not in str(err)


@pytest.mark.parametrize("twice", [
    ["https://msr.example.com", "https://msr.example.com/"],
    ["https://msr.example.com", "https://msr.example.com:443"],
    ["https://msr.example.com:443/", "HTTPS://msr.example.com"],
    ["https://msr.example.com", "https://MSR.example.com"],
    ["https://[fd00::1]", "https://[fd00:0::1]:443"],
])  # fmt: skip
def test_an_upstream_given_twice_is_refused(twice: list[str]) -> None:
    err = refused(with_changes({"upstreams": ["https://other.example.com", *twice]}))
    assert err.keys == ("upstreams",)
    first, second = (parse(with_changes({"upstreams": [u]})).upstreams[0] for u in twice)
    assert f"each upstream once: {second} is {first}" in str(err)


def test_upstreams_on_other_ports_are_distinct() -> None:
    upstreams = ["https://msr.example.com", "https://msr.example.com:8443"]
    assert parse(with_changes({"upstreams": upstreams})).upstreams == tuple(upstreams)


# int32 fields: the API server refuses a value past 2^31 - 1.
@pytest.mark.parametrize("key", ["replicas", "caGeneration"])
def test_counts_stop_at_int32(key: str) -> None:
    assert parse(with_changes({key: 2**31 - 1}))
    err = refused(with_changes({key: 2**31}))
    assert err.keys == (key,) and "2147483647 (the API server's int32)" in str(err)


@pytest.mark.parametrize("key", ["port", "nodePortRange"])
def test_ports_stop_at_65535(key: str) -> None:
    value = 2**31 if key == "port" else "30000-2147483648"
    assert refused(with_changes({key: value})).keys == (key,)


def test_pod_annotations_stay_within_the_api_servers_total() -> None:
    limit = 256 * 1024
    fits = {"a.example.com/x": "v" * (limit - len("a.example.com/x"))}
    assert parse(with_changes({"podAnnotations": fits})).pod_annotations == fits
    over = {"a.example.com/x": fits["a.example.com/x"], "b": "1"}
    err = refused(with_changes({"podAnnotations": over}))
    assert err.keys == ("podAnnotations",)
    assert "at most 262144 bytes" in str(err) and "v" * 100 not in str(err)
