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


class PinError(Exception):
    """tools.toml says something the build cannot follow; the message names the table and key."""


def pins() -> dict[str, dict[str, Any]]:
    """tools.toml: tool name → its table. A tool with both `release` and `commits` gets its
    `version` from them: the commit that release is tagged at, as a pseudo-version of the module."""
    table = tomllib.loads(PINS.read_text())
    for tool, spec in table.items():
        if "commits" in spec and "release" in spec:
            if "version" in spec:
                raise PinError(f"[{tool}]: `version` beside `release` and `commits`, which pick it")
            release = spec["release"]
            if release not in spec["commits"]:
                raise PinError(
                    f"[{tool}] release = {release!r} has no entry in [{tool}.commits] (which has "
                    f"{', '.join(spec['commits'])}): add the pseudo-version of the commit that "
                    "release is tagged at, and run make toolchain-probe to see if the proxy serves it"
                )
            spec["version"] = spec["commits"][release]
        if "release" not in spec and "{release}" in repr(spec):
            raise PinError(f"[{tool}]: {{release}} is used, but the table has no `release`")
    return table
