"""How a mistake in the inputs is reported: one ConfigError listing every problem, each naming the
input as its caller wrote it (stack config, Python or the component package), what was given and
what is accepted, and never showing a secret."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import pulumi

from .plain import is_array, is_mapping

PROJECT = "msr-cache"
"""The stack config namespace of the component's inputs (the project's name)."""
HIDDEN = "<secret>"
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


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
    """`value` as an error may show it: a private key pasted anywhere is hidden, a URL loses its
    userinfo (a password)."""
    if isinstance(value, str):
        if _PRIVATE_KEY.search(value):
            return "<a private key, not shown>"
        if "@" in value and "://" in value:
            scheme, _, rest = value.partition("://")
            authority, slash, path = rest.partition("/")
            if "@" in authority:
                return f"{scheme}://{HIDDEN}@{authority.rpartition('@')[2]}{slash}{path}"
        return value
    if is_mapping(value):
        return {k: scrubbed(v) for k, v in value.items()}
    if is_array(value):
        return [scrubbed(v) for v in value]
    return value


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
        shown = repr(scrubbed(self.given))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return f"{spelled(self.key, self.namespace)}: got {shown}; expected {self.accepted}"


@dataclasses.dataclass(frozen=True)
class Misnamed:
    """A resource name (not an input) that would make names Kubernetes refuses."""

    key: str
    """What is named, e.g. "MsrCache resource name" or "stack name"."""
    given: str
    accepted: str

    def __str__(self) -> str:
        return f"{self.key}: got {self.given!r}; expected {self.accepted}"


@dataclasses.dataclass(frozen=True)
class UnknownKey:
    """A key no input has: a typo, most likely, named with the closest known key."""

    key: str
    """The key exactly as written."""
    known: tuple[str, ...]
    """The keys the caller could have meant, spelled as the caller writes them."""

    def __str__(self) -> str:
        written = f"{PROJECT}:{self.key}" if _caller is Caller.STACK else self.key
        by_case = {k.lower(): k for k in self.known}
        close = difflib.get_close_matches(self.key.lower(), list(by_case), n=1, cutoff=0.6)
        if close:
            return f"{written}: unknown key; did you mean {by_case[close[0]]}?"
        return f"{written}: unknown key; expected one of {', '.join(sorted(self.known))}"


def unknown_keys(given: Iterable[str], known: Iterable[str]) -> list[UnknownKey]:
    """An UnknownKey for each key of `given` not in `known` (both as the caller spells them)."""
    known = tuple(known)
    return [UnknownKey(key, known) for key in sorted(set(given) - set(known))]


Reported = Problem | UnknownKey | Misnamed


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
