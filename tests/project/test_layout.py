"""The code stays readable and shows the flow: no function in components/ is longer than 60
lines, and the builders of components/objects/ are plain functions, with no Pulumi in them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
MODULES = sorted(COMPONENTS.rglob("*.py"))


def _ids(path: Path) -> str:
    return str(path.relative_to(COMPONENTS))


@pytest.mark.parametrize("module", MODULES, ids=_ids)
def test_no_function_is_longer_than_60_lines(module: Path) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []


def _imported(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    return {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
            else []
        )
    }  # fmt: skip


@pytest.mark.parametrize("module", sorted((COMPONENTS / "objects").glob("*.py")), ids=_ids)
def test_the_object_builders_are_plain_functions_without_pulumi(module: Path) -> None:
    # Specs are data: the component alone turns them into resources, with their Outputs.
    assert not {n for n in _imported(module) if n.split(".")[0].startswith("pulumi")}


def test_the_layout_is_inputs_then_objects_then_the_component() -> None:
    assert (COMPONENTS / "inputs" / "settings.py").is_file()
    assert (COMPONENTS / "objects" / "plan.py").is_file()
    top = {p.name for p in COMPONENTS.glob("*.py")}
    assert top >= {"msr_cache.py", "registration.py", "__init__.py", "__main__.py"}
