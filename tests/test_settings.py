"""The validation users rely on: `settings.parse` names each bad config key, with a message."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from components.model import (
    DEFAULT_IMAGE,
    DEFAULT_RESOURCES,
    AccessMode,
    Exposure,
    KeyAlgorithm,
    LogLevel,
)
from components.problems import Caller, ConfigError, Problem, set_caller
from components.settings import parse, resolved
from render.stack_config import self_signed_pair

UPSTREAM = "https://msr.example.com"


@pytest.fixture(autouse=True)
def stack_spelling() -> Any:
    """These cases are written as stack config, so errors spell keys as msr-cache:<key>."""
    set_caller(Caller.STACK)
    yield
    set_caller(Caller.PYTHON)


# A valid nodePort cache; each case below changes one thing.
BASE: Mapping[str, Any] = {"upstreams": [UPSTREAM], "hosts": ["node1.example.com"], "port": 30443}
ABSENT = object()  # a key removed from BASE

# Stand-ins for PEMs, swapped for the real ones from the `pki` fixture when a case runs.
CERT, KEY, OTHER_KEY = "<cert>", "<key>", "<other key>"
GARBAGE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "Tm90QVJlYWxLZXlCdXRTZWNyZXRNYXRlcmlhbA==\n"
    "-----END PRIVATE KEY-----\n"
)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def pki() -> dict[str, str]:
    """A self-signed certificate for cache.example.com, its EC P-256 key and an unrelated key."""
    cert, key = self_signed_pair("node1.example.com", "cache.example.com")
    return {
        CERT: cert,
        KEY: key,
        OTHER_KEY: _pem_key(ec.generate_private_key(ec.SECP256R1())),
    }


def config(changes: Mapping[str, Any], pems: Mapping[str, str] | None = None) -> dict[str, Any]:
    """BASE with `changes` applied (ABSENT removes a key), PEM stand-ins replaced."""
    raw = {**BASE, **changes}
    raw = {k: v for k, v in raw.items() if v is not ABSENT}
    if pems:
        raw = {k: pems.get(v, v) if isinstance(v, str) else v for k, v in raw.items()}
    return raw


def rejected(raw: Mapping[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    return caught.value


# (changes to BASE, the config key the error must name)
BAD_INPUT = [
    pytest.param({"upstreams": ["http://msr.example.com"]}, "upstreams", id="upstream-http"),
    pytest.param({"upstreams": ["ftp://msr.example.com"]}, "upstreams", id="upstream-ftp"),
    pytest.param({"upstreams": ["msr.example.com"]}, "upstreams", id="upstream-no-scheme"),
    pytest.param({"upstreams": ["https://msr.example.com/v2"]}, "upstreams", id="upstream-path"),
    pytest.param({"upstreams": ["https://msr.example.com/?a=b"]}, "upstreams", id="upstream-query"),
    pytest.param({"upstreams": ["https://msr.example.com:99999"]}, "upstreams", id="upstream-port"),
    pytest.param({"upstreams": ["https://msr_x.example.com"]}, "upstreams", id="upstream-host"),
    pytest.param({"upstreams": ABSENT}, "upstreams", id="upstreams-missing"),
    pytest.param({"upstreams": []}, "upstreams", id="upstreams-empty"),
    pytest.param({"upstreams": UPSTREAM}, "upstreams", id="upstreams-string"),
    pytest.param({"blobTtl": "10"}, "blobTtl", id="ttl-bare-number"),
    pytest.param({"blobTtl": "0"}, "blobTtl", id="ttl-zero"),
    pytest.param({"blobTtl": "24"}, "blobTtl", id="ttl-24"),
    pytest.param({"blobTtl": "1d"}, "blobTtl", id="ttl-days"),
    pytest.param({"blobTtl": "0s"}, "blobTtl", id="ttl-zero-seconds"),
    pytest.param({"blobTtl": "-1h"}, "blobTtl", id="ttl-negative"),
    pytest.param({"exposure": "route"}, "exposure", id="exposure-unknown"),
    pytest.param({"port": ABSENT}, "port", id="nodeport-without-port"),
    pytest.param({"port": 0}, "port", id="port-0"),
    pytest.param({"port": 65536}, "port", id="port-65536"),
    pytest.param({"port": "443"}, "port", id="port-string"),
    pytest.param({"port": True}, "port", id="port-bool"),
    pytest.param(
        {"exposure": "ingress", "port": ABSENT, "hosts": ["10.0.0.1"]}, "hosts", id="ingress-ipv4"
    ),
    pytest.param(
        {"exposure": "ingress", "port": ABSENT, "hosts": ["fd00::1"]}, "hosts", id="ingress-ipv6"
    ),
    pytest.param({"hosts": []}, "hosts", id="nodeport-no-hosts"),
    pytest.param({"exposure": "hostPort", "hosts": []}, "hosts", id="hostport-no-hosts"),
    pytest.param(
        {"exposure": "ingress", "port": ABSENT, "hosts": []}, "hosts", id="ingress-no-hosts"
    ),
    pytest.param({"exposure": "hostPort", "hosts": ABSENT}, "hosts", id="hostport-hosts-absent"),
    pytest.param({"hosts": "node1.example.com"}, "hosts", id="hosts-string"),
    pytest.param({"hosts": ["cache_1.example.com"]}, "hosts", id="host-underscore"),
    pytest.param({"hosts": ["-bad.example.com"]}, "hosts", id="host-leading-hyphen"),
    pytest.param({"hosts": ["bad-.example.com"]}, "hosts", id="host-trailing-hyphen"),
    pytest.param({"hosts": ["cache.example.com:443"]}, "hosts", id="host-with-port"),
    pytest.param({"hosts": ["[::1]"]}, "hosts", id="host-bracketed-ipv6"),
    pytest.param({"hosts": ["fe80::1%eth0"]}, "hosts", id="host-ipv6-zone"),
    pytest.param({"hosts": ["Cache.Example.com"]}, "hosts", id="host-uppercase"),
    pytest.param({"hosts": ["a" * 64 + ".example.com"]}, "hosts", id="host-label-64"),
    pytest.param({"hosts": [".".join(["a" * 63] * 4)]}, "hosts", id="host-over-253"),
    pytest.param({"hosts": ["*.example.com"]}, "hosts", id="host-wildcard"),
    pytest.param({"hosts": ["1.2.3"]}, "hosts", id="host-all-digit-last-label"),
    pytest.param({"hosts": ["cache..example.com"]}, "hosts", id="host-empty-label"),
    pytest.param({"hosts": [""]}, "hosts", id="host-empty"),
    pytest.param({"hosts": [443]}, "hosts", id="host-not-a-string"),
    pytest.param({"hosts": ["a.example.com", "a.example.com"]}, "hosts", id="hosts-duplicate"),
    pytest.param({"hosts": ["fd00::1", "FD00:0::1"]}, "hosts", id="hosts-duplicate-ipv6"),
    pytest.param({"namespace": "Dtr"}, "namespace", id="namespace-uppercase"),
    pytest.param({"namespace": "dtr_cache"}, "namespace", id="namespace-underscore"),
    pytest.param({"namespace": "-x"}, "namespace", id="namespace-leading-hyphen"),
    pytest.param({"namespace": "a" * 64}, "namespace", id="namespace-64"),
    pytest.param({"name": "Dtr"}, "name", id="name-uppercase"),
    pytest.param({"name": "dtr_cache"}, "name", id="name-underscore"),
    pytest.param({"name": "-x"}, "name", id="name-leading-hyphen"),
    pytest.param({"name": "a" * 64}, "name", id="name-64"),
    pytest.param({"createNamespace": "yes"}, "createNamespace", id="create-namespace-string"),
    pytest.param({"image": "dtr content cache"}, "image", id="image-spaces"),
    pytest.param({"replicas": 0}, "replicas", id="replicas-0"),
    pytest.param({"replicas": -1}, "replicas", id="replicas-negative"),
    pytest.param({"replicas": "2"}, "replicas", id="replicas-string"),
    pytest.param({"storageSize": "10 GB"}, "storageSize", id="size-with-space"),
    pytest.param({"storageSize": "ten"}, "storageSize", id="size-words"),
    pytest.param({"storageSize": "0"}, "storageSize", id="size-zero"),
    pytest.param({"storageSize": "-5Gi"}, "storageSize", id="size-negative"),
    pytest.param({"tlsCert": CERT}, "tlsKey", id="cert-without-key"),
    pytest.param({"tlsKey": KEY}, "tlsCert", id="key-without-cert"),
    pytest.param({"tlsCert": "not a pem", "tlsKey": KEY}, "tlsCert", id="cert-not-pem"),
    pytest.param(
        {
            "tlsCert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "tlsKey": KEY,
        },
        "tlsCert",
        id="cert-bad-body",
    ),
    pytest.param({"upstreamCaCert": "garbage"}, "upstreamCaCert", id="upstream-ca-garbage"),
    pytest.param({"tlsCert": CERT, "tlsKey": "garbage"}, "tlsKey", id="key-garbage"),
    pytest.param({"tlsCert": CERT, "tlsKey": GARBAGE_KEY}, "tlsKey", id="key-bad-body"),
    pytest.param({"tlsCert": CERT, "tlsKey": OTHER_KEY}, "tlsKey", id="key-not-of-cert"),
    pytest.param({"logLevel": "verbose"}, "logLevel", id="log-level-verbose"),
    pytest.param(
        {"storageSize": "1Gi", "storageAccessMode": "ReadOnlyMany"},
        "storageAccessMode",
        id="access-mode-read-only",
    ),
    pytest.param(
        {"replicas": 2, "storageSize": "10Gi"}, "replicas", id="replicas-on-default-rwo-claim"
    ),
    pytest.param(
        {"replicas": 2, "storageSize": "10Gi", "storageAccessMode": "ReadWriteOnce"},
        "replicas",
        id="replicas-on-rwo-claim",
    ),
    pytest.param(
        {"replicas": 2, "storageSize": "10Gi", "storageAccessMode": "ReadWriteOncePod"},
        "replicas",
        id="replicas-on-rwop-claim",
    ),
    pytest.param(
        {"exposure": "ingress", "hosts": ["cache.example.com"]}, "port", id="port-with-ingress"
    ),
    pytest.param({"ingressClassName": "nginx"}, "ingressClassName", id="ingress-class-nodeport"),
    pytest.param(
        {
            "exposure": "ingress",
            "port": ABSENT,
            "hosts": ["cache.example.com"],
            "ingressClassName": " ",
        },
        "ingressClassName",
        id="ingress-class-blank",
    ),
    pytest.param({"storageClass": "fast"}, "storageClass", id="storage-class-without-size"),
    pytest.param(
        {"storageAccessMode": "ReadWriteMany"}, "storageAccessMode", id="access-mode-without-size"
    ),
    pytest.param(
        {"storageSize": "1Gi", "storageClass": "Fast_SSD"}, "storageClass", id="storage-class-name"
    ),
    pytest.param({"tlsCaCert": CERT}, "tlsCaCert", id="ca-without-cert"),
    pytest.param({"tlsKeyAlgorithm": "DSA"}, "tlsKeyAlgorithm", id="key-algorithm-dsa"),
    pytest.param(
        {"tlsCert": CERT, "tlsKey": KEY, "tlsKeyAlgorithm": "ECDSA"},
        "tlsKeyAlgorithm",
        id="key-algorithm-with-own-key",
    ),
    pytest.param({"resources": {"requests": {"cpu": "lots"}}}, "resources", id="resources-amount"),
    pytest.param({"resources": {"limit": {"cpu": "1"}}}, "resources", id="resources-section"),
    pytest.param({"resources": {"requests": {"gpu": "1"}}}, "resources", id="resources-name"),
    pytest.param({"resources": {}}, "resources", id="resources-empty"),
    pytest.param({"resources": {"requests": {}}}, "resources", id="resources-empty-section"),
    pytest.param({"resources": "1 cpu"}, "resources", id="resources-string"),
    pytest.param({"blobTTL": "24h"}, "blobTTL", id="unknown-key"),
]


@pytest.mark.parametrize(("changes", "key"), BAD_INPUT)
def test_bad_input_is_named_by_its_config_key(
    changes: Mapping[str, Any], key: str, pki: Mapping[str, str]
) -> None:
    err = rejected(config(changes, pki))
    assert key in err.keys, err
    assert set(err.keys) == {key}, f"only {key} is wrong, got {err.keys}"
    assert f"msr-cache:{key}" in str(err)


def test_plain_value_required_for_keys_that_decide_objects() -> None:
    err = rejected(config({"exposure": pulumi.Output.from_input("ingress")}))
    assert err.keys == ("exposure",)
    assert "msr-cache:exposure" in str(err)
    assert "known when the program runs" in str(err)


def test_output_exposure_without_hosts_is_a_config_error() -> None:
    err = rejected(config({"exposure": pulumi.Output.from_input("hostPort"), "hosts": []}))
    assert "exposure" in err.keys


def test_output_replicas_with_a_claim_is_a_config_error() -> None:
    err = rejected(config({"replicas": pulumi.Output.from_input(2), "storageSize": "10Gi"}))
    assert "replicas" in err.keys


def test_deferrable_keys_may_be_outputs() -> None:
    upstreams = pulumi.Output.from_input([UPSTREAM])
    settings = parse(config({"upstreams": upstreams}))
    assert settings.upstreams is upstreams


def test_every_mistake_is_reported_at_once() -> None:
    err = rejected(
        config(
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


def test_config_error_is_shown_without_a_trace() -> None:
    assert issubclass(ConfigError, pulumi.RunError)
    assert isinstance(rejected(config({"port": 0})), pulumi.RunError)


def test_problem_says_what_was_given_and_what_is_accepted() -> None:
    problem = Problem("port", 0, "an integer port")
    assert str(problem) == "msr-cache:port: got 0; expected an integer port"


@pytest.mark.parametrize("key_text", [GARBAGE_KEY, OTHER_KEY], ids=["malformed", "not-of-cert"])
def test_private_key_is_never_printed(key_text: str, pki: Mapping[str, str]) -> None:
    key_text = pki.get(key_text, key_text)
    err = rejected({**BASE, "tlsCert": pki[CERT], "tlsKey": key_text})
    message = str(err)
    assert err.keys == ("tlsKey",)
    assert "<secret>" in message
    for line in key_text.splitlines():
        assert line not in message
    assert key_text.splitlines()[1][:12] not in message


def test_long_values_are_truncated() -> None:
    host = "a" * 300
    err = rejected(config({"hosts": [host]}))
    (line,) = [line for line in str(err).splitlines() if "msr-cache:hosts" in line]
    assert "a" * 100 not in line
    assert "..." in line
    given = line.split("got ", 1)[1].split("; expected", 1)[0]
    assert len(given) == 80


# --- what valid input becomes ----------------------------------------------------------------


def test_defaults_are_filled_in() -> None:
    s = parse(BASE)
    assert s.upstreams == (UPSTREAM,)
    assert s.exposure is Exposure.NODE_PORT
    assert s.hosts == ("node1.example.com",)
    assert s.port == 30443
    assert s.namespace == "dtr"
    assert s.create_namespace is True
    assert s.name == "dtr-cache"
    assert s.image == DEFAULT_IMAGE
    assert s.blob_ttl == "24h"
    assert s.replicas == 1
    assert s.log_level is LogLevel.INFO
    assert s.tls_key_algorithm is KeyAlgorithm.RSA
    assert s.resources == DEFAULT_RESOURCES
    assert s.storage is None
    assert s.ingress_class_name is None
    assert s.generates_tls
    assert s.upstream_ca_cert is s.tls_cert is s.tls_key is s.tls_ca_cert is None


def test_none_means_unset() -> None:
    s = parse({**BASE, "namespace": None, "replicas": None, "storageSize": None})
    assert (s.namespace, s.replicas, s.storage) == ("dtr", 1, None)


@pytest.mark.parametrize("exposure", ["hostPort", "loadBalancer"])
def test_port_defaults_to_443(exposure: str) -> None:
    assert parse(config({"exposure": exposure, "port": ABSENT})).port == 443


def test_ingress_listens_on_443_with_nginx_class() -> None:
    s = parse(config({"exposure": "ingress", "port": ABSENT, "hosts": ["cache.example.com"]}))
    assert (s.port, s.ingress_class_name) == (443, "nginx")


def test_load_balancer_needs_no_hosts() -> None:
    s = parse(config({"exposure": "loadBalancer", "hosts": ABSENT, "port": ABSENT}))
    assert s.hosts == ()
    assert s.exposure is Exposure.LOAD_BALANCER


def test_ip_hosts_are_normalised() -> None:
    s = parse(config({"hosts": ["FD00:0:0::1", "10.0.0.1", "node1.example.com"]}))
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
    assert parse(config({"upstreams": [given]})).upstreams == (kept,)


def test_upstreams_keep_their_order() -> None:
    upstreams = ["https://b.example.com", "https://a.example.com"]
    assert parse(config({"upstreams": upstreams})).upstreams == tuple(upstreams)


@pytest.mark.parametrize("ttl", ["1h30m", "90m", "1.5h", "300ms", "24h", "10µs", "1h0m0s"])
def test_go_durations_are_accepted(ttl: str) -> None:
    assert parse(config({"blobTtl": ttl})).blob_ttl == ttl


@pytest.mark.parametrize("size", ["10Gi", "500m", "1.5", "2e3", "1Ti", "512Mi", ".5"])
def test_quantities_are_accepted(size: str) -> None:
    storage = parse(config({"storageSize": size})).storage
    assert storage is not None
    assert storage.size == size
    assert storage.access_mode is AccessMode.READ_WRITE_ONCE
    assert storage.storage_class is None


def test_many_replicas_share_a_read_write_many_claim() -> None:
    s = parse(
        config(
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
    assert parse(config({"replicas": 3})).replicas == 3


def test_resources_replace_the_defaults() -> None:
    resources = {"requests": {"cpu": "250m", "memory": 512}, "limits": {"ephemeral-storage": "2Gi"}}
    s = parse(config({"resources": resources}))
    assert s.resources == {
        "requests": {"cpu": "250m", "memory": "512"},
        "limits": {"ephemeral-storage": "2Gi"},
    }


def test_own_tls_is_accepted(pki: Mapping[str, str]) -> None:
    s = parse(config({"tlsCert": CERT, "tlsKey": KEY, "tlsCaCert": CERT}, pki))
    assert not s.generates_tls
    assert (s.tls_cert, s.tls_key, s.tls_ca_cert) == (pki[CERT], pki[KEY], pki[CERT])


def test_upstream_ca_is_accepted(pki: Mapping[str, str]) -> None:
    assert parse(config({"upstreamCaCert": CERT}, pki)).upstream_ca_cert == pki[CERT]


def test_enums_accept_their_values() -> None:
    s = parse(
        config(
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


def test_resolved_upstreams_are_checked() -> None:
    with pytest.raises(ConfigError) as caught:
        resolved("upstreams", ["http://msr.example.com"])
    assert caught.value.keys == ("upstreams",)
    assert "msr-cache:upstreams" in str(caught.value)
    assert resolved("upstreams", ["https://msr.example.com/"]) == ("https://msr.example.com",)


def test_resolved_key_is_never_printed() -> None:
    with pytest.raises(ConfigError) as caught:
        resolved("tlsKey", GARBAGE_KEY)
    assert "<secret>" in str(caught.value)
    assert GARBAGE_KEY.splitlines()[1] not in str(caught.value)


# --- open-ended inputs -----------------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
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
    assert parse(config({"hosts": [name]})).hosts == (name,)


@given(DNS_NAMES)
def test_any_dns_name_is_an_ingress_host(name: str) -> None:
    s = parse(config({"exposure": "ingress", "port": ABSENT, "hosts": [name]}))
    assert s.hosts == (name,)


@given(st.ip_addresses())
def test_any_ip_is_a_host_in_compressed_form(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    s = parse(config({"hosts": [address.exploded.upper()]}))
    assert s.hosts == (address.compressed,)


@given(st.lists(st.tuples(st.integers(1, 10_000), st.sampled_from(GO_UNITS)), min_size=1))
def test_any_go_duration_with_units_is_a_blob_ttl(parts: list[tuple[int, str]]) -> None:
    ttl = "".join(f"{number}{unit}" for number, unit in parts)
    assert parse(config({"blobTtl": ttl})).blob_ttl == ttl


@given(st.integers())
def test_a_bare_number_is_never_a_blob_ttl(number: int) -> None:
    assert rejected(config({"blobTtl": str(number)})).keys == ("blobTtl",)


@given(st.integers(1, 10**6), st.sampled_from(QUANTITY_SUFFIXES))
def test_any_positive_quantity_is_a_storage_size(number: int, suffix: str) -> None:
    storage = parse(config({"storageSize": f"{number}{suffix}"})).storage
    assert storage is not None
    assert storage.size == f"{number}{suffix}"


@given(st.integers(1, 10**6), st.sampled_from(QUANTITY_SUFFIXES))
def test_any_positive_quantity_is_a_resource_amount(number: int, suffix: str) -> None:
    amount = {"memory": f"{number}{suffix}"}
    s = parse(config({"resources": {"requests": amount, "limits": amount}}))
    assert s.resources == {"requests": amount, "limits": amount}


# --- how errors name inputs, and what they never show ------------------------------------------


@pytest.mark.parametrize(
    ("caller", "line"),
    [
        (Caller.STACK, "  - msr-cache:blobTtl: got '10'; expected"),
        (Caller.PYTHON, "  - blob_ttl: got '10'; expected"),
        (Caller.PACKAGE, "  - blobTtl: got '10'; expected"),
    ],
)
def test_errors_name_each_input_as_its_caller_wrote_it(caller: Caller, line: str) -> None:
    set_caller(caller)
    assert line in str(rejected({**BASE, "blobTtl": "10"}))


@pytest.mark.parametrize(
    ("caller", "typo", "message"),
    [
        (Caller.STACK, "blobTTL", "msr-cache:blobTTL: unknown key; did you mean blobTtl?"),
        (Caller.STACK, "replica", "msr-cache:replica: unknown key; did you mean replicas?"),
        (Caller.PYTHON, "blob_ttll", "blob_ttll: unknown key; did you mean blob_ttl?"),
        (Caller.PYTHON, "storagesize", "storagesize: unknown key; did you mean storage_size?"),
    ],
)
def test_an_unknown_key_names_the_closest_known_one(
    caller: Caller, typo: str, message: str
) -> None:
    set_caller(caller)
    err = rejected({**BASE, typo: "1h"})
    assert err.keys == (typo,)
    assert f"  - {message}" in str(err)


def test_an_unknown_key_unlike_any_lists_the_known_ones() -> None:
    err = rejected({**BASE, "zzzzzz": 1})
    assert "msr-cache:zzzzzz: unknown key; expected one of " in str(err)
    assert "blobTtl" in str(err)


def test_an_upstream_with_a_password_is_refused_without_showing_it() -> None:
    err = rejected({**BASE, "upstreams": ["https://admin:s3cr3t-pass@msr.example.com"]})
    assert err.keys == ("upstreams",)
    assert "s3cr3t-pass" not in str(err) and "admin" not in str(err)


@pytest.mark.parametrize("name", ["secretKey", "SECRETKEY", "AccessKey"])
def test_storage_credentials_are_matched_in_any_case_and_never_shown(name: str) -> None:
    storage = {"driver": "s3", "bucket": "b", "region": "eu-west-1", name: "s3cr3t-value"}
    s = parse({**BASE, "objectStorage": storage})
    assert s.object_storage is not None
    assert s.object_storage.credentials == {name.lower(): "s3cr3t-value"}
    assert "s3cr3t-value" not in str(s.object_storage.config())
    err = rejected({**BASE, "objectStorage": {**storage, "bogus": 1}})
    assert "s3cr3t-value" not in str(err)


@pytest.mark.parametrize(
    "name",
    [
        "REGISTRY_HTTP_SECRET",
        "REGISTRY_STORAGE_S3_SECRETKEY",
        "REGISTRY_STORAGE_AZURE_ACCOUNTKEY",
        "REGISTRY_HTTP_ADDR",
        "REGISTRY_HTTP_TLS_KEY",
        "REGISTRY_HTTP_TLS",
        "REGISTRY_HTTP_HOST",
        "REGISTRY_STORAGE_DELETE_ENABLED",
        "REGISTRY_MIDDLEWARE_REGISTRY",
        "REGISTRY_LOG_LEVEL",
    ],
)
def test_extra_env_refuses_what_the_component_sets_without_showing_values(name: str) -> None:
    err = rejected({**BASE, "extraEnv": {name: "value-never-shown", "OTHER": "x"}})
    assert err.keys == ("extraEnv",)
    assert name in str(err)
    assert "value-never-shown" not in str(err)


def test_extra_env_takes_other_registry_overrides() -> None:
    env = {"REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR": "inmemory", "HTTP_PROXY": "http://p:3128"}
    assert parse({**BASE, "extraEnv": env}).extra_env == env


def test_a_private_key_pasted_as_a_certificate_is_named_and_not_shown(
    pki: Mapping[str, str],
) -> None:
    err = rejected({**BASE, "upstreamCaCert": pki[KEY]})
    assert err.keys == ("upstreamCaCert",)
    assert "private key" in str(err)
    body = pki[KEY].splitlines()[1]
    assert body[:16] not in str(err)


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_a_namespace_that_always_exists_is_not_created(namespace: str) -> None:
    err = rejected({**BASE, "namespace": namespace})
    assert err.keys == ("createNamespace",)
    assert parse({**BASE, "namespace": namespace, "createNamespace": False}).namespace == namespace


# apimachinery util/net port_range_test.go TestPortRange: (input, accepted, included, excluded),
# less the empty range (a NodePort range has ports) and 0 (no port 0 is a node port).
@pytest.mark.parametrize(
    ("text", "included", "excluded"),
    [
        ("100-200", 200, 201),
        (" 100-200 ", 200, 201),
        ("100", 100, 101),
        ("30000-32767", 30000, 32768),
        ("32768-35535", 35535, 32767),
    ],
)
def test_node_port_range_is_read_as_kube_apiserver_reads_it(
    text: str, included: int, excluded: int
) -> None:
    ports = parse({**BASE, "port": included, "nodePortRange": text}).node_port_range
    assert ports is not None and included in ports and excluded not in ports


@pytest.mark.parametrize(
    "text", ["100 - 200", "-100", "100-", "200-100", "60000-70000", "70000-80000", "", "0-0", "x"]
)
def test_a_malformed_node_port_range_is_refused(text: str) -> None:
    assert rejected({**BASE, "nodePortRange": text}).keys == ("nodePortRange",)


@pytest.mark.parametrize(
    ("port", "node_ports"),
    [(80, None), (29999, None), (32768, None), (30443, "32768-35535"), (35536, "32768-35535")],
)
def test_a_node_port_outside_the_range_is_refused(port: int, node_ports: str | None) -> None:
    raw = {**BASE, "port": port, **({"nodePortRange": node_ports} if node_ports else {})}
    err = rejected(raw)
    assert err.keys == ("port",)
    assert (node_ports or "30000-32767") in str(err)


def test_mkes_node_port_range_takes_its_ports() -> None:
    assert parse({**BASE, "port": 33000, "nodePortRange": "32768-35535"}).port == 33000


def test_node_port_range_only_with_node_port() -> None:
    raw = {**BASE, "exposure": "hostPort", "nodePortRange": "32768-35535"}
    assert rejected(raw).keys == ("nodePortRange",)


# --- what the API server would refuse ----------------------------------------------------------


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
    assert rejected(raw).keys == (key,)


def test_the_longest_name_with_metrics_still_names_its_metrics_service() -> None:
    assert parse({**BASE, "name": "a" * 55, "metrics": True}).name == "a" * 55


def test_requests_alone_keep_the_default_limits() -> None:
    s = parse({**BASE, "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}})
    assert s.resources["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert s.resources["limits"] == DEFAULT_RESOURCES["limits"]


def test_a_request_over_the_default_limit_says_so() -> None:
    err = rejected({**BASE, "resources": {"requests": {"memory": "2Gi"}}})
    assert "requests.memory 2Gi at most limits.memory 1Gi (the default limit)" in str(err)


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
    ("name", "accepted"),
    [("asia", True), ("eu-west.1", True), ("Asia", False), ("my_stack", False), ("a" * 236, True),
     ("a" * 237, False)],
)  # fmt: skip
def test_the_resource_name_must_make_valid_auto_names(name: str, accepted: bool) -> None:
    if accepted:
        assert parse(BASE, resource_name=name).name == "dtr-cache"
    else:
        err = rejected_as(BASE, resource_name=name)
        assert f"MsrCache resource name: got {name!r}" in str(err)


def rejected_as(raw: Mapping[str, Any], resource_name: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(raw, resource_name=resource_name)
    return caught.value


# --- certificates you give, checked as a client checks them ------------------------------------


@pytest.mark.parametrize(
    ("valid_from_days", "valid_days", "wording"),
    [(-60, 30, "expired on"), (10, 30, "is not valid before")],
    ids=["expired", "not-yet-valid"],
)
def test_own_certificate_must_be_valid_now(valid_from_days: int, valid_days: int, wording: str):
    cert, key = self_signed_pair(
        "node1.example.com", valid_from_days=valid_from_days, valid_days=valid_days
    )
    err = rejected({**BASE, "tlsCert": cert, "tlsKey": key})
    assert err.keys == ("tlsCert",)
    assert wording in str(err)


def test_own_certificate_must_cover_every_host() -> None:
    cert, key = self_signed_pair("node1.example.com")
    err = rejected({**BASE, "hosts": ["node1.example.com", "node2.example.com"], "tlsCert": cert,
                    "tlsKey": key})  # fmt: skip
    assert err.keys == ("tlsCert",)
    assert "does not cover host 'node2.example.com'" in str(err)


@pytest.mark.parametrize("key", ["tlsCaCert", "upstreamCaCert"])
def test_a_ca_certificate_must_be_a_ca(key: str, pki: Mapping[str, str]) -> None:
    not_a_ca, _ = self_signed_pair("ca.example.com", ca=False)
    raw = {**BASE, key: not_a_ca}
    if key == "tlsCaCert":
        raw.update({"tlsCert": pki[CERT], "tlsKey": pki[KEY]})
    err = rejected(raw)
    assert err.keys == (key,)
    assert "CA:FALSE" in str(err)
