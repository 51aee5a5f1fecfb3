"""Each cache's stack file, as the fleet writes it: the fleet's config over what the stack's own
file keeps (its encryption salt or key, and its encrypted values, which a fleet file never holds:
`pulumi config set --secret --stack <stack> <key>` sets them)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import yaml

from components.inputs.plain import is_mapping
from components.inputs.problems import PROJECT
from render import manifests


def stack_file(folder: Path, stack: str) -> Path:
    return folder / f"Pulumi.{stack}.yaml"


def merged(existing: Mapping[str, Any] | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The stack file: `existing`'s settings and encrypted values of the project's keys the
    fleet does not set, then the fleet's `config`."""
    kept: dict[str, Any] = dict(existing or {})
    old: dict[str, Any] = kept.get("config") or {}
    secure = {key: value for key, value in old.items() if _encrypted(value) and key not in config}
    others = {k: v for k, v in old.items() if not str(k).startswith(f"{PROJECT}:")}
    kept["config"] = {**others, **secure, **config}
    return kept


def read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    found: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    return cast(dict[str, Any], found) if isinstance(found, dict) else None


def write(folder: Path, stack: str, config: Mapping[str, Any], existing_in: Path) -> Path:
    """Write the stack file of `stack` into `folder`, over the one in `existing_in`."""
    path = stack_file(folder, stack)
    content = merged(read(stack_file(existing_in, stack)), config)
    path.write_text(manifests.dump(content), encoding="utf-8")  # a PEM as a literal block
    return path


def _encrypted(value: Any) -> bool:
    return is_mapping(value) and "secure" in value
