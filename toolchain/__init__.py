"""The real Pulumi CLI, providers and Kubernetes control plane, built from their Go modules.

`tools.toml` pins them; `python3 -m toolchain build` (`make toolchain`) builds them into a cache
outside the work tree (`cache_dir()`), and the engine layer of the tests runs them from there.
Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PINS = HERE / "tools.toml"


def cache_dir() -> Path:
    """Where the toolchain lives: $MSR_CACHE_TOOLCHAIN, else ~/.cache/msr-cache/toolchain. The
    work tree is laid anew for every CI run; this directory, like Go's caches, is not."""
    explicit = os.environ.get("MSR_CACHE_TOOLCHAIN")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "msr-cache" / "toolchain"


def bin_dir() -> Path:
    """The built binaries (and the scripts beside them), to put first on PATH."""
    return cache_dir() / "bin"


def share_dir(tool: str) -> Path:
    """Data files a tool's module ships (tools.toml `share`)."""
    return cache_dir() / "share" / tool


def pins() -> dict[str, dict[str, Any]]:
    """tools.toml: tool name → its table."""
    return tomllib.loads(PINS.read_text())
