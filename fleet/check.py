"""A fleet checked offline, before any stack is touched: each cache's stack file, as the fleet
would write it, rendered by the stack program itself (render/), wave by wave, so a cache that
pulls from another gets the url and CA that cache's render gives. A stack file is held to the
Pulumi CLI's config rules, the program's checks and the policy pack there: the same for a fleet.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pulumi

from components.inputs.problems import Caller, ConfigError, set_caller
from render.__main__ import ROOT, Said, render
from render.provider_mocks import ClusterReadInRender

from . import stack_files
from .spec import Fleet, FleetError


@dataclasses.dataclass(frozen=True)
class Checked:
    """What the render of each cache said: its outputs (url, caCertPem) among them."""

    said: dict[str, Said]


def check(fleet: Fleet, root: Path = ROOT) -> Checked:
    """Render every cache of `fleet`; raises FleetError naming every problem of every cache
    (a cache pulling from one with problems is not checked, and says why)."""
    said: dict[str, Said] = {}
    problems: list[str] = []
    failed: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="fleet-check-") as tmp:
        for wave in fleet.waves():
            for cache in wave:
                broken = [u for u in cache.pulls_from if u in failed]
                if broken:
                    failed.add(cache.name)
                    problems.append(f"{cache.name}: not checked: it pulls from {', '.join(broken)}")
                    continue
                urls = {n: str(said[n].outputs["url"].value) for n in cache.pulls_from}
                cas = {n: str(said[n].outputs["caCertPem"].value) for n in cache.pulls_from}
                folder = Path(tmp) / cache.name
                folder.mkdir()
                stack_files.write(folder, cache.stack, cache.resolved(urls, cas), root)
                try:
                    said[cache.name] = Said()
                    render(cache.stack, folder / "out", root, folder, said[cache.name])
                except (ConfigError, ClusterReadInRender, pulumi.RunError) as err:
                    failed.add(cache.name)
                    problems += [f"{cache.name}: {p}" for p in _spelled_for_stacks(err)]
    if problems:
        raise FleetError(problems)
    return Checked(said)


def _spelled_for_stacks(err: Exception) -> list[str]:
    """The problems of `err`, their keys spelled as a stack file spells them (msr-cache:port)."""
    each = err.problems if isinstance(err, ConfigError) else (err,)
    set_caller(Caller.STACK)
    try:
        return [str(problem) for problem in each]
    finally:
        set_caller(Caller.PYTHON)
