"""Checks of the certificates a user gives the cache, made before anything is deployed.

Users may give the serving certificate (`tlsCert`, a PEM chain, leaf first), the CA that issued
it (`tlsCaCert`) and the CA of the upstream registry (`upstreamCaCert`). Each is checked here as
a TLS client checks it: the clients of the cache (containerd, Docker, MSR) and the cache itself
are Go programs, so certificates are read, host names matched and chains built by a port of Go
1.26's `crypto/x509` (go1.26.8, `src/crypto/x509/parser.go`, `verify.go`, `x509.go`,
`cert_pool.go`; each section below names the functions it ports).

Every check raises `ValueError` whose message is one sentence saying what is wrong (the caller
says what is accepted before it). A message never quotes the PEM text or key material: it may
end up in logs and CI output.

Not ported, so accepted here where Go may refuse: name constraints beyond deciding whether a
critical one is handled (`parseNameConstraintsExtension`'s checks of each name's syntax, and
`checkChainConstraints`), certificate policies along a chain (`policiesValid`, which refuses
only chains whose CAs require an explicit policy), and crypto/rsa's checks of a public exponent.
The certificates checked here are the user's own, rarely from a constrained or policy-bound CA.
Refused here where Go reads them, as cryptography reads every certificate first and is stricter:
a PrintableString holding `*` or `&` (Go tolerates both, as old CAs wrote them), an X.509 v2
certificate, a GeneralName of a tag X.509 does not define.

This module is pure (no Pulumi) and does not import `components.inputs.settings`, which imports it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import re
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning

from .go_url import parse_go_url
from .ip_literal import IPAddress, ip_or_none

__all__ = [
    "EXT_KEY_USAGES",
    "SERVER_AUTH",
    "UB_COMMON_NAME",
    "GoCertificate",
    "Refusal",
    "VerifyError",
    "certificates",
    "check_chain",
    "check_chain_for_key_usage",
    "check_covers_hosts",
    "check_serving_leaf",
    "check_trust_anchors",
    "check_valid_now",
    "common_name",
    "go_certificate",
    "san_texts",
    "unusable_anchors",
    "usable_anchors",
    "verify",
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

SERVER_AUTH = "serverAuth"
"""The extended key usage a TLS client asks of a server's chain (crypto/tls leaves
VerifyOptions.KeyUsages empty, and Verify takes that for ExtKeyUsageServerAuth)."""


def certificates(pem: object) -> list[x509.Certificate]:
    """The certificates of a PEM text, in order; the text must hold certificates and only those,
    each one Go's `x509.ParseCertificate` reads (a TLS client parses every certificate a server
    sends, and fails the handshake on the first it cannot: crypto/tls
    `verifyServerCertificate`).

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
            with warnings.catch_warnings():
                # cryptography warns of a serial that is not positive: Go's rule (a negative
                # one is refused, zero is not) is go_certificate's.
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                cert = x509.load_pem_x509_certificate(block.encode())
            # Extensions are parsed lazily: parse them now, as Go does, so that a malformed or
            # repeated extension is reported here rather than by a later check.
            cert.extensions  # noqa: B018
        except (ValueError, x509.InvalidVersion, x509.DuplicateExtension):
            raise ValueError(
                f"Certificate {number} of {len(blocks)} is not valid X.509: its base64, DER or "
                "extensions are broken."
            ) from None
        try:
            go_certificate(cert)
        except ValueError as err:
            raise ValueError(
                f"Certificate {number} of {len(blocks)} cannot be read by Go's crypto/x509, which "
                f'the cache and its clients use: "{err}".'
            ) from None
        certs.append(cert)
    return certs


def rfc3339(moment: datetime) -> str:
    """A moment as RFC 3339 text in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


# --- DER, read as Go's cryptobyte reads it -------------------------------------------------------
#
# cryptography has already parsed each certificate strictly (DER, every extension it knows); this
# reader only walks to the raw fields Go compares byte for byte (names, keys, SANs) and to the
# extensions as Go's processExtensions sees them, so a malformed element is a ValueError here.

_SEQUENCE, _OID, _BOOLEAN, _INTEGER, _OCTET_STRING, _BIT_STRING, _NULL = (
    0x30, 0x06, 0x01, 0x02, 0x04, 0x03, 0x05,
)  # fmt: skip


class _Der:
    """A cursor over DER elements, as cryptobyte.String."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def empty(self) -> bool:
        """Whether every element was read."""
        return self.at >= len(self.data)

    def peek(self) -> int | None:
        """The next element's tag, or None at the end."""
        return None if self.empty() else self.data[self.at]

    def element(self, tag: int | None = None) -> tuple[int, bytes, bytes]:
        """(tag, contents, the whole element) of the next element, which must have `tag`."""
        data, at = self.data, self.at
        if at + 2 > len(data) or (tag is not None and data[at] != tag):
            raise ValueError("malformed DER")
        first = data[at + 1]
        if first < 0x80:
            start, length = at + 2, first
        else:
            count = first & 0x7F
            if not 1 <= count <= 4 or at + 2 + count > len(data):
                raise ValueError("malformed DER")
            start, length = at + 2 + count, int.from_bytes(data[at + 2 : at + 2 + count], "big")
        end = start + length
        if end > len(data):
            raise ValueError("malformed DER")
        self.at = end
        return data[at], data[start:end], data[at:end]

    def read(self, tag: int) -> bytes:
        """The contents of the next element, which must have `tag`."""
        return self.element(tag)[1]

    def optional(self, tag: int) -> bytes | None:
        """The contents of the next element if it has `tag`, else None (nothing read)."""
        return self.read(tag) if self.peek() == tag else None

    def elements(self) -> Iterator[tuple[int, bytes]]:
        """(tag, contents) of each remaining element."""
        while not self.empty():
            tag, contents, _ = self.element()
            yield tag, contents


def _oid(contents: bytes) -> str:
    """An OBJECT IDENTIFIER's contents in dotted form."""
    arcs: list[int] = []
    value = 0
    for byte in contents:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs or contents[-1] & 0x80:
        raise ValueError("malformed OBJECT IDENTIFIER")
    top = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (top, arcs[0] - 40 * top, *arcs[1:]))


def _integer(contents: bytes) -> int:
    if not contents:
        raise ValueError("malformed INTEGER")
    return int.from_bytes(contents, "big", signed=True)


# --- a certificate as Go's ParseCertificate reads it (parser.go) ---------------------------------

# x509.go: the signature algorithms Go knows, by OID: (its name, the hash, the key's algorithm).
_SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None, str]] = {
    "1.2.840.113549.1.1.4": ("MD5-RSA", "MD5", "RSA"),
    "1.2.840.113549.1.1.5": ("SHA1-RSA", "SHA1", "RSA"),
    "1.3.14.3.2.29": ("SHA1-RSA", "SHA1", "RSA"),
    "1.2.840.113549.1.1.11": ("SHA256-RSA", "SHA256", "RSA"),
    "1.2.840.113549.1.1.12": ("SHA384-RSA", "SHA384", "RSA"),
    "1.2.840.113549.1.1.13": ("SHA512-RSA", "SHA512", "RSA"),
    "1.2.840.10040.4.3": ("DSA-SHA1", "SHA1", "DSA"),
    "2.16.840.1.101.3.4.3.2": ("DSA-SHA256", "SHA256", "DSA"),
    "1.2.840.10045.4.1": ("ECDSA-SHA1", "SHA1", "ECDSA"),
    "1.2.840.10045.4.3.2": ("ECDSA-SHA256", "SHA256", "ECDSA"),
    "1.2.840.10045.4.3.3": ("ECDSA-SHA384", "SHA384", "ECDSA"),
    "1.2.840.10045.4.3.4": ("ECDSA-SHA512", "SHA512", "ECDSA"),
    "1.3.101.112": ("Ed25519", None, "Ed25519"),
}
_RSA_PSS = "1.2.840.113549.1.1.10"
_MGF1 = "1.2.840.113549.1.1.8"
# getSignatureAlgorithmFromAI: PSS only with MGF1 of the same hash and a salt as long as it.
_PSS_HASHES = {
    "2.16.840.1.101.3.4.2.1": ("SHA256", 32),
    "2.16.840.1.101.3.4.2.2": ("SHA384", 48),
    "2.16.840.1.101.3.4.2.3": ("SHA512", 64),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "SHA256": hashes.SHA256(), "SHA384": hashes.SHA384(), "SHA512": hashes.SHA512(),
}  # fmt: skip
# getPublicKeyAlgorithmFromOID: X25519, Ed448, RSA-PSS keys and any other are unknown to it.
_PUBLIC_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.10040.4.1": "DSA",
    "1.2.840.10045.2.1": "ECDSA",
    "1.3.101.112": "Ed25519",
}
_NAMED_CURVES = {  # namedCurveFromOID
    "1.3.132.0.33": "P-224",
    "1.2.840.10045.3.1.7": "P-256",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
}
EXT_KEY_USAGES = {
    "2.5.29.37.0": "any",
    "1.3.6.1.5.5.7.3.1": SERVER_AUTH,
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.5": "ipsecEndSystem",
    "1.3.6.1.5.5.7.3.6": "ipsecTunnel",
    "1.3.6.1.5.5.7.3.7": "ipsecUser",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "1.3.6.1.4.1.311.10.3.3": "msSGC",
    "2.16.840.1.113730.4.1": "nsSGC",
    "1.3.6.1.4.1.311.2.1.22": "msCodeCom",
    "1.3.6.1.4.1.311.61.1.1": "msKernelCode",
}
"""The extended key usages Go knows (x509.go extKeyUsageOIDs), by OID: a name of ours for each
ExtKeyUsage constant; any other OID is an UnknownExtKeyUsage."""
_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1"
_KEY_USAGE_CERT_SIGN = 1 << 5
_RSA_MIN_BITS = 1024  # crypto/rsa checkKeySize (GODEBUG rsa1024min, on by default)
_TLS_MAX_RSA_BITS = 8192  # crypto/tls defaultMaxRSAKeySize (GODEBUG tlsmaxrsasize)


@dataclasses.dataclass(frozen=True)
class GoCertificate:
    """What Go's `ParseCertificate` makes of a certificate: the fields its verification reads."""

    cert: x509.Certificate
    raw: bytes
    raw_subject: bytes
    raw_issuer: bytes
    raw_subject_public_key_info: bytes
    version: int
    """1 to 3, as Go counts."""
    signature_algorithm: str | None
    """Go's name of it (SHA256-RSA, ECDSA-SHA256, ...), None: UnknownSignatureAlgorithm."""
    signature_hash: str | None
    public_key_algorithm: str | None
    """RSA, DSA, ECDSA or Ed25519; None: UnknownPublicKeyAlgorithm (Go holds no key then)."""
    basic_constraints_valid: bool
    is_ca: bool
    max_path_len: int
    """-1: no pathLenConstraint."""
    key_usage: int
    """Go's KeyUsage bits (0: none asserted, as if absent)."""
    ext_key_usage: tuple[str, ...]
    """The extended key usages Go knows, by the names of EXT_KEY_USAGES."""
    unknown_ext_key_usage: tuple[str, ...]
    """The others, dotted."""
    dns_names: tuple[str, ...]
    ip_addresses: tuple[IPAddress, ...]
    san: bytes | None
    """The subjectAltName extension's value, None without one."""
    subject_key_id: bytes
    authority_key_id: bytes
    unhandled_critical_extensions: tuple[str, ...]
    """Critical extensions Go does not handle, dotted: Verify refuses a certificate with any."""

    @property
    def common_name(self) -> str:
        """Go's Subject.CommonName: the last CN attribute's text."""
        names = _common_names(self.cert)
        return names[-1] if names else ""

    @property
    def organization(self) -> str | None:
        """Go's Subject.Organization[0], None without one."""
        names = self.cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        return next((name.value for name in names if isinstance(name.value, str)), None)

    @property
    def shown(self) -> str:
        """The certificate as a message names it: its subject CN, organization, else serial."""
        name = self.common_name or self.organization
        return f"of serial {self.cert.serial_number}" if name is None else f'"{name}"'


def _ia5(value: bytes) -> bool:
    """isIA5String: every byte ASCII (Go ranges over runes: a byte >= 0x80 is never one)."""
    return all(byte < 0x80 for byte in value)


def _domain_name_valid(name: str, constraint: bool) -> bool:
    """parser.go `domainNameValid` (with the checks Go 1.26 leaves as TODO(#75835) left out, as
    it leaves them): printable ASCII labels, none empty, no trailing dot."""
    if not name:
        return True
    if name.endswith("."):
        return False
    if constraint and name.startswith("."):
        name = name[1:]
    return all(label and all(33 <= ord(c) <= 126 for c in label) for label in name.split("."))


# forEachSAN's IA5String kinds, by tag number, as parseSANExtension names them in its errors.
_IA5_SANS = {1: "rfc822Name", 2: "dNSName", 6: "uniformResourceIdentifier"}


def _parse_san(value: bytes) -> tuple[list[str], list[IPAddress], int]:
    """parseSANExtension: (DNS names, IP addresses, how many names Go keeps in all)."""
    dns_names: list[str] = []
    addresses: list[IPAddress] = []
    kept = 0
    names = _Der(_Der(value).read(_SEQUENCE))
    for tag, data in names.elements():
        kind = tag ^ 0x80  # forEachSAN: a constructed [0] (otherName) or [4] matches no case
        if kind in _IA5_SANS and not _ia5(data):
            raise ValueError(f"x509: SAN {_IA5_SANS[kind]} is malformed")
        if kind == 2:
            dns_names.append(data.decode("ascii"))
        elif kind == 6:
            uri = data.decode("ascii")
            try:
                host = parse_go_url(uri).host
            except ValueError as err:
                # url.Error's text; the port quotes a part of the URL as Python does ('...'),
                # Go as %q does ("...").
                detail = re.sub(r"'([^'\"\\]*)'", r'"\1"', str(err))
                quoted = _go_quote(uri)
                raise ValueError(
                    f"x509: cannot parse URI {quoted}: parse {quoted}: {detail}"
                ) from None
            if host and not _domain_name_valid(host, constraint=False):
                raise ValueError(f'x509: cannot parse URI "{uri}": invalid domain')
        elif kind == 7:
            if len(data) not in (4, 16):
                raise ValueError(f"x509: cannot parse IP address of length {len(data)}")
            addresses.append(ipaddress.ip_address(data))
        kept += kind in (1, 2, 6, 7)
    return dns_names, addresses, kept


def _name_constraints_unhandled(value: bytes) -> bool:
    """parseNameConstraintsExtension, as far as it decides whether Go handles the extension: a
    subtree of a kind other than dNSName, rfc822Name, iPAddress or URI it does not."""
    outer = _Der(value)
    top = _Der(outer.read(_SEQUENCE))
    permitted, excluded = top.optional(0xA0), top.optional(0xA1)
    if not outer.empty() or not top.empty():
        raise ValueError("x509: invalid NameConstraints extension")
    if not permitted and not excluded:
        raise ValueError("x509: empty name constraints extension")
    unhandled = False
    for subtrees in (permitted or b"", excluded or b""):
        for _, subtree in _Der(subtrees).elements():
            tag, _, _ = _Der(subtree).element()
            unhandled |= tag not in (0x82, 0x81, 0x87, 0x86)
    return unhandled


def _key_usage(value: bytes) -> int:
    """parseKeyUsageExtension: the first nine bits of the BIT STRING."""
    bits = _Der(value).read(_BIT_STRING)
    if not bits or bits[0] > 7:
        raise ValueError("x509: invalid key usage")
    data = bits[1:]
    return sum(1 << i for i in range(9) if i // 8 < len(data) and data[i // 8] >> (7 - i % 8) & 1)


def _basic_constraints(value: bytes) -> tuple[bool, int]:
    """parseBasicConstraintsExtension: (cA, pathLenConstraint or -1)."""
    try:
        body = _Der(_Der(value).read(_SEQUENCE))
        flag = body.optional(_BOOLEAN)
        length = body.optional(_INTEGER)
    except ValueError:
        raise ValueError("x509: invalid basic constraints") from None
    if flag is not None and flag not in (b"\x00", b"\xff"):
        raise ValueError("x509: invalid basic constraints")
    max_path_len = -1
    if length is not None:
        number = _integer(length)
        if number < 0 or number > 2**63 - 1:  # read into a uint; above math.MaxInt
            raise ValueError("x509: invalid basic constraints")
        max_path_len = number
    return flag == b"\xff", max_path_len


def _signature_algorithm(algorithm: bytes) -> tuple[str | None, str | None]:
    """getSignatureAlgorithmFromAI: (Go's name, its hash), or (None, None) when unknown to Go."""
    ai = _Der(algorithm)
    oid = _oid(ai.read(_OID))
    params = ai.data[ai.at :]
    if oid == "1.3.101.112" and params:
        return None, None
    if oid != _RSA_PSS:
        name, digest, _ = _SIGNATURE_ALGORITHMS.get(oid, (None, None, ""))
        return name, digest
    # RSASSA-PSS-params: hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2] are required by
    # Go's pssParameters (no defaults), trailerField [3] defaults to 1.
    try:
        pss = _Der(_Der(params).read(_SEQUENCE))
        hash_ai = _Der(_Der(pss.read(0xA0)).read(_SEQUENCE))
        hash_oid, hash_params = _oid(hash_ai.read(_OID)), hash_ai.data[hash_ai.at :]
        mgf = _Der(_Der(pss.read(0xA1)).read(_SEQUENCE))
        mgf_oid = _oid(mgf.read(_OID))
        mgf_hash = _Der(mgf.read(_SEQUENCE))
        mgf_hash_oid, mgf_hash_params = _oid(mgf_hash.read(_OID)), mgf_hash.data[mgf_hash.at :]
        salt = _integer(_Der(pss.read(0xA2)).read(_INTEGER))
        trailer_field = pss.optional(0xA3)
        trailer = 1 if trailer_field is None else _integer(_Der(trailer_field).read(_INTEGER))
    except ValueError:
        return None, None
    known = _PSS_HASHES.get(hash_oid)
    if (
        hash_params not in (b"", b"\x05\x00")
        or mgf_oid != _MGF1
        or mgf_hash_oid != hash_oid
        or mgf_hash_params not in (b"", b"\x05\x00")
        or trailer != 1
        or known is None
        or salt != known[1]
    ):
        return None, None
    return f"{known[0]}-RSAPSS", known[0]


def _check_public_key(spki: bytes) -> str | None:
    """parsePublicKey for the algorithms Go knows; its algorithm's name, None if unknown."""
    info = _Der(_Der(spki).read(_SEQUENCE))
    ai = _Der(info.read(_SEQUENCE))
    oid = _oid(ai.read(_OID))
    params = ai.data[ai.at :]
    key = info.read(_BIT_STRING)[1:]
    algorithm = _PUBLIC_KEY_ALGORITHMS.get(oid)
    if algorithm == "RSA" and params != b"\x05\x00":
        raise ValueError("x509: RSA key missing NULL parameters")
    if algorithm == "ECDSA":
        try:
            curve = _oid(_Der(params).read(_OID))
        except ValueError:
            raise ValueError("x509: invalid ECDSA parameters") from None
        if curve not in _NAMED_CURVES:
            raise ValueError("x509: unsupported elliptic curve")
        if not key or key[0] != 4:
            raise ValueError("ecdsa: invalid uncompressed public key")
    if algorithm == "Ed25519" and params:
        raise ValueError("x509: Ed25519 key encoded with illegal parameters")
    return algorithm


@functools.lru_cache(maxsize=1024)
def go_certificate(cert: x509.Certificate) -> GoCertificate:
    """`cert` as Go's `ParseCertificate` reads it (parser.go `parseCertificate`,
    `processExtensions`); raises ValueError with Go's error text where Go refuses what
    cryptography read. Structure cryptography already refused is not checked again."""
    raw = cert.public_bytes(Encoding.DER)
    outer = _Der(_Der(raw).read(_SEQUENCE))
    _, tbs_body, _ = outer.element(_SEQUENCE)
    _, _, outer_algorithm = outer.element(_SEQUENCE)
    tbs = _Der(tbs_body)
    version = _integer(_Der(tbs.read(0xA0)).read(_INTEGER)) + 1 if tbs.peek() == 0xA0 else 1
    if _integer(tbs.read(_INTEGER)) < 0:
        raise ValueError("x509: negative serial number")  # GODEBUG x509negativeserial=0
    _, _, inner_algorithm = tbs.element(_SEQUENCE)
    if inner_algorithm != outer_algorithm:
        raise ValueError("x509: inner and outer signature algorithm identifiers don't match")
    _, _, raw_issuer = tbs.element(_SEQUENCE)
    tbs.read(_SEQUENCE)  # validity
    _, _, raw_subject = tbs.element(_SEQUENCE)
    _, _, spki = tbs.element(_SEQUENCE)
    public_key_algorithm = _check_public_key(spki)
    signature_algorithm, signature_hash = _signature_algorithm(
        _Der(inner_algorithm).read(_SEQUENCE)
    )
    fields = _Extensions()
    if version == 3:
        tbs.optional(0x81)  # issuerUniqueID
        tbs.optional(0x82)  # subjectUniqueID
        extensions = tbs.optional(0xA3)
        if extensions is not None:
            for _, extension in _Der(_Der(extensions).read(_SEQUENCE)).elements():
                body = _Der(extension)
                oid = _oid(body.read(_OID))
                critical = body.optional(_BOOLEAN) == b"\xff"
                fields.process(oid, critical, body.read(_OCTET_STRING))
    return GoCertificate(
        cert=cert,
        raw=raw,
        raw_subject=raw_subject,
        raw_issuer=raw_issuer,
        raw_subject_public_key_info=spki,
        version=version,
        signature_algorithm=signature_algorithm,
        signature_hash=signature_hash,
        public_key_algorithm=public_key_algorithm,
        basic_constraints_valid=fields.basic_constraints_valid,
        is_ca=fields.is_ca,
        max_path_len=fields.max_path_len,
        key_usage=fields.key_usage,
        ext_key_usage=tuple(fields.ext_key_usage),
        unknown_ext_key_usage=tuple(fields.unknown_ext_key_usage),
        dns_names=tuple(fields.dns_names),
        ip_addresses=tuple(fields.ip_addresses),
        san=fields.san,
        subject_key_id=fields.subject_key_id,
        authority_key_id=fields.authority_key_id,
        unhandled_critical_extensions=tuple(fields.unhandled),
    )


@dataclasses.dataclass
class _Extensions:
    """processExtensions' work on the Certificate it fills."""

    basic_constraints_valid: bool = False
    is_ca: bool = False
    max_path_len: int = -1
    key_usage: int = 0
    ext_key_usage: list[str] = dataclasses.field(default_factory=list[str])
    unknown_ext_key_usage: list[str] = dataclasses.field(default_factory=list[str])
    dns_names: list[str] = dataclasses.field(default_factory=list[str])
    ip_addresses: list[IPAddress] = dataclasses.field(default_factory=list[IPAddress])
    san: bytes | None = None
    subject_key_id: bytes = b""
    authority_key_id: bytes = b""
    unhandled: list[str] = dataclasses.field(default_factory=list[str])

    def process(self, oid: str, critical: bool, value: bytes) -> None:
        """One extension: what Go reads of it, or raises Go's refusal."""
        unhandled = False
        arcs = oid.split(".")
        if len(arcs) == 4 and arcs[:3] == ["2", "5", "29"]:
            unhandled = self._process_id_ce(int(arcs[3]), critical, value)
        elif oid == _AUTHORITY_INFO_ACCESS:
            if critical:  # RFC 5280 4.2.2.1: conforming CAs mark it non-critical
                raise ValueError("x509: authority info access incorrectly marked critical")
        else:
            unhandled = True
        if critical and unhandled:
            self.unhandled.append(oid)

    def _process_id_ce(self, number: int, critical: bool, value: bytes) -> bool:
        """An extension under id-ce (2.5.29): whether Go leaves it unhandled."""
        if number == 15:
            self.key_usage = _key_usage(value)
        elif number == 19:
            self.is_ca, self.max_path_len = _basic_constraints(value)
            self.basic_constraints_valid = True
        elif number == 17:
            dns_names, addresses, kept = _parse_san(value)
            self.dns_names, self.ip_addresses, self.san = dns_names, addresses, value
            return kept == 0  # Go parsed nothing of it: otherName, directoryName, ...
        elif number == 30:
            return _name_constraints_unhandled(value)
        elif number == 35:
            if critical:
                raise ValueError("x509: authority key identifier incorrectly marked critical")
            akid = _Der(_Der(value).read(_SEQUENCE))
            self.authority_key_id = akid.optional(0x80) or b""
        elif number == 14:
            if critical:
                raise ValueError("x509: subject key identifier incorrectly marked critical")
            self.subject_key_id = _Der(value).read(_OCTET_STRING)
        elif number == 37:
            for _, usage in _Der(_Der(value).read(_SEQUENCE)).elements():
                dotted = _oid(usage)
                if dotted in EXT_KEY_USAGES:
                    self.ext_key_usage.append(EXT_KEY_USAGES[dotted])
                else:
                    self.unknown_ext_key_usage.append(dotted)
        elif number == 32:
            seen: set[bytes] = set()
            for _, policy in _Der(_Der(value).read(_SEQUENCE)).elements():
                identifier = _Der(policy).read(_OID)
                if identifier in seen:
                    raise ValueError("x509: invalid certificate policies")
                seen.add(identifier)
        elif number not in (31, 33, 36, 54):  # CRL points, policy mappings and constraints, ...
            return True
        return False


# --- validity -----------------------------------------------------------------------------------


def _validity(cert: x509.Certificate, now: datetime, which: str) -> Refusal | None:
    """Why `cert` (`which`, as a sentence names it) is not valid at `now`, or None: notBefore <=
    now <= notAfter, both ends inclusive (RFC 5280, section 4.1.2.5), as Go's isValid has it; the
    Refusal carries isValid's Expired error, as Go words it (its times in RFC 3339, `now` in UTC)."""
    now = _utc(now)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < not_before:
        go = f"current time {rfc3339(now)} is before {rfc3339(not_before)}"
        message = f"{which} is not valid before {rfc3339(not_before)} (now is {rfc3339(now)})."
    elif now > not_after:
        go = f"current time {rfc3339(now)} is after {rfc3339(not_after)}"
        message = f"{which} expired on {rfc3339(not_after)} (now is {rfc3339(now)})."
    else:
        return None
    return Refusal(f"x509: certificate has expired or is not yet valid: {go}", message)


def check_valid_now(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """The first certificate (the leaf) is valid at `now` (a naive `now` is UTC).

    Only the leaf is checked: a chain may carry an expired cross-signed certificate that clients
    skip when they build another path to a root (check_chain judges the path).
    """
    if not certs:
        raise ValueError("The text holds no certificate.")
    expired = _validity(certs[0], now, "The certificate")
    if expired:
        raise ValueError(expired.message)


def _unhandled_problem(cert: GoCertificate, which: str) -> str | None:
    if not cert.unhandled_critical_extensions:
        return None
    oids = ", ".join(cert.unhandled_critical_extensions)
    return (
        f"{which} has a critical extension Go does not handle ({oids}), so Go clients refuse "
        'it ("x509: unhandled critical extension").'
    )


# --- extended key usage, nested down the chain (verify.go checkChainForKeyUsage) -----------------


def check_chain_for_key_usage(chain: Sequence[GoCertificate], usages: Sequence[str]) -> bool:
    """Whether some usage of `usages` is allowed by every certificate of `chain` that lists
    extended key usages (`any` allows all); `chain` is leaf first, as Go walks it from the root."""
    if not chain:
        return False
    remaining = list(usages)
    for cert in reversed(chain):
        if not cert.ext_key_usage and not cert.unknown_ext_key_usage:
            continue  # no EKU: good for anything
        if "any" in cert.ext_key_usage:
            continue
        remaining = [usage for usage in remaining if usage in cert.ext_key_usage]
        if not remaining:
            return False
    return True


def _usage_problem(chain: Sequence[GoCertificate]) -> str:
    """Which certificate of `chain` (leaf first) takes serverAuth away, as a sentence."""
    for index, cert in reversed(list(enumerate(chain))):
        if check_chain_for_key_usage(chain[index:], [SERVER_AUTH]):
            continue
        which = "The certificate" if index == 0 else f"CA certificate {cert.shown} above it"
        listed = ", ".join([*cert.ext_key_usage, *cert.unknown_ext_key_usage])
        return (
            f"{which} allows only the extended key usages {listed}, not serverAuth (TLS server "
            "authentication), which Go clients ask of a serving certificate and of every CA on "
            'its chain that lists usages ("x509: certificate specifies an incompatible key '
            'usage").'
        )
    return "No chain allows serverAuth."  # not reached: some certificate takes it away


def check_serving_leaf(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """The first certificate of a serving chain, as a Go client takes it before any chain
    (Verify's isValid of the leaf, and the key checks of crypto/tls and crypto/rsa), and as a
    chain of its own (a client that trusts it, as caCertPem does by default, builds no other):
    valid now, no critical extension Go does not handle, serverAuth among its extended key
    usages if it lists any, and an RSA key Go accepts (1024 to 8192 bits)."""
    check_valid_now(certs, now)
    leaf = go_certificate(certs[0])
    problem = _unhandled_problem(leaf, "The certificate")
    if problem:
        raise ValueError(problem)
    if not check_chain_for_key_usage([leaf], [SERVER_AUTH]):
        raise ValueError(_usage_problem([leaf]))
    key = leaf.cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and not _RSA_MIN_BITS <= key.key_size <= _TLS_MAX_RSA_BITS:
        raise ValueError(
            f"The certificate's RSA key has {key.key_size} bits: Go clients refuse fewer than "
            f"{_RSA_MIN_BITS} (crypto/rsa) and more than {_TLS_MAX_RSA_BITS} (crypto/tls)."
        )


# --- host names, as Go's crypto/x509 matches them -------------------------------------------
#
# A port of `Certificate.VerifyHostname` and its helpers `validHostname`, `matchExactly`,
# `matchHostnames` and `toLowerCaseASCII` in verify.go (go1.26.8). The rules (RFC 6125):
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
    `*` is neither a name nor a pattern (Go 1.23's fix of golang/go#65085: without it a SAN `*`
    matched every single-label host, `localhost` too)."""
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
    dns_names: Sequence[str], ip_addresses: Sequence[IPAddress], host: str
) -> bool:
    """Go's `Certificate.VerifyHostname`, as a yes/no."""
    candidate_ip = host[1:-1] if len(host) >= 3 and host[0] == "[" and host[-1] == "]" else host
    address = ip_or_none(candidate_ip)  # Go's net.ParseIP: no zone
    if address is not None:
        return any(_unmapped(address) == _unmapped(san) for san in ip_addresses)
    candidate_name = _to_lower_ascii(host)
    valid_candidate = _valid_hostname(candidate_name, is_pattern=False)
    for pattern in dns_names:
        if valid_candidate and _valid_hostname(pattern, is_pattern=True):
            if _match_hostnames(pattern, candidate_name):
                return True
        elif _match_exactly(pattern, candidate_name):
            return True
    return False


def _common_names(cert: x509.Certificate) -> list[str]:
    return [
        value
        for attribute in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if isinstance(value := attribute.value, str)
    ]


def san_texts(leaf: x509.Certificate) -> list[str]:
    """`leaf`'s DNS and IP SANs as OpenSSL writes them: DNS:<name>, IP:<address>."""
    go = go_certificate(leaf)
    return [f"DNS:{name}" for name in go.dns_names] + [f"IP:{ip}" for ip in go.ip_addresses]


def _not_covered(go: GoCertificate, host: str) -> str:
    """Why `go` does not cover `host`, as a sentence."""
    listed = san_texts(go.cert)
    if not listed:
        has = "it has no DNS or IP SANs"
    else:
        more = len(listed) - _MAX_LISTED_SANS
        has = "its SANs are " + ", ".join(listed[:_MAX_LISTED_SANS])
        has += f" and {more} more" if more > 0 else ""
    cn_hint = ""
    if go.san is None and any(_match_hostnames(cn, host) for cn in _common_names(go.cert)):
        cn_hint = " (its subject CN matches, but clients ignore the CN: put the host in a SAN)"
    return f'The certificate does not cover host "{host}": {has}{cn_hint}.'


def _hostname_error(go: GoCertificate, host: str) -> str:
    """HostnameError.Error() of VerifyHostname(host) (verify.go): Go's words."""
    candidate_ip = host[1:-1] if len(host) >= 3 and host[0] == "[" and host[-1] == "]" else host
    shown = candidate_ip if ip_or_none(candidate_ip) is not None else host
    if go.san is None and _match_hostnames(go.common_name, shown):
        return "x509: certificate relies on legacy Common Name field, use SANs instead"
    if ip_or_none(shown) is not None:
        if not go.ip_addresses:
            return (
                f"x509: cannot validate certificate for {shown} because it doesn't contain any "
                "IP SANs"
            )
        if len(go.ip_addresses) >= 100:
            return f"x509: certificate is valid for {len(go.ip_addresses)} IP SANs, but none matched {shown}"
        valid = ", ".join(str(_unmapped(ip)) for ip in go.ip_addresses)
    else:
        if len(go.dns_names) >= 100:
            return f"x509: certificate is valid for {len(go.dns_names)} names, but none matched {shown}"
        valid = ", ".join(go.dns_names)
    if not valid:
        return f"x509: certificate is not valid for any names, but wanted to match {shown}"
    return f"x509: certificate is valid for {valid}, not {shown}"


def check_covers_hosts(leaf: x509.Certificate, hosts: Sequence[str]) -> None:
    """Every host (a DNS name or an IP literal) is matched by a SAN of `leaf`, as Go matches it."""
    go = go_certificate(leaf)
    for host in hosts:
        if not _verify_hostname(go.dns_names, go.ip_addresses, host):
            raise ValueError(_not_covered(go, host))


# --- chains, as Go's crypto/x509 builds them -----------------------------------------------------
#
# A port of `Certificate.Verify` (verify.go) without the platform verifiers, policies and name
# constraints (see the module's docstring): the leaf's `isValid`, then `buildChains` from the leaf
# to the roots through the intermediates, then the chains that allow the extended key usages
# asked for (`checkChainForKeyUsage`); with `CertPool`'s `findPotentialParents` and `contains`
# (cert_pool.go), `alreadyInChain`, `isValid`, and `CheckSignatureFrom` with `checkSignature`
# (x509.go). Each refusal carries the text Go's error would have, so the tests can hold the port
# to Go, and a sentence for users.

_MAX_SIGNATURE_CHECKS = 100  # verify.go maxChainSignatureChecks
_LEAF, _INTERMEDIATE, _ROOT = "leaf", "intermediate", "root"  # leafCertificate, ...


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why Go's Verify refuses a certificate: `go` is its error's text, `message` a sentence
    for users."""

    go: str
    message: str


class VerifyError(ValueError):
    """Go's Verify refused: str() is a sentence for users; `go` the text of Go's error."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.go = refusal.go


_SIGNATURE_LIMIT = Refusal(
    "x509: signature check attempts limit reached while verifying certificate chain",
    f"The chain takes more than {_MAX_SIGNATURE_CHECKS} signature checks to build.",
)


def _go_quote(text: str) -> str:
    """Go's %q of printable text (strconv.Quote): in double quotes, `"` and `\\` escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class _Pool:
    """A CertPool: certificates without repeats (AddCert), found by subject (byName)."""

    def __init__(self, certs: Sequence[GoCertificate]) -> None:
        self.certs: list[GoCertificate] = []
        seen: set[bytes] = set()
        for cert in certs:
            digest = hashlib.sha224(cert.raw).digest()
            if digest not in seen:
                seen.add(digest)
                self.certs.append(cert)

    def contains(self, cert: GoCertificate) -> bool:
        """Whether the pool holds these very bytes."""
        return any(held.raw == cert.raw for held in self.certs)

    def potential_parents(self, cert: GoCertificate) -> list[GoCertificate]:
        """findPotentialParents: those named as `cert`'s issuer, the likeliest first (their
        subject key id is its authority key id; then one of them is missing; then neither)."""
        matching: list[GoCertificate] = []
        one_key_id: list[GoCertificate] = []
        mismatched: list[GoCertificate] = []
        for candidate in self.certs:
            if candidate.raw_subject != cert.raw_issuer:
                continue
            if candidate.subject_key_id == cert.authority_key_id:
                matching.append(candidate)
            elif bool(candidate.subject_key_id) != bool(cert.authority_key_id):
                one_key_id.append(candidate)
            else:
                mismatched.append(candidate)
        return matching + one_key_id + mismatched


def _already_in_chain(candidate: GoCertificate, chain: Sequence[GoCertificate]) -> bool:
    """alreadyInChain: the same subject, key and SANs as a certificate of `chain` (a loop)."""
    return any(
        candidate.raw_subject == cert.raw_subject
        and candidate.raw_subject_public_key_info == cert.raw_subject_public_key_info
        and candidate.san == cert.san
        for cert in chain
    )


def _signature_refusal(child: GoCertificate, parent: GoCertificate) -> Refusal | None:
    """CheckSignatureFrom: why `parent` did not sign `child` (Go's error), or None."""
    constraint = "x509: invalid signature: parent certificate cannot sign this kind of certificate"
    signer = f"{parent.shown} has the issuer's name but cannot have signed it"
    if parent.version == 3 and not parent.basic_constraints_valid:
        return Refusal(constraint, f"{signer}: it has no basicConstraints extension (CA:TRUE)")
    if parent.basic_constraints_valid and not parent.is_ca:
        return Refusal(constraint, f"{signer}: its basicConstraints say CA:FALSE")
    if parent.key_usage and not parent.key_usage & _KEY_USAGE_CERT_SIGN:
        return Refusal(constraint, f"{signer}: its keyUsage lacks keyCertSign")
    unimplemented = "x509: cannot verify signature: algorithm unimplemented"
    if parent.public_key_algorithm is None:
        return Refusal(unimplemented, f"{signer}: Go does not know its kind of key")
    algorithm = child.signature_algorithm
    if algorithm is None:
        return Refusal(unimplemented, f"{signer}: Go does not know the signature's algorithm")
    if child.signature_hash in ("MD5", "SHA1"):
        return Refusal(
            f"x509: cannot verify signature: insecure algorithm {algorithm}",
            f"{signer}: the signature uses {child.signature_hash}, which Go refuses",
        )
    _, _, key_algorithm = _SIGNATURE_ALGORITHMS.get(
        child.cert.signature_algorithm_oid.dotted_string, ("", None, "RSA")
    )
    return _verify_signature(child, parent, key_algorithm, signer)


# checkSignature's switch on the parent's key (a DSA key, the last kind Go parses, matches no case
# there): the key algorithm a signature's algorithm names, Go's type of the key, and its error
# when the key did not make the signature.
_GO_KEYS: tuple[tuple[type, str, str, str], ...] = (
    (rsa.RSAPublicKey, "RSA", "*rsa.PublicKey", "crypto/rsa: verification error"),
    (ec.EllipticCurvePublicKey, "ECDSA", "*ecdsa.PublicKey", "x509: ECDSA verification failure"),
    (Ed25519PublicKey, "Ed25519", "ed25519.PublicKey", "x509: Ed25519 verification failure"),
)


def _verify_signature(
    child: GoCertificate, parent: GoCertificate, key_algorithm: str, signer: str
) -> Refusal | None:
    """checkSignature's verification with `parent`'s key, once the algorithm is known to Go."""
    key = parent.cert.public_key()
    go_key = next((go_key for go_key in _GO_KEYS if isinstance(key, go_key[0])), None)
    if go_key is None:
        return Refusal(
            "x509: cannot verify signature: algorithm unimplemented",
            f"{signer}: Go verifies no signature with its kind of key",
        )
    _, algorithm, held, failure = go_key
    if algorithm != key_algorithm:
        return Refusal(
            f"x509: signature algorithm specifies an {key_algorithm} public key, but have public "
            f"key of type {held}",
            f"{signer}: the signature's algorithm is for another kind of key",
        )
    signature, signed = child.cert.signature, child.cert.tbs_certificate_bytes
    digest = _HASHES.get(child.signature_hash or "")
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < _RSA_MIN_BITS:
                return Refusal(
                    f"crypto/rsa: {key.key_size}-bit keys are insecure (see "
                    "https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)",
                    f"{signer}: its RSA key has {key.key_size} bits, fewer than Go accepts "
                    f"({_RSA_MIN_BITS})",
                )
            assert digest is not None  # MD5 and SHA-1, refused above, are the only other hashes
            if child.signature_algorithm and child.signature_algorithm.endswith("-RSAPSS"):
                pss = padding.PSS(padding.MGF1(digest), digest.digest_size)
                key.verify(signature, signed, pss, digest)
            else:
                key.verify(signature, signed, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert digest is not None
            key.verify(signature, signed, ec.ECDSA(digest))
        else:
            assert isinstance(key, Ed25519PublicKey)
            key.verify(signature, signed)
    except InvalidSignature:
        return Refusal(failure, f"{signer}: its key did not make the signature")
    return None


def _is_valid(
    cert: GoCertificate, cert_type: str, chain: Sequence[GoCertificate], now: datetime
) -> Refusal | None:
    """isValid: why `cert` cannot take its place (`cert_type`) after `chain`, or None."""
    which = {
        _LEAF: "The certificate",
        _INTERMEDIATE: f"Intermediate certificate {cert.shown}",
        _ROOT: f"CA certificate {cert.shown}",
    }[cert_type]
    problem = _unhandled_problem(cert, which)
    if problem:
        return Refusal("x509: unhandled critical extension", problem)
    if chain and chain[-1].raw_issuer != cert.raw_subject:
        return Refusal(
            "x509: issuer name does not match subject from issuing certificate",
            f"{which} is not named as the issuer.",
        )
    expired = _validity(cert.cert, now, which)
    if expired:
        return expired
    if cert_type == _INTERMEDIATE and not (cert.basic_constraints_valid and cert.is_ca):
        return Refusal(
            "x509: certificate is not authorized to sign other certificates",
            f"{which} is no CA (CA:TRUE), so it may not sign other certificates.",
        )
    if cert.basic_constraints_valid and cert.max_path_len >= 0:
        below = len(chain) - 1
        if below > cert.max_path_len:
            return Refusal(
                "x509: too many intermediates for path length constraint",
                f"{which} allows {cert.max_path_len} intermediates below it, not {below}.",
            )
    return None


class _Search:
    """One Verify: the pools, the time, and buildChains' count of signatures checked."""

    def __init__(
        self, roots: Sequence[GoCertificate], intermediates: Sequence[GoCertificate], now: datetime
    ) -> None:
        self.roots, self.intermediates = _Pool(roots), _Pool(intermediates)
        self.now = _utc(now)
        self.checks = 0

    def build_chains(
        self, chain: list[GoCertificate]
    ) -> tuple[list[list[GoCertificate]], Refusal | None]:
        """buildChains: every chain from chain[-1] up to a root, or Go's error. As in Go, the
        error is the last one a candidate's isValid or its own search left (`err` is assigned by
        both), else an unknown authority naming the first candidate refused (its hint)."""
        child = chain[-1]
        chains: list[list[GoCertificate]] = []
        err: Refusal | None = None
        hint: tuple[Refusal, GoCertificate] | None = None
        candidates = (
            (cert_type, candidate)
            for cert_type, pool in ((_ROOT, self.roots), (_INTERMEDIATE, self.intermediates))
            for candidate in pool.potential_parents(child)
        )
        for cert_type, candidate in candidates:
            self.checks += 1
            if self.checks > _MAX_SIGNATURE_CHECKS:
                err = _SIGNATURE_LIMIT
                break
            if candidate.public_key_algorithm is None or _already_in_chain(candidate, chain):
                continue
            refused = _signature_refusal(child, candidate)
            if refused is None:
                refused = err = _is_valid(candidate, cert_type, chain, self.now)
            if refused is not None:
                hint = hint or (refused, candidate)
                continue
            if cert_type == _ROOT:
                chains.append([*chain, candidate])
            else:
                found, err = self.build_chains([*chain, candidate])
                chains += found
            if err is _SIGNATURE_LIMIT:
                break
        if chains:
            return chains, None
        return chains, err or _unknown_authority(child, hint)


def _unknown_authority(cert: GoCertificate, hint: tuple[Refusal, GoCertificate] | None) -> Refusal:
    """UnknownAuthorityError, with its hint when a candidate was refused."""
    go = "x509: certificate signed by unknown authority"
    message = (
        f"None of them signed the certificate {cert.shown}, nor an intermediate that leads to it"
    )
    if hint is not None:
        refused, hint_cert = hint
        name = hint_cert.common_name or hint_cert.organization
        if name is None:
            name = f"serial:{hint_cert.cert.serial_number}"
        go += (
            f" (possibly because of {_go_quote(refused.go)} while trying to verify candidate "
            f"authority certificate {_go_quote(name)})"
        )
        message += f" ({refused.message.rstrip('.')})"
    return Refusal(go, message + ".")


def verify(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
    *,
    dns_name: str = "",
    key_usages: Sequence[str] = (),
) -> list[list[x509.Certificate]]:
    """Go's `leaf.Verify(VerifyOptions{Roots, Intermediates, CurrentTime: now, DNSName,
    KeyUsages})`: the chains from `leaf` to a root, leaf first; raises VerifyError. No
    `key_usages` means serverAuth, as in Go."""
    go_leaf = go_certificate(leaf)
    search = _Search(
        [go_certificate(c) for c in roots], [go_certificate(c) for c in intermediates], now
    )
    refused = _is_valid(go_leaf, _LEAF, [], now)
    if refused is not None:
        raise VerifyError(refused)
    if dns_name and not _verify_hostname(go_leaf.dns_names, go_leaf.ip_addresses, dns_name):
        raise VerifyError(
            Refusal(_hostname_error(go_leaf, dns_name), _not_covered(go_leaf, dns_name))
        )
    if search.roots.contains(go_leaf):
        candidates = [[go_leaf]]
    else:
        candidates, err = search.build_chains([go_leaf])
        if err is not None:
            raise VerifyError(err)
    usages = list(key_usages) or [SERVER_AUTH]
    if "any" not in usages:
        allowed = [chain for chain in candidates if check_chain_for_key_usage(chain, usages)]
        if not allowed:
            raise VerifyError(
                Refusal(
                    "x509: certificate specifies an incompatible key usage",
                    _usage_problem(candidates[0]),
                )
            )
        candidates = allowed
    return [[cert.cert for cert in chain] for chain in candidates]


def check_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
) -> None:
    """A path leads from `leaf` through `intermediates` to one of `roots` (the certificates a
    client trusts) that allows serverAuth all the way, as a Go TLS client's Verify builds it
    (the host names are check_covers_hosts'); raises ValueError."""
    verify(leaf, intermediates, roots, now)


# --- trust anchors: the certificates a client is given to trust ---------------------------------


def _anchor_problem(cert: x509.Certificate, now: datetime, which: str) -> str | None:
    """Why Go would never use `cert` as an anchor now, or None: one not valid now, or with a
    critical extension Go does not handle, fails isValid whenever a chain reaches it, so Go tries
    the next candidate. Nothing else is asked of an anchor: a pinned self-signed server
    certificate (CA:FALSE) or a v1 root anchors chains (CA:TRUE is asked of intermediates, and of
    what signs: CheckSignatureFrom)."""
    expired = _validity(cert, now, which)
    return expired.message if expired else _unhandled_problem(go_certificate(cert), which)


def unusable_anchors(certs: Sequence[x509.Certificate], now: datetime) -> list[str]:
    """For each certificate of a trust bundle that Go would never use as an anchor now, a
    sentence saying why (`_anchor_problem`)."""
    found: list[str] = []
    for index, cert in enumerate(certs):
        which = "The certificate"
        if len(certs) > 1:
            which = f"Certificate {index + 1} of {len(certs)} ({go_certificate(cert).shown})"
        if problem := _anchor_problem(cert, now, which):
            found.append(problem)
    return found


def usable_anchors(certs: Sequence[x509.Certificate], now: datetime) -> list[x509.Certificate]:
    """The certificates of a trust bundle Go may anchor a chain with now: those
    `unusable_anchors` does not name, in order."""
    return [cert for cert in certs if _anchor_problem(cert, now, "") is None]


def check_trust_anchors(certs: Sequence[x509.Certificate], now: datetime) -> None:
    """Certificates a client is given to trust (a CA input): at least one of them can anchor a
    chain now. Those that cannot are skipped, as Go skips them (a bundle of the current CA and an
    expired one is what a CA rotation leaves): unusable_anchors says which, for a warning."""
    unusable = unusable_anchors(certs, now)
    if len(unusable) == len(certs):
        if len(certs) == 1:
            raise ValueError(unusable[0])
        raise ValueError(
            "None of them can anchor a chain now, so clients would trust nothing: "
            + " ".join(unusable)
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
