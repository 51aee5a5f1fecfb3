"""Fixtures shared by the test modules."""

import ast
import gc
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import CERT, KEY, OTHER_KEY, ROOT, plugin_channel
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components.inputs.problems import Caller, set_caller
from render.stack_config import self_signed_pair

_parse = ast.parse


def _parse_between_collections(*args: Any, **kwargs: Any) -> ast.AST:
    """ast.parse with the garbage collector held off while it builds the tree.

    CPython 3.11.7 counts the AST's depth in one counter per interpreter (gh-106905): a parse
    started inside another breaks the outer one's count, and it raises "SystemError: AST
    constructor recursion depth mismatch". A Pulumi program that fails under the mocks leaves
    futures whose exception nobody retrieved; when a collection frees one, in whatever test is
    running then, asyncio logs it with its traceback, and Python 3.11 parses the traceback's
    source lines to place its carets: a collection inside any ast.parse (pytest's reports,
    tests/project/test_layout.py) would fail that test."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


ast.parse = _parse_between_collections

# No deadline per example: speed is measured by `make bench`, never by a test, and an example
# slowed by a busy machine (every core running tests) is not a failure.
hypothesis.settings.register_profile("suite", deadline=None)
hypothesis.settings.load_profile("suite")


@pytest.fixture(scope="session")
def package_provider() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The component package's plugin, started as the Pulumi engine starts it, and a gRPC client
    of it (the engine's side of the ResourceProvider service)."""
    # The engine's address: nothing listens there, so a component that gets as far as
    # registering anything fails (see tests/unit/test_package.py).
    command = [sys.executable, str(ROOT / "components"), "127.0.0.1:1"]  # `python <plugin dir>`
    # cwd /: nothing of the repository on sys.path but what the plugin finds itself.
    with plugin_channel(command, cwd="/") as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


@pytest.fixture(scope="session")
def schema(package_provider: provider_pb2_grpc.ResourceProviderStub) -> dict[str, Any]:
    """The component package's schema, asked of the plugin over gRPC as the Pulumi engine asks."""
    response = package_provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
    return json.loads(response.schema)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every stack of the project and every scenario of tests/render/stacks/, rendered once for the whole
    session as `make render` renders it: {stack: its folder}. Read it, never write to it: the
    validation, checkov, snapshot and policy tests all read the same render."""
    from render.__main__ import render
    from render.stack_config import stacks

    out = tmp_path_factory.mktemp("rendered")
    folders = {}
    for stack_dir in (ROOT, ROOT / "tests" / "render" / "stacks"):
        for stack in sorted(stacks(stack_dir)):
            assert stack not in folders, f"two stacks named {stack}"
            render(stack, out / stack, stack_dir=stack_dir)
            folders[stack] = out / stack
    return folders


@pytest.fixture(autouse=True)
def python_caller() -> Iterator[None]:
    """Each test starts as a Python caller: a stack program run in-process (the render, say)
    makes every later error spell keys for stack config."""
    set_caller(Caller.PYTHON)
    yield
    set_caller(Caller.PYTHON)


@pytest.fixture
def stack_spelling() -> Iterator[None]:
    """For cases written as stack config: errors spell keys as msr-cache:<key>."""
    set_caller(Caller.STACK)
    yield
    set_caller(Caller.PYTHON)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def pki() -> dict[str, str]:
    """A self-signed certificate for cache.example.com, its EC P-256 key and an unrelated key."""
    cert, key = self_signed_pair("node1.example.com", "cache.example.com")
    return {
        CERT: cert,
        KEY: key,
        OTHER_KEY: _pem_key(ec.generate_private_key(ec.SECP256R1())),
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report ends with the log tail of each server still running for it."""
    from servers import RUNNING

    report = yield
    if report.failed:
        for server in RUNNING:
            report.sections.append((f"{server.name} log ({server.log})", server.tail()))
    return report
