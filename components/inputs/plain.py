"""Plain data: what a user gave, a YAML or JSON document, a Pulumi input.

The type guards: `isinstance(value, Mapping)` narrows a value of unknown type to a Mapping of
unknown keys and values, which the type checker (pyright, strict) will not let flow on; these
narrow it to one of `Any`, whose keys and items the caller still checks. They are isinstance
checks, nothing more. And `as_yaml`, how a message shows a value users wrote in YAML.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import TypeIs


def is_mapping(value: object) -> TypeIs[Mapping[Any, Any]]:
    return isinstance(value, Mapping)


def is_dict(value: object) -> TypeIs[dict[Any, Any]]:
    return isinstance(value, dict)


def is_sequence(value: object) -> TypeIs[Sequence[Any]]:
    return isinstance(value, Sequence)


def is_list(value: object) -> TypeIs[list[Any]]:
    return isinstance(value, list)


def is_tuple(value: object) -> TypeIs[tuple[Any, ...]]:
    return isinstance(value, tuple)


def is_array(value: object) -> TypeIs[list[Any] | tuple[Any, ...]]:
    """A list or a tuple: a YAML or JSON array, as Python or a Pulumi input holds it."""
    return isinstance(value, (list, tuple))


def as_yaml(value: Any) -> str:
    """`value` as YAML flow text, the language users wrote it in: `null`, `true`, `30443`, a
    string in double quotes (JSON's escapes, which YAML reads alike), `[a, b]`, `{key: value}`.
    A `str` subclass that is no plain string (problems.Shape, which describes a hidden value)
    reads as its text, unquoted; an enum as its value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return as_yaml(value.value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if type(value) is str else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if is_mapping(value):
        return "{" + ", ".join(f"{as_yaml(k)}: {as_yaml(v)}" for k, v in value.items()) + "}"
    if is_array(value):
        return "[" + ", ".join(as_yaml(v) for v in value) + "]"
    return str(value)
