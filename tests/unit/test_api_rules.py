"""components.inputs.api_rules against the upstream test cases of the rules it ports.

Each table names where its cases come from:

- kubernetes/apimachinery v0.36.3 (40bf4b2b62f8838b9b37de7b407793f1f17ee225):
  pkg/util/validation/validation_test.go and pkg/api/resource/quantity_test.go;
- distribution/reference v0.6.0 (ff14fafe2236e51c2894ac07d4bdfc778e96d682): reference_test.go and
  normalize_test.go;
- kubernetes/apimachinery (eed236ceee2c19c2753a3d93ac0631dc20750454): pkg/util/net/port_range_test.go.

Cases marked "beyond upstream" are ours; their expected results were confirmed by running the
upstream Go functions at those versions on the same inputs.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from components.inputs import api_rules
from components.inputs.api_rules import (
    DNS1035_LABEL_RULE,
    DNS1123_LABEL_RULE,
    DNS1123_SUBDOMAIN_RULE,
    IMAGE_REFERENCE_RULE,
    LABEL_VALUE_RULE,
    QUALIFIED_NAME_RULE,
    QUANTITY_RULE,
    ImageReference,
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    image_reference,
    label_value,
    port_range,
    qualified_name,
    quantity,
)


def _id(value: Any) -> str:
    """A readable id for a string case: the string, or its shape when long or invisible."""
    if not isinstance(value, str):
        return f"{type(value).__name__}-{value!r}"
    if value == "":
        return "<empty>"
    if len(value) > 60:
        return f"{value[:24]}...({len(value)} chars)"
    return repr(value)[1:-1].replace(" ", "<space>")


def _raises(rule: str) -> Any:
    """pytest.raises for a ValueError whose whole message is `rule`."""
    return pytest.raises(ValueError, match=f"^{re.escape(rule)}$")


def _params(values: list[Any], prefix: str = "") -> list[Any]:
    return [pytest.param(v, id=prefix + _id(v)) for v in values]


# --- names ---------------------------------------------------------------------------------------

# validation_test.go TestIsDNS1123Label
DNS1123_LABEL_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b",
    "0", "01", "012", "1a", "1-a", "1--a--b--2",
    "a" * 63,
]  # fmt: skip
DNS1123_LABEL_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A",
    "-", "a-", "-a", "1-", "-1",
    "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
    ".", "a.", ".a", "a.b", "1.", ".1", "1.2",
    " ", "a ", " a", "a b", "1 ", " 1", "1 2",
    "a" * 64,
]  # fmt: skip

# validation_test.go TestIsDNS1123Subdomain
DNS1123_SUBDOMAIN_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b",
    "0", "01", "012", "1a", "1-a", "1--a--b--2",
    "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a",
    "a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1",
    "0.a", "01.a", "012.a", "1a.a", "1-a.a",
    "0.1", "01.1", "012.1", "1a.1", "1-a.1", "1--a--b--2.1",
    "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55",
    "a" * 253,
]  # fmt: skip
DNS1123_SUBDOMAIN_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A",
    "-", "a-", "-a", "1-", "-1",
    "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
    ".", "a.", ".a", "a..b", "1.", ".1", "1..2",
    " ", "a ", " a", "a b", "1 ", " 1", "1 2",
    "A.a", "aB.a", "ab.A", "A1.a", "a1.A",
    "A.1", "aB.1", "A1.1", "1A.1",
    "0.A", "01.A", "012.A", "1A.a", "1a.A",
    "A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee",
    "a@b", "a,b", "a;b",
    "a:b", "a%b", "a?b", "a$b",
    "a" * 254,
]  # fmt: skip

# validation_test.go TestIsDNS1035Label
DNS1035_LABEL_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "a" * 63]
DNS1035_LABEL_BAD = [
    "0", "01", "012", "1a", "1-a", "1--a--b--2",
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A",
    "-", "a-", "-a", "1-", "-1",
    "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
    ".", "a.", ".a", "a.b", "1.", ".1", "1.2",
    " ", "a ", " a", "a b", "1 ", " 1", "1 2",
    "a" * 64,
]  # fmt: skip

# validation_test.go TestIsQualifiedName (the same cases as content/kube_test.go TestIsLabelKey)
QUALIFIED_NAME_GOOD = [
    "simple",
    "now-with-dashes",
    "1-starts-with-num",
    "1234",
    "simple/simple",
    "now-with-dashes/simple",
    "now-with-dashes/now-with-dashes",
    "now.with.dots/simple",
    "now-with.dashes-and.dots/simple",
    "1-num.2-num/3-num",
    "1234/5678",
    "1.2.3.4/5678",
    "Uppercase_Is_OK_123",
    "example.com/Uppercase_Is_OK_123",
    "requests.storage-foo",
    "a" * 63,
    "a" * 253 + "/" + "b" * 63,
]
QUALIFIED_NAME_BAD = [
    "nospecialchars%^=@",
    "cantendwithadash-",
    "-cantstartwithadash-",
    "only/one/slash",
    "Example.com/abc",
    "example_com/abc",
    "example.com/",
    "/simple",
    "a" * 64,
    "a" * 254 + "/abc",
]

# validation_test.go TestIsValidLabelValue (the same cases as content/kube_test.go TestIsLabelValue)
LABEL_VALUE_GOOD = [
    "simple",
    "now-with-dashes",
    "1-starts-with-num",
    "end-with-num-1",
    "1234",
    "a" * 63,
    "",
]
LABEL_VALUE_BAD = [
    "nospecialchars%^=@",
    "Tama-nui-te-rā.is.Māori.sun",
    "\\backslashes\\are\\bad",
    "-starts-with-dash",
    "ends-with-dash-",
    ".starts.with.dot",
    "ends.with.dot.",
    "a" * 64,
]

# Beyond upstream: Go's `$` is the end of the text, Python's also matches before a final newline.
TRAILING_NEWLINE = ["a\n", "a.b\n", "example.com/a\n"]
# Beyond upstream: a prefix part is a whole DNS-1123 subdomain (no empty or dash-edged parts); a
# subdomain's parts may be longer than 63 (only the whole name is limited, to 253).
QUALIFIED_NAME_PREFIXES = [
    pytest.param("a..b/c", False, id="prefix-with-empty-part"),
    pytest.param("a.-b/c", False, id="prefix-part-starting-with-dash"),
    pytest.param("a-.b/c", False, id="prefix-part-ending-with-dash"),
    pytest.param("a" * 64 + ".b/c", True, id="prefix-part-of-64-chars"),
    pytest.param("a" * 253 + "/c", True, id="prefix-of-253-chars"),
    pytest.param("A/c", False, id="uppercase-prefix"),
]
NAME_RULES = [
    pytest.param(dns1123_label, DNS1123_LABEL_RULE, id="dns1123_label"),
    pytest.param(dns1123_subdomain, DNS1123_SUBDOMAIN_RULE, id="dns1123_subdomain"),
    pytest.param(dns1035_label, DNS1035_LABEL_RULE, id="dns1035_label"),
    pytest.param(qualified_name, QUALIFIED_NAME_RULE, id="qualified_name"),
    pytest.param(label_value, LABEL_VALUE_RULE, id="label_value"),
]


@pytest.mark.parametrize("value", _params(DNS1123_LABEL_GOOD))
def test_dns1123_label_accepts(value: str) -> None:
    assert dns1123_label(value) == value


@pytest.mark.parametrize("value", _params(DNS1123_LABEL_BAD + TRAILING_NEWLINE))
def test_dns1123_label_rejects(value: str) -> None:
    with _raises(DNS1123_LABEL_RULE):
        dns1123_label(value)


@pytest.mark.parametrize(
    "value", _params([*DNS1123_SUBDOMAIN_GOOD, "a" * 64, "a" * 64 + ".b", "a." * 126 + "a"])
)
def test_dns1123_subdomain_accepts(value: str) -> None:
    assert dns1123_subdomain(value) == value


@pytest.mark.parametrize("value", _params(DNS1123_SUBDOMAIN_BAD + TRAILING_NEWLINE))
def test_dns1123_subdomain_rejects(value: str) -> None:
    with _raises(DNS1123_SUBDOMAIN_RULE):
        dns1123_subdomain(value)


@pytest.mark.parametrize("value", _params(DNS1035_LABEL_GOOD))
def test_dns1035_label_accepts(value: str) -> None:
    assert dns1035_label(value) == value


@pytest.mark.parametrize("value", _params(DNS1035_LABEL_BAD + TRAILING_NEWLINE))
def test_dns1035_label_rejects(value: str) -> None:
    with _raises(DNS1035_LABEL_RULE):
        dns1035_label(value)


@pytest.mark.parametrize("value", _params(QUALIFIED_NAME_GOOD))
def test_qualified_name_accepts(value: str) -> None:
    assert qualified_name(value) == value


@pytest.mark.parametrize("value", _params(QUALIFIED_NAME_BAD + TRAILING_NEWLINE))
def test_qualified_name_rejects(value: str) -> None:
    with _raises(QUALIFIED_NAME_RULE):
        qualified_name(value)


@pytest.mark.parametrize(("value", "valid"), QUALIFIED_NAME_PREFIXES)
def test_qualified_name_prefix_is_a_dns_subdomain(value: str, valid: bool) -> None:
    if valid:
        assert qualified_name(value) == value
    else:
        with pytest.raises(ValueError):
            qualified_name(value)


@pytest.mark.parametrize("value", _params(LABEL_VALUE_GOOD))
def test_label_value_accepts(value: str) -> None:
    assert label_value(value) == value


@pytest.mark.parametrize("value", _params(LABEL_VALUE_BAD + TRAILING_NEWLINE))
def test_label_value_rejects(value: str) -> None:
    with _raises(LABEL_VALUE_RULE):
        label_value(value)


@pytest.mark.parametrize(("check", "rule"), NAME_RULES)
@pytest.mark.parametrize("value", _params([None, 1, b"abc", ["abc"]], prefix="not-a-string-"))
def test_names_must_be_strings(check: Any, rule: str, value: Any) -> None:
    with pytest.raises(ValueError) as caught:
        check(value)
    assert str(caught.value) == rule


# --- quantities ----------------------------------------------------------------------------------

# quantity_test.go TestQuantityParse: input -> the value ParseQuantity stores (its decQuantity or
# maxAllowed expectation, multiplied out).
QUANTITY_PARSE = [
    ("0", "0"), ("0n", "0"), ("0u", "0"), ("0m", "0"), ("0Ki", "0"), ("0k", "0"),
    ("0Mi", "0"), ("0M", "0"), ("0Gi", "0"), ("0G", "0"), ("0Ti", "0"), ("0T", "0"),
    # Quantity less numbers are allowed
    ("1", "1"),
    # Binary suffixes
    ("1Ki", "1024"), ("8Ki", "8192"), ("7Mi", str(7 * 2**20)), ("6Gi", str(6 * 2**30)),
    ("5Ti", str(5 * 2**40)), ("4Pi", str(4 * 2**50)), ("3Ei", str(3 * 2**60)),
    ("10Ti", str(10 * 2**40)), ("100Ti", str(100 * 2**40)),
    # Decimal suffixes
    ("5n", "5e-9"), ("4u", "4e-6"), ("3m", "3e-3"), ("9", "9"), ("8k", "8e3"), ("50k", "5e4"),
    ("7M", "7e6"), ("6G", "6e9"), ("5T", "5e12"), ("40T", "4e13"), ("300T", "3e14"),
    ("2P", "2e15"), ("1E", "1e18"),
    # Decimal exponents
    ("1E-3", "1e-3"), ("1e3", "1e3"), ("1E6", "1e6"), ("1e9", "1e9"), ("1E12", "1e12"),
    ("1e15", "1e15"), ("1E18", "1e18"),
    # Nonstandard but still parsable
    ("1e14", "1e14"), ("1e13", "1e13"), ("100.035k", "100035"),
    # Things that look like floating point
    ("0.001", "1e-3"), ("0.0005k", "0.5"), ("0.005", "5e-3"), ("0.05", "5e-2"), ("0.5", "0.5"),
    ("0.00050k", "0.5"), ("0.00500", "5e-3"), ("0.05000", "5e-2"), ("0.50000", "0.5"),
    ("0.5e0", "0.5"), ("0.5e-1", "5e-2"), ("0.5e-2", "5e-3"), ("10.035M", "10035e3"),
    ("1.2e3", "12e2"), ("1.3E+6", "13e5"), ("1.40e9", "14e8"), ("1.53E12", "153e10"),
    ("1.6e15", "16e14"), ("1.7E18", "17e17"),
    ("9.01", "9.01"), ("8.1k", "8100"), ("7.123456M", "7123456"), ("6.987654321G", "6987654321"),
    ("5.444T", "5444e9"), ("40.1T", "401e11"), ("300.2T", "3002e11"), ("2.5P", "25e14"),
    ("1.01E", "101e16"),
    # Things that saturate/round
    ("3.001n", "4e-9"), ("1.1E-9", "2e-9"), ("0.0000000001", "1e-9"), ("0.0000000005", "1e-9"),
    ("0.00000000050", "1e-9"), ("0.5e-9", "1e-9"), ("0.9n", "1e-9"), ("0.00000012345", "124e-9"),
    ("0.00000012354", "124e-9"), ("9Ei", str(2**63 - 1)), ("9223372036854775807Ki", str(2**63 - 1)),
    ("12E", "12e18"),
    # We'll accept fractional binary stuff, too.
    ("100.035Ki", "102435.84"), ("0.5Mi", "524288"), ("0.05Gi", "53687091.2"),
    ("0.025Ti", "27487790694.4"),
    # Things written by trolls
    ("0.000000000001Ki", "2e-9"), (".001", "1e-3"), (".0001k", "0.1"), ("1.", "1"), ("1.G", "1e9"),
]  # fmt: skip
# quantity_test.go TestQuantityParseEmit (what the emitted forms mean) and TestParseQuantityString
# (".", "-." and "1E-3" split without error, and parse).
QUANTITY_OTHER_TESTS = [
    ("1024Mi", str(2**30)), ("1000M", "1e9"), (".001Ki", "1.024"), (".000001Ki", "1.024e-3"),
    (".000000001Ki", "1.024e-6"), (".000000000001Ki", "2e-9"),
    ("1.025Ti", "1126999418470.4"), ("-1.025Ti", "-1126999418470.4"), (".", "0"), ("-.", "0"),
]  # fmt: skip
# quantity_test.go TestQuantityParse `invalid`, plus "" (its first check), "Non-Numeric"
# (TestQuantityParseNonNumericPanic) and "invalid" (TestQuantityValueSet).
QUANTITY_INVALID = [
    "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
    " 1", "1 ",  # trailing whitespace is forbidden
    "", "Non-Numeric", "invalid",
]  # fmt: skip
# Beyond upstream: ParseQuantity's corners, confirmed against it.
QUANTITY_CORNERS = [
    pytest.param("-", "0", id="lone-minus-is-zero"),
    pytest.param("+", "0", id="lone-plus-is-zero"),
    pytest.param("000", "0", id="zeros"),
    pytest.param("+1", "1", id="explicit-plus"),
    pytest.param("-1", "-1", id="negative"),
    pytest.param("-100000000000000000000Ei", str(-(2**63 - 1)), id="negative-binary-capped"),
    pytest.param("100000000000000000000E", "1e38", id="decimal-suffix-not-capped"),
    pytest.param("1e100", "1e100", id="large-exponent-not-capped"),
    pytest.param("1e-20", "1e-9", id="tiny-rounds-up-to-1n"),
    pytest.param("-1e-20", "-1e-9", id="tiny-negative-rounds-away-from-zero"),
    pytest.param(".e-9", "0", id="no-digits-at-nano-scale-is-zero"),
    pytest.param("1e4294967296", "1", id="exponent-wraps-like-go-int32"),
    pytest.param("1.5Ki", "1536", id="fractional-binary"),
    pytest.param("1" * 30, "1" * 30, id="30-digit-integer"),
]
QUANTITY_CORNERS_INVALID = [
    pytest.param(".e-10", id="no-digits-below-nano-scale"),
    pytest.param("1e", id="exponent-without-digits"),
    pytest.param("1e+", id="exponent-sign-without-digits"),
    pytest.param("1e9223372036854775808", id="exponent-beyond-int64"),
    pytest.param("1K", id="uppercase-K"),
    pytest.param("1ki", id="lowercase-ki"),
    pytest.param("1Gi\n", id="trailing-newline"),
    pytest.param("1_000", id="underscore"),
    pytest.param("0x10", id="hexadecimal"),
    pytest.param("١", id="non-ascii-digit"),
    pytest.param("1e3.5", id="fractional-exponent"),
    pytest.param("1Mi5", id="digits-after-binary-suffix"),
]
# Beyond upstream: what the component's callers pass besides strings.
QUANTITY_NON_STRINGS = [
    pytest.param(2, Decimal(2), id="int"),
    pytest.param(0, Decimal(0), id="int-zero"),
    pytest.param(-3, Decimal(-3), id="negative-int"),
    pytest.param(10**30, Decimal(10**30), id="big-int"),
    pytest.param(0.5, Decimal("0.5"), id="float"),
    pytest.param(2.0, Decimal(2), id="float-integral"),
    pytest.param(1e-05, Decimal("1e-5"), id="float-spelled-with-exponent"),
    pytest.param(1e16, Decimal("1e16"), id="float-spelled-with-plus-exponent"),
]
QUANTITY_BAD_TYPES = [
    pytest.param(True, id="bool"),
    pytest.param(None, id="none"),
    pytest.param(Decimal("1"), id="decimal"),
    pytest.param(float("inf"), id="float-inf"),
    pytest.param(float("nan"), id="float-nan"),
    pytest.param(["1Gi"], id="list"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(t, e, id=t) for t, e in QUANTITY_PARSE + QUANTITY_OTHER_TESTS] + QUANTITY_CORNERS,
)
def test_quantity_value(text: str, expected: str) -> None:
    assert quantity(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=t) for t, e in QUANTITY_PARSE]
)
def test_quantity_signs(text: str, expected: str) -> None:
    """TestQuantityParse also parses every case with a '-' and with a '+' in front."""
    assert quantity("-" + text) == -Decimal(expected)
    assert quantity("+" + text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", [pytest.param(t, id=_id(t)) for t in QUANTITY_INVALID] + QUANTITY_CORNERS_INVALID
)
def test_quantity_rejects(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        quantity(text)
    assert str(caught.value) == QUANTITY_RULE


@pytest.mark.parametrize(("value", "expected"), QUANTITY_NON_STRINGS)
def test_quantity_of_numbers(value: Any, expected: Decimal) -> None:
    assert quantity(value) == expected


@pytest.mark.parametrize("value", QUANTITY_BAD_TYPES)
def test_quantity_rejects_other_types(value: Any) -> None:
    with _raises(QUANTITY_RULE):
        quantity(value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("1Gi", "1073741824", id="binary-as-integer"),
        pytest.param("500m", "0.5", id="milli-without-trailing-zeros"),
        pytest.param("1e3", "1000", id="exponent-as-integer"),
        pytest.param("1e100", "1E+100", id="huge-in-exponent-form"),
        pytest.param("-0", "0", id="negative-zero-is-zero"),
    ],
)
def test_quantity_is_tidy(text: str, shown: str) -> None:
    assert str(quantity(text)) == shown


@pytest.mark.parametrize(
    ("request_", "limit", "fits"),
    [
        pytest.param("256Mi", "1Gi", True, id="mebibytes-under-gibibyte"),
        pytest.param("1Gi", "1024Mi", True, id="equal-in-other-units"),
        pytest.param("1G", "1Gi", True, id="decimal-under-binary"),
        pytest.param("1Gi", "1G", False, id="binary-over-decimal"),
        pytest.param("100m", "0.1", True, id="milli-equal-to-decimal"),
        pytest.param("1.5", "1500m", True, id="decimal-equal-to-milli"),
        pytest.param("2", "1500m", False, id="cpu-over-limit"),
        pytest.param("0.1n", "1n", True, id="both-round-to-1n"),
    ],
)
def test_quantities_compare_exactly(request_: str, limit: str, fits: bool) -> None:
    assert (quantity(request_) <= quantity(limit)) is fits


# --- image references ----------------------------------------------------------------------------

SHA256 = "sha256:" + "f" * 64
SHA512 = "sha512:" + "f" * 128
REDIS_DIGEST = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

# reference_test.go TestReferenceParse: input -> (name, tag, digest), or None where Parse fails.
# image_reference accepts what ParseNormalizedNamed accepts; for every valid case here both agree.
REFERENCE_PARSE: list[tuple[str, tuple[str, str | None, str | None] | None]] = [
    ("test_com", ("test_com", None, None)),
    ("test.com:tag", ("test.com", "tag", None)),
    ("test.com:5000", ("test.com", "5000", None)),
    ("test.com/repo:tag", ("test.com/repo", "tag", None)),
    ("test:5000/repo", ("test:5000/repo", None, None)),
    ("test:5000/repo:tag", ("test:5000/repo", "tag", None)),
    ("test:5000/repo@" + SHA256, ("test:5000/repo", None, SHA256)),
    ("test:5000/repo:tag@" + SHA256, ("test:5000/repo", "tag", SHA256)),
    ("", None),
    (":justtag", None),
    ("@" + SHA256, None),
    ("repo@sha256:" + "f" * 34, None),
    ("validname@invaliddigest:" + "f" * 64, None),
    ("Uppercase:tag", None),
    ("test:5000/Uppercase/lowercase:tag", None),
    ("lowercase:Uppercase", ("lowercase", "Uppercase", None)),
    ("domain/" + "a" * 256 + ":tag", None),
    ("a/" * 127 + "a:tag-puts-this-over-max", ("a/" * 127 + "a", "tag-puts-this-over-max", None)),
    ("aa/asdf$$^/aa", None),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com/bar/baz/quux", None, None)),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        ("sub-dom1.foo.com/bar/baz/quux", "some-long-tag", None),
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        ("b.gcr.io/test.example.com/my-app", "test.example.com", None),
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", ("xn--n3h.com/myimage", "xn--n3h.com", None)),
    (
        "xn--7o8h.com/myimage:xn--7o8h.com@" + SHA512,
        ("xn--7o8h.com/myimage", "xn--7o8h.com", SHA512),
    ),
    ("foo_bar.com:8080", ("foo_bar.com", "8080", None)),
    ("foo/foo_bar.com:8080", ("foo/foo_bar.com", "8080", None)),
    ("192.168.1.1", ("192.168.1.1", None, None)),
    ("192.168.1.1:tag", ("192.168.1.1", "tag", None)),
    ("192.168.1.1:5000", ("192.168.1.1", "5000", None)),
    ("192.168.1.1/repo", ("192.168.1.1/repo", None, None)),
    ("192.168.1.1:5000/repo", ("192.168.1.1:5000/repo", None, None)),
    ("192.168.1.1:5000/repo:5050", ("192.168.1.1:5000/repo", "5050", None)),
    ("[2001:db8::1]", None),
    ("[2001:db8::1]:5000", None),
    ("[2001:db8::1]:tag", None),
    ("[2001:db8::1]/repo", ("[2001:db8::1]/repo", None, None)),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", ("[2001:db8:1:2:3:4:5:6]/repo", "tag", None)),
    ("[2001:db8::1]:5000/repo", ("[2001:db8::1]:5000/repo", None, None)),
    ("[2001:db8::1]:5000/repo:tag", ("[2001:db8::1]:5000/repo", "tag", None)),
    ("[2001:db8::1]:5000/repo@" + SHA256, ("[2001:db8::1]:5000/repo", None, SHA256)),
    ("[2001:db8::1]:5000/repo:tag@" + SHA256, ("[2001:db8::1]:5000/repo", "tag", SHA256)),
    ("[2001:db8::]:5000/repo", ("[2001:db8::]:5000/repo", None, None)),
    ("[::1]:5000/repo", ("[::1]:5000/repo", None, None)),
    ("[fe80::1%eth0]:5000/repo", None),
    ("[fe80::1%@invalidzone]:5000/repo", None),
    ("example.com/" + "a" * 255 + ":tag", ("example.com/" + "a" * 255, "tag", None)),
]
# normalize_test.go TestValidateReferenceName and TestValidateRemoteName (ParseNormalizedNamed),
# the names of TestParseRepositoryInfo and TestParseAnyReference, and
# TestParseReferenceWithTagAndDigest.
NORMALIZED_VALID = [
    "docker/docker", "library/debian", "debian", "localhost/library/debian", "localhost/debian",
    "LOCALDOMAIN/library/debian", "LOCALDOMAIN/debian", "docker.io/docker/docker",
    "docker.io/library/debian", "docker.io/debian", "index.docker.io/docker/docker",
    "index.docker.io/library/debian", "index.docker.io/debian", "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian", "127.0.0.1:5000/debian", "192.168.0.1", "192.168.0.1:80",
    "192.168.0.1:8/debian", "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker", "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "Docker/docker", "DOCKER/docker",
    "docker-rules/docker", "docker---rules/docker", "doc/docker", "d/docker", "jess/t",
    "dock__er/docker",
    "localhost/fooo", "localhost/fooo/bar", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo/bar",
    "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "ubuntu",
    "docker.io/library/ubuntu", "library/ubuntu", "nonlibrary/ubuntu", "other/library",
    "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/privatebase",
    "example.com/private/moonbase", "example.com/privatebase", "example.com:8000/private/moonbase",
    "example.com:8000/privatebasee", "ubuntu-12.04-base", "library/ubuntu-12.04-base",
    "index.docker.io/library/ubuntu-12.04-base", "foo", "docker.io/foo", "library/foo/bar",
    "store/foo/bar", "Foo/bar", "FOO/bar",
    "redis", "redis:latest", "docker.io/library/redis:latest", "redis@" + REDIS_DIGEST,
    "dmcgowan/myapp@" + REDIS_DIGEST, "docker.io/mcgowan/myapp:latest",
    "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "dbcc1",
    "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
]  # fmt: skip
NORMALIZED_INVALID = [
    "https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker",
    "-docker.io/docker/docker", "docker///docker", "docker.io/docker/Docker",
    "docker.io/docker///docker", "[fc00::1]", "[fc00::1]:5000", "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker-/docker", "-docker-/docker", "____/____", "_docker/_docker", "dock..er/docker",
    "dock_.er/docker", "dock-.er/docker", "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
    "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_"
    "lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_"
    "255/docker",
]  # fmt: skip
# Beyond upstream: the limits the brief of this module names, and corners of normalisation.
IMAGE_CORNERS = [
    pytest.param(
        "mirantis/dtr-content-cache:2.9.16",
        ("mirantis/dtr-content-cache", "2.9.16", None),
        id="default-image",
    ),
    pytest.param("a:" + "t" * 128, ("a", "t" * 128, None), id="tag-of-128"),
    pytest.param("a:" + "t" * 129, None, id="tag-of-129"),
    pytest.param("a:-tag", None, id="tag-starting-with-dash"),
    pytest.param("a:.tag", None, id="tag-starting-with-dot"),
    pytest.param("a:_tag", ("a", "_tag", None), id="tag-starting-with-underscore"),
    pytest.param("a:b:c", None, id="two-tags"),
    pytest.param("a___b", None, id="three-underscores"),
    pytest.param("a@sha256:" + "F" * 64, None, id="uppercase-digest-hex"),
    pytest.param("a@sha256:" + "f" * 63, None, id="short-sha256"),
    pytest.param("a@sha384:" + "f" * 96, ("a", None, "sha384:" + "f" * 96), id="sha384"),
    pytest.param("a@md5:" + "f" * 32, None, id="unsupported-algorithm"),
    pytest.param("a@SHA256:" + "f" * 64, None, id="uppercase-algorithm"),
    pytest.param("a" * 255, None, id="familiar-name-255-is-256-with-library"),
    pytest.param("a" * 247, ("a" * 247, None, None), id="familiar-name-247-is-255-with-library"),
    pytest.param("example.com/" + "a" * 256, None, id="path-of-256"),
    pytest.param("sha256:" + "f" * 64, ("sha256", "f" * 64, None), id="bare-digest-reads-as-tag"),
    pytest.param("a/b\n", None, id="trailing-newline"),
    pytest.param(" a/b", None, id="leading-space"),
    pytest.param("Foo/bar:1", ("Foo/bar", "1", None), id="uppercase-first-part-is-a-host"),
]


def _reference_cases() -> list[Any]:
    cases = [
        pytest.param(text, expected, id="parse-" + _id(text)) for text, expected in REFERENCE_PARSE
    ]
    cases += [pytest.param(text, True, id="normalized-" + _id(text)) for text in NORMALIZED_VALID]
    cases += [pytest.param(text, None, id="normalized-" + _id(text)) for text in NORMALIZED_INVALID]
    return cases + IMAGE_CORNERS


@pytest.mark.parametrize(("text", "expected"), _reference_cases())
def test_image_reference(text: str, expected: Any) -> None:
    if expected is None:
        with pytest.raises(ValueError) as caught:
            image_reference(text)
        assert str(caught.value) == IMAGE_REFERENCE_RULE
        return
    parsed = image_reference(text)
    assert str(parsed) == text
    if expected is not True:
        assert (parsed.name, parsed.tag, parsed.digest) == expected


@pytest.mark.parametrize(
    "value", [pytest.param(v, id=_id(v)) for v in [None, 1, b"ubuntu", ["ubuntu"]]]
)
def test_image_reference_must_be_a_string(value: Any) -> None:
    with _raises(IMAGE_REFERENCE_RULE):
        image_reference(value)


def test_image_reference_is_frozen() -> None:
    parsed = image_reference("ubuntu:22.04")
    assert parsed == ImageReference("ubuntu", "22.04", None)
    with pytest.raises(AttributeError):
        parsed.tag = "latest"  # type: ignore[misc]


# --- the module itself ---------------------------------------------------------------------------

RULES = [
    DNS1123_LABEL_RULE,
    DNS1123_SUBDOMAIN_RULE,
    DNS1035_LABEL_RULE,
    QUALIFIED_NAME_RULE,
    LABEL_VALUE_RULE,
    QUANTITY_RULE,
    IMAGE_REFERENCE_RULE,
]


@pytest.mark.parametrize(
    "rule", [pytest.param(r, id=r.split(":")[0].split(" [")[0]) for r in RULES]
)
def test_rules_are_one_short_line(rule: str) -> None:
    assert "\n" not in rule
    assert len(rule) <= 130


def test_module_is_pure() -> None:
    """settings imports api_rules, so api_rules imports neither settings nor pulumi: only the one
    reading of Go integers (go_strconv), itself as pure."""
    tree = ast.parse(Path(api_rules.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
        )
    }
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert imported <= {"__future__", "dataclasses", "decimal", "re", "typing", ""}
    assert [(n.module, [a.name for a in n.names]) for n in relative] == [(None, ["go_strconv"])]
    strconv = ast.parse(Path(api_rules.__file__).with_name("go_strconv.py").read_text())
    assert not [n for n in ast.walk(strconv) if isinstance(n, (ast.Import, ast.ImportFrom))][1:]


# port_range_test.go TestPortRange: (input, the range as String() writes it, or None: refused).
PORT_RANGES = [
    ("100-200", "100-200"),
    (" 100-200 ", "100-200"),
    ("0-0", "0-0"),
    ("", ""),
    ("100", "100-100"),
    ("100 - 200", None),
    ("-100", None),
    ("100-", None),
    ("200-100", None),
    ("60000-70000", None),
    ("70000-80000", None),
    ("70000+80000", None),
    ("1+0", "1-1"),
    ("0+0", "0-0"),
    ("1+-1", None),
    ("1-+1", None),
    ("100+200", "100-300"),
    ("1+65535", None),
    ("0+65535", "0-65535"),
    # Beyond upstream: each number is read by strconv.Atoi, the whole trimmed by TrimSpace.
    ("30000-32767\n", "30000-32767"),
    ("30000\n-32767", None),
    ("30000-+32767", None),
    ("30000++2767", "30000-32767"),
    ("1_000-2000", None),
    ("\x1f100-200", None),  # not a space to Go's unicode.IsSpace, unlike to str.strip()
]


@pytest.mark.parametrize(("text", "expected"), PORT_RANGES, ids=[_id(t) for t, _ in PORT_RANGES])
def test_port_range(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match=re.escape(api_rules.PORT_RANGE_RULE)):
            port_range(text)
        return
    ports = port_range(text)
    assert (f"{ports.start}-{ports.stop - 1}" if ports else "") == expected


# normalize.go splitDockerDomain takes a first component with capitals for a host (cases ours).
@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("MyOrg/dtr-content-cache:2.9.16", "MyOrg"),
        ("LOCALHOST/cache:1", "LOCALHOST"),  # only "localhost" itself is the local name
        ("myorg/dtr-content-cache:2.9.16", None),
        ("Registry.example.com/cache:1", None),  # a dot makes it a host anyway
        ("Registry:5000/cache:1", None),
        ("localhost/cache:1", None),
        ("cache:1", None),
    ],
)
def test_a_host_only_by_its_capitals(image: str, host: str | None) -> None:
    assert api_rules.host_by_capitals(image) == host
    if host is not None:
        image_reference(image)  # accepted: the kubelet pulls it, from that host
