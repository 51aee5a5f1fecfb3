"""Which names and addresses the cache's serving certificate must carry.

A client checks the certificate against the host it dialled, so the SANs follow the exposure:
the hosts users are given, the load balancer's address once known, and always the in-cluster
Service names (another cache or a pod may pull through the Service).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..inputs import given_certificates
from ..inputs.given_certificates import certificates, common_name, rfc3339
from ..inputs.ip_literal import ip_or_none
from ..inputs.model import KeyAlgorithm

if TYPE_CHECKING:  # settings reads the exposure modes, which read the Service names here
    from ..inputs.settings import Settings
    from .plan import Plan

# A generated CA outlives many serving certificates: clients and MSR trust it, so replacing it
# means redistributing it. The serving certificate is renewed by `pulumi up` in its last month.
CA_VALIDITY_HOURS = 10 * 365 * 24
CA_EARLY_RENEWAL_HOURS = 365 * 24
CERT_VALIDITY_HOURS = 365 * 24
CERT_EARLY_RENEWAL_HOURS = 30 * 24
ORGANIZATION = "msr-cache"  # the O of the generated certificates' subjects


@dataclasses.dataclass(frozen=True)
class Key:
    """A generated key: RSA 4096 as MSR's docs make them, or ECDSA P-256."""

    size: int
    """Bits (RSA) or the curve's size (ECDSA), as cert-manager's privateKey.size takes it."""
    tls_args: Mapping[str, Any]
    """pulumi-tls PrivateKey's arguments."""
    serving_uses: tuple[str, ...]
    """The serving certificate's allowed uses (pulumi-tls' names): an RSA key may encipher the
    TLS 1.2 key exchange, an ECDSA key only signs (RFC 8813: no keyEncipherment for EC keys)."""

    @property
    def usages(self) -> list[str]:
        """The same uses, as cert-manager spells them."""
        return [use.replace("_", " ") for use in self.serving_uses]


KEYS: Mapping[KeyAlgorithm, Key] = {
    KeyAlgorithm.RSA: Key(
        4096,
        {"algorithm": "RSA", "rsa_bits": 4096},
        ("server_auth", "digital_signature", "key_encipherment"),
    ),
    KeyAlgorithm.ECDSA: Key(
        256, {"algorithm": "ECDSA", "ecdsa_curve": "P256"}, ("server_auth", "digital_signature")
    ),
}
CA_USES = ("cert_signing", "crl_signing", "digital_signature")


@dataclasses.dataclass(frozen=True)
class SubjectAltNames:
    """The DNS and IP SANs of a serving certificate, in a stable order without repeats."""

    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    common_name: str | None
    """The subject's CN: the first host clients dial (clients check SANs, people read the CN);
    None when it is longer than X.509 allows a CN (64), and stays a SAN only."""


def ca_common_name(name: str, namespace: str, generation: int = 1) -> str:
    """The generated CA's CN, naming the cache it serves while X.509 allows (64 characters),
    and its generation after the first (a rotation's CAs are told apart by name too)."""
    suffix = f" {generation}" if generation > 1 else ""
    names = [f"{name}.{namespace} cache CA{suffix}", f"{name} cache CA{suffix}"]
    return common_name(names) or f"msr-cache CA{suffix}"


def expires_at(pem: str) -> str:
    """When the first certificate of `pem` Go may use now expires (else the first's), in RFC 3339
    (UTC); "" for no PEM. A bundle may keep a CA a rotation left, expired, before the current
    one: Go clients skip it, as the warnings of such a bundle say, and so does this."""
    if not pem.strip():
        return ""
    found = certificates(pem)
    usable = given_certificates.usable_anchors(found, datetime.datetime.now(datetime.UTC))
    return rfc3339((usable or found)[0].not_valid_after_utc)


def service_dns_names(service: str, namespace: str) -> tuple[str, str]:
    """The names a pod in the cluster uses for the cache's Service."""
    return f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"


def subject_alt_names(
    hosts: Sequence[str],
    service: str,
    namespace: str,
    load_balancer_address: str | None = None,
) -> SubjectAltNames:
    """SANs for the hosts clients dial, the load balancer's address, and the Service names."""
    external = [*hosts, *([load_balancer_address] if load_balancer_address else [])]
    names = _unique(
        [*(h for h in external if ip_or_none(h) is None), *service_dns_names(service, namespace)]
    )
    addresses = _unique(str(ip_or_none(h)) for h in external if ip_or_none(h) is not None)
    first = external[0] if external else names[0]
    return SubjectAltNames(names, addresses, common_name=common_name([first]))


def san_texts(sans: SubjectAltNames) -> list[str]:
    """The SANs as OpenSSL writes them (DNS:<name>, IP:<address>), as the cert_sans output."""
    return [f"DNS:{name}" for name in sans.dns_names] + [f"IP:{ip}" for ip in sans.ip_addresses]


def pem_san_texts(pem: str) -> list[str]:
    """The SANs of a PEM chain's first certificate, as `san_texts` writes them."""
    return given_certificates.san_texts(certificates(pem)[0])


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def certificate_spec(settings: Settings, plan: Plan, sans: SubjectAltNames) -> dict[str, Any]:
    """A cert-manager Certificate with the same SANs, lifetime and key as the generated one,
    into the plan's Secret."""
    issuer, algorithm = settings.cert_manager_issuer, settings.tls_key_algorithm or KeyAlgorithm.RSA
    assert issuer is not None and plan.certificate_secret is not None
    key = {"algorithm": algorithm.value, "size": KEYS[algorithm].size}
    spec: dict[str, Any] = {
        "secretName": plan.certificate_secret,
        "issuerRef": {"group": issuer.group, "kind": issuer.kind, "name": issuer.name},
        "dnsNames": list(sans.dns_names),
        "duration": f"{CERT_VALIDITY_HOURS}h",
        "renewBefore": f"{CERT_EARLY_RENEWAL_HOURS}h",
        "privateKey": {**key, "rotationPolicy": "Always"},
        "usages": KEYS[algorithm].usages,
    }
    if sans.ip_addresses:
        spec["ipAddresses"] = list(sans.ip_addresses)
    if sans.common_name is not None:
        spec["commonName"] = sans.common_name
    return spec
