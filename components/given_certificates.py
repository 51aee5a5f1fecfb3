"""Checks of the certificates a user gives the cache, made before anything is deployed.

Users may give the serving certificate (`tlsCert`, a PEM chain, leaf first), the CA that issued
it (`tlsCaCert`) and the CA of the upstream registry (`upstreamCaCert`). Each is checked here as
a TLS client checks it: the clients of the cache (containerd, Docker, MSR) and the cache itself
are Go programs, so host names and chains are checked by ports of Go's `crypto/x509` rules.

Every check raises `ValueError` whose message is one sentence saying what is wrong (the caller
says what is accepted before it). A message never quotes the PEM text or key material: it may
end up in logs and CI output.

This module is pure (no Pulumi) and does not import `components.settings`, which imports it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from .ip_literal import IPAddress, ip_or_none

__all__ = [
    "UB_COMMON_NAME",
    "certificates",
    "check_chain",
    "check_covers_hosts",
    "check_trust_anchors",
    "check_valid_now",
    "common_name",
    "san_texts",
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
        raise ValueError("The value is not text.")
    if not pem.strip():
        raise ValueError("The text is empty.")
    if _PRIVATE_KEY.search(pem):
        raise ValueError(
            "The text holds a private key where a certificate belongs (the key is not shown)."
        )
    labels = _BEGIN.findall(pem)
    if not labels:
        raise ValueError("The text holds no PEM block (no -----BEGIN CERTIFICATE----- line).")
    others = [label for label in labels if label != "CERTIFICATE"]
    if others:
        raise ValueError(f'The text holds a PEM block of type "{others[0]}", not CERTIFICATE.')
    blocks = _CERTIFICATE_BLOCK.findall(pem)
    if len(blocks) != len(labels):
        raise ValueError(
            "A -----BEGIN CERTIFICATE----- line has no -----END CERTIFICATE----- line of its own."
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
                f"Certificate {number} of {len(blocks)} is not valid X.509: its base64, DER or "
                "extensions are broken."
            ) from None
        certs.append(cert)
    return certs


def rfc3339(moment: datetime) -> str:
    """A moment as RFC 3339 text in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _validity_problem(cert: x509.Certificate, now: datetime, which: str) -> str | None:
    """Why `cert` (`which`, as a sentence names it) is not valid at `now`, or None: notBefore <=
    now <= notAfter, both ends inclusive (RFC 5280, section 4.1.2.5), as Go's isValid has it."""
    now = _utc(now)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < not_before:
        return f"{which} is not valid before {rfc3339(not_before)} (now is {rfc3339(now)})."
    if now > not_after:
        return f"{which} expired on {rfc3339(not_after)} (now is {rfc3339(now)})."
    return None


def check_valid_now(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """The first certificate (the leaf) is valid at `now` (a naive `now` is UTC).

    Only the leaf is checked: a chain may carry an expired cross-signed certificate that clients
    skip when they build another path to a root (check_chain judges the path).
    """
    if not certs:
        raise ValueError("The text holds no certificate.")
    problem = _validity_problem(certs[0], now, "The certificate")
    if problem:
        raise ValueError(problem)


def _numbered(index: int, count: int) -> str:
    return "The certificate" if count == 1 else f"Certificate {index + 1} of {count}"


def check_trust_anchors(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """Certificates a client is given to trust (a CA input): each is a trust anchor, valid now.

    Go takes any certificate in a root pool as an anchor: CA:TRUE is asked only of the
    intermediates a chain passes through (isValid), and of a certificate that signs another
    (CheckSignatureFrom, see check_chain), so a pinned self-signed server certificate or a v1
    root (no extensions at all) is a valid anchor. What Go does check of a root, its validity
    period, is checked here: an expired CA can anchor no chain.
    """
    for index, cert in enumerate(certs):
        problem = _validity_problem(cert, now, _numbered(index, len(certs)))
        if problem:
            raise ValueError(problem)


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
    """Go's `validHostname`: RFC 6125 2.2 host names, with `_` and trailing `-` tolerated; a bare
    `*` is neither a name nor a pattern (Go 1.23's fix of golang/go#65085, read in verify.go after
    the commit above: without it a SAN `*` matched every single-label host, `localhost` too)."""
    if not is_pattern:
        host = host.removesuffix(".")
    if not host or host == "*":
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


def san_texts(leaf: x509.Certificate) -> list[str]:
    """`leaf`'s DNS and IP SANs as OpenSSL writes them: DNS:<name>, IP:<address>."""
    dns_names, ip_addresses, _ = _subject_alt_names(leaf)
    return [f"DNS:{name}" for name in dns_names] + [f"IP:{ip}" for ip in ip_addresses]


def check_covers_hosts(leaf: x509.Certificate, hosts: Sequence[str]) -> None:
    """Every host (a DNS name or an IP literal) is matched by a SAN of `leaf`, as Go matches it."""
    dns_names, ip_addresses, has_san = _subject_alt_names(leaf)
    for host in hosts:
        if _verify_hostname(dns_names, ip_addresses, host):
            continue
        listed = san_texts(leaf)
        if not listed:
            has = "it has no DNS or IP SANs"
        else:
            more = len(listed) - _MAX_LISTED_SANS
            has = "its SANs are " + ", ".join(listed[:_MAX_LISTED_SANS])
            has += f" and {more} more" if more > 0 else ""
        cn_hint = ""
        if not has_san and any(_match_hostnames(cn, host) for cn in _common_names(leaf)):
            cn_hint = " (its subject CN matches, but clients ignore the CN: put the host in a SAN)"
        raise ValueError(f'The certificate does not cover host "{host}": {has}{cn_hint}.')


# --- chains, as Go's crypto/x509 builds them ---------------------------------------------------
#
# A port of the rules `Certificate.Verify` applies while it builds a chain from a leaf to a root
# (`buildChains`, `isValid`, `alreadyInChain` in src/crypto/x509/verify.go at the commit above, and
# `CheckSignatureFrom` in src/crypto/x509/x509.go): a parent's subject is the child's issuer and its
# key verified the child's signature; a parent that signs must be allowed to (v3 with
# basicConstraints CA:TRUE, or a v1 certificate; keyCertSign if it has a keyUsage); every
# certificate on the path is valid now; an intermediate must be CA:TRUE; a pathLenConstraint
# caps the intermediates below; a certificate with a critical extension no one reads is refused.
# Not ported: name constraints and extended key usage along the chain (the certificates these
# checks see are the user's own, not a public CA's).

_MAX_SIGNATURE_CHECKS = 100  # verify.go maxChainSignatureChecks


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _name(cert: x509.Certificate) -> str:
    """A certificate as a message names it: its subject CN, organization, else its serial."""
    for oid in (x509.NameOID.COMMON_NAME, x509.NameOID.ORGANIZATION_NAME):
        values = cert.subject.get_attributes_for_oid(oid)
        if values and isinstance(values[0].value, str):
            return f'"{values[0].value}"'
    return f"of serial {cert.serial_number}"


def _signing_problem(parent: x509.Certificate) -> str | None:
    """CheckSignatureFrom's constraint (RFC 5280, 4.2.1.9): why `parent` may not sign, or None."""
    constraints = _extension(parent, x509.BasicConstraints)
    if parent.version is x509.Version.v3 and constraints is None:
        return "it has no basicConstraints extension (CA:TRUE)"
    if isinstance(constraints, x509.BasicConstraints) and not constraints.ca:
        return "its basicConstraints say CA:FALSE"
    usage = _extension(parent, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
        return "its keyUsage lacks keyCertSign"
    return None


def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Whether `parent`'s subject is `child`'s issuer and its key made `child`'s signature."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _same(candidate: x509.Certificate, chain: Sequence[x509.Certificate]) -> bool:
    """alreadyInChain: the same subject, key and SANs as a certificate of `chain` (a loop)."""

    def sans(cert: x509.Certificate) -> bytes | None:
        value = _extension(cert, x509.SubjectAlternativeName)
        return value.public_bytes() if value is not None else None

    key = candidate.public_key()
    return any(
        candidate.subject == cert.subject
        and cert.public_key() == key
        and sans(cert) == sans(candidate)
        for cert in chain
    )


class _Search:
    """One buildChains search: the signatures checked so far, and what went wrong last."""

    def __init__(
        self,
        roots: Sequence[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        now: datetime,
    ) -> None:
        self.roots, self.intermediates, self.now = roots, intermediates, _utc(now)
        self.checks = 0
        self.invalid: str | None = None  # an isValid refusal (Go returns the last one)
        self.hint: str | None = None  # the first refused signer (Go's UnknownAuthorityError hint)

    def found(self, chain: list[x509.Certificate]) -> bool:
        """Whether a path leads from chain[-1] up to a root."""
        child = chain[-1]
        candidates = [(True, c) for c in self.roots] + [(False, c) for c in self.intermediates]
        for is_root, candidate in candidates:
            if candidate.subject != child.issuer or _same(candidate, chain):
                continue  # findPotentialParents: by name; alreadyInChain
            self.checks += 1
            if self.checks > _MAX_SIGNATURE_CHECKS:
                self.invalid = "The chain takes more than 100 signature checks to build."
                return False
            problem = _signing_problem(candidate)
            if problem is not None or not _signed_by(child, candidate):
                if self.hint is None:
                    why = problem or "its key did not make the signature"
                    self.hint = (
                        f"{_name(candidate)} has the issuer's name but cannot have signed it: {why}"
                    )
                continue
            problem = self._invalid(candidate, is_root, chain)
            if problem is not None:
                self.invalid = problem
                continue
            if is_root or self.found([*chain, candidate]):
                return True
        return False

    def _invalid(
        self, cert: x509.Certificate, is_root: bool, chain: Sequence[x509.Certificate]
    ) -> str | None:
        """isValid for a root or an intermediate appended to `chain`."""
        which = f"{'CA' if is_root else 'Intermediate'} certificate {_name(cert)}"
        unread = [
            e
            for e in cert.extensions
            if e.critical and isinstance(e.value, x509.UnrecognizedExtension)
        ]
        if unread:
            return (
                f"{which} has a critical extension no client reads ({unread[0].oid.dotted_string})."
            )
        problem = _validity_problem(cert, self.now, which)
        if problem:
            return problem
        constraints = _extension(cert, x509.BasicConstraints)
        if not is_root and not (isinstance(constraints, x509.BasicConstraints) and constraints.ca):
            return f"{which} is no CA (CA:TRUE), so it may not sign other certificates."
        if isinstance(constraints, x509.BasicConstraints) and constraints.path_length is not None:
            below = len(chain) - 1
            if below > constraints.path_length:
                return (
                    f"{which} allows {constraints.path_length} intermediates below it, not {below}."
                )
        return None


def check_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
) -> None:
    """A path leads from `leaf` through `intermediates` to one of `roots` (the certificates a
    client trusts), as Go's Certificate.Verify builds it (the host name is check_covers_hosts').
    The leaf's own validity is check_valid_now's."""
    if any(root.public_bytes(Encoding.DER) == leaf.public_bytes(Encoding.DER) for root in roots):
        return  # verify.go: a leaf that is itself trusted needs no chain
    search = _Search(roots, intermediates, now)
    if search.found([leaf]):
        return
    if search.invalid:
        raise ValueError(search.invalid)
    hint = f" ({search.hint})" if search.hint else ""
    raise ValueError(
        f"None of them signed the certificate {_name(leaf)}, nor an intermediate that leads to it{hint}."
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
