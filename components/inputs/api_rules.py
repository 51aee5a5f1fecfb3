"""Kubernetes' rules for names, resource quantities and image references, ported from source.

The component checks its inputs before any resource exists, so these checks stand in for the
Kubernetes API server (names, quantities) and for the container runtime (image references). Each
follows the upstream rule, and the tests in tests/unit/test_api_rules.py carry the upstream test cases.

Each public function returns the normalised value or raises ``ValueError`` whose message says, in
one line, what is accepted. The module is pure: it imports neither pulumi nor components.inputs.settings.

Sources, read at these versions (the rules are restated here, not copied):

- kubernetes/apimachinery v0.36.3, commit 40bf4b2b62f8838b9b37de7b407793f1f17ee225 (the published
  copy of kubernetes/kubernetes staging/src/k8s.io/apimachinery at kubernetes-1.36.3):
  ``pkg/util/validation/validation.go`` (IsDNS1123Label, IsDNS1123Subdomain, IsDNS1035Label; its
  IsQualifiedName and IsValidLabelValue are now aliases of ``pkg/api/validate/content/kube.go``
  IsLabelKey and IsLabelValue), and ``pkg/api/resource/quantity.go`` (parseQuantityString,
  ParseQuantity) with ``pkg/api/resource/suffix.go`` (newSuffixer, suffixHandler.interpret).
- kubernetes/apimachinery at commit eed236ceee2c19c2753a3d93ac0631dc20750454 (for the port range):
  ``pkg/util/net/port_range.go`` (PortRange.Set: ``value``, ``min-max`` or ``min+offset``), its
  integers read by strconv.Atoi (components/inputs/go_strconv.py).
- distribution/reference v0.6.0, commit ff14fafe2236e51c2894ac07d4bdfc778e96d682: ``regexp.go``
  (the grammar), ``reference.go`` (Parse), ``normalize.go`` (ParseNormalizedNamed,
  splitDockerDomain); digests are then checked by opencontainers/go-digest v1.0.0 (the version that
  reference v0.6.0 requires): ``digest.go`` Digest.Validate and ``algorithm.go``.
"""

from __future__ import annotations

import dataclasses
import decimal
import re
from decimal import Decimal
from typing import Any

from . import go_strconv

__all__ = [
    "DNS1035_LABEL_RULE",
    "DNS1123_LABEL_RULE",
    "DNS1123_SUBDOMAIN_RULE",
    "IMAGE_REFERENCE_RULE",
    "LABEL_VALUE_RULE",
    "QUALIFIED_NAME_RULE",
    "QUANTITY_RULE",
    "ImageReference",
    "dns1035_label",
    "dns1123_label",
    "dns1123_subdomain",
    "host_by_capitals",
    "image_reference",
    "label_value",
    "port_range",
    "qualified_name",
    "quantity",
]

# --- names: apimachinery pkg/util/validation/validation.go, pkg/api/validate/content/*.go ------

DNS1123_LABEL_RULE = (
    "a DNS-1123 label: at most 63 of a-z, 0-9 and '-', starting and ending alphanumeric"
)
DNS1123_SUBDOMAIN_RULE = (
    "a DNS-1123 subdomain: at most 253 of a-z, 0-9, '-' and '.', "
    "each dot-separated part starting and ending alphanumeric"
)
DNS1035_LABEL_RULE = (
    "a DNS-1035 label: at most 63 of a-z, 0-9 and '-', starting with a-z and ending alphanumeric"
)
QUALIFIED_NAME_RULE = (
    "a qualified name: [DNS-1123 subdomain '/'] then 1 to 63 of A-Z, a-z, 0-9, '-', '_' and '.', "
    "alphanumeric at both ends"
)
LABEL_VALUE_RULE = (
    "a label value: empty, or at most 63 of A-Z, a-z, 0-9, '-', '_' and '.', "
    "alphanumeric at both ends"
)

# Go's regexp matches `$` only at the very end and its classes are ASCII; Python's `$` would also
# match before a trailing newline, so every pattern here is used with fullmatch and re.ASCII.
_DNS1123_LABEL_PART = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"  # validation.go dns1123LabelFmt
_DNS1123_LABEL = re.compile(_DNS1123_LABEL_PART, re.ASCII)
# validation.go dns1123SubdomainFmt: labels joined by single dots. Only the whole name has a
# length limit (253); a single part may be longer than 63, unlike in DNS.
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL_PART}(?:\.{_DNS1123_LABEL_PART})*", re.ASCII)
_DNS1035_LABEL = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?", re.ASCII)  # dns1035LabelFmt
# content/kube.go labelKeyFmt: the name part of a qualified name, and a non-empty label value.
_LABEL_KEY_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)

_DNS1123_LABEL_MAX = 63  # DNS1123LabelMaxLength
_DNS1123_SUBDOMAIN_MAX = 253  # DNS1123SubdomainMaxLength
_DNS1035_LABEL_MAX = 63  # DNS1035LabelMaxLength
_LABEL_KEY_NAME_MAX = 63  # content/kube.go labelKeyMaxLength
_LABEL_VALUE_MAX = 63  # content/kube.go LabelValueMaxLength


def _utf8_len(value: str) -> int:
    # Go's len() of a string counts bytes.
    return len(value.encode("utf-8", "surrogatepass"))


def _matches(value: Any, pattern: re.Pattern[str], max_len: int) -> bool:
    return isinstance(value, str) and _utf8_len(value) <= max_len and bool(pattern.fullmatch(value))


def dns1123_label(value: Any) -> str:
    """validation.go IsDNS1123Label: most object names (namespaces, services, ...)."""
    if not _matches(value, _DNS1123_LABEL, _DNS1123_LABEL_MAX):
        raise ValueError(DNS1123_LABEL_RULE)
    return value


def dns1123_subdomain(value: Any) -> str:
    """validation.go IsDNS1123Subdomain: object names that may hold dots (secrets, ...)."""
    if not _matches(value, _DNS1123_SUBDOMAIN, _DNS1123_SUBDOMAIN_MAX):
        raise ValueError(DNS1123_SUBDOMAIN_RULE)
    return value


def dns1035_label(value: Any) -> str:
    """validation.go IsDNS1035Label: names that must start with a letter (service names, ...)."""
    if not _matches(value, _DNS1035_LABEL, _DNS1035_LABEL_MAX):
        raise ValueError(DNS1035_LABEL_RULE)
    return value


def qualified_name(value: Any) -> str:
    """validation.go IsQualifiedName (= content/kube.go IsLabelKey): label and annotation keys.

    At most one '/': the prefix before it must be a non-empty DNS-1123 subdomain; the name part
    (all of the value when there is no '/') must be 1 to 63 characters of labelKeyFmt.
    """
    if not isinstance(value, str):
        raise ValueError(QUALIFIED_NAME_RULE)
    parts = value.split("/")
    if len(parts) > 2:
        raise ValueError(QUALIFIED_NAME_RULE)
    if len(parts) == 2 and not _matches(parts[0], _DNS1123_SUBDOMAIN, _DNS1123_SUBDOMAIN_MAX):
        raise ValueError(QUALIFIED_NAME_RULE)
    if not _matches(parts[-1], _LABEL_KEY_NAME, _LABEL_KEY_NAME_MAX):
        raise ValueError(QUALIFIED_NAME_RULE)
    return value


def label_value(value: Any) -> str:
    """validation.go IsValidLabelValue (= content/kube.go IsLabelValue): empty is allowed."""
    if not isinstance(value, str) or (
        value != "" and not _matches(value, _LABEL_KEY_NAME, _LABEL_VALUE_MAX)
    ):
        raise ValueError(LABEL_VALUE_RULE)
    return value


# --- quantities: apimachinery pkg/api/resource/quantity.go and suffix.go ----------------------

QUANTITY_RULE = (
    "a Kubernetes quantity: a number, optionally suffixed (n u m k M G T P E Ki Mi Gi Ti Pi Ei "
    "e<N>), e.g. 10Gi, 500m or 2"
)

_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")  # what parseQuantityString takes as a suffix
_DECIMAL_SI, _BINARY_SI, _DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
# suffix.go newSuffixer/fastLookup: suffix -> (base, exponent, format).
_SUFFIXES: dict[str, tuple[int, int, str]] = {
    "": (10, 0, _DECIMAL_SI),
    "n": (10, -9, _DECIMAL_SI),
    "u": (10, -6, _DECIMAL_SI),
    "m": (10, -3, _DECIMAL_SI),
    "k": (10, 3, _DECIMAL_SI),
    "M": (10, 6, _DECIMAL_SI),
    "G": (10, 9, _DECIMAL_SI),
    "T": (10, 12, _DECIMAL_SI),
    "P": (10, 15, _DECIMAL_SI),
    "E": (10, 18, _DECIMAL_SI),
    "Ki": (2, 10, _BINARY_SI),
    "Mi": (2, 20, _BINARY_SI),
    "Gi": (2, 30, _BINARY_SI),
    "Ti": (2, 40, _BINARY_SI),
    "Pi": (2, 50, _BINARY_SI),
    "Ei": (2, 60, _BINARY_SI),
}
_INT64_MAX = 2**63 - 1
_MAX_INT64_FACTORS = 18  # math.go maxInt64Factors
_NANO = -9  # amount.go Nano: ParseQuantity keeps at most nine decimal places
_ONE_NANO = Decimal("1e-9")
# Enough precision and range for exact arithmetic on any quantity string.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Overflow],
)


class _Reject(Exception):
    pass


def _int32(number: int) -> int:
    """Wrap to Go's int32, as ParseQuantity's exponent and scale arithmetic does."""
    return (number + 2**31) % 2**32 - 2**31


def _split_quantity(text: str) -> tuple[bool, str, str, str, str]:
    """quantity.go parseQuantityString: (positive, value, num, denom, suffix).

    value is the signed number as written (the prefix before the suffix), num the integer digits
    without leading zeros ("0" when there are none), denom the digits after the point.
    """
    end = len(text)
    pos = 0
    positive = True
    if end and text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:  # nothing but a sign and zeros
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    if pos >= end:
        return positive, text, num, "", ""
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_LETTERS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:  # something that is neither number nor suffix
        raise _Reject
    return positive, value, num, denom, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """suffix.go suffixHandler.interpret: (base, exponent, format)."""
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = go_strconv.parse_int(suffix[1:], 10, 64)
        except go_strconv.NumError:
            raise _Reject from None
        return 10, _int32(exponent), _DECIMAL_EXPONENT  # Go's int32(...) cast
    raise _Reject


def _scaled(digits: str, positive: bool, exponent: int) -> Decimal:
    """The exact value (-1)^sign * int(digits) * 10^exponent."""
    return Decimal((0 if positive else 1, tuple(int(d) for d in digits), exponent))


def _parse_quantity(text: str) -> Decimal:
    """quantity.go ParseQuantity, reduced to the value it stores (Quantity.AsDec)."""
    if text == "":
        raise _Reject
    if text == "0":
        return Decimal(0)
    positive, value, num, denom, suffix = _split_quantity(text)
    base, exponent, format_ = _interpret_suffix(suffix)

    # The int64 fast path: taken when the digits fit and need no rounding.
    scale = 0
    mantissa = 1
    if format_ == _BINARY_SI:
        if exponent >= 0 and not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - exponent * 3 // 10 - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
    if precision >= 0:
        scale = _int32(scale - len(denom))
        if scale >= _NANO:
            product = int(num + denom) * mantissa
            if product <= _INT64_MAX:
                return _scaled(str(product), positive, scale)

    # The inf.Dec path: value as written (inf.Dec.SetString needs at least one digit), times the
    # suffix, rounded away from zero to nano units, and binary amounts capped at 2^63-1.
    digits = value.lstrip("+-").replace(".", "")
    if not digits:
        raise _Reject
    if base == 10:
        # amount.SetScale(amount.Scale() + Scale(exponent).infScale()), in int32 like inf.Scale.
        amount = _scaled(digits, True, -_int32(len(denom) + _int32(-exponent)))
    else:
        amount = _EXACT.multiply(_scaled(digits, True, -len(denom)), Decimal(2**exponent))
    places = amount.as_tuple().exponent
    assert isinstance(places, int)  # a finite amount's, not a NaN's or an infinity's letter
    if amount and places < _NANO:
        amount = amount.quantize(_ONE_NANO, rounding=decimal.ROUND_UP, context=_EXACT)
    if format_ == _BINARY_SI and amount > _INT64_MAX:
        amount = Decimal(_INT64_MAX)
    return amount if positive else amount.copy_negate()


def _tidy(amount: Decimal) -> Decimal:
    """The same value without trailing zeros, written as an integer when it is a small one."""
    if not amount:
        return Decimal(0)
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    stripped = len(digits)
    while stripped > 1 and digits[stripped - 1] == 0:
        stripped -= 1
    exponent += len(digits) - stripped
    digits = digits[:stripped]
    if exponent >= 0 and len(digits) + exponent <= 40:
        return Decimal(int("".join(map(str, digits))) * 10**exponent * (-1 if sign else 1))
    return Decimal((sign, digits, exponent))


def quantity(value: Any) -> Decimal:
    """The exact value of a Kubernetes resource quantity, as quantity.go ParseQuantity stores it.

    Accepts a string such as "10Gi", "500m", "1.5" or "1e3", and an int or float (read as its
    Python spelling, e.g. 0.5 -> "0.5"). Like ParseQuantity it accepts a sign, values below
    1n rounded up to 1n (away from zero), and binary-suffixed values capped at 2^63-1; it rejects
    surrounding whitespace. The caller decides what is too small (e.g. not positive) and compares
    requests with limits on the returned Decimals.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(QUANTITY_RULE)
    text = value if isinstance(value, str) else repr(value)
    try:
        return _tidy(_parse_quantity(text))
    except _Reject:
        raise ValueError(QUANTITY_RULE) from None


# --- image references: distribution/reference v0.6.0 ------------------------------------------

IMAGE_REFERENCE_RULE = (
    "an image reference [host[:port]/]lowercase/path[:tag][@sha256:<hex>], "
    "e.g. mirantis/dtr-content-cache:2.9.16"
)

# regexp.go, rebuilt from its parts (reference.go's package comment has the grammar).
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"  # one '.', one or two '_', or any number of '-'
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_NAME}|{_IPV6_ADDRESS})(?::[0-9]+)?"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_TAG = r"\w[\w.-]{0,127}"  # Go's \w is [0-9A-Za-z_]: re.ASCII below
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_ANCHORED_NAME = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}", re.ASCII)
_REPOSITORY_NAME_MAX = 255  # reference.go RepositoryNameTotalLengthMax (the path, not the domain)
# go-digest algorithm.go: the algorithms it knows, and the length of their lowercase hex. (An
# algorithm is usable only when its hash is linked in; container runtimes link all three.)
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = re.compile(r"[a-f0-9]+", re.ASCII)
# normalize.go
_DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_REPO_PREFIX = "library/"


@dataclasses.dataclass(frozen=True)
class ImageReference:
    """A parsed image reference: the repository as written (with its domain, if any), tag, digest."""

    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return f"{self.name}{tag}{digest}"


def _digest_ok(digest: str) -> bool:
    """go-digest Digest.Validate for a digest that matched regexp.go's digestPat."""
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    return length == len(encoded) and bool(_LOWER_HEX.fullmatch(encoded))


def _parse(text: str) -> ImageReference | None:
    """reference.go Parse: the reference as written, or None where Parse returns an error."""
    match = _REFERENCE.fullmatch(text) if text else None
    if match is None:
        return None
    name, tag, digest = match.groups()
    name_match = _ANCHORED_NAME.fullmatch(name)
    path = name_match.group(2) if name_match else name
    if len(path) > _REPOSITORY_NAME_MAX:
        return None
    if digest is not None and not _digest_ok(digest):
        return None
    return ImageReference(name, tag, digest)


def _split_docker_domain(text: str) -> tuple[str, str]:
    """normalize.go splitDockerDomain: (domain, remainder) with Docker Hub's defaults filled in."""
    maybe_domain, slash, maybe_remote = text.partition("/")
    if not slash:  # a "familiar" single name such as "ubuntu:22.04"
        return _DEFAULT_DOMAIN, _OFFICIAL_REPO_PREFIX + text
    if maybe_domain == "localhost":
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == _LEGACY_DEFAULT_DOMAIN:
        domain, remote = _DEFAULT_DOMAIN, maybe_remote
    elif any(c in maybe_domain for c in ".:") or maybe_domain.lower() != maybe_domain:
        # A host name, IP address or host:port; or uppercase, which only a host may be.
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = _DEFAULT_DOMAIN, text
    if domain == _DEFAULT_DOMAIN and "/" not in remote:
        remote = _OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def host_by_capitals(value: str) -> str | None:
    """The first path component of an image reference that splitDockerDomain takes for a
    registry host only because it has capitals (no `.` or `:`, not localhost), else None:
    `MyOrg/cache:1` is pulled from a host named MyOrg, not from Docker Hub's myorg."""
    first, slash, _ = value.partition("/")
    local = any(c in first for c in ".:") or first == "localhost"
    return first if slash and not local and first.lower() != first else None


def _normalized_ok(text: str) -> bool:
    """normalize.go ParseNormalizedNamed succeeds (what kubelet applies to a container's image)."""
    if _IDENTIFIER.fullmatch(text):  # a bare 64-hex image ID is not a name
        return False
    domain, remainder = _split_docker_domain(text)
    repository = remainder.partition(":")[0]
    if repository.lower() != repository:
        return False
    return _parse(f"{domain}/{remainder}") is not None


def image_reference(value: Any) -> ImageReference:
    """A container image reference, accepted where normalize.go ParseNormalizedNamed accepts it.

    The API server takes any image string without surrounding whitespace; the kubelet parses it
    with ParseNormalizedNamed before pulling (kubernetes pkg/kubelet/images/image_manager.go,
    applyDefaultImageTag), so that is the rule that decides whether a pod can start.
    Returns the parts as reference.go Parse reads them from the string as written (no Docker Hub
    defaults filled in).
    """
    if not isinstance(value, str) or not _normalized_ok(value):
        raise ValueError(IMAGE_REFERENCE_RULE)
    parsed = _parse(value)
    if parsed is None:  # not expected once the normalized form parsed; kept as a safeguard
        raise ValueError(IMAGE_REFERENCE_RULE)
    return parsed


# --- port ranges: apimachinery pkg/util/net/port_range.go ---------------------------------------

PORT_RANGE_RULE = "a port range: one port, min-max or min+offset, within 0-65535"

# Go's unicode.IsSpace, which strings.TrimSpace trims: Python's str.strip() also trims the
# separators U+001C to U+001F, which Go keeps (and Atoi then refuses).
_GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def port_range(value: Any) -> range:
    """PortRange.Set: `value` trimmed of spaces as `port`, `min-max` or `min+offset` (both ends
    inclusive; each number as strconv.Atoi reads it), as kube-apiserver reads
    --service-node-port-range. An empty value is the empty range, as in Go; a value with both
    `-` and `+` is refused."""
    if not isinstance(value, str):
        raise ValueError(PORT_RANGE_RULE)
    text = value.strip(_GO_SPACES)
    if text == "":
        return range(0)
    hyphen, plus = text.find("-"), text.find("+")
    try:
        if hyphen == -1 and plus == -1:
            low = high = go_strconv.atoi(text)
        elif plus == -1:
            low, high = go_strconv.atoi(text[:hyphen]), go_strconv.atoi(text[hyphen + 1 :])
        elif hyphen == -1:
            low = go_strconv.atoi(text[:plus])
            high = low + go_strconv.atoi(text[plus + 1 :])
        else:
            raise ValueError(f"{PORT_RANGE_RULE} (unable to parse port range: {text})")
    except go_strconv.NumError as err:
        raise ValueError(f"{PORT_RANGE_RULE} ({err})") from None
    if low > 65535 or high > 65535:
        raise ValueError(f"{PORT_RANGE_RULE} (the port range cannot be greater than 65535)")
    if high < low:
        raise ValueError(f"{PORT_RANGE_RULE} (end port cannot be less than start port)")
    return range(low, high + 1)
