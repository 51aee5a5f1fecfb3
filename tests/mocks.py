"""Mocks that behave like the providers wherever the program can notice.

- Kubernetes objects without `metadata.name` are auto-named `<resource>-<8 hex>`, as
  pulumi-kubernetes does; a LoadBalancer Service gets an address in its status.
- pulumi-tls makes real keys and certificates (the CSR's SANs end up in the signed certificate),
  so tests read SANs the way a client would.
- pulumi-random returns a password of the requested length and alphabet.
- In preview, what a provider only knows after creating (keys, certificates, passwords, a load
  balancer's address) is left unknown.

They extend the render's providers (render/engine.py), which record every registration with its
inputs, provider and which input paths were secret.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import secrets
import string
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from components.checks import ip_or_none
from render.engine import RenderProviders

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


def _sign(builder: x509.CertificateBuilder, inputs: dict[str, Any], signer: Any) -> str:
    now = datetime.datetime.now(datetime.UTC)
    hours = int(inputs["validityPeriodHours"])
    cert = (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=hours))
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class ProviderMocks(RenderProviders):
    """pulumi-kubernetes, pulumi-tls and pulumi-random, as far as the program can tell.

    `cluster` holds the objects a `.get` finds, by type token and id (`namespace/name`)."""

    def __init__(
        self,
        preview: bool = False,
        cluster: dict[tuple[str, str], dict] | None = None,
        load_balancer: str = LOAD_BALANCER_IP,
    ) -> None:
        super().__init__(preview)
        self.cluster = cluster or {}
        self.load_balancer = load_balancer

    def read(self, typ: str, resource_id: str) -> dict[str, Any]:
        if (typ, resource_id) not in self.cluster:
            raise LookupError(f"{typ} {resource_id} not found")  # as the provider fails a read
        return self.cluster[(typ, resource_id)]

    def kubernetes_state(self, typ: str, obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj.get("spec") or {}
        if (
            typ == "kubernetes:core/v1:Service"
            and spec.get("type") == "LoadBalancer"
            and not self.preview
        ):
            # Clouds give an IP (GCP, Azure) or a host name (AWS' ELB) in the Service's status.
            kind = "ip" if ip_or_none(self.load_balancer) else "hostname"
            return {"status": {"loadBalancer": {"ingress": [{kind: self.load_balancer}]}}}
        return {}

    def generated(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
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
        key = _key(algorithm, size, "ca" if name.endswith("ca-key") else "leaf")
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"privateKeyPem": _pem(key), "publicKeyPem": public.decode()}

    def _self_signed_cert(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        key = _load_key(inputs["privateKeyPem"])
        subject = _name(inputs.get("subject"))
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .add_extension(
                x509.BasicConstraints(ca=bool(inputs.get("isCaCertificate")), path_length=None),
                critical=True,
            )
        )
        return {"certPem": _sign(builder, inputs, key)}

    def _cert_request(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        key = _load_key(inputs["privateKeyPem"])
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in inputs.get("dnsNames") or []]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in inputs.get("ipAddresses") or []]
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
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(ca_cert.subject)
            .public_key(csr.public_key())
        )
        for extension in csr.extensions:
            builder = builder.add_extension(extension.value, critical=extension.critical)
        return {"certPem": _sign(builder, inputs, ca_key)}

    def _random_password(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        alphabet = string.ascii_letters + string.digits
        if inputs.get("special", True):
            alphabet += "!@#$%&*()-_=+[]{}<>:?"
        length = int(inputs["length"])
        return {"result": "".join(secrets.choice(alphabet) for _ in range(length))}
