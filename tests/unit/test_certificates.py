"""The names and addresses the serving certificate carries, as clients check them."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import logging
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from harness import (
    CERT,
    KEY,
    MSR,
    NODE_PORT,
    SECRET,
    cache,
    config_yaml,
    deploy,
    pod_spec,
    rejected,
    sans,
    served_cert,
    settings,
    upstream_ca,
)
from mocks import LOAD_BALANCER_IP

from components import MsrCache
from components.inputs.model import SecretRef
from components.inputs.settings import resolved_secret_pem
from components.objects import certificates
from render.stack_config import self_signed_pair

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


def test_cert_manager_issues_the_certificate_with_the_same_sans():
    d = cache({"hosts": ["node1.example.com", "192.0.2.10"], "port": 30443, "tls_key_algorithm": "ECDSA",
               "cert_manager_issuer": {"kind": "ClusterIssuer", "name": "internal-ca"}})  # fmt: skip
    assert not [r for r in d.resources if r.typ.startswith("tls:")]
    certificate = d.one("kubernetes:cert-manager.io/v1:Certificate").inputs
    spec = certificate["spec"]
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    assert spec["issuerRef"] == {
        "group": "cert-manager.io",
        "kind": "ClusterIssuer",
        "name": "internal-ca",
    }
    assert spec["dnsNames"] == [
        "node1.example.com",
        "dtr-cache.dtr.svc",
        "dtr-cache.dtr.svc.cluster.local",
    ]
    assert spec["ipAddresses"] == ["192.0.2.10"]
    assert spec["privateKey"]["algorithm"] == "ECDSA"
    volume = next(v for v in pod_spec(d)["volumes"] if v["name"] == "dtr-certs")
    (source,) = volume["projected"]["sources"]
    assert source["secret"] == {
        "name": spec["secretName"],
        "items": [
            {"key": "tls.crt", "path": "cache.cert.pem"},
            {"key": "tls.key", "path": "cache.key.pem"},
        ],
    }
    assert set(d.one(SECRET).inputs["stringData"]) == {"http-secret"}
    assert d.outputs["ca_cert_pem"].value == ""


def test_cert_manager_with_the_upstream_ca_and_the_issuers_ca():
    ca = upstream_ca()
    d = cache({**NODE_PORT, "cert_manager_issuer": {"kind": "Issuer", "name": "ca"},
               "upstream_ca_cert": ca, "tls_ca_cert": ca})  # fmt: skip
    volume = next(v for v in pod_spec(d)["volumes"] if v["name"] == "dtr-certs")
    assert volume["projected"]["sources"][1]["secret"]["items"] == [
        {"key": "msr.cert.pem", "path": "msr.cert.pem"}
    ]
    assert d.outputs["ca_cert_pem"].value == ca


def test_an_external_issuer_is_named_by_its_kind_and_group():
    """An external issuer (AWS Private CA here) is cert-manager's issuerRef with its own group."""
    issuer = {"kind": "AWSPCAClusterIssuer", "name": "pca", "group": "awspca.cert-manager.io"}
    d = cache({**NODE_PORT, "cert_manager_issuer": issuer})
    spec = d.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]
    assert spec["issuerRef"] == issuer
    default = cache({**NODE_PORT, "cert_manager_issuer": {"kind": "Issuer", "name": "ca"}})
    spec = default.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]
    assert spec["issuerRef"]["group"] == "cert-manager.io"


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"cert_manager_issuer": {"kind": "Vault", "name": "v"}}, "certManagerIssuer"),
        ({"cert_manager_issuer": {"name": "v"}}, "certManagerIssuer"),
        ({"cert_manager_issuer": {"kind": "Issuer", "name": "v", "group": "Not_A.Group"}},
         "certManagerIssuer"),
        ({"cert_manager_issuer": {"kind": "A-B", "name": "v", "group": "example.com"}},
         "certManagerIssuer"),
        ({"cert_manager_issuer": {"kind": "Issuer", "name": "v", "grup": "example.com"}},
         "certManagerIssuer"),
    ],
    ids=["unknown-kind", "no-kind", "bad-group", "bad-external-kind", "unknown-field"],
)  # fmt: skip
def test_cert_manager_mistakes_are_named(args, key):
    assert rejected({**NODE_PORT, **args}).keys == (key,)


def test_cert_manager_or_your_own_certificate_not_both():
    from render.stack_config import self_signed_pair

    cert, key = self_signed_pair("n1.example.com")
    err = rejected({**NODE_PORT, "tls_cert": cert, "tls_key": key,
                    "cert_manager_issuer": {"kind": "Issuer", "name": "ca"}})  # fmt: skip
    assert err.keys == ("certManagerIssuer",)


IN_CLUSTER = ["dtr-cache.dtr.svc", "dtr-cache.dtr.svc.cluster.local"]


@pytest.mark.parametrize(
    ("args", "url", "dns", "ips"),
    [
        (
            {"hosts": ["node1.example.com", "node2.example.com"], "port": 30443},
            "https://node1.example.com:30443",
            ["node1.example.com", "node2.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"hosts": ["192.0.2.10"], "port": 30443},
            "https://192.0.2.10:30443",
            IN_CLUSTER,
            ["192.0.2.10"],
        ),
        (
            {"hosts": ["2001:db8::10"], "port": 32000},
            "https://[2001:db8::10]:32000",
            IN_CLUSTER,
            ["2001:db8::10"],
        ),
        (
            {"exposure": "hostPort", "hosts": ["node1.example.com", "192.0.2.10"]},
            "https://node1.example.com",
            ["node1.example.com", *IN_CLUSTER],
            ["192.0.2.10"],
        ),
        (
            {"exposure": "hostPort", "hosts": ["node1.example.com"], "port": 8443},
            "https://node1.example.com:8443",
            ["node1.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"exposure": "loadBalancer"},
            f"https://{LOAD_BALANCER_IP}",
            IN_CLUSTER,
            [LOAD_BALANCER_IP],
        ),
        (
            {"exposure": "loadBalancer", "hosts": ["cache.example.com"], "port": 5443},
            "https://cache.example.com:5443",
            ["cache.example.com", *IN_CLUSTER],
            [LOAD_BALANCER_IP],
        ),
        (
            {"exposure": "ingress", "hosts": ["cache.example.com", "cache.eu.example.com"]},
            "https://cache.example.com",
            ["cache.example.com", "cache.eu.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"exposure": "gateway", "hosts": ["cache.example.com", "cache.eu.example.com"],
             "gateway": {"name": "shared", "namespace": "gateway-system"}},
            "https://cache.example.com",
            ["cache.example.com", "cache.eu.example.com", *IN_CLUSTER],
            [],
        ),
        (
            {"exposure": "gateway", "hosts": ["cache.example.com"], "gateway_class_name": "eg",
             "port": 8443},
            "https://cache.example.com:8443",
            ["cache.example.com", *IN_CLUSTER],
            [],
        ),
    ],
    ids=[
        "nodePort-dns",
        "nodePort-ipv4",
        "nodePort-ipv6",
        "hostPort-443",
        "hostPort-8443",
        "loadBalancer-address",
        "loadBalancer-hosts",
        "ingress",
        "gateway",
        "gateway-class-8443",
    ],
)  # fmt: skip
def test_certificate_and_url_follow_the_exposure(args, url, dns, ips):
    d = cache(args)
    cert = served_cert(d)
    assert sans(cert) == (dns, ips)
    assert d.outputs["url"].value == url
    assert config_yaml(d)["http"]["host"] == url
    assert json.loads(d.outputs["registration"].value) == {"name": "edge", "host": url}


LONG_HOST = "a" * 50 + ".example.com"  # 62 characters, valid in DNS; the next one is longer


ELB = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4-1234567890.eu-west-1.elb.amazonaws.com"


@pytest.mark.parametrize(
    ("args", "load_balancer", "host"),
    [
        ({"hosts": ["cache." + LONG_HOST], "port": 30443}, LOAD_BALANCER_IP, "cache." + LONG_HOST),
        ({"exposure": "loadBalancer"}, ELB, ELB),
    ],
    ids=["host-of-68-characters", "elb-hostname"],
)
def test_a_host_longer_than_a_common_name_is_a_san_only(args, load_balancer, host):
    assert len(host) > 64
    d = cache(args, load_balancer=load_balancer)
    cert = served_cert(d)
    assert host in sans(cert)[0]
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME) == []
    assert d.outputs["url"].value == f"https://{host}" + (":30443" if "port" in args else "")


def test_a_long_name_and_namespace_keep_the_ca_common_name_within_64():
    d = cache({"hosts": ["n1.example.com"], "port": 30443, "name": "c" * 40, "namespace": "n" * 40})
    ca = x509.load_pem_x509_certificate(d.outputs["ca_cert_pem"].value.encode())
    (cn,) = ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert cn.value == "c" * 40 + " cache CA"


def test_serving_certificate_is_signed_by_the_published_ca():
    d = cache({"hosts": ["node1.example.com"], "port": 30443})
    ca = x509.load_pem_x509_certificate(d.outputs["ca_cert_pem"].value.encode())
    cert = served_cert(d)
    assert cert.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.public_key().verify(
        cert.signature,
        cert.tbs_certificate_bytes,
        padding.PKCS1v15(),
        cert.signature_hash_algorithm,
    )
    assert isinstance(ca.public_key(), rsa.RSAPublicKey) and ca.public_key().key_size == 4096
    csr = d.one("tls:index/certRequest:CertRequest").inputs
    assert csr["subject"]["commonName"] == "node1.example.com"
    signed = d.one("tls:index/locallySignedCert:LocallySignedCert").inputs
    assert "server_auth" in signed["allowedUses"]
    assert 0 < signed["earlyRenewalHours"] < signed["validityPeriodHours"]


def test_ecdsa_keys_on_request():
    d = cache({"hosts": ["node1.example.com"], "port": 30443, "tls_key_algorithm": "ECDSA"})
    key = serialization.load_pem_private_key(
        d.one(SECRET).inputs["stringData"]["cache.key.pem"].encode(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_your_own_certificate_replaces_the_generated_one():
    cert, key = self_signed_pair("cache.example.com")
    d = cache(
        {"exposure": "ingress", "hosts": ["cache.example.com"], "tls_cert": cert, "tls_key": key}
    )
    assert not [r for r in d.resources if r.typ.startswith("tls:")]
    data = d.one(SECRET).inputs["stringData"]
    assert (data["cache.cert.pem"], data["cache.key.pem"]) == (cert, key)
    assert d.outputs["ca_cert_pem"].value == cert
    ca, ca_key = self_signed_pair("ca.example.com")
    issued, issued_key = _issued_by(ca, ca_key, "cache.example.com")
    d = cache(
        {
            "exposure": "ingress",
            "hosts": ["cache.example.com"],
            "tls_cert": issued,
            "tls_key": issued_key,
            "tls_ca_cert": ca,
        }
    )
    assert d.outputs["ca_cert_pem"].value == ca


def _issued_by(ca_pem: str, ca_key_pem: str, host: str) -> tuple[str, str]:
    """(certificate, key) PEMs for `host`, issued by the CA given as PEMs."""
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, host)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ca.not_valid_before_utc)
        .not_valid_after(ca.not_valid_after_utc)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


# When the certificates expire: outputs a user can alert on.
def _rfc3339(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _certs(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def test_generated_certificates_expire_when_pulumi_tls_says() -> None:
    d = cache(NODE_PORT)
    served = served_cert(d)
    (ca,) = _certs(d.outputs["ca_cert_pem"].value)
    assert d.outputs["cert_expires_at"].value == _rfc3339(served.not_valid_after_utc)
    assert d.outputs["ca_expires_at"].value == _rfc3339(ca.not_valid_after_utc)
    # A year for the serving certificate, ten for the CA.
    days = (served.not_valid_after_utc - served.not_valid_before_utc).days
    assert (days, (ca.not_valid_after_utc - ca.not_valid_before_utc).days) == (365, 3650)


def test_a_given_certificate_expires_as_it_says(pki: dict[str, str]) -> None:
    d = cache(
        {**NODE_PORT, "hosts": ["node1.example.com"], "tls_cert": pki[CERT], "tls_key": pki[KEY]}
    )
    (given,) = _certs(pki[CERT])
    expected = _rfc3339(given.not_valid_after_utc)
    # Self-signed: it is its own CA.
    assert (d.outputs["cert_expires_at"].value, d.outputs["ca_expires_at"].value) == (
        expected,
        expected,
    )


def test_cert_manager_renews_so_only_a_given_ca_expiry_is_known(pki: dict[str, str]) -> None:
    issuer = {"cert_manager_issuer": {"kind": "Issuer", "name": "ca"}}
    d = cache({**NODE_PORT, **issuer})
    assert (d.outputs["cert_expires_at"].value, d.outputs["ca_expires_at"].value) == ("", "")
    with_ca = cache({**NODE_PORT, **issuer, "tls_ca_cert": pki[CERT]})
    (ca,) = _certs(pki[CERT])
    assert with_ca.outputs["ca_expires_at"].value == _rfc3339(ca.not_valid_after_utc)


# A CA rotation in two steps, clients never left without a CA that verifies the cache.
def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@pytest.mark.parametrize("algorithm", ["RSA", "ECDSA"])
def test_ca_rotation_publishes_the_new_ca_before_it_signs(algorithm: str) -> None:
    args = {**NODE_PORT, "tls_key_algorithm": algorithm}
    before = cache(args)
    (old,) = _certs(before.outputs["ca_cert_pem"].value)

    # Step one: both CAs published, the old one first and still signing.
    step_one = cache({**args, "next_ca": True})
    published = _certs(step_one.outputs["ca_cert_pem"].value)
    assert len(published) == 2
    current, new = published
    assert current.public_key() == old.public_key() and new.public_key() != old.public_key()
    assert _signed_by(served_cert(step_one), current) and not _signed_by(served_cert(step_one), new)
    common_name = new.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name == "dtr-cache.dtr cache CA 2"
    assert step_one.outputs["ca_expires_at"].value == _rfc3339(current.not_valid_after_utc)

    # Step two: the new CA signs, and is the only one published; a client holding step one's
    # bundle verifies the new certificate.
    step_two = cache({**args, "ca_generation": 2})
    (only,) = _certs(step_two.outputs["ca_cert_pem"].value)
    assert only.public_key() == new.public_key() and only.subject == new.subject
    assert _signed_by(served_cert(step_two), new)
    tls_names = [r.name for r in step_two.resources if r.typ.startswith("tls:")]
    assert "edge-ca2" in tls_names and "edge-ca" not in tls_names


def test_step_one_keeps_the_first_cas_resources_so_nothing_is_replaced() -> None:
    step_one = cache({**NODE_PORT, "next_ca": True})
    names = [r.name for r in step_one.resources if r.typ.startswith("tls:")]
    assert {"edge-ca-key", "edge-ca", "edge-ca2-key", "edge-ca2", "edge-cert"} <= set(names)


@pytest.mark.parametrize("changes", [
    {"next_ca": True, "cert_manager_issuer": {"kind": "Issuer", "name": "ca"}},
    {"ca_generation": 2, "cert_manager_issuer": {"kind": "Issuer", "name": "ca"}},
    {"ca_generation": 0},
])  # fmt: skip
def test_rotation_inputs_only_for_a_generated_ca(changes: dict[str, Any]) -> None:
    key = next(iter(changes))
    assert key in str(rejected({**NODE_PORT, **changes}))


@pytest.mark.parametrize("given", [False, True], ids=["generated", "given"])
def test_cert_sans_are_those_of_the_served_certificate(given: bool):
    """The cert_sans output (certSans of the stack) names what clients may dial."""
    own = self_signed_pair("cache.example.com", "192.0.2.7") if given else None

    def program() -> dict[str, Any]:
        tls = {"tls_cert": own[0], "tls_key": own[1]} if own else {}
        c = MsrCache(
            "edge",
            {"upstreams": [MSR], "exposure": "loadBalancer", "hosts": ["cache.example.com"], **tls},  # type: ignore[typeddict-item]
        )
        return {"cert_sans": c.cert_sans}

    d = deploy(program, load_balancer=LOAD_BALANCER_IP)
    dns, ips = sans(served_cert(d))
    assert d.outputs["cert_sans"].value == [f"DNS:{n}" for n in dns] + [f"IP:{i}" for i in ips]
    assert ("IP:192.0.2.7" in d.outputs["cert_sans"].value) is given


# Certificates as Go's crypto/x509 takes them (issue 25): what Go refuses is refused, naming the
# input; what Go skips in a trust bundle is accepted and warned of. The rules and Go's own cases
# are tests/unit/test_given_certificates.py's.
def _made(
    host: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    *,
    ca: bool = False,
    ekus: tuple[str, ...] = (),
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    days: tuple[int, int] = (-1, 30),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate for `host` (its SAN and CN), valid from `days[0]` to `days[1]` days from now,
    issued by `issuer` or self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if not ca and not any(isinstance(v, x509.SubjectAlternativeName) for v, _ in extensions):
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
    if ekus:
        usages = {"serverAuth": x509.ExtendedKeyUsageOID.SERVER_AUTH,
                  "clientAuth": x509.ExtendedKeyUsageOID.CLIENT_AUTH,
                  "codeSigning": x509.ExtendedKeyUsageOID.CODE_SIGNING}  # fmt: skip
        builder = builder.add_extension(x509.ExtendedKeyUsage([usages[e] for e in ekus]), False)
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _own(
    leaf: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    *chain: x509.Certificate,
    ca: str | None = None,
) -> dict[str, Any]:
    """A nodePort cache on node1.example.com with `leaf` (then `chain`) as tls_cert."""
    given = {"tls_cert": "".join(_pem(c) for c in (leaf[0], *chain)), "tls_key": _key_pem(leaf[1])}
    return {
        "hosts": ["node1.example.com"],
        "port": 30443,
        **given,
        **({"tls_ca_cert": ca} if ca else {}),
    }


UNKNOWN = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00")


def test_a_serving_certificate_for_client_authentication_only_is_refused() -> None:
    err = rejected(_own(_made("node1.example.com", ekus=("clientAuth",))))
    assert err.keys == ("tlsCert",)
    assert "allows only the extended key usages clientAuth, not serverAuth" in str(err)


def test_a_serving_certificate_with_an_unhandled_critical_extension_is_refused() -> None:
    err = rejected(_own(_made("node1.example.com", extensions=((UNKNOWN, True),))))
    assert err.keys == ("tlsCert",)
    assert "has a critical extension Go does not handle (1.2.3.4)" in str(err)


def test_a_serving_certificate_go_cannot_parse_is_refused_with_gos_words() -> None:
    """An iPAddress SAN of 8 bytes (an address and a mask): cryptography reads a network, Go
    refuses the certificate, and so every TLS handshake with it."""
    network = x509.SubjectAlternativeName(
        [x509.DNSName("node1.example.com"), x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))]
    )
    leaf = _made("node1.example.com", extensions=((network, False),))
    leaf[0].extensions  # noqa: B018 (cryptography reads it)
    err = rejected(_own(leaf))
    assert err.keys == ("tlsCert",)
    assert '"x509: cannot parse IP address of length 8"' in str(err)


def test_an_intermediate_whose_eku_excludes_server_auth_is_refused() -> None:
    """Go nests extended key usages down the chain: a CA listing usages must list serverAuth
    for the certificates it issues to serve."""
    root = _made("Root CA", ca=True)
    middle = _made("Client CA", root, ca=True, ekus=("clientAuth", "codeSigning"))
    leaf = _made("node1.example.com", middle, ekus=("serverAuth",))
    err = rejected(_own(leaf, middle[0], ca=_pem(root[0])))
    assert err.keys == ("tlsCaCert",)
    assert 'CA certificate "Client CA" above it allows only the extended key usages' in str(err)
    good_middle = _made("Server CA", root, ca=True, ekus=("serverAuth",))
    good_leaf = _made("node1.example.com", good_middle, ekus=("serverAuth",))
    cache(_own(good_leaf, good_middle[0], ca=_pem(root[0])))


def test_an_intermediate_with_an_unhandled_critical_extension_is_refused() -> None:
    root = _made("Root CA", ca=True)
    middle = _made("Odd CA", root, ca=True, extensions=((UNKNOWN, True),))
    err = rejected(_own(_made("node1.example.com", middle), middle[0], ca=_pem(root[0])))
    assert err.keys == ("tlsCaCert",)
    assert 'Intermediate certificate "Odd CA" has a critical extension Go does not handle' in str(
        err
    )


def _rotation() -> tuple[str, tuple[x509.Certificate, ec.EllipticCurvePrivateKey], str]:
    """(a bundle of an expired old CA and the current one, a leaf of the current one, the
    warning's sentence about the old one)."""
    old = _made("Old CA", ca=True, days=(-400, -5))
    current = _made("Current CA", ca=True, days=(-5, 3650))
    bundle = _pem(old[0]) + _pem(current[0])
    expired_on = old[0].not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    said = f'Certificate 1 of 2 ("Old CA") expired on {expired_on}'
    return bundle, _made("node1.example.com", current), said


@pytest.mark.usefixtures("stack_spelling")
def test_a_rotation_bundle_with_an_expired_ca_is_accepted_and_warned_of() -> None:
    """The issue's case: the current CA plus an expired one, as a rotation leaves it. Go never
    uses the expired root, and verifies the cache with the current one."""
    bundle, leaf, said = _rotation()
    s = settings(**{key: value for key, value in (
        ("tlsCert", _pem(leaf[0])), ("tlsKey", _key_pem(leaf[1])), ("tlsCaCert", bundle),
        ("upstreamCaCert", bundle))})  # fmt: skip
    warnings = s.warnings()
    assert len(warnings) == 2
    for key, warning in zip(("tlsCaCert", "upstreamCaCert"), warnings, strict=True):
        assert warning.startswith(f"msr-cache:{key}: {said} (now is ")
        assert warning.endswith(
            "Go clients skip it and trust the rest of the bundle, so nothing only it signed "
            "verifies now."
        )


def test_the_warning_reaches_pulumi(caplog: pytest.LogCaptureFixture) -> None:
    """Said with pulumi.log.warn by the component, as pulumi up and the render show it, and
    spelled as the caller spells the input."""
    bundle, leaf, said = _rotation()
    with caplog.at_level(logging.WARNING):
        d = cache(_own(leaf, ca=bundle))
    assert d.outputs["ca_cert_pem"].value == bundle
    (warning,) = [message for message in caplog.messages if said in message]  # once
    assert warning.startswith(f"tls_ca_cert: {said}")


def test_a_bundle_given_as_an_output_is_warned_of_when_it_resolves_and_dated_by_its_usable_ca(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An encrypted tlsCaCert reaches the component as an Output (a secret): its warning comes
    when it resolves, and caExpiresAt is the current CA's end, not the expired one's."""
    bundle, leaf, said = _rotation()
    with caplog.at_level(logging.WARNING):
        d = cache(_own(leaf, ca=pulumi.Output.secret(bundle)))
    (warning,) = [message for message in caplog.messages if said in message]
    assert warning.startswith(f"tls_ca_cert: {said}")
    current = x509.load_pem_x509_certificates(bundle.encode())[1]
    assert d.outputs["ca_expires_at"].value == current.not_valid_after_utc.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_the_ca_expiry_is_of_the_first_ca_go_uses_not_one_it_skips() -> None:
    """A CA valid now that Go skips all the same (a critical extension it does not handle, which
    the bundle's warning names) dates nothing: caExpiresAt is the next CA's end."""
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00")
    odd = _made("Odd CA", ca=True, extensions=((unknown, True),), days=(-1, 10))[0]
    current = _made("Current CA", ca=True, days=(-1, 300))[0]
    assert certificates.expires_at(_pem(odd) + _pem(current)) == _rfc3339(
        current.not_valid_after_utc
    )
    assert certificates.expires_at(_pem(odd)) == _rfc3339(odd.not_valid_after_utc)  # none usable


def test_a_bundle_of_expired_cas_only_is_refused() -> None:
    old = _made("Old CA", ca=True, days=(-400, -5))
    older = _made("Older CA", ca=True, days=(-800, -400))
    err = rejected({**NODE_PORT, "upstream_ca_cert": _pem(old[0]) + _pem(older[0])})
    assert err.keys == ("upstreamCaCert",)
    assert "None of them can anchor a chain now, so clients would trust nothing" in str(err)


def test_the_upstream_ca_secret_is_warned_of_when_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """upstreamCaSecret is read at deployment: its warning comes then, by pulumi.log.warn."""
    said_to_pulumi: list[str] = []
    monkeypatch.setattr(
        pulumi.log, "warn", lambda message, *_, **__: said_to_pulumi.append(message)
    )
    bundle, _, said = _rotation()
    ref = SecretRef(namespace="msr", name="msr-nginx-ca-cert", key="ca.crt")
    data = {"ca.crt": base64.b64encode(bundle.encode()).decode()}
    assert resolved_secret_pem(ref, data) == bundle
    (warning,) = said_to_pulumi
    assert warning.startswith(
        f"upstream_ca_secret (Secret msr/msr-nginx-ca-cert, key ca.crt): {said}"
    )
