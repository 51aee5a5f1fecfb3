"""Run a Pulumi program under ProviderMocks and collect what the engine would receive."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from mocks import ProviderMocks, Registered


@dataclasses.dataclass(frozen=True)
class Value:
    """An output as the engine would see it."""

    value: Any
    known: bool
    secret: bool


@dataclasses.dataclass
class Deployment:
    """What a program registered and what its outputs resolved to."""

    resources: list[Registered]
    outputs: dict[str, Value]
    urns: list[str]

    def all(self, typ: str) -> list[Registered]:
        """Every resource of a type token, e.g. 'kubernetes:core/v1:Secret'."""
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str) -> Registered:
        """The one resource of a type token."""
        found = self.all(typ)
        assert len(found) == 1, f"{len(found)} resources of type {typ}"
        return found[0]

    def kinds(self) -> list[str]:
        """The Kubernetes kinds registered, in order."""
        return [
            r.inputs["kind"]
            for r in self.resources
            if r.typ.startswith("kubernetes:") and "kind" in r.inputs
        ]


def deploy(
    program: Callable[[], Mapping[str, Any]], preview: bool = False, stack: str = "test"
) -> Deployment:
    """Run `program` (returning the outputs to observe) with the mocks, in update or preview mode."""
    mocks = ProviderMocks(preview=preview)
    pulumi.runtime.set_mocks(mocks, project="msr-cache", stack=stack, preview=preview)
    values: dict[str, Value] = {}

    async def run() -> None:
        for key, output in program().items():
            out = pulumi.Output.from_input(output)
            known = await out.is_known()
            values[key] = Value(
                value=await out.future() if known else None,
                known=known,
                secret=await out.is_secret(),
            )

    pulumi.runtime.test(run)()
    urns = list(pulumi.runtime.settings.get_monitor().resources)
    return Deployment(mocks.resources, values, urns)
