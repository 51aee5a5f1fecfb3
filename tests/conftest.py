"""Fixtures shared by the test modules."""

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components.problems import Caller, set_caller

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def package_provider() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The component package's plugin, started as the Pulumi engine starts it, and a gRPC client
    of it (the engine's side of the ResourceProvider service)."""
    # The engine's address: nothing listens there, so a component that gets as far as
    # registering anything fails (see tests/test_package.py).
    command = [sys.executable, str(ROOT / "components"), "127.0.0.1:1"]  # `python <plugin dir>`
    # stderr to a file, not a pipe: a full pipe would block the plugin.
    with tempfile.TemporaryFile(mode="w+") as stderr:
        plugin = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd="/",  # nothing of the repository on sys.path but what the plugin finds itself
            text=True,
        )
        try:
            port = plugin.stdout.readline().strip()  # type: ignore[union-attr]
            if not port.isdigit():
                plugin.wait(timeout=30)
                stderr.seek(0)
                pytest.fail(f"the plugin did not start:\n{stderr.read()}")
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield provider_pb2_grpc.ResourceProviderStub(channel)
        finally:
            plugin.kill()
            plugin.wait()


@pytest.fixture(scope="session")
def schema(package_provider: provider_pb2_grpc.ResourceProviderStub) -> dict[str, Any]:
    """The component package's schema, asked of the plugin over gRPC as the Pulumi engine asks."""
    response = package_provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
    return json.loads(response.schema)


@pytest.fixture(autouse=True)
def python_caller() -> Iterator[None]:
    """Each test starts as a Python caller: a stack program run in-process (the render, say)
    makes every later error spell keys for stack config."""
    set_caller(Caller.PYTHON)
    yield
    set_caller(Caller.PYTHON)
