"""Mocks that behave like the providers wherever the program can notice.

- Kubernetes objects without `metadata.name` are auto-named `<resource>-<8 hex>`, as
  pulumi-kubernetes does; a LoadBalancer Service gets an address in its status.
- pulumi-tls makes real keys and certificates (the CSR's SANs end up in the signed certificate),
  so tests read SANs the way a client would. They carry the extensions the provider writes (key
  usages from `allowed_uses`, basic constraints, key identifiers), so strict verifiers
  (`openssl verify -x509_strict`, Python 3.13's default context) accept them as they would the
  provider's.
- pulumi-random returns a password of the requested length and alphabet.
- In preview, what a provider only knows after creating (keys, certificates, passwords, a load
  balancer's address) is left unknown.

They extend the render's providers (render/provider_mocks.py), which record every registration
with its inputs, provider and which input paths were secret.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import re
import secrets
import string
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components.inputs.checks import ip_or_none
from render.provider_mocks import RenderProviders

LOAD_BALANCER_IP = "203.0.113.7"


# The mock monitor registers resources from several threads at once: without the lock, each of
# them would make (or load) the same costly key before the first one is cached.
_KEYS = threading.Lock()
# Every key made or loaded, by its PEM: loading checks the key, which costs half a second for
# RSA 4096, so each is checked once (the key objects are immutable).
_BY_PEM: dict[str, Any] = {}


def _key(algorithm: str, size: str, role: str) -> Any:
    with _KEYS:
        return _new_key(algorithm, size, role)


@functools.cache
def _new_key(algorithm: str, size: str, role: str) -> Any:
    # Keys are costly (RSA 4096): one per algorithm and role, so a CA key is never a leaf key.
    del role
    if algorithm == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(size or 2048))
    else:
        curves = {"P224": ec.SECP224R1(), "P256": ec.SECP256R1(), "P384": ec.SECP384R1()}
        key = ec.generate_private_key(curves[size or "P224"])
    _BY_PEM[_pem(key)] = key
    return key


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _load_key(pem: str) -> Any:
    with _KEYS:
        if pem not in _BY_PEM:
            _BY_PEM[pem] = serialization.load_pem_private_key(pem.encode(), password=None)
        return _BY_PEM[pem]


def _name(subject: dict[str, Any] | None) -> x509.Name:
    subject = subject or {}
    attributes = []
    if subject.get("organization"):
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject["organization"]))
    if subject.get("commonName"):
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, subject["commonName"]))
    return x509.Name(attributes)


def _sans(inputs: dict[str, Any]) -> list[x509.GeneralName]:
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in inputs.get("dnsNames") or []]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in inputs.get("ipAddresses") or []]
    return sans


# How pulumi-tls signs, as hashicorp/terraform-provider-tls does (pulumi-tls wraps it), at commit
# 1f1283d7c899f84f31ccf87ee0bc2bc47161917c, internal/provider/common_cert.go `createCertificate`:
# - NotBefore is now, NotAfter NotBefore + validity_period_hours; the serial is random below 2^128;
# - each of `allowed_uses` found in `keyUsages` sets a KeyUsage bit, each found in
#   `extendedKeyUsages` appends an ExtKeyUsage (in the order given); other names are ignored;
# - is_ca_certificate sets IsCA and a SubjectKeyId (SHA-1 of the public key, RFC 5280 method 1);
#   set_subject_key_id sets one on any certificate; set_authority_key_id (locally signed only)
#   copies the parent's SubjectKeyId into AuthorityKeyId.
# Both templates set `BasicConstraintsValid: true` (resource_self_signed_cert.go and
# resource_locally_signed_cert.go `Create`), so every certificate has basicConstraints, CA:FALSE on
# a leaf. The locally signed template copies the CSR's Subject, DNSNames, IPAddresses and URIs;
# no other extension of the CSR.
# Go's crypto/x509 `CreateCertificate` then marks basicConstraints and keyUsage critical, adds
# AuthorityKeyId = the parent's SubjectKeyId whenever issuer and subject differ (so a certificate
# from a provider-made CA always has one), and signs with SHA-256 (RSA, P-224, P-256), SHA-384
# (P-384) or SHA-512 (P-521).
_KEY_USAGES = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
_MICROSOFT_SGC = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3")
_NETSCAPE_SGC = x509.ObjectIdentifier("2.16.840.1.113730.4.1")
_MICROSOFT_COMMERCIAL_CODE = x509.ObjectIdentifier("1.3.6.1.4.1.311.2.1.22")
_MICROSOFT_KERNEL_CODE = x509.ObjectIdentifier("1.3.6.1.4.1.311.61.1.1")
_EXTENDED_KEY_USAGES = {
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": _MICROSOFT_SGC,
    "netscape_server_gated_crypto": _NETSCAPE_SGC,
    "microsoft_commercial_code_signing": _MICROSOFT_COMMERCIAL_CODE,
    "microsoft_kernel_code_signing": _MICROSOFT_KERNEL_CODE,
}


def _hash(signer: Any) -> hashes.HashAlgorithm:
    """The digest Go's x509 picks for the signing key."""
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        if isinstance(signer.curve, ec.SECP384R1):
            return hashes.SHA384()
        if isinstance(signer.curve, ec.SECP521R1):
            return hashes.SHA512()
    return hashes.SHA256()


def _sign(
    builder: x509.CertificateBuilder,
    inputs: dict[str, Any],
    public_key: Any,
    signer: Any,
    issuer_key_id: bytes | None,
) -> dict[str, str]:
    """Sign as `createCertificate` does; `issuer_key_id` is the parent's SubjectKeyId. The
    outputs the provider sets: the PEM, and the validity's bounds as Go's time.MarshalText
    writes them (RFC 3339; whole seconds here, so without a fraction), as terraform-provider-tls'
    internal/provider/common_cert.go sets validity_start_time and validity_end_time."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    hours = int(inputs["validityPeriodHours"])
    builder = (
        builder.public_key(public_key)
        .serial_number(secrets.randbelow(1 << 128) or 1)  # X.509 wants it positive
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=hours))
    )
    uses = list(inputs.get("allowedUses") or [])
    bits = {_KEY_USAGES[u] for u in uses if u in _KEY_USAGES}
    if bits:
        flags = {name: name in bits for name in _KEY_USAGES.values()}
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    extended = [_EXTENDED_KEY_USAGES[u] for u in uses if u in _EXTENDED_KEY_USAGES]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    is_ca = bool(inputs.get("isCaCertificate"))
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=None), critical=True
    )
    subject_key_id = None
    if is_ca or inputs.get("setSubjectKeyId"):
        subject_key_id = x509.SubjectKeyIdentifier.from_public_key(public_key)
        builder = builder.add_extension(subject_key_id, critical=False)
    if issuer_key_id is None and inputs.get("setAuthorityKeyId") and subject_key_id is not None:
        issuer_key_id = subject_key_id.digest  # self-signed: its own, as the provider documents
    if issuer_key_id is not None:
        aki = x509.AuthorityKeyIdentifier(issuer_key_id, None, None)
        builder = builder.add_extension(aki, critical=False)
    cert = builder.sign(signer, _hash(signer))
    return {
        "certPem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "validityStartTime": _go_time(cert.not_valid_before_utc),
        "validityEndTime": _go_time(cert.not_valid_after_utc),
    }


def _go_time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
# The StorageClasses of the mocks' cluster, beside those a test gives: one that lets a claim
# grow in place, and one that does not (allowVolumeExpansion unset, as by default).
STORAGE_CLASSES: dict[tuple[str, str], dict[str, Any]] = {
    (STORAGE_CLASS, name): {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "example.test/csi",
        **({"allowVolumeExpansion": True} if expands else {}),
    }
    for name, expands in (("fast", True), ("fast-ssd", True), ("nfs", False))
}


class ProviderMocks(RenderProviders):
    """pulumi-kubernetes, pulumi-tls and pulumi-random, as far as the program can tell.

    `cluster` holds the objects a `.get` finds, by type token and id (`namespace/name`), beside
    STORAGE_CLASSES."""

    def __init__(
        self,
        preview: bool = False,
        cluster: dict[tuple[str, str], dict] | None = None,
        load_balancer: str = LOAD_BALANCER_IP,
    ) -> None:
        super().__init__(preview)
        self.cluster = {**STORAGE_CLASSES, **(cluster or {})}
        self.load_balancer = load_balancer

    def read(self, typ: str, resource_id: str) -> dict[str, Any]:
        if (typ, resource_id) not in self.cluster:
            raise LookupError(f"{typ} {resource_id} not found")  # as the provider fails a read
        return self.cluster[(typ, resource_id)]

    def kubernetes_state(self, typ: str, obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj.get("spec") or {}
        if typ == "kubernetes:core/v1:Service" and spec.get("type") == "LoadBalancer":
            if self.preview:
                # A server-side dry run (pulumi-kubernetes' preview) answers before any cloud
                # has seen the Service: no address yet.
                return {"status": {"loadBalancer": {}}}
            # Clouds give an IP (GCP, Azure) or a host name (AWS' ELB) in the Service's status.
            kind = "ip" if ip_or_none(self.load_balancer) else "hostname"
            return {"status": {"loadBalancer": {"ingress": [{kind: self.load_balancer}]}}}
        return {}

    def generated(
        self, typ: str, name: str, inputs: dict[str, Any], secret_paths: list[str]
    ) -> dict[str, Any]:
        make = {
            "tls:index/privateKey:PrivateKey": self._private_key,
            "tls:index/selfSignedCert:SelfSignedCert": self._self_signed_cert,
            "tls:index/certRequest:CertRequest": self._cert_request,
            "tls:index/locallySignedCert:LocallySignedCert": self._locally_signed_cert,
            "random:index/randomPassword:RandomPassword": self._random_password,
        }.get(typ)
        return make(name, inputs) if make else {}

    def _private_key(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        algorithm = inputs["algorithm"]
        bits = inputs.get("rsaBits")
        size = str(int(bits)) if bits else str(inputs.get("ecdsaCurve") or "")
        # A CA's key per generation (`-ca-key`, `-ca2-key`, ...): a rotation's CAs differ.
        role = re.search(r"-(ca\d*)-key$", name)
        key = _key(algorithm, size, role.group(1) if role else "leaf")
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"privateKeyPem": _pem(key), "publicKeyPem": public.decode()}

    def _self_signed_cert(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        key = _load_key(inputs["privateKeyPem"])
        subject = _name(inputs.get("subject"))
        if inputs.get("isCaCertificate"):
            assert subject, f"{name}: a CA needs a subject, as the provider requires"
        builder = x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        sans = _sans(inputs)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=not subject)
        return _sign(builder, inputs, key.public_key(), key, None)

    def _cert_request(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        key = _load_key(inputs["privateKeyPem"])
        sans = _sans(inputs)
        builder = x509.CertificateSigningRequestBuilder().subject_name(_name(inputs.get("subject")))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        csr = builder.sign(key, hashes.SHA256())
        return {"certRequestPem": csr.public_bytes(serialization.Encoding.PEM).decode()}

    def _locally_signed_cert(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        csr = x509.load_pem_x509_csr(inputs["certRequestPem"].encode())
        assert csr.is_signature_valid, f"{name}: the CSR's signature does not verify"
        ca_cert = x509.load_pem_x509_certificate(inputs["caCertPem"].encode())
        ca_key = _load_key(inputs["caPrivateKeyPem"])
        try:
            ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            issuer_key_id: bytes | None = ski.value.digest
        except x509.ExtensionNotFound:
            issuer_key_id = None
        if inputs.get("setAuthorityKeyId"):
            assert issuer_key_id, f"{name}: Could not determine Authority Key Identifier"
        builder = x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_cert.subject)
        # Only the requested names are copied from the CSR (resource_locally_signed_cert.go).
        try:
            requested = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            requested = None
        if requested is not None and len(requested.value):
            names = x509.SubjectAlternativeName(list(requested.value))
            builder = builder.add_extension(names, critical=not csr.subject)
        if csr.subject == ca_cert.subject and not inputs.get("setAuthorityKeyId"):
            issuer_key_id = None  # Go takes the parent's only when issuer and subject differ
        return _sign(builder, inputs, csr.public_key(), ca_key, issuer_key_id)

    def _random_password(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        alphabet = string.ascii_letters + string.digits
        if inputs.get("special", True):
            alphabet += "!@#$%&*()-_=+[]{}<>:?"
        length = int(inputs["length"])
        return {"result": "".join(secrets.choice(alphabet) for _ in range(length))}
