"""Run a Pulumi program under the SDK's mock monitor, with the providers a render stands in for
(render/provider_mocks.py), and hand back its outputs as the engine sees them."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from .provider_mocks import RenderProviders


@dataclasses.dataclass(frozen=True)
class Value:
    """An output as the engine would see it."""

    value: Any
    known: bool
    secret: bool


class _Monitor(MockMonitor):
    """The SDK's mock monitor, handing the providers the resource options of each registration
    that decide a replacement, which its MockResourceArgs leave out."""

    def __init__(self, providers: RenderProviders) -> None:
        super().__init__(providers)
        self.providers = providers

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        key = (str(request.type), str(request.name))
        self.providers.options[key] = [str(path) for path in request.replaceOnChanges]
        return super().RegisterResource(request)  # pyright: ignore[reportUnknownMemberType]


def evaluate(
    program: Callable[[], Mapping[str, Any]],
    providers: RenderProviders,
    *,
    preview: bool = False,
    project: str = "msr-cache",
    stack: str = "dev",
    logger: logging.Logger | None = None,
) -> dict[str, Value]:
    """Run `program` under the mock monitor; return the outputs it hands back, as the engine sees them.
    What the program logs (pulumi.log.warn, ...) goes to `logger` (default the root logger)."""
    pulumi.runtime.set_mocks(
        providers,
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=_Monitor(providers),
    )
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

    # pulumi.runtime.test (which awaits what `run` leaves pending) has no annotations.
    pulumi.runtime.test(run)()  # pyright: ignore[reportUnknownMemberType]
    return values
