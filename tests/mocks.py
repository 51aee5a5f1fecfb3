"""Mocks that behave like the providers wherever the program can notice.

- Kubernetes objects without `metadata.name` are auto-named `<resource>-<8 hex>`, as
  pulumi-kubernetes does; a LoadBalancer Service gets an address in its status.
- pulumi-tls makes real keys and certificates (the CSR's SANs end up in the signed certificate),
  so tests read SANs the way a client would.
- pulumi-random returns a password of the requested length and alphabet.
- In preview, what a provider only knows after creating (keys, certificates, passwords, a load
  balancer's address) is left unknown.

Every registration is recorded with its inputs, provider and which input paths were secret.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import functools
import hashlib
import ipaddress
import secrets
import string
from typing import Any

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pulumi.runtime import rpc

LOAD_BALANCER_IP = "203.0.113.7"


@dataclasses.dataclass
class Registered:
    """One resource as the engine would receive it."""

    typ: str
    name: str
    inputs: dict[str, Any]  # secrets unwrapped
    secret_paths: list[str]  # dotted paths of inputs sent as secrets
    provider: str
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)


def _unwrap(value: Any, path: str, found: list[str]) -> Any:
    if rpc.is_rpc_secret(value):
        found.append(path)
        return _unwrap(rpc.unwrap_rpc_secret(value), path, found)
    if isinstance(value, dict):
        return {k: _unwrap(v, f"{path}.{k}" if path else k, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has one number type; Kubernetes fields here are integers
    return value


@functools.cache
def _key(algorithm: str, size: str, role: str) -> Any:
    # Keys are costly (RSA 4096): one per algorithm and role, so a CA key is never a leaf key.
    del role
    if algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size or 2048))
    curve = {"P224": ec.SECP224R1(), "P256": ec.SECP256R1(), "P384": ec.SECP384R1()}[size or "P224"]
    return ec.generate_private_key(curve)


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _load_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


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


class ProviderMocks(pulumi.runtime.Mocks):
    """pulumi-kubernetes, pulumi-tls and pulumi-random, as far as the program can tell."""

    def __init__(self, preview: bool = False) -> None:
        self.preview = preview
        self.resources: list[Registered] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        paths: list[str] = []
        inputs = _unwrap(args.inputs, "", paths)
        outputs = copy.deepcopy(inputs)
        make = {
            "tls:index/privateKey:PrivateKey": self._private_key,
            "tls:index/selfSignedCert:SelfSignedCert": self._self_signed_cert,
            "tls:index/certRequest:CertRequest": self._cert_request,
            "tls:index/locallySignedCert:LocallySignedCert": self._locally_signed_cert,
            "random:index/randomPassword:RandomPassword": self._random_password,
        }.get(args.typ)
        if args.typ.startswith("kubernetes:"):
            self._kubernetes(args.typ, args.name, outputs)
        elif make is not None and not self.preview:
            outputs.update(make(args.name, inputs))
        self.resources.append(
            Registered(args.typ, args.name, inputs, paths, args.provider or "", outputs)
        )
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        raise NotImplementedError(f"no mock for the invoke {args.token}")

    def _kubernetes(self, typ: str, name: str, outputs: dict[str, Any]) -> None:
        metadata = outputs.setdefault("metadata", {})
        if not metadata.get("name"):
            metadata["name"] = f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        spec = outputs.get("spec") or {}
        if (
            typ == "kubernetes:core/v1:Service"
            and spec.get("type") == "LoadBalancer"
            and not self.preview
        ):
            outputs["status"] = {"loadBalancer": {"ingress": [{"ip": LOAD_BALANCER_IP}]}}

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
