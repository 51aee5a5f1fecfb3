"""The validation users rely on: `settings.parse` names each bad config key, with a message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
from harness import (
    ABSENT,
    BASE,
    CERT,
    GARBAGE_KEY,
    KEY,
    MSR,
    OTHER_KEY,
    refused,
    with_changes,
)

from components.inputs.model import (
    DEFAULT_IMAGE,
    DEFAULT_RESOURCES,
    Exposure,
    GatewayRef,
    KeyAlgorithm,
    LogLevel,
)
from components.inputs.problems import ConfigError
from components.inputs.settings import parse, resolved

SHARED = {"name": "shared", "namespace": "gateway-system"}
# A cache behind the existing Gateway SHARED: each gateway case below changes one thing.
GATEWAY = {"exposure": "gateway", "port": ABSENT, "hosts": ["cache.example.com"], "gateway": SHARED}
MADE = {**GATEWAY, "gateway": ABSENT, "gatewayClassName": "eg"}

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
    pytest.param({"upstreams": MSR}, "upstreams", id="upstreams-string"),
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
    pytest.param({**GATEWAY, "hosts": ["10.0.0.1"]}, "hosts", id="gateway-ipv4"),
    pytest.param({**MADE, "hosts": ["fd00::1"]}, "hosts", id="gateway-class-ipv6"),
    pytest.param({**GATEWAY, "hosts": []}, "hosts", id="gateway-no-hosts"),
    pytest.param({**GATEWAY, "hosts": ABSENT}, "hosts", id="gateway-hosts-absent"),
    pytest.param({**MADE, "hosts": [f"h{i}.example.com" for i in range(65)]}, "hosts",
                 id="gateway-class-65-hosts"),
    pytest.param({**GATEWAY, "gateway": ABSENT}, "gateway", id="gateway-neither"),
    pytest.param({**GATEWAY, "gatewayClassName": "eg"}, "gatewayClassName", id="gateway-both"),
    pytest.param({**GATEWAY, "port": 443}, "port", id="gateway-port-of-an-existing-gateway"),
    pytest.param({"gateway": SHARED}, "gateway", id="gateway-without-exposure"),
    pytest.param({"exposure": "ingress", "port": ABSENT, "hosts": ["cache.example.com"],
                  "gatewayClassName": "eg"}, "gatewayClassName", id="gateway-class-with-ingress"),
    pytest.param({**GATEWAY, "gateway": "gateway-system/shared"}, "gateway",
                 id="gateway-a-string"),
    pytest.param({**GATEWAY, "gateway": {"name": "shared"}}, "gateway",
                 id="gateway-without-namespace"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "port": 443}}, "gateway",
                 id="gateway-unknown-field"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "name": "Shared"}}, "gateway",
                 id="gateway-name-uppercase"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "name": 7}}, "gateway",
                 id="gateway-name-a-number"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "namespace": "gateway.system"}}, "gateway",
                 id="gateway-namespace-with-a-dot"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "namespace": "g" * 64}}, "gateway",
                 id="gateway-namespace-64"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "sectionName": "TLS"}}, "gateway",
                 id="gateway-section-uppercase"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "sectionName": ""}}, "gateway",
                 id="gateway-section-empty"),
    pytest.param({**GATEWAY, "gateway": {**SHARED, "sectionName": "tls", "section_name": "tls"}},
                 "gateway", id="gateway-section-twice"),
    pytest.param({**MADE, "gatewayClassName": "Envoy Gateway"}, "gatewayClassName",
                 id="gateway-class-name"),
]  # fmt: skip

# These cases are written as stack config, so errors spell keys as msr-cache:<key>.
pytestmark = pytest.mark.usefixtures("stack_spelling")


@pytest.mark.parametrize(("changes", "key"), BAD_INPUT)
def test_bad_input_is_named_by_its_config_key(
    changes: Mapping[str, Any], key: str, pki: Mapping[str, str]
) -> None:
    err = refused(with_changes(changes, pki))
    assert key in err.keys, err
    assert set(err.keys) == {key}, f"only {key} is wrong, got {err.keys}"
    assert f"msr-cache:{key}" in str(err)


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"gateway": ABSENT}, "msr-cache:gateway: missing; expected gateway {name, namespace, "
         "sectionName (optional)} naming an existing Gateway with a TLS Passthrough listener, or "
         "else gatewayClassName to have one made (exposure gateway needs one of them)"),
        ({"gatewayClassName": "eg"}, 'msr-cache:gatewayClassName: got "eg"; expected no '
         "gatewayClassName with gateway: the TLSRoute attaches to the existing Gateway named by "
         "gateway, or to one made from gatewayClassName, not both"),
        ({"port": 8443}, "msr-cache:port: got 8443; expected port only with an exposure that has "
         "a port of its own (not ingress: its controller's 443; not gateway with an existing "
         "Gateway: its listener's)"),
        ({"hosts": ["192.0.2.1"]}, 'msr-cache:hosts: got "192.0.2.1"; expected DNS names only '
         "with exposure gateway: a TLSRoute matches the SNI, which names a host, never an IP "
         "(RFC 6066)"),
        ({"hosts": []}, "msr-cache:hosts: got []; expected at least one host with exposure "
         "gateway: the external FQDNs the Gateway routes by SNI"),
        ({"gateway": {**SHARED, "namespace": "gateway.system"}}, 'msr-cache:gateway: got {"name": '
         '"shared", "namespace": "gateway.system"}; expected an object {name, namespace, '
         "sectionName (optional)} naming an existing Gateway and, optionally, its TLS Passthrough "
         "listener; its namespace must be a DNS-1123 label: at most 63 of a-z, 0-9 and '-', "
         "starting and ending alphanumeric"),
        ({"gateway": {**SHARED, "sectionName": "TLS"}}, "; its sectionName must be a DNS-1123 "
         "subdomain: at most 253 of a-z, 0-9, '-' and '.', each dot-separated part starting and "
         "ending alphanumeric"),
        ({"exposure": "hostPort", "port": 443}, 'msr-cache:gateway: got {"name": "shared", '
         '"namespace": "gateway-system"}; expected gateway only with exposure gateway'),
        ({"gateway": ABSENT, "gatewayClassName": "eg",
          "hosts": [f"h{i}.example.com" for i in range(65)]}, "msr-cache:hosts: got 65 hosts; "
         "expected at most 64 hosts with gatewayClassName: the Gateway made has a listener per "
         "host, and Gateway API allows 64 listeners"),
    ],
    ids=["neither", "both", "port", "ip", "no-hosts", "namespace", "section-name",
         "without-exposure", "65-listeners"],
)  # fmt: skip
def test_a_gateway_mistake_says_what_is_accepted(changes: Mapping[str, Any], line: str) -> None:
    err = refused(with_changes({**GATEWAY, **changes}))
    assert len(err.problems) == 1 and line in str(err), str(err)


def test_plain_value_required_for_keys_that_decide_objects() -> None:
    err = refused(with_changes({"exposure": pulumi.Output.from_input("ingress")}))
    assert err.keys == ("exposure",)
    assert "msr-cache:exposure" in str(err)
    assert "known when the program runs" in str(err)


def test_output_exposure_without_hosts_is_a_config_error() -> None:
    err = refused(with_changes({"exposure": pulumi.Output.from_input("hostPort"), "hosts": []}))
    assert "exposure" in err.keys


def test_output_replicas_with_a_claim_is_a_config_error() -> None:
    err = refused(with_changes({"replicas": pulumi.Output.from_input(2), "storageSize": "10Gi"}))
    assert "replicas" in err.keys


def test_deferrable_keys_may_be_outputs() -> None:
    upstreams = pulumi.Output.from_input([MSR])
    settings = parse(with_changes({"upstreams": upstreams}))
    assert settings.upstreams is upstreams


# --- what valid input becomes ----------------------------------------------------------------


def test_defaults_are_filled_in() -> None:
    s = parse(BASE)
    assert s.upstreams == (MSR,)
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
    assert parse(with_changes({"exposure": exposure, "port": ABSENT})).port == 443


def test_ingress_listens_on_443_with_nginx_class() -> None:
    s = parse(with_changes({"exposure": "ingress", "port": ABSENT, "hosts": ["cache.example.com"]}))
    assert (s.port, s.ingress_class_name) == (443, "nginx")


def test_an_existing_gateway_is_reached_on_443() -> None:
    s = parse(with_changes(GATEWAY))
    assert (s.exposure, s.port, s.gateway) == (
        Exposure.GATEWAY, 443, GatewayRef("shared", "gateway-system", None)
    )  # fmt: skip
    assert (s.gateway_class_name, s.ingress_class_name, s.ingress_namespace) == (None, None, None)


@pytest.mark.parametrize("key", ["sectionName", "section_name"])  # the stack's, Python's
def test_a_gateway_listener_is_named_as_its_caller_spells_it(key: str) -> None:
    s = parse(with_changes({**GATEWAY, "gateway": {**SHARED, key: "tls-passthrough"}}))
    assert s.gateway == GatewayRef("shared", "gateway-system", "tls-passthrough")


@pytest.mark.parametrize(("port", "expected"), [(ABSENT, 443), (8443, 8443)])
def test_a_gateway_made_from_a_class_listens_on_the_port(port: Any, expected: int) -> None:
    s = parse(with_changes({**MADE, "port": port}))
    assert (s.gateway, s.gateway_class_name, s.port) == (None, "eg", expected)


def test_resources_replace_the_defaults() -> None:
    resources = {"requests": {"cpu": "250m", "memory": 512}, "limits": {"ephemeral-storage": "2Gi"}}
    s = parse(with_changes({"resources": resources}))
    assert s.resources == {
        "requests": {"cpu": "250m", "memory": "512"},
        "limits": {"ephemeral-storage": "2Gi"},
    }


def test_resolved_upstreams_are_checked() -> None:
    with pytest.raises(ConfigError) as caught:
        resolved("upstreams", ["http://msr.example.com"])
    assert caught.value.keys == ("upstreams",)
    assert "msr-cache:upstreams" in str(caught.value)
    assert resolved("upstreams", ["https://msr.example.com/"]) == ("https://msr.example.com",)


# --- open-ended inputs -----------------------------------------------------------------------


# --- how errors name inputs, and what they never show ------------------------------------------


# --- what the API server would refuse ----------------------------------------------------------


# --- certificates you give, checked as a client checks them ------------------------------------
