"""components.inputs.go_strconv, the one reading of Go integers, against the cases of Go's own tests.

The tables are golang/go src/strconv/atoi_test.go (commit 1ad1d615b8b1e19e5e4e3ad1cd908a03997aaa51:
parseUint64Tests, parseUint64BaseTests, parseInt64Tests, parseInt64BaseTests, parseInt32Tests and
the base and bit size checks); the `_` cases are ours, by underscoreOK's rule in atoi.go (commit
00a5bb14c8de99eecf8cf2893c17fd48f4d80e78), which that test file predates. Then what Python's int()
reads and Go does not, which is why every reading of a Go integer goes through this module.
"""

from __future__ import annotations

import pytest

from components.inputs.go_strconv import RANGE, SYNTAX, NumError, atoi, parse_int, parse_uint, quote

U64 = (1 << 64) - 1
I64 = (1 << 63) - 1

# (text, value or the error's reason)
PARSE_UINT64 = [
    ("", SYNTAX),
    ("0", 0),
    ("1", 1),
    ("12345", 12345),
    ("012345", 12345),
    ("12345x", SYNTAX),
    ("98765432100", 98765432100),
    ("18446744073709551615", U64),
    ("18446744073709551616", RANGE),
    ("18446744073709551620", RANGE),
]
PARSE_UINT64_BASE0 = [
    ("", SYNTAX),
    ("0", 0),
    ("0x", SYNTAX),
    ("0X", SYNTAX),
    ("1", 1),
    ("12345", 12345),
    ("012345", 0o12345),
    ("0x12345", 0x12345),
    ("0X12345", 0x12345),
    ("12345x", SYNTAX),
    ("0xabcdefg123", SYNTAX),
    ("123456789abc", SYNTAX),
    ("98765432100", 98765432100),
    ("18446744073709551615", U64),
    ("18446744073709551616", RANGE),
    ("18446744073709551620", RANGE),
    ("0xFFFFFFFFFFFFFFFF", U64),
    ("0x10000000000000000", RANGE),
    ("01777777777777777777777", U64),
    ("01777777777777777777778", SYNTAX),
    ("02000000000000000000000", RANGE),
    ("0200000000000000000000", 1 << 61),
    # underscoreOK: between digits, or after a base prefix; never first, last or doubled.
    ("1_2_3_4_5", 12345),
    ("_12345", SYNTAX),
    ("1__2345", SYNTAX),
    ("12345_", SYNTAX),
    ("0x_1_2_3_4_5", 0x12345),
    ("0x__12345", SYNTAX),
    ("0b1_0_1", 5),
    ("0o7_7", 0o77),
    ("0_7", 0o7),
]
PARSE_INT64 = [
    ("", SYNTAX),
    ("0", 0),
    ("-0", 0),
    ("1", 1),
    ("-1", -1),
    ("12345", 12345),
    ("-12345", -12345),
    ("012345", 12345),
    ("-012345", -12345),
    ("98765432100", 98765432100),
    ("-98765432100", -98765432100),
    ("9223372036854775807", I64),
    ("-9223372036854775807", -I64),
    ("9223372036854775808", RANGE),
    ("-9223372036854775808", -(1 << 63)),
    ("9223372036854775809", RANGE),
    ("-9223372036854775809", RANGE),
]
PARSE_INT64_BASE = [
    ("0x12345", 0, 0x12345),
    ("-0X12345", 0, -0x12345),
    ("-012345", 0, -0o12345),
    ("-12345x", 0, SYNTAX),
    ("g", 17, 16),
    ("10", 25, 25),
    ("holycow", 35, (((((17 * 35 + 24) * 35 + 21) * 35 + 34) * 35 + 12) * 35 + 24) * 35 + 32),
    ("holycow", 36, (((((17 * 36 + 24) * 36 + 21) * 36 + 34) * 36 + 12) * 36 + 24) * 36 + 32),
    ("-1", 2, -1),
    ("1010", 2, 10),
    ("1" * 63, 2, I64),
    ("1" + "0" * 63, 2, RANGE),
    ("-1" + "0" * 63, 2, -(1 << 63)),
    ("-1" + "0" * 62 + "1", 2, RANGE),
    ("-10", 8, -8),
    ("57635436545", 8, 0o57635436545),
    ("-123456789abcdef", 16, -0x123456789ABCDEF),
    ("7fffffffffffffff", 16, I64),
    ("1_000", 10, SYNTAX),  # `_` only with base 0
]
PARSE_INT32 = [
    ("2147483647", (1 << 31) - 1),
    ("-2147483648", -(1 << 31)),
    ("2147483648", RANGE),
    ("-2147483649", RANGE),
    ("-12345x", SYNTAX),
]


def _check(call: object, expected: int | str) -> None:
    assert callable(call)
    if isinstance(expected, str):
        with pytest.raises(NumError) as raised:
            call()
        assert raised.value.reason == expected
    else:
        assert call() == expected


@pytest.mark.parametrize(("text", "expected"), PARSE_UINT64)
def test_parse_uint64(text: str, expected: int | str) -> None:
    _check(lambda: parse_uint(text, 10, 64), expected)


@pytest.mark.parametrize(("text", "expected"), PARSE_UINT64_BASE0)
def test_parse_uint64_base0(text: str, expected: int | str) -> None:
    _check(lambda: parse_uint(text, 0, 64), expected)


@pytest.mark.parametrize(("text", "expected"), PARSE_INT64)
def test_parse_int64_and_atoi(text: str, expected: int | str) -> None:
    _check(lambda: parse_int(text, 10, 64), expected)
    _check(lambda: atoi(text), expected)


@pytest.mark.parametrize(("text", "base", "expected"), PARSE_INT64_BASE)
def test_parse_int64_base(text: str, base: int, expected: int | str) -> None:
    _check(lambda: parse_int(text, base, 64), expected)


@pytest.mark.parametrize(("text", "expected"), PARSE_INT32)
def test_parse_int32(text: str, expected: int | str) -> None:
    _check(lambda: parse_int(text, 10, 32), expected)


@pytest.mark.parametrize(
    ("base", "bit_size", "reason"),
    [(-1, 0, "invalid base -1"), (1, 0, "invalid base 1"), (37, 0, "invalid base 37"),
     (0, -1, "invalid bit size -1"), (0, 65, "invalid bit size 65")],
)  # fmt: skip
def test_a_bad_base_or_bit_size_is_refused(base: int, bit_size: int, reason: str) -> None:
    for parse in (parse_int, parse_uint):
        with pytest.raises(NumError) as raised:
            parse("0", base, bit_size)
        assert raised.value.reason == reason


@pytest.mark.parametrize(
    "text", [" 1", "1 ", "1\n", "\t1", "1_0", "١٢", "++1", "+-1", "+", "-", "1.0", "0x10", "1e3"]
)
def test_atoi_refuses_what_python_int_reads(text: str) -> None:
    """What int() takes (spaces, a newline, `_`, Arabic-Indic digits) or a regex with `$` would
    pass, Go's Atoi refuses; so do the tools that read these values."""
    with pytest.raises(NumError) as raised:
        atoi(text)
    assert raised.value.reason == SYNTAX


def test_the_message_is_gos() -> None:
    with pytest.raises(NumError) as raised:
        atoi("3\n")
    assert str(raised.value) == 'strconv.Atoi: parsing "3\\n": invalid syntax'
    assert quote('a"\t\x01é') == '"a\\"\\t\\x01é"'
