"""The project's policy pack, run over what a render made as `make up` runs it over a deployment.

`make up` and `make preview` pass `--policy-pack policy`: a mandatory policy's violation stops
`pulumi up`. A render that skipped the pack passed stacks that `make up` refuses (a `resources`
section with a CPU limit and no memory limit, say), so the render runs the same pack, the same
functions of policy/policies.py, over the objects the program registered, each as the engine
hands it to the pack (its type, its checked inputs with their auto-names, its URN). The rules stay
in one place: the pack.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib.util
import inspect
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi

from .provider_mocks import Registered

PACK = Path("policy") / "policies.py"
"""Where a project keeps its pack's policies (the folder `--policy-pack` names)."""


class PolicyViolations(pulumi.RunError):
    """A mandatory policy refuses what the stack would deploy: `pulumi up` would stop on it."""


@dataclasses.dataclass(frozen=True)
class Violation:
    """One report of one policy: its name, level (mandatory or advisory) and message."""

    policy: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level}] {self.policy}: {self.message}"


def _load(path: Path) -> ModuleType:
    # policy/ is no package: Pulumi runs it as a folder. Loaded by path, under a name of its own.
    spec = importlib.util.spec_from_file_location("msr_cache_policy_pack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def violations(
    root: Path, resources: Sequence[Registered], *, stack: str, project: str
) -> list[Violation]:
    """What the pack in `root`/policy reports of `resources`, mandatory first; none when the
    project has no pack."""
    path = root / PACK
    if not path.exists():
        return []
    from pulumi_policy import (
        EnforcementLevel,
        PolicyCustomTimeouts,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
        StackValidationPolicy,
    )
    from pulumi_policy.proxy import unknown_checking_proxy

    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])

    def urn(r: Registered) -> str:
        return f"urn:pulumi:{stack}::{project}::{r.typ}::{r.name}"

    def props(r: Registered) -> Any:
        # The checked inputs (with the provider's auto-name), secrets unwrapped, as the engine
        # hands the pack a resource; read-only, as its proxies are.
        return unknown_checking_proxy(copy.deepcopy(r.outputs))

    found: list[Violation] = []

    def reporter(name: str, level: str) -> Callable[[str, str | None], None]:
        def report(message: str, _urn: str | None = None) -> None:
            found.append(Violation(name, level, message))

        return report

    for policy in _load(path).POLICIES:
        if policy.enforcement_level == EnforcementLevel.DISABLED:
            continue
        mandatory = policy.enforcement_level == EnforcementLevel.MANDATORY
        report = reporter(policy.name, "mandatory" if mandatory else "advisory")

        if isinstance(policy, StackValidationPolicy):
            stack_resources = [
                PolicyResource(r.typ, props(r), urn(r), r.name, options, None, None, [], {})
                for r in resources
            ]
            # pulumi-policy annotates validate's result as a bare Awaitable (or None).
            _settled(policy.validate(StackValidationArgs(stack_resources), report))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        elif isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.typ, props(r), urn(r), r.name, options, None)
                _settled(policy.validate(args, report))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return sorted(found, key=lambda v: v.level != "mandatory")


def _settled(result: object) -> None:
    """A policy may validate asynchronously (its validate returns an awaitable): wait for it."""
    if inspect.isawaitable(result):
        asyncio.run(_awaited(result))


async def _awaited(result: Awaitable[object]) -> None:
    await result


def refuse_mandatory(found: Sequence[Violation]) -> None:
    """Raise PolicyViolations listing every mandatory violation, as `pulumi up` would stop."""
    mandatory = [v for v in found if v.level == "mandatory"]
    if mandatory:
        lines = "\n".join(f"  - {v}" for v in mandatory)
        raise PolicyViolations(
            f"the policy pack ({PACK.parent}/) refuses what this stack would deploy, as "
            f"`make up` (pulumi up --policy-pack {PACK.parent}) would:\n{lines}"
        )
