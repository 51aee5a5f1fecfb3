"""The mocks sign certificates as pulumi-tls does, so strict verifiers accept them.

The rules (terraform-provider-tls `createCertificate`, cited in mocks.py): key usages follow
`allowed_uses`, every certificate has critical basicConstraints, a CA has a subject key id and a
certificate it signs names it as the authority key id.
"""

from __future__ import annotations

import functools
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from harness import SECRET, Deployment, cache, served_cert

OPENSSL = "/usr/bin/openssl"
HOST = "node1.example.com"
TIMEOUT = 5.0

ALGORITHMS = ["RSA", "ECDSA"]

# (algorithm, which certificate, key usages set, extended key usages, CA?) for the allowed uses
# the component asks for (components/objects/certificates.py CA_USES and KEYS' serving_uses): an ECDSA
# leaf signs only, an RSA one may also encipher a key exchange.
RULES = [
    ("RSA", "ca", {"key_cert_sign", "crl_sign", "digital_signature"}, None, True),
    ("ECDSA", "ca", {"key_cert_sign", "crl_sign", "digital_signature"}, None, True),
    (
        "RSA",
        "leaf",
        {"digital_signature", "key_encipherment"},
        [ExtendedKeyUsageOID.SERVER_AUTH],
        False,
    ),
    ("ECDSA", "leaf", {"digital_signature"}, [ExtendedKeyUsageOID.SERVER_AUTH], False),
]
KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)


@functools.cache
def deployed(algorithm: str) -> Deployment:
    # One deployment per algorithm: RSA 4096 keys are costly.
    return cache({"hosts": [HOST], "port": 30443, "tls_key_algorithm": algorithm})


def ca_cert(d: Deployment) -> x509.Certificate:
    return x509.load_pem_x509_certificate(d.outputs["ca_cert_pem"].value.encode())


def pems(d: Deployment, folder: Path) -> tuple[Path, Path, Path]:
    """(CA, leaf, leaf key) PEM files."""
    data = d.one(SECRET).inputs["stringData"]
    ca, leaf, key = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca.write_text(d.outputs["ca_cert_pem"].value)
    leaf.write_text(data["cache.cert.pem"])
    key.write_text(data["cache.key.pem"])
    return ca, leaf, key


def openssl_verify(ca: Path, leaf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPENSSL, "verify", "-x509_strict", "-CAfile", str(ca), str(leaf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_openssl_strict_verifies_the_leaf(algorithm: str, tmp_path: Path) -> None:
    ca, leaf, _ = pems(deployed(algorithm), tmp_path)
    done = openssl_verify(ca, leaf)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{leaf}: OK"


def handshake(ca: Path, leaf: Path, key: Path, server_hostname: str) -> None:
    """A TLS handshake on loopback: the leaf serves, a strict client checks it against the CA."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(leaf, key)
    client_context = ssl.create_default_context(cafile=str(ca))
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        errors: list[BaseException] = []

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                conn.settimeout(TIMEOUT)
                with server_context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError) as error:  # the client may abort the handshake
                errors.append(error)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        try:
            address = ("127.0.0.1", listener.getsockname()[1])
            with (
                socket.create_connection(address, timeout=TIMEOUT) as raw,
                client_context.wrap_socket(raw, server_hostname=server_hostname) as tls,
            ):
                assert tls.version() is not None
        finally:
            server.join(TIMEOUT)
            assert not server.is_alive()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_strict_python_client_accepts_the_served_cert(algorithm: str, tmp_path: Path) -> None:
    ca, leaf, key = pems(deployed(algorithm), tmp_path)
    handshake(ca, leaf, key, HOST)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_strict_python_client_refuses_a_name_outside_the_sans(
    algorithm: str, tmp_path: Path
) -> None:
    ca, leaf, key = pems(deployed(algorithm), tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(ca, leaf, key, "elsewhere.example.com")


def extension(cert: x509.Certificate, kind: type[Any]) -> Any:
    return cert.extensions.get_extension_for_class(kind)


@pytest.mark.parametrize(
    ("algorithm", "which", "usages", "extended", "is_ca"),
    RULES,
    ids=["rsa-ca", "ecdsa-ca", "rsa-leaf", "ecdsa-leaf"],
)
def test_extensions_follow_the_allowed_uses(
    algorithm: str, which: str, usages: set[str], extended: list[Any] | None, is_ca: bool
) -> None:
    d = deployed(algorithm)
    cert = ca_cert(d) if which == "ca" else served_cert(d)
    key_usage = extension(cert, x509.KeyUsage)
    assert key_usage.critical
    assert {f for f in KEY_USAGE_FLAGS if getattr(key_usage.value, f)} == usages
    if extended is None:
        with pytest.raises(x509.ExtensionNotFound):
            extension(cert, x509.ExtendedKeyUsage)
    else:
        ext = extension(cert, x509.ExtendedKeyUsage)
        assert (list(ext.value), ext.critical) == (extended, False)
    constraints = extension(cert, x509.BasicConstraints)
    assert (constraints.critical, constraints.value.ca, constraints.value.path_length) == (
        True,
        is_ca,
        None,
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_key_identifiers_chain_the_leaf_to_the_ca(algorithm: str) -> None:
    d = deployed(algorithm)
    ca, leaf = ca_cert(d), served_cert(d)
    ca_ski = extension(ca, x509.SubjectKeyIdentifier).value
    assert ca_ski == x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    with pytest.raises(x509.ExtensionNotFound):  # self-signed without set_authority_key_id
        extension(ca, x509.AuthorityKeyIdentifier)
    aki = extension(leaf, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    with pytest.raises(x509.ExtensionNotFound):  # a leaf without set_subject_key_id
        extension(leaf, x509.SubjectKeyIdentifier)
    leaf.verify_directly_issued_by(ca)
    assert 0 < leaf.serial_number < 1 << 128


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_leaf_keeps_the_requested_names(algorithm: str) -> None:
    leaf = served_cert(deployed(algorithm))
    names = extension(leaf, x509.SubjectAlternativeName)
    assert not names.critical  # the subject is not empty
    assert HOST in names.value.get_values_for_type(x509.DNSName)
