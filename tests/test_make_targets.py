"""make up, preview and render check what they need before they build anything: the Pulumi CLI
(not render), then a Python the virtualenvs can be built with (3.11 or later), each with a
message that says what to install. Run with a PATH holding only what each case names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from render.__main__ import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _make(target: str, tmp_path: Path, *, pulumi: bool, python: str) -> tuple[int, str]:
    """`make <target>` with only `python` (and a stand-in pulumi, if asked) on PATH, and the
    virtualenvs pointed into tmp_path: (exit code, what it printed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if pulumi:
        _script(bin_dir / "pulumi", "exit 0")
    assert MAKE is not None
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(ROOT), target, f"PYTHON={python}",
         f"VENV={tmp_path / 'venv'}", f"POLICY_VENV={tmp_path / 'policy-venv'}"],
        capture_output=True, text=True, timeout=60, env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def _too_old(tmp_path: Path) -> str:
    """A Python 3.10 as make sees it: it says its version and fails the version check."""
    body = 'if [ "$1" = --version ]; then echo "Python 3.10.12"; exit 0; fi\nexit 1'
    return str(_script(tmp_path / "python3.10", body))


@pytest.mark.parametrize("target", ["up", "preview"])
def test_the_pulumi_cli_is_checked_before_anything_is_built(target: str, tmp_path: Path) -> None:
    code, said = _make(target, tmp_path, pulumi=False, python=_too_old(tmp_path))
    assert code != 0
    assert f"make {target} needs the Pulumi CLI, which is not installed." in said
    assert "curl -fsSL https://get.pulumi.com | sh" in said
    assert "needs Python" not in said  # the first thing missing is said first
    assert not (tmp_path / "venv").exists() and not (tmp_path / "policy-venv").exists()


@pytest.mark.parametrize("target", ["up", "preview", "render"])
def test_a_python_older_than_3_11_is_named(target: str, tmp_path: Path) -> None:
    python = _too_old(tmp_path)
    code, said = _make(target, tmp_path, pulumi=True, python=python)
    assert code != 0
    assert (
        f"make {target} needs Python 3.11 or later to build its virtualenvs; {python} is "
        "Python 3.10.12."
    ) in said
    assert f"then run make {target} PYTHON=python3.12" in said
    assert not (tmp_path / "venv").exists()


def test_a_python_that_is_not_there_is_said_to_be_missing(tmp_path: Path) -> None:
    code, said = _make("render", tmp_path, pulumi=True, python="python3.99")
    assert code != 0
    assert (
        "needs Python 3.11 or later to build its virtualenvs; python3.99 is not installed." in said
    )


def test_this_python_passes_the_check(tmp_path: Path) -> None:
    """The interpreter running the tests (3.11 or later, as pyproject.toml requires) passes, so
    make goes on to build the virtualenv (stopped here by the dry run)."""
    assert sys.version_info >= (3, 11)
    assert MAKE is not None
    done = subprocess.run(
        [MAKE, "-n", "--no-print-directory", "-C", str(ROOT), "render", f"PYTHON={sys.executable}",
         f"VENV={tmp_path / 'venv'}"],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{sys.executable} -m venv {tmp_path / 'venv'}" in done.stdout
