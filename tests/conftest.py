"""Fixtures shared by the test modules."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def schema() -> Iterator[dict[str, Any]]:
    """The component package's schema, asked of the plugin over gRPC as the Pulumi engine asks."""
    plugin = subprocess.Popen(
        [sys.executable, str(ROOT / "components"), "127.0.0.1:1"],  # as `python <plugin dir>`
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd="/",  # nothing of the repository on sys.path but what the plugin finds itself
        text=True,
    )
    try:
        port = plugin.stdout.readline().strip()  # type: ignore[union-attr]
        assert port.isdigit(), plugin.stderr.read()  # type: ignore[union-attr]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        yield json.loads(response.schema)
    finally:
        plugin.kill()
        plugin.wait()
