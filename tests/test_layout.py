"""The code stays readable: no function in components/ is longer than 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parent.parent / "components"


@pytest.mark.parametrize("module", sorted(COMPONENTS.glob("*.py")), ids=lambda p: p.name)
def test_no_function_is_longer_than_60_lines(module: Path) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
