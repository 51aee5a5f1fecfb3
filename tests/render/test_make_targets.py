"""make up, preview and render check what they need before they build anything: the Pulumi CLI
(not render), then a Python the virtualenvs can be built with (3.11 or later), each with a
message that says what to install. make up and preview run the `pulumi` on PATH, else the one
`make toolchain` built, and say which. Run with a PATH holding only what each case names, and a
toolchain folder (MSR_CACHE_TOOLCHAIN) of the test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import unavailable

from render.__main__ import ROOT

MAKE = shutil.which("make")
# What the stand-in CLIs answer to `pulumi version`: make must say it.
VERSION = "v3.274.0-stand-in"


@pytest.fixture(autouse=True)
def _make_is_installed() -> None:
    if MAKE is None:
        unavailable("make is not installed: install it (sudo apt-get install make)")


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _stand_in_cli(path: Path, log: Path) -> Path:
    """A `pulumi` that answers `version` and records each other run (its arguments, then the PATH
    it was given) in `log`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return _script(
        path,
        f'if [ "$1" = version ]; then echo {VERSION}; exit 0; fi\necho "$* | $PATH" >> {log}',
    )


def _make(
    target: str,
    tmp_path: Path,
    *,
    pulumi: bool,
    python: str,
    toolchain: Path | None = None,
) -> tuple[int, str]:
    """`make <target>` with only `python` (and a stand-in pulumi, if asked) on PATH, the
    virtualenvs pointed into tmp_path and the toolchain at `toolchain` (default an empty folder):
    (exit code, what it printed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if pulumi:
        _script(bin_dir / "pulumi", "exit 0")
    assert MAKE is not None
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "MSR_CACHE_TOOLCHAIN": str(toolchain or tmp_path / "no-toolchain"),
    }
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(ROOT), target, f"PYTHON={python}",
         f"VENV={tmp_path / 'venv'}", f"POLICY_VENV={tmp_path / 'policy-venv'}"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def _installed_venvs(tmp_path: Path) -> None:
    """The virtualenvs' stamps, newer than any lock file (a day ahead), so make installs
    nothing."""
    ahead = time.time() + 86400
    for venv in ("venv", "policy-venv"):
        stamp = tmp_path / venv / ".installed"
        stamp.parent.mkdir()
        stamp.touch()
        os.utime(stamp, (ahead, ahead))


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


@pytest.mark.parametrize("target", ["up", "preview"])
def test_without_a_cli_on_path_or_in_the_toolchain_make_says_how_to_get_one(
    target: str, tmp_path: Path
) -> None:
    """A toolchain folder without a CLI (make toolchain not run, or without Go) is no CLI."""
    (tmp_path / "toolchain" / "bin").mkdir(parents=True)
    code, said = _make(
        target, tmp_path, pulumi=False, python=sys.executable, toolchain=tmp_path / "toolchain"
    )
    assert code != 0
    assert f"make {target} needs the Pulumi CLI, which is not installed." in said
    assert "curl -fsSL https://get.pulumi.com | sh" in said
    assert (
        f"Or build it from source with make toolchain (Go 1.26, docs/toolchain.md): make {target} uses it."
        in said
    )
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize("target", ["up", "preview"])
def test_without_a_cli_on_path_make_runs_the_one_make_toolchain_built(
    target: str, tmp_path: Path
) -> None:
    """It says which CLI it runs (path and version) before running it, and runs it with the
    toolchain's bin/ first on PATH, where the plugins built beside it are."""
    log = tmp_path / "runs.log"
    built = _stand_in_cli(tmp_path / "toolchain" / "bin" / "pulumi", log)
    _installed_venvs(tmp_path)
    code, said = _make(
        target, tmp_path, pulumi=False, python=sys.executable, toolchain=tmp_path / "toolchain"
    )
    assert code == 0, said
    named = f"make {target} runs the Pulumi CLI {built}, {VERSION} (built by make toolchain; none is on PATH)"
    assert named in said
    assert said.index(named) < said.index("pulumi stack select")
    path = f"{built.parent}:{tmp_path / 'bin'}"
    assert log.read_text().splitlines() == [
        f"stack select --create dev | {path}",
        f"{target} --stack dev --policy-pack policy | {path}",
    ]


@pytest.mark.parametrize("target", ["up", "preview"])
def test_a_cli_on_path_is_run_rather_than_the_toolchains(target: str, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    _stand_in_cli(tmp_path / "toolchain" / "bin" / "pulumi", tmp_path / "toolchain.log")
    on_path = _stand_in_cli(tmp_path / "bin" / "pulumi", log)
    _installed_venvs(tmp_path)
    code, said = _make(
        target, tmp_path, pulumi=False, python=sys.executable, toolchain=tmp_path / "toolchain"
    )
    assert code == 0, said
    assert f"make {target} runs the Pulumi CLI {on_path}, {VERSION}\n" in said
    assert log.read_text().splitlines() == [
        f"stack select --create dev | {on_path.parent}",
        f"{target} --stack dev --policy-pack policy | {on_path.parent}",
    ]
    assert not (tmp_path / "toolchain.log").exists()


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
