"""How a mistake in the inputs is reported: one ConfigError listing every problem, each naming the
input as its caller wrote it (stack config, Python or the component package), what was given and
what is accepted, and never showing a secret."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import pulumi

from .closest_name import closest_name
from .plain import as_yaml, is_array, is_mapping

PROJECT = "msr-cache"
"""The stack config namespace of the component's inputs (the project's name)."""


class Shape(str):
    """What a value looks like, shown in place of a value that may hold a secret (see `shape`):
    an error prints it as it reads, not quoted (`plain.as_yaml`)."""

    def __repr__(self) -> str:
        return str(self)


HIDDEN = Shape("<secret>")
"""What an error shows in place of a secret."""
MISSING = Shape("missing")
"""What an error shows for an input (or a field of one) that was not given: it reads
`<key>: missing; expected ...`."""
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}")


class Caller(StrEnum):
    """Who wrote the inputs, and so how an error spells their keys."""

    PYTHON = "python"
    """A Python program: MsrCacheArgs' snake_case names, e.g. blob_ttl."""
    STACK = "stack"
    """Stack config in Pulumi.<stack>.yaml: namespaced camelCase, e.g. msr-cache:blobTtl."""
    PACKAGE = "package"
    """Another language through the component package: the schema's camelCase, e.g. blobTtl."""


_caller = Caller.PYTHON


def set_caller(caller: Caller) -> None:
    """Spell keys for `caller` in every error this process reports from now on: a stack program
    and the package host are each a process of their own, and each sets it once at start."""
    global _caller
    _caller = caller


def caller() -> Caller:
    """Whom this process's errors are written for."""
    return _caller


def snake_case(key: str) -> str:
    """A camelCase config key as its Python argument name: blobTtl -> blob_ttl."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def camel_case(name: str) -> str:
    """A Python argument name as its config key: blob_ttl -> blobTtl."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def spelled(key: str, namespace: str | None = None) -> str:
    """`key` (camelCase, possibly with a path such as `hosts[0]`) as the caller wrote it; a key
    with a `namespace` is always that project's stack config."""
    if namespace is not None:
        return f"{namespace}:{key}"
    if _caller is Caller.STACK:
        return f"{PROJECT}:{key}"
    if _caller is Caller.PYTHON:
        head, sep, rest = key.partition("[")
        return snake_case(head) + sep + rest
    return key


def scrubbed(value: Any) -> Any:
    """`value` as an error may show it: a private key pasted anywhere is hidden, and so is
    everything before the last `@` of a text that has one (after its `scheme://`), since that is
    a URL's userinfo, whether or not the URL has a scheme, and whatever its password holds; a
    URL's "port" that is not digits may be a password whose `@host` was left out."""
    if isinstance(value, Shape):
        return value
    if isinstance(value, str):
        if _PRIVATE_KEY.search(value):
            return "<a private key, not shown>"
        scheme, sep, rest = value.partition("://")
        if not sep or not _SCHEME.fullmatch(scheme):
            scheme, sep, rest = "", "", value
        if "@" in rest:
            return f"{scheme}{sep}{HIDDEN}@{rest.rpartition('@')[2]}"
        # user:password with the @host left out: what follows the colon is no port.
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        host, colon, port = authority.rpartition(":")
        path = rest[len(authority) :]
        if sep and colon and not authority.startswith("[") and port and not port.isdigit():
            return f"{scheme}{sep}{host}:{HIDDEN}{path}"
        return value
    if is_mapping(value):
        return {scrubbed(k): scrubbed(v) for k, v in value.items()}
    if is_array(value):
        return [scrubbed(v) for v in value]
    return value


_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")


def shown_key(key: Any) -> str:
    """A key of an object whose values are hidden: shown when it reads as a name (a variable's or
    a parameter's); anything else could be a value written where a key goes."""
    return key if isinstance(key, str) and _NAME_LIKE.fullmatch(key) else "<a key>"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def shape(value: Any) -> Any:
    """What `value` is, without any of its text: the whole of what an error shows of an input
    that may hold a secret (extraEnv, objectStorage, msrApi, PEM inputs), whatever was written
    there: a list where an object goes, a misspelled key, a URL without its scheme."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Shape("a number")
    if isinstance(value, str):
        if not value:
            return Shape("an empty string")
        blocks = _PEM_LABEL.findall(value)
        if blocks:
            kinds = ", ".join(sorted(set(blocks)))
            return Shape(f"PEM text with {_count(len(blocks), 'block')} ({kinds})")
        return Shape(f"a string of {_count(len(value), 'character')}")
    if is_mapping(value):
        if not value:
            return Shape("an empty object")
        keys = sorted(shown_key(k) for k in value)
        listed = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
        return Shape(f"an object with keys {listed}")
    if is_array(value):
        return Shape(f"a list of {_count(len(value), 'item')}")
    return Shape(f"a value of type {type(value).__name__}")


def url_shape(value: Any) -> Any:
    """What a URL that may hold a secret is, without its text: its scheme and which parts it has
    (credentials, a path, a query, characters no URL holds)."""
    if not isinstance(value, str) or not value:
        return shape(value)
    scheme, sep, rest = value.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme) or len(scheme) > 8:
        return Shape(f"a string of {_count(len(value), 'character')}, not a URL with a scheme")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    parts = [
        name
        for name, has in (
            ("credentials", "@" in rest),
            ("a path", re.split(r"[?#]", rest[len(authority) :], maxsplit=1)[0].strip("/") != ""),
            ("a query or fragment", "?" in rest or "#" in rest),
            ("spaces or control characters", not value.isprintable() or " " in value),
        )
        if has
    ]
    with_parts = f", with {' and '.join(parts)}" if parts else ""
    return Shape(f"a URL of scheme {scheme.lower()}{with_parts}")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One invalid input: its config key, what was given (already redacted by whoever knows the
    input: see `settings.shown`) and what is accepted."""

    key: str
    given: Any
    accepted: str
    namespace: str | None = None
    """The config namespace of `key` when it is another project's stack config (an example's);
    None for the component's own inputs, spelled as their caller wrote them."""

    def __str__(self) -> str:
        key = spelled(self.key, self.namespace)
        if self.given is MISSING:
            return f"{key}: missing; expected {self.accepted}"
        shown = as_yaml(scrubbed(self.given))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return f"{key}: got {shown}; expected {self.accepted}"


@dataclasses.dataclass(frozen=True)
class Misnamed:
    """A resource name (not an input) that would make names Kubernetes refuses."""

    key: str
    """What is named, e.g. "MsrCache resource name" or "stack name"."""
    given: str
    accepted: str

    def __str__(self) -> str:
        return f"{self.key}: got {as_yaml(self.given)}; expected {self.accepted}"


@dataclasses.dataclass(frozen=True)
class UnknownKey:
    """A key no input has: a typo, most likely, named with the closest known key."""

    key: str
    """The key exactly as written."""
    known: tuple[str, ...]
    """The keys the caller could have meant, spelled as the caller writes them."""

    def __str__(self) -> str:
        written = f"{PROJECT}:{self.key}" if _caller is Caller.STACK else self.key
        close = closest_name(self.key, self.known)
        if close:
            return f"{written}: unknown key; did you mean {close}?"
        return f"{written}: unknown key; expected one of {', '.join(sorted(self.known))}"


@dataclasses.dataclass(frozen=True)
class Misplaced:
    """A stack config key the program never reads, where the user meant one it does: under a
    misspelled project namespace, or nested Helm-style under the project's name."""

    key: str
    """The key exactly as the stack file has it, with its namespace."""
    why: str
    """What the key is, to the CLI and the program."""
    meant: str
    """What to write instead."""

    def __str__(self) -> str:
        return f"{self.key}: {self.why}; {self.meant}"


def unknown_keys(given: Iterable[str], known: Iterable[str]) -> list[UnknownKey]:
    """An UnknownKey for each key of `given` not in `known` (both as the caller spells them)."""
    known = tuple(known)
    return [UnknownKey(key, known) for key in sorted(set(given) - set(known))]


Reported = Problem | UnknownKey | Misnamed | Misplaced


class ConfigError(pulumi.RunError):
    """A user's configuration mistake; Pulumi shows it as a message, without a stack trace."""

    def __init__(self, problems: Sequence[Reported]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration:\n{lines}")

    @property
    def keys(self) -> tuple[str, ...]:
        """The config keys that were wrong, in the order they were checked."""
        return tuple(p.key for p in self.problems)


_WHOLE = object()


class Invalid(ValueError):
    """Raised by a check: `accepted` says what would have been accepted; `given`, when set, is
    the part of the input that is wrong (one host of a list, say), else the whole input is."""

    def __init__(self, accepted: str, given: Any = _WHOLE) -> None:
        super().__init__(accepted)
        self.accepted = accepted
        self.given = given

    def shown(self, whole: Any) -> Any:
        """What the problem shows as given: the wrong part, or `whole`."""
        return whole if self.given is _WHOLE else self.given
