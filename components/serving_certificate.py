"""The cache's serving certificate and key, and what clients trust: the Pulumi resources of TLS.

Generated (pulumi-tls): each CA generation the plan lists (the one signing, then a rotation's
next), the serving key, its request and the certificate the CA signs, with the SANs the exposure
needs. Given: tlsCert, tlsKey and tlsCaCert, checked once they resolve. cert-manager's: its
Certificate (which MsrCache makes from `certificates.certificate_spec`) fills a Secret of its
own, and only a given tlsCaCert's expiry is known here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pulumi
import pulumi_tls as tls
from pulumi import Output

from .deployed import Deployed, checked
from .inputs import settings as config
from .inputs.model import KeyAlgorithm
from .inputs.settings import Settings
from .objects import certificates
from .objects import registry_config as rc


class Trust(NamedTuple):
    """What clients trust (caCertPem) and when the certificates expire (RFC 3339, or "")."""

    ca_cert_pem: Output[str]
    cert_expires_at: Output[str]
    ca_expires_at: Output[str]


def serving_certificate(
    name: str, d: Deployed, child: pulumi.ResourceOptions
) -> tuple[Trust, dict[str, Output[str]]]:
    """What clients trust, and the serving pair as files of the cache's Secret (none with
    cert-manager, whose Secret holds it)."""
    s = d.settings
    if d.plan.tls == "cert-manager":
        # cert-manager renews the certificate: only a given CA's expiry is known here.
        ca = checked("tlsCaCert", s.tls_ca_cert) if s.tls_ca_cert is not None else None
        none = Output.from_input("")
        return Trust(ca or none, none, ca.apply(certificates.expires_at) if ca else none), {}
    trust, cert, key = _given(s) if d.plan.tls == "given" else _generated(name, d, child)
    return trust, {rc.CERT_FILE: cert, rc.KEY_FILE: key}


def _given(s: Settings) -> tuple[Trust, Output[str], Output[str]]:
    """tlsCert and tlsKey, checked as a pair; tlsCaCert, when given, must have issued tlsCert:
    it is what clients trust."""
    assert s.tls_cert is not None and s.tls_key is not None
    given_ca = checked("tlsCaCert", s.tls_ca_cert) if s.tls_ca_cert is not None else None
    pair = Output.all(checked("tlsCert", s.tls_cert), checked("tlsKey", s.tls_key), given_ca)
    pair = pair.apply(lambda g: config.resolved_pair(g[0], g[1], s.hosts, g[2]))
    cert = pair.apply(lambda p: p[0])
    ca = pair.apply(lambda p: p[2] or p[0])
    trust = Trust(ca, cert.apply(certificates.expires_at), ca.apply(certificates.expires_at))
    return trust, cert, Output.secret(pair.apply(lambda p: p[1]))


def _generated(
    name: str, d: Deployed, child: pulumi.ResourceOptions
) -> tuple[Trust, Output[str], Output[str]]:
    """A key and a certificate for the SANs, signed by the generated CA."""
    s, sans = d.settings, d.sans
    kind = certificates.KEYS[s.tls_key_algorithm or KeyAlgorithm.RSA]
    key_args = kind.tls_args
    # The CA signing the serving certificate, then a rotation's next one: both trusted.
    (ca_key, ca), *following = [_ca(name, s, g, key_args, child) for g in d.plan.ca_generations]
    bundle = Output.all(ca.cert_pem, *(c.cert_pem for _, c in following)).apply(
        lambda pems: "".join(pems)
    )
    key = tls.PrivateKey(f"{name}-key", **key_args, opts=child)
    request = tls.CertRequest(
        f"{name}-csr",
        private_key_pem=key.private_key_pem,
        subject={
            "common_name": sans.apply(lambda x: x.common_name),
            "organization": certificates.ORGANIZATION,
        },
        dns_names=sans.apply(lambda x: list(x.dns_names)),
        ip_addresses=sans.apply(lambda x: list(x.ip_addresses)),
        opts=child,
    )
    cert = tls.LocallySignedCert(
        f"{name}-cert",
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=certificates.CERT_VALIDITY_HOURS,
        early_renewal_hours=certificates.CERT_EARLY_RENEWAL_HOURS,
        allowed_uses=list(kind.serving_uses),
        opts=child,
    )
    # pulumi-tls' own record of each certificate's end (RFC 3339).
    trust = Trust(bundle, cert.validity_end_time, ca.validity_end_time)
    return trust, cert.cert_pem, Output.secret(key.private_key_pem)


def _ca(
    name: str,
    s: Settings,
    generation: int,
    key_args: Mapping[str, Any],
    child: pulumi.ResourceOptions,
) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
    """The generated CA of a generation: `<name>-ca` for the first (as before rotations
    existed), `<name>-ca<generation>` after it, so each keeps its own state."""
    role = "ca" if generation == 1 else f"ca{generation}"
    key = tls.PrivateKey(f"{name}-{role}-key", **key_args, opts=child)
    cert = tls.SelfSignedCert(
        f"{name}-{role}",
        private_key_pem=key.private_key_pem,
        is_ca_certificate=True,
        subject={
            "common_name": certificates.ca_common_name(s.name, s.namespace, generation),
            "organization": certificates.ORGANIZATION,
        },
        validity_period_hours=certificates.CA_VALIDITY_HOURS,
        early_renewal_hours=certificates.CA_EARLY_RENEWAL_HOURS,
        allowed_uses=list(certificates.CA_USES),
        opts=child,
    )
    return key, cert
