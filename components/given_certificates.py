"""Checks of the certificates a user gives the cache, made before anything is deployed.

Users may give the serving certificate (`tlsCert`, a PEM chain, leaf first), the CA that issued
it (`tlsCaCert`) and the CA of the upstream registry (`upstreamCaCert`). Each is checked here as
a TLS client checks it: the clients of the cache (containerd, Docker, MSR) are Go programs, so
host names are matched by a port of Go's `crypto/x509` rules.

Every check raises `ValueError` with one short line saying what is wrong or what is accepted.
A message never quotes the PEM text or key material: it may end up in logs and CI output.

This module is pure (no Pulumi) and does not import `components.settings`, which imports it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509

from .ip_literal import IPAddress, ip_or_none

__all__ = [
    "UB_COMMON_NAME",
    "certificates",
    "check_covers_hosts",
    "check_is_ca",
    "check_valid_now",
    "common_name",
]

PEM_CERTIFICATES = "PEM text of one or more X.509 certificates (-----BEGIN CERTIFICATE-----)"

# RFC 5280, Appendix A.1: `ub-common-name INTEGER ::= 64`, and X520CommonName is a
# DirectoryString of SIZE (1..ub-common-name).
UB_COMMON_NAME = 64

# A PEM header line: "-----BEGIN <label>-----" (RFC 7468, section 2).
_BEGIN = re.compile(r"-----BEGIN ([^\r\n-]{0,64})-----")
_CERTIFICATE_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.DOTALL
)
# Any private key: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"),
# SEC 1 ("EC PRIVATE KEY"), "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY", even with mangled dashes.
_PRIVATE_KEY = re.compile(r"BEGIN [A-Z0-9 ]*PRIVATE KEY", re.IGNORECASE)

_MAX_LISTED_SANS = 10

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def certificates(pem: object) -> list[x509.Certificate]:
    """The certificates of a PEM text, in order; the text must hold certificates and only those.

    Text around the blocks (such as `openssl x509 -text` output) is ignored, as Go's
    `encoding/pem` ignores it; a block of another type is refused rather than skipped.
    """
    if not isinstance(pem, str):
        raise ValueError(f"not text: expected {PEM_CERTIFICATES}")
    if not pem.strip():
        raise ValueError(f"empty: expected {PEM_CERTIFICATES}")
    if _PRIVATE_KEY.search(pem):
        raise ValueError(
            "a private key was given where a certificate belongs (the key is not shown here); "
            f"expected {PEM_CERTIFICATES}"
        )
    labels = _BEGIN.findall(pem)
    if not labels:
        raise ValueError(f"not PEM: expected {PEM_CERTIFICATES}")
    others = [label for label in labels if label != "CERTIFICATE"]
    if others:
        raise ValueError(
            f"the text holds a PEM block of type {others[0]!r}: expected {PEM_CERTIFICATES}"
        )
    blocks = _CERTIFICATE_BLOCK.findall(pem)
    if len(blocks) != len(labels):
        raise ValueError(
            "a -----BEGIN CERTIFICATE----- block has no -----END CERTIFICATE----- line of its own"
        )
    certs: list[x509.Certificate] = []
    for number, block in enumerate(blocks, start=1):
        try:
            cert = x509.load_pem_x509_certificate(block.encode())
            # Extensions are parsed lazily: parse them now, as Go does, so that a malformed or
            # repeated extension is reported here rather than by a later check.
            cert.extensions  # noqa: B018
        except (ValueError, x509.InvalidVersion, x509.DuplicateExtension):
            raise ValueError(
                f"certificate {number} of {len(blocks)} is not a valid X.509 certificate "
                "(bad base64, DER or extensions)"
            ) from None
        certs.append(cert)
    return certs


def rfc3339(moment: datetime) -> str:
    """A moment as RFC 3339 text in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_valid_now(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """The first certificate (the leaf) is valid at `now`: notBefore <= now <= notAfter.

    Both ends are inclusive (RFC 5280, section 4.1.2.5), as in Go's `Certificate.isValid`. A
    naive `now` is taken as UTC. Only the leaf is checked: a chain may carry an expired
    cross-signed certificate that clients skip when they build another path to a root.
    """
    if not certs:
        raise ValueError(f"no certificate: expected {PEM_CERTIFICATES}")
    leaf = certs[0]
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if now < not_before:
        raise ValueError(
            f"the certificate is not valid before {rfc3339(not_before)} (now is {rfc3339(now)})"
        )
    if now > not_after:
        raise ValueError(f"the certificate expired on {rfc3339(not_after)} (now is {rfc3339(now)})")


# --- host names, as Go's crypto/x509 matches them -------------------------------------------
#
# A port of `Certificate.VerifyHostname` and its helpers `validHostname`, `matchExactly`,
# `matchHostnames` and `toLowerCaseASCII` in Go's src/crypto/x509/verify.go, read at
# golang/go commit 0184fe5ece4f84fda9db04d2472b76efcaa8ef55. The rules (RFC 6125):
# - an IP literal (optionally in [ ]) is matched only against IP SANs (RFC 6125, Appendix B.2),
#   and an IPv4 address equals its IPv4-mapped IPv6 form, as Go's `net.IP.Equal` has it;
# - a name is matched against DNS SANs, ASCII case-insensitively (RFC 6125, section 6.4.1);
# - a wildcard is a whole left-most label `*` standing for exactly one label: `*.example.com`
#   matches `www.example.com`, not `example.com` nor `a.b.example.com`;
# - one trailing dot on the host is ignored; names that are not valid host names (and patterns
#   that are not valid patterns) only match exactly;
# - the subject CN is never used (Go ignores it since Go 1.15; browsers when SANs exist).

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _to_lower_ascii(text: str) -> str:
    """Go's `toLowerCaseASCII`: only A-Z are folded, no Unicode case mapping."""
    return text.translate(_ASCII_LOWER)


def _valid_hostname(host: str, is_pattern: bool) -> bool:
    """Go's `validHostname`: RFC 6125 2.2 host names, with `_` and trailing `-` tolerated."""
    if not is_pattern:
        host = host.removesuffix(".")
    if not host:
        return False
    for index, label in enumerate(host.split(".")):
        if not label:
            return False
        if is_pattern and index == 0 and label == "*":
            continue
        for position, char in enumerate(label):
            if "a" <= char <= "z" or "0" <= char <= "9" or "A" <= char <= "Z" or char == "_":
                continue
            if char == "-" and position != 0:
                continue
            return False
    return True


def _match_exactly(host_a: str, host_b: str) -> bool:
    """Go's `matchExactly`."""
    if host_a in ("", ".") or host_b in ("", "."):
        return False
    return _to_lower_ascii(host_a) == _to_lower_ascii(host_b)


def _match_hostnames(pattern: str, host: str) -> bool:
    """Go's `matchHostnames`: label by label, a left-most `*` standing for one label."""
    pattern = _to_lower_ascii(pattern)
    host = _to_lower_ascii(host.removesuffix("."))
    if not pattern or not host:
        return False
    pattern_labels, host_labels = pattern.split("."), host.split(".")
    if len(pattern_labels) != len(host_labels):
        return False
    return all(
        (index == 0 and want == "*") or want == got
        for index, (want, got) in enumerate(zip(pattern_labels, host_labels, strict=True))
    )


def _unmapped(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address as IPv4: Go's `net.IP.Equal` holds them equal."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _verify_hostname(
    dns_names: Sequence[str], ip_addresses: Sequence[IPAddress | IPNetwork], host: str
) -> bool:
    """Go's `Certificate.VerifyHostname`, as a yes/no."""
    candidate_ip = host[1:-1] if len(host) >= 3 and host[0] == "[" and host[-1] == "]" else host
    address = ip_or_none(candidate_ip)  # Go's net.ParseIP: no zone
    if address is not None:
        # A network (an iPAddress SAN of 8 or 32 bytes, which Go refuses to parse) equals no
        # address: it matches no host.
        return any(
            _unmapped(address) == _unmapped(san)
            for san in ip_addresses
            if not isinstance(san, IPNetwork)
        )
    candidate_name = _to_lower_ascii(host)
    valid_candidate = _valid_hostname(candidate_name, is_pattern=False)
    for pattern in dns_names:
        if valid_candidate and _valid_hostname(pattern, is_pattern=True):
            if _match_hostnames(pattern, candidate_name):
                return True
        elif _match_exactly(pattern, candidate_name):
            return True
    return False


def _subject_alt_names(
    cert: x509.Certificate,
) -> tuple[list[str], list[IPAddress | IPNetwork], bool]:
    """The DNS and IP SANs of `cert`, and whether it has a subjectAltName extension at all
    (cryptography reads an iPAddress SAN of 8 or 32 bytes as a network)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], [], False
    except (ValueError, x509.DuplicateExtension):
        raise ValueError("the certificate's extensions cannot be parsed") from None
    return san.get_values_for_type(x509.DNSName), san.get_values_for_type(x509.IPAddress), True


def _common_names(cert: x509.Certificate) -> list[str]:
    return [
        value
        for attribute in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if isinstance(value := attribute.value, str)
    ]


def check_covers_hosts(leaf: x509.Certificate, hosts: Sequence[str]) -> None:
    """Every host (a DNS name or an IP literal) is matched by a SAN of `leaf`, as Go matches it."""
    dns_names, ip_addresses, has_san = _subject_alt_names(leaf)
    for host in hosts:
        if _verify_hostname(dns_names, ip_addresses, host):
            continue
        listed = [f"DNS:{name}" for name in dns_names] + [f"IP:{ip}" for ip in ip_addresses]
        if not listed:
            has = "it has no DNS or IP SANs"
        else:
            more = len(listed) - _MAX_LISTED_SANS
            has = "its SANs are " + ", ".join(listed[:_MAX_LISTED_SANS])
            has += f" and {more} more" if more > 0 else ""
        cn_hint = ""
        if not has_san and any(_match_hostnames(cn, host) for cn in _common_names(leaf)):
            cn_hint = " (its subject CN matches, but clients ignore the CN: put the host in a SAN)"
        raise ValueError(f"the certificate does not cover host {host!r}: {has}{cn_hint}")


def check_is_ca(cert: x509.Certificate) -> None:
    """`cert` is a CA: it has a basicConstraints extension with CA:TRUE (RFC 5280, 4.2.1.9)."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise ValueError(
            "not a CA certificate: it has no basicConstraints extension (CA:TRUE is needed)"
        ) from None
    except (ValueError, x509.DuplicateExtension):
        raise ValueError("the certificate's extensions cannot be parsed") from None
    if not constraints.ca:
        raise ValueError(
            "not a CA certificate: its basicConstraints say CA:FALSE (CA:TRUE is needed)"
        )


def common_name(candidates: Sequence[str]) -> str | None:
    """The subject CN for a generated certificate: the first candidate that fits, else None.

    RFC 5280, Appendix A.1 bounds a common name to `ub-common-name` (64). The length is counted
    in UTF-8 bytes, as `cryptography` and cert-manager count it (the same for ASCII host names;
    stricter than the RFC's characters otherwise). A longer host stays a SAN only: clients
    match SANs, and the CN is for people to read.
    """
    for candidate in candidates:
        if 1 <= len(candidate.encode()) <= UB_COMMON_NAME:
            return candidate
    return None
