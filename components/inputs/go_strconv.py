"""Integers read from text as Go's strconv reads them: the one reading of Go integers here.

The tools this project stands in for are Go programs: the Pulumi CLI (YAML integers, config types,
property paths), kube-apiserver (--service-node-port-range, a node selector's Gt/Lt values, a
quantity's exponent) and the cache itself. Python's int() reads more than they do (spaces, a
trailing newline, `_` anywhere, Unicode digits), so every such reading goes through this module.

A port, in our own words, of ParseUint, ParseInt, Atoi and underscoreOK in golang/go
src/strconv/atoi.go at commit 00a5bb14c8de99eecf8cf2893c17fd48f4d80e78; tests/unit/test_go_strconv.py
carries the cases of its atoi_test.go. Go's int is 64 bits wide here (the platforms those tools
ship for). Pure Python: no Pulumi, nothing of the components.
"""

from __future__ import annotations

__all__ = ["NumError", "atoi", "int_range", "parse_int", "parse_uint", "quote", "uint_range"]

INT_SIZE = 64
"""The bits of Go's int and uint (strconv.IntSize) on the platforms the tools run on."""
SYNTAX = "invalid syntax"
RANGE = "value out of range"
_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}  # fmt: skip


def int_range(bits: int = 64) -> range:
    """The values of Go's int of `bits` bits (int32, int64, ...)."""
    return range(-(1 << (bits - 1)), 1 << (bits - 1))


def uint_range(bits: int = 64) -> range:
    """The values of Go's uint of `bits` bits."""
    return range(1 << bits)


def quote(text: str) -> str:
    """`text` double-quoted with Go's escapes (strconv.Quote), as Go's messages quote input."""
    out: list[str] = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


class NumError(ValueError):
    """strconv's NumError: `func` failed on `num` for `reason` (SYNTAX, RANGE, or a bad base or
    bit size); str() is Go's message."""

    def __init__(self, func: str, num: str, reason: str) -> None:
        super().__init__(f"strconv.{func}: parsing {quote(num)}: {reason}")
        self.func, self.num, self.reason = func, num, reason


def _lower(char: str) -> str:
    """Go's lower(): ASCII letters folded by setting the 0x20 bit (other bytes are left be)."""
    return chr(ord(char) | 0x20) if len(char) == 1 and ord(char) < 0x80 else char


def underscore_ok(text: str) -> bool:
    """underscoreOK: `_` only between digits, or between a base prefix and a digit."""
    saw = "^"  # ^ the start, 0 a digit or prefix, _ an underscore, ! anything else
    if text[:1] in ("+", "-"):
        text = text[1:]
    index, hexadecimal = 0, False
    if len(text) >= 2 and text[0] == "0" and _lower(text[1]) in ("b", "o", "x"):
        index, saw, hexadecimal = 2, "0", _lower(text[1]) == "x"
    for char in text[index:]:
        if "0" <= char <= "9" or (hexadecimal and "a" <= _lower(char) <= "f"):
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def parse_uint(text: str, base: int = 10, bit_size: int = 64, func: str = "ParseUint") -> int:
    """ParseUint: `text` in `base` (2 to 36, or 0: a 0b, 0o, 0x or 0 prefix picks it, and `_` may
    separate digits), as an unsigned integer of `bit_size` bits; raises NumError."""
    if text == "":
        raise NumError(func, text, SYNTAX)
    whole, digits = text, text
    with_prefix = base == 0
    if with_prefix:
        base = 10
        if text[0] == "0":
            marker = _lower(text[1]) if len(text) >= 3 else ""
            base = {"b": 2, "o": 8, "x": 16}.get(marker, 8)
            digits = text[2:] if marker in ("b", "o", "x") else text[1:]
    elif not 2 <= base <= 36:
        raise NumError(func, whole, f"invalid base {base}")
    if bit_size == 0:
        bit_size = INT_SIZE
    elif not 0 < bit_size <= 64:
        raise NumError(func, whole, f"invalid bit size {bit_size}")
    most = (1 << bit_size) - 1
    number, underscores = 0, False
    for char in digits:
        if char == "_" and with_prefix:
            underscores = True
            continue
        if "0" <= char <= "9":
            digit = ord(char) - ord("0")
        elif "a" <= _lower(char) <= "z":
            digit = ord(_lower(char)) - ord("a") + 10
        else:
            raise NumError(func, whole, SYNTAX)
        if digit >= base:
            raise NumError(func, whole, SYNTAX)
        number = number * base + digit
        if number > most:  # Go stops here too: a bad digit further on is not reached
            raise NumError(func, whole, RANGE)
    if underscores and not underscore_ok(whole):
        raise NumError(func, whole, SYNTAX)
    return number


def parse_int(text: str, base: int = 10, bit_size: int = 64, func: str = "ParseInt") -> int:
    """ParseInt: like parse_uint after an optional sign, within a signed `bit_size`-bit range;
    raises NumError."""
    if text == "":
        raise NumError(func, text, SYNTAX)
    negative = text[0] == "-"
    unsigned = text[1:] if text[0] in "+-" else text
    try:
        magnitude = parse_uint(unsigned, base, bit_size, func)
    except NumError as err:
        # A range error of the magnitude is judged below, against the signed range.
        if err.reason != RANGE:
            raise NumError(func, text, err.reason) from None
        magnitude = 1 << 64
    cutoff = 1 << ((bit_size or INT_SIZE) - 1)
    if (not negative and magnitude >= cutoff) or (negative and magnitude > cutoff):
        raise NumError(func, text, RANGE)
    return -magnitude if negative else magnitude


def atoi(text: str) -> int:
    """Atoi: ParseInt(text, 10, 0), Go's reading of a decimal int (a sign and ASCII digits, no
    spaces, no `_`); raises NumError naming Atoi."""
    return parse_int(text, 10, 0, func="Atoi")
