"""Run a Pulumi program under ProviderMocks and collect what the engine would receive."""

from __future__ import annotations

import dataclasses
import json
import runpy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from mocks import LOAD_BALANCER_IP, ProviderMocks

from components.problems import Caller, ConfigError, set_caller
from render.engine import Registered, Value, evaluate


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
    program: Callable[[], Mapping[str, Any]],
    preview: bool = False,
    stack: str = "test",
    project: str = "msr-cache",
    cluster: dict[tuple[str, str], dict] | None = None,
    load_balancer: str = LOAD_BALANCER_IP,
) -> Deployment:
    """Run `program` (returning the outputs to observe) with the mocks, in update or preview mode;
    `cluster` holds the objects a `.get` finds, `load_balancer` the address a cloud assigns."""
    mocks = ProviderMocks(preview=preview, cluster=cluster, load_balancer=load_balancer)
    values = evaluate(program, mocks, preview=preview, stack=stack, project=project)
    urns = list(pulumi.runtime.settings.get_monitor().resources)
    return Deployment(mocks.resources, values, urns)


def run_program(
    main: Path,
    project: str,
    config: Mapping[str, Any],
    *,
    stack: str = "test",
    preview: bool = False,
    errors: list | None = None,
    secret_keys: Sequence[str] = (),
) -> Deployment:
    """Run a stack program (its __main__.py) as `pulumi up` would, with `config` as its stack's
    `<project>:*` values (those in `secret_keys` stored encrypted); its `pulumi.export`s are the
    outputs observed.

    With `errors`, a ConfigError is caught and appended to it instead of failing the run."""
    # Pulumi hands the program every value as a string, structured ones as JSON.
    pulumi.runtime.set_all_config(
        {f"{project}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        [f"{project}:{k}" for k in secret_keys],
    )
    exports: dict[str, Any] = {}

    def program() -> dict[str, Any]:
        real_export = pulumi.export
        pulumi.export = lambda name, value: exports.__setitem__(name, value)  # type: ignore[assignment]
        try:
            runpy.run_path(str(main), run_name="__main__")
        except ConfigError as err:
            if errors is None:
                raise
            errors.append(err)
        finally:
            pulumi.export = real_export
        return exports

    try:
        return deploy(program, preview=preview, stack=stack, project=project)
    finally:
        pulumi.runtime.set_all_config({})
        set_caller(Caller.PYTHON)  # a stack program spells keys for stack config
