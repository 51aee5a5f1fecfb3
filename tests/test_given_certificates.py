"""Certificates users give the cache are checked as a TLS client checks them.

The host-name cases are ported from Go's crypto/x509 tests (golang/go): `matchHostnamesTests`
and `TestMatchIP` in src/crypto/x509/x509_test.go (commit
99f419836986ddf906790a82461edf03801529c1), and `TestValidHostname` plus the "MixedCase",
"IgnoreCNWithSANs" and "ValidCN" verify cases in src/crypto/x509/verify_test.go (commit
d2b3efcb90266c4d0abf11351f2ae947d13fbf55).
"""

from __future__ import annotations

import ast
import ipaddress
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from components import given_certificates as given
from components.given_certificates import (
    certificates,
    check_chain,
    check_covers_hosts,
    check_trust_anchors,
    check_valid_now,
    common_name,
)

MODULE = Path(given.__file__)
_NO_PEM = "The text holds no PEM block (no -----BEGIN CERTIFICATE----- line)."
NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2025, 1, 1, tzinfo=UTC)
MIDWAY = datetime(2024, 6, 1, tzinfo=UTC)

Factory = Callable[..., x509.Certificate]


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    """One cheap key for every certificate of this module: the checks never look at signatures."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def make_cert(ec_key: ec.EllipticCurvePrivateKey) -> Factory:
    """A self-signed certificate with the SANs, CN, basicConstraints and validity asked for."""

    def make(
        *,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        cn: str | None = None,
        san: bool = True,
        ca: bool | None = None,
        not_before: datetime = NOT_BEFORE,
        not_after: datetime = NOT_AFTER,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(ec_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        if san:
            names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        if ca is not None:
            constraints = x509.BasicConstraints(ca=ca, path_length=None)
            builder = builder.add_extension(constraints, critical=True)
        return builder.sign(ec_key, hashes.SHA256())

    return make


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# --- certificates(): PEM text of certificates and nothing else ---------------------------------


def test_certificates_parses_a_chain_in_order(make_cert: Factory) -> None:
    leaf, ca = make_cert(dns=["cache.example.com"]), make_cert(cn="Example CA", ca=True)
    text = f"subject=CN = cache.example.com\n{pem(leaf)}\nissuer: Example CA\n{pem(ca)}"
    assert certificates(text) == [leaf, ca]


@pytest.fixture(scope="module")
def private_keys(ec_key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The same kinds of key users paste by mistake, as PEM."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # cheap, never used
    pkcs1 = serialization.PrivateFormat.TraditionalOpenSSL
    pkcs8 = serialization.PrivateFormat.PKCS8
    unencrypted = serialization.NoEncryption()
    encrypted = serialization.BestAvailableEncryption(b"passphrase")

    def as_pem(
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        fmt: serialization.PrivateFormat,
        encryption: serialization.KeySerializationEncryption,
    ) -> str:
        return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()

    return {
        "rsa-pkcs1": as_pem(rsa_key, pkcs1, unencrypted),
        "rsa-pkcs1-encrypted": as_pem(rsa_key, pkcs1, encrypted),
        "ec-sec1": as_pem(ec_key, pkcs1, unencrypted),
        "pkcs8": as_pem(ec_key, pkcs8, unencrypted),
        "pkcs8-encrypted": as_pem(ec_key, pkcs8, encrypted),
        "openssh": as_pem(ec_key, serialization.PrivateFormat.OpenSSH, unencrypted),
    }


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("rsa-pkcs1", "RSA PRIVATE KEY"),
        ("rsa-pkcs1-encrypted", "RSA PRIVATE KEY"),
        ("ec-sec1", "EC PRIVATE KEY"),
        ("pkcs8", "PRIVATE KEY"),
        ("pkcs8-encrypted", "ENCRYPTED PRIVATE KEY"),
        ("openssh", "OPENSSH PRIVATE KEY"),
    ],
)
@pytest.mark.parametrize("with_certificate", [False, True], ids=["key alone", "key after cert"])
def test_a_private_key_is_refused_without_being_shown(
    private_keys: dict[str, str],
    make_cert: Factory,
    kind: str,
    header: str,
    with_certificate: bool,
) -> None:
    key = private_keys[kind]
    assert f"-----BEGIN {header}-----" in key
    text = pem(make_cert(dns=["cache.example.com"])) + key if with_certificate else key
    with pytest.raises(ValueError, match="private key where a certificate belongs") as e:
        certificates(text)
    message = str(e.value)
    body = [line for line in key.splitlines() if line and not line.startswith("-----")]
    assert body, "the key has a base64 body"
    for line in body:
        assert line not in message
        assert line[:16] not in message
    assert "\n" not in message
    assert e.value.__cause__ is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "hello",
        "MIIBszCCAVmgAwIBAgIUR0VhIGJhc2U2NCBidXQgbm8gYXJtb3VyCg==",  # base64 without armour
        "\x30\x82\x01\xb3\x30\x82\x01\x59\xa0\x03\x02\x01\x02",  # DER bytes as text
    ],
    ids=["empty", "blank", "prose", "bare base64", "DER"],
)
def test_text_that_is_not_pem_is_refused(text: str) -> None:
    with pytest.raises(ValueError) as e:
        certificates(text)
    assert str(e.value) in ("The text is empty.", _NO_PEM)


@pytest.mark.parametrize("value", [None, b"-----BEGIN CERTIFICATE-----", 42])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"^The value is not text\.$"):
        certificates(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("label", ["PUBLIC KEY", "CERTIFICATE REQUEST", "TRUSTED CERTIFICATE"])
def test_a_block_of_another_type_is_named(make_cert: Factory, label: str) -> None:
    other = f"-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n"
    with pytest.raises(ValueError, match=f'PEM block of type "{label}", not CERTIFICATE'):
        certificates(pem(make_cert(dns=["a.example.com"])) + other)


def test_an_unterminated_block_is_refused(make_cert: Factory) -> None:
    text = pem(make_cert(dns=["a.example.com"]))
    with pytest.raises(ValueError, match="no -----END CERTIFICATE----- line of its own"):
        certificates(text.replace("-----END CERTIFICATE-----", ""))
    with pytest.raises(ValueError, match="no -----END CERTIFICATE----- line of its own"):
        certificates("-----BEGIN CERTIFICATE-----\n" + text)


@pytest.mark.parametrize(
    "body", ["AAAA", "not base64 at all!", "MIIB"], ids=["bad DER", "bad base64", "truncated"]
)
def test_a_block_that_is_no_certificate_is_numbered(make_cert: Factory, body: str) -> None:
    bad = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    with pytest.raises(ValueError, match=r"^Certificate 2 of 2 is not valid X\.509: its base64"):
        certificates(pem(make_cert(dns=["a.example.com"])) + bad)


# --- check_valid_now(): the leaf's validity period, ends included ------------------------------


def test_valid_from_not_before_to_not_after_inclusive(make_cert: Factory) -> None:
    cert = make_cert()
    for now in (NOT_BEFORE, MIDWAY, NOT_AFTER):
        check_valid_now([cert], now)


def test_expired_gives_the_date(make_cert: Factory) -> None:
    with pytest.raises(ValueError) as e:
        check_valid_now([make_cert()], NOT_AFTER + timedelta(seconds=1))
    assert str(e.value) == (
        "The certificate expired on 2025-01-01T00:00:00Z (now is 2025-01-01T00:00:01Z)."
    )


def test_not_yet_valid_gives_the_date(make_cert: Factory) -> None:
    with pytest.raises(ValueError) as e:
        check_valid_now([make_cert()], NOT_BEFORE - timedelta(days=1))
    assert str(e.value) == (
        "The certificate is not valid before 2024-01-01T00:00:00Z (now is 2023-12-31T00:00:00Z)."
    )


def test_times_are_compared_and_shown_in_utc(make_cert: Factory) -> None:
    cert = make_cert()
    plus_two = timezone(timedelta(hours=2))
    # 01:00+02:00 is 23:00Z the day before notBefore: not yet valid, shown in UTC.
    with pytest.raises(ValueError, match=r"now is 2023-12-31T23:00:00Z"):
        check_valid_now([cert], datetime(2024, 1, 1, 1, tzinfo=plus_two))
    check_valid_now([cert], datetime(2024, 1, 1, 2, tzinfo=plus_two))
    check_valid_now([cert], datetime(2024, 1, 1))  # naive: taken as UTC
    with pytest.raises(ValueError, match="expired"):
        check_valid_now([cert], datetime(2025, 1, 1, 0, 0, 1))


def test_only_the_leaf_is_dated(make_cert: Factory) -> None:
    """A chain may end in an expired cross-signed CA that clients route around."""
    expired_ca = make_cert(ca=True, not_after=datetime(2024, 2, 1, tzinfo=UTC))
    check_valid_now([make_cert(), expired_ca], MIDWAY)
    with pytest.raises(ValueError, match="expired"):
        check_valid_now([expired_ca, make_cert()], MIDWAY)


def test_no_certificate_is_not_valid() -> None:
    with pytest.raises(ValueError, match="no certificate"):
        check_valid_now([], MIDWAY)


# --- check_covers_hosts(): SAN matching as Go's VerifyHostname does it ------------------------

# Go's matchHostnamesTests (x509_test.go): each pattern is the certificate's only DNS SAN.
MATCH_HOSTNAMES_TESTS = [
    ("a.b.c", "a.b.c", True),
    ("a.b.c", "b.b.c", False),
    ("", "b.b.c", False),
    ("a.b.c", "", False),
    ("example.com", "example.com", True),
    ("example.com", "www.example.com", False),
    ("*.example.com", "example.com", False),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "www.example.com.", True),
    ("*.example.com", "xyz.www.example.com", False),
    ("*.example.com", "https://www.example.com", False),  # Go issue 27591
    ("*.example..com", "www.example..com", False),
    ("www.example..com", "www.example..com", True),
    ("*.*.example.com", "xyz.www.example.com", False),
    ("*.www.*.com", "xyz.www.example.com", False),
    ("*bar.example.com", "foobar.example.com", False),
    ("f*.example.com", "foobar.example.com", False),
    ("www.example.com", "*.example.com", False),
    ("", ".", False),
    (".", "", False),
    (".", ".", False),
    ("example.com", "example.com.", True),
    ("example.com.", "example.com", False),
    ("example.com.", "example.com.", True),  # perfect matches allow trailing dots in patterns
    ("*.com.", "example.com.", False),
    ("*.com.", "example.com", False),
    ("*.com", "example.com", True),
    ("*.com", "example.com.", True),
    ("foo:bar", "foo:bar", True),
    ("*.foo:bar", "xxx.foo:bar", False),
    ("*.2.3.4", "1.2.3.4", False),
    ("*.2.3.4", "[1.2.3.4]", False),
    ("*:4860:4860::8888", "2001:4860:4860::8888", False),
    ("*:4860:4860::8888", "[2001:4860:4860::8888]", False),
    ("2001:4860:4860::8888", "2001:4860:4860::8888", False),
    ("2001:4860:4860::8888", "[2001:4860:4860::8888]", False),
    ("[2001:4860:4860::8888]", "2001:4860:4860::8888", False),
    ("[2001:4860:4860::8888]", "[2001:4860:4860::8888]", False),
]


def test_the_go_table_is_ported_whole() -> None:
    assert len(MATCH_HOSTNAMES_TESTS) == 38


@pytest.mark.parametrize(("pattern", "host", "ok"), MATCH_HOSTNAMES_TESTS)
def test_go_match_hostnames(make_cert: Factory, pattern: str, host: str, ok: bool) -> None:
    cert = make_cert(dns=[pattern])
    if ok:
        check_covers_hosts(cert, [host])
    else:
        with pytest.raises(ValueError, match="does not cover host"):
            check_covers_hosts(cert, [host])


@pytest.mark.parametrize("host", ["localhost", "cache"])
def test_a_bare_wildcard_matches_nothing(make_cert: Factory, host: str) -> None:
    """Go's validHostname: `*` alone is no valid pattern (golang/go#65085), so it only matches
    exactly, and a host is never `*`; before, it covered every single-label host."""
    assert given._valid_hostname("*", is_pattern=True) is False
    with pytest.raises(ValueError, match="does not cover host"):
        check_covers_hosts(make_cert(dns=["*"]), [host])


def test_go_match_ip(make_cert: Factory) -> None:
    """Go's TestMatchIP: wildcards match names, never IPs; IPs match IP SANs, [ ] or not."""
    check_covers_hosts(make_cert(dns=["*.foo.bar.baz"], cn="*.foo.bar.baz"), ["quux.foo.bar.baz"])
    with pytest.raises(ValueError, match=re.escape('"1.2.3.4"')):
        check_covers_hosts(make_cert(dns=["*.2.3.4"], cn="*.2.3.4"), ["1.2.3.4"])
    check_covers_hosts(make_cert(ips=["127.0.0.1", "::1"]), ["127.0.0.1", "::1", "[::1]"])


# Go's TestValidHostname (verify_test.go): (host, validInput, validPattern).
VALID_HOSTNAME_TESTS = [
    ("example.com", True, True),
    ("eXample123-.com", True, True),
    ("-eXample123-.com", False, False),
    ("", False, False),
    (".", False, False),
    ("example..com", False, False),
    (".example.com", False, False),
    ("example.com.", True, False),
    ("*.example.com.", False, False),
    ("*.example.com", False, True),
    ("*foo.example.com", False, False),
    ("foo.*.example.com", False, False),
    ("exa_mple.com", True, True),
    ("foo,bar", False, False),
    ("project-dev:us-central1:main", False, False),
]


@pytest.mark.parametrize(("host", "valid_input", "valid_pattern"), VALID_HOSTNAME_TESTS)
def test_go_valid_hostname(host: str, valid_input: bool, valid_pattern: bool) -> None:
    assert given._valid_hostname(host, is_pattern=False) is valid_input
    assert given._valid_hostname(host, is_pattern=True) is valid_pattern


@pytest.mark.parametrize(
    ("sans", "host"),
    [
        (["www.google.com"], "WwW.GooGLE.coM"),  # Go's "MixedCase" verify test
        (["Cache.Example.COM"], "cache.example.com"),
        (["*.example.com"], "CACHE.example.com"),
        (["*.Example.com"], "cache.example.com"),
        (["*.example.com"], "registry-1.example.com"),
        (["other.example.net", "*.example.com"], "cache.example.com"),
    ],
)
def test_dns_names_match_case_insensitively(make_cert: Factory, sans: list[str], host: str) -> None:
    check_covers_hosts(make_cert(dns=sans), [host])


@pytest.mark.parametrize(
    ("sans", "host"),
    [
        (["*.example.com"], "example.com"),  # not the bare domain
        (["*.example.com"], "a.b.example.com"),  # not two labels
        (["*.example.com"], "cache.example.net"),
        (["cache.example.com"], "cache.example.com.evil.net"),
        (["cache.example.com"], "ca.example.com"),
        (["cache*.example.com"], "cache1.example.com"),  # only a whole left-most label
        (["caché.example.com".encode("idna").decode()], "caché.example.com"),  # no IDNA folding
    ],
)
def test_dns_names_that_do_not_match(make_cert: Factory, sans: list[str], host: str) -> None:
    with pytest.raises(ValueError, match="does not cover host"):
        check_covers_hosts(make_cert(dns=sans), [host])


@pytest.mark.parametrize(
    ("san", "host"),
    [
        ("::1", "::1"),
        ("::1", "0:0::1"),
        ("::1", "0000:0000:0000:0000:0000:0000:0000:0001"),
        ("::1", "[0:0:0:0:0:0:0:1]"),
        ("2001:db8::1", "2001:DB8:0::1"),
        ("2001:DB8::a", "2001:db8::A"),
        ("192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "[192.0.2.7]"),
        ("192.0.2.7", "::ffff:192.0.2.7"),  # Go's net.IP.Equal: IPv4 and IPv4-mapped IPv6
        ("::ffff:192.0.2.7", "192.0.2.7"),
    ],
)
def test_ip_literals_match_ip_sans_in_any_spelling(make_cert: Factory, san: str, host: str) -> None:
    check_covers_hosts(make_cert(ips=[san]), [host])


@pytest.mark.parametrize(
    ("cert_args", "host"),
    [
        ({"ips": ["::1"]}, "::2"),
        ({"ips": ["192.0.2.7"]}, "192.0.2.8"),
        ({"ips": ["192.0.2.7"]}, "::192.0.2.7"),  # IPv4-compatible is not IPv4-mapped
        ({"dns": ["192.0.2.7"]}, "192.0.2.7"),  # an IP only matches IP SANs
        ({"dns": ["::1"]}, "::1"),
        ({"dns": ["[::1]"]}, "[::1]"),
        ({"ips": ["192.0.2.7"]}, "7.2.0.192.in-addr.arpa"),
        ({"ips": ["fe80::1"]}, "fe80::1%eth0"),  # Go's ParseIP takes no zone
        ({"ips": ["192.0.2.7"]}, "192.0.2.07"),  # leading zeros are no IPv4 literal
    ],
)
def test_ip_literals_that_do_not_match(make_cert: Factory, cert_args: dict, host: str) -> None:
    with pytest.raises(ValueError, match="does not cover host"):
        check_covers_hosts(make_cert(**cert_args), [host])


def test_the_subject_cn_is_ignored(make_cert: Factory) -> None:
    """Go's "IgnoreCNWithSANs" and "ValidCN" verify tests."""
    with_sans = make_cert(cn="foo.example.com", dns=["bar.example.com"])
    with pytest.raises(ValueError) as e:
        check_covers_hosts(with_sans, ["foo.example.com"])
    assert str(e.value) == (
        'The certificate does not cover host "foo.example.com": its SANs are DNS:bar.example.com.'
    )

    cn_only = make_cert(cn="foo.example.com", san=False)
    with pytest.raises(ValueError) as e:
        check_covers_hosts(cn_only, ["foo.example.com"])
    assert str(e.value) == (
        'The certificate does not cover host "foo.example.com": it has no DNS or IP SANs '
        "(its subject CN matches, but clients ignore the CN: put the host in a SAN)."
    )


def test_the_message_names_the_first_host_missing_and_the_sans(make_cert: Factory) -> None:
    cert = make_cert(dns=["a.example.com", "*.b.example.com"], ips=["192.0.2.7", "2001:db8::1"])
    hosts = ["a.example.com", "x.b.example.com", "192.0.2.7", "c.example.com", "d.example.com"]
    with pytest.raises(ValueError) as e:
        check_covers_hosts(cert, hosts)
    assert str(e.value) == (
        'The certificate does not cover host "c.example.com": its SANs are DNS:a.example.com, '
        "DNS:*.b.example.com, IP:192.0.2.7, IP:2001:db8::1."
    )


def test_a_long_san_list_is_cut_short(make_cert: Factory) -> None:
    cert = make_cert(dns=[f"h{i}.example.com" for i in range(15)])
    with pytest.raises(ValueError) as e:
        check_covers_hosts(cert, ["other.example.com"])
    assert str(e.value).endswith("DNS:h9.example.com and 5 more.")


def test_no_hosts_is_nothing_to_cover(make_cert: Factory) -> None:
    check_covers_hosts(make_cert(san=False), [])


# --- check_trust_anchors() and check_chain(): Go's chain building ------------------------------
#
# Cases of ours for the rules isValid and CheckSignatureFrom state (verify.go, x509.go at the
# commit the module names): CA:TRUE only of intermediates and of signers, every certificate on the
# path valid, pathLenConstraint, and a trusted leaf needing no chain.


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)])
        + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + body


def _children(der: bytes) -> list[bytes]:
    """The raw TLVs inside a DER SEQUENCE."""

    def header(i: int) -> tuple[int, int]:
        first = der[i + 1]
        if first < 0x80:
            return i + 2, first
        count = first & 0x7F
        return i + 2 + count, int.from_bytes(der[i + 2 : i + 2 + count], "big")

    start, length = header(0)
    out, i = [], start
    while i < start + length:
        body, n = header(i)
        out.append(der[i : body + n])
        i = body + n
    return out


def _version1(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """`cert` (made without extensions) as an X.509 v1 certificate, signed again: cryptography's
    builder writes only v3, and a v1 root is what some old CAs still are."""
    tbs_fields = _children(cert.tbs_certificate_bytes)
    assert tbs_fields[0][0] == 0xA0  # [0] version: v1 leaves it out
    tbs = _tlv(0x30, b"".join(tbs_fields[1:]))
    algorithm = _children(cert.public_bytes(serialization.Encoding.DER))[1]
    signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = _tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature))
    v1 = x509.load_der_x509_certificate(der)
    assert v1.version is x509.Version.v1
    return v1


Issue = Callable[..., tuple[x509.Certificate, ec.EllipticCurvePrivateKey]]


@pytest.fixture(scope="module")
def issue() -> Issue:
    """A certificate named `cn`, issued by `by` (a (certificate, key) pair) or self-signed."""

    def make(
        cn: str,
        by: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        *,
        ca: bool | None = True,
        path_length: int | None = None,
        key_usage: bool | None = None,
        not_after: datetime = NOT_AFTER,
        extensions: bool = True,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer_name, signer = (by[0].subject, by[1]) if by else (name, key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOT_BEFORE)
            .not_valid_after(not_after)
        )
        if extensions and ca is not None:
            constraints = x509.BasicConstraints(ca=ca, path_length=path_length if ca else None)
            builder = builder.add_extension(constraints, critical=True)
        if extensions and key_usage is not None:
            usage = x509.KeyUsage(True, False, False, False, False, key_usage, False, False, False)
            builder = builder.add_extension(usage, critical=True)
        if extensions and not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), False)
        cert = builder.sign(signer, hashes.SHA256())
        if not extensions:
            cert = _version1(cert, signer)
        return cert, key

    return make


def test_any_certificate_is_a_trust_anchor(issue: Issue) -> None:
    """A pinned self-signed server certificate (CA:FALSE) and a v1 root are anchors to Go."""
    pinned, _ = issue("cache.example.com", ca=False)
    v1_root, _ = issue("Old Root", extensions=False)
    no_constraints, _ = issue("Bare", ca=None)
    check_trust_anchors([pinned, v1_root, no_constraints], MIDWAY)


@pytest.mark.parametrize(
    ("now", "says"),
    [
        (NOT_AFTER + timedelta(days=1), "Certificate 2 of 2 expired on 2025-01-01T00:00:00Z"),
        (NOT_BEFORE - timedelta(days=1), "Certificate 1 of 2 is not valid before 2024-01-01"),
    ],
)
def test_an_anchor_not_valid_now_is_refused(issue: Issue, now: datetime, says: str) -> None:
    late, _ = issue("Late CA", not_after=NOT_AFTER + timedelta(days=30))
    with pytest.raises(ValueError, match=f"^{re.escape(says)}"):
        check_trust_anchors([late, issue("CA")[0]], now)


def test_a_leaf_issued_by_the_ca_verifies(issue: Issue) -> None:
    root = issue("Root")
    leaf, _ = issue("cache.example.com", root, ca=False)
    check_chain(leaf, [], [root[0]], MIDWAY)


def test_a_path_through_an_intermediate_verifies(issue: Issue) -> None:
    root = issue("Root", path_length=1)
    intermediate = issue("Intermediate", root, path_length=0)
    leaf, _ = issue("cache.example.com", intermediate, ca=False)
    check_chain(leaf, [intermediate[0]], [root[0]], MIDWAY)


def test_a_v1_root_may_sign(issue: Issue) -> None:
    """CheckSignatureFrom asks basicConstraints of a v3 signer only."""
    root = issue("Old Root", extensions=False)
    leaf, _ = issue("cache.example.com", root, ca=False)
    check_chain(leaf, [], [root[0]], MIDWAY)


def test_a_trusted_leaf_needs_no_chain(issue: Issue) -> None:
    pinned, _ = issue("cache.example.com", ca=False)
    check_chain(pinned, [], [pinned], MIDWAY)


def test_another_ca_did_not_sign_it(issue: Issue) -> None:
    root, other = issue("Root"), issue("Other CA")
    leaf, _ = issue("cache.example.com", root, ca=False)
    with pytest.raises(ValueError) as e:
        check_chain(leaf, [], [other[0]], MIDWAY)
    assert str(e.value) == (
        'None of them signed the certificate "cache.example.com", nor an intermediate that '
        "leads to it."
    )


def test_a_namesake_ca_with_another_key_is_named(issue: Issue) -> None:
    root, impostor = issue("Root"), issue("Root")
    leaf, _ = issue("cache.example.com", root, ca=False)
    with pytest.raises(
        ValueError,
        match='"Root" has the issuer\'s name but cannot have signed it: its key did not make the signature',
    ):
        check_chain(leaf, [], [impostor[0]], MIDWAY)


@pytest.mark.parametrize(
    ("signer", "says"),
    [
        ({"ca": False}, "its basicConstraints say CA:FALSE"),
        ({"ca": None}, "it has no basicConstraints extension (CA:TRUE)"),
        ({"key_usage": False}, "its keyUsage lacks keyCertSign"),
    ],
)
def test_a_root_that_may_not_sign_signed_nothing(issue: Issue, signer: dict, says: str) -> None:
    """CheckSignatureFrom: a v3 signer needs CA:TRUE, and keyCertSign if it has a keyUsage."""
    root = issue("Root", **signer)
    leaf, _ = issue("cache.example.com", root, ca=False)
    with pytest.raises(ValueError, match=re.escape(says)):
        check_chain(leaf, [], [root[0]], MIDWAY)


def test_an_intermediate_must_be_a_ca(issue: Issue) -> None:
    """isValid: a v1 intermediate may sign (CheckSignatureFrom), but no path passes through it."""
    root = issue("Root")
    middle = issue("Middle", root, extensions=False)
    leaf, _ = issue("cache.example.com", middle, ca=False)
    with pytest.raises(ValueError) as e:
        check_chain(leaf, [middle[0]], [root[0]], MIDWAY)
    assert str(e.value) == (
        'Intermediate certificate "Middle" is no CA (CA:TRUE), so it may not sign other '
        "certificates."
    )


def test_an_expired_root_anchors_nothing(issue: Issue) -> None:
    root = issue("Root", not_after=datetime(2024, 3, 1, tzinfo=UTC))
    leaf, _ = issue("cache.example.com", root, ca=False)
    with pytest.raises(ValueError, match=r'^CA certificate "Root" expired on 2024-03-01T00:00:00Z'):
        check_chain(leaf, [], [root[0]], MIDWAY)


def test_the_path_length_constraint_is_kept(issue: Issue) -> None:
    root = issue("Root", path_length=0)
    intermediate = issue("Intermediate", root)
    leaf, _ = issue("cache.example.com", intermediate, ca=False)
    with pytest.raises(ValueError, match='"Root" allows 0 intermediates below it, not 1'):
        check_chain(leaf, [intermediate[0]], [root[0]], MIDWAY)


# --- common_name() ------------------------------------------------------------------------------


def host_of_length(length: int) -> str:
    return "c" * (length - len(".example.com")) + ".example.com"


def test_common_name_fits_64_characters() -> None:
    at_limit, over = host_of_length(64), host_of_length(65)
    assert (len(at_limit), len(over)) == (64, 65)
    assert common_name([at_limit]) == at_limit
    assert common_name([over]) is None
    assert common_name([over, at_limit, "short.example.com"]) == at_limit
    assert common_name([over, "", "192.0.2.7"]) == "192.0.2.7"
    assert common_name([]) is None
    assert common_name([""]) is None


def test_common_name_agrees_with_cryptography() -> None:
    """cryptography refuses a longer CN; it counts UTF-8 bytes, as cert-manager (Go len) does."""
    x509.NameAttribute(NameOID.COMMON_NAME, host_of_length(64))
    with pytest.raises(ValueError):
        x509.NameAttribute(NameOID.COMMON_NAME, host_of_length(65))
    assert common_name(["é" * 33]) is None  # 33 characters, 66 bytes
    with pytest.raises(ValueError):
        x509.NameAttribute(NameOID.COMMON_NAME, "é" * 33)
    assert common_name(["é" * 32]) == "é" * 32


# --- the module stays pure ---------------------------------------------------------------------


def test_the_module_imports_neither_pulumi_nor_settings() -> None:
    tree = ast.parse(MODULE.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        f"{'.' * node.level}{node.module or ''}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    # Of the components, only the one reading of IP literals, itself pure.
    pure = {".ip_literal"}
    assert not {n for n in imported - pure if re.search(r"pulumi|settings|^\.", n)}, imported
    literal = ast.parse(MODULE.with_name("ip_literal.py").read_text())
    assert {a.name for n in ast.walk(literal) if isinstance(n, ast.Import) for a in n.names} == {
        "ipaddress"
    }
