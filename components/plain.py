"""Type guards for plain data: what a user gave, a YAML or JSON document, a Pulumi input.

`isinstance(value, Mapping)` narrows a value of unknown type to a Mapping of unknown keys and
values, which the type checker (pyright, strict) will not let flow on; these narrow it to one of
`Any`, whose keys and items the caller still checks. They are isinstance checks, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
