"""The MSR registration provider against a stand-in of MSR's API (tests/msr_api.py), called
in-process and as the engine calls it: `python -m pulumi.dynamic` over gRPC."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from harness import ROOT, plugin_channel
from msr_api import PATH, MsrApi
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components import registration
from components.registration import MsrRegistrationProvider, RegistrationError

HOST = "https://cache.asia.example.com:30443"
provider = MsrRegistrationProvider()


@pytest.fixture
def msr() -> Iterator[MsrApi]:
    api = MsrApi()
    yield api
    api.close()


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their waits (the count of attempts is what is tested)."""
    monkeypatch.setattr(registration, "RETRY_DELAYS", (0.0,) * len(registration.RETRY_DELAYS))


def props(msr: MsrApi, **changes: Any) -> dict[str, Any]:
    return {"apiUrl": msr.url, "username": "admin", "token": msr.state.token,
            "caCertPem": msr.ca_pem, "name": "asia", "host": HOST, **changes}  # fmt: skip


def test_create_registers_the_cache_as_the_admin(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    assert msr.state.caches == {created.id: {"id": created.id, "name": "asia", "host": HOST}}
    [post] = [s for s in msr.state.seen if s.method == "POST"]
    assert (post.path, post.body, post.authorization) == (
        PATH, {"name": "asia", "host": HOST}, msr.state.authorization()
    )  # fmt: skip
    assert created.outs == props(msr)  # the token too: delete needs it (a secret output)


def test_create_adopts_the_same_registration_made_before(msr: MsrApi) -> None:
    before = msr.state.add("asia", HOST)
    created = provider.create(props(msr))
    assert created.id == before["id"]
    assert [s.method for s in msr.state.seen] == ["GET"]


def test_the_same_name_with_another_host_is_refused_naming_both(msr: MsrApi) -> None:
    msr.state.add("asia", "https://old.example.com")
    with pytest.raises(RegistrationError, match=r"'asia' with host https://old.example.com, not "
                       r"https://cache.asia.example.com:30443"):  # fmt: skip
        provider.create(props(msr))


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_error_without_the_token(msr: MsrApi, status: int) -> None:
    msr.state.failures = [status]
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr))
    message = str(raised.value)
    assert f"refused user 'admin' (HTTP {status})" in message and msr.url in message
    assert msr.state.token not in message


def test_a_wrong_token_is_refused_by_msr(msr: MsrApi) -> None:
    with pytest.raises(RegistrationError, match="HTTP 401") as raised:
        provider.create(props(msr, token="wrong-token-value"))
    assert "wrong-token-value" not in str(raised.value)


def test_5xx_answers_are_retried(msr: MsrApi) -> None:
    msr.state.failures = [503, 502, 500]
    created = provider.create(props(msr))
    assert created.id in msr.state.caches
    assert len(msr.state.seen) == 5  # three failures, the list, the registration


def test_retries_are_bounded_and_name_the_url_and_status(msr: MsrApi) -> None:
    msr.state.failures = [503] * 10
    with pytest.raises(RegistrationError, match=rf"GET {msr.url}{PATH}: HTTP 503, 5 attempts"):
        provider.create(props(msr))
    assert len(msr.state.seen) == 5


def test_an_unreachable_msr_fails_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there
    with pytest.raises(RegistrationError, match=r"cannot connect .*, 5 attempts"):
        provider.create(
            {"apiUrl": url, "username": "admin", "token": "t", "name": "a", "host": HOST}
        )


def test_msr_is_trusted_only_through_its_ca(msr: MsrApi) -> None:
    with pytest.raises(RegistrationError, match=r"TLS failed .*caCertPem"):
        provider.create(props(msr, caCertPem=None))
    assert msr.state.caches == {}


def test_read_finds_the_registration_and_notices_it_gone(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    assert provider.read(created.id, props(msr)).id == created.id
    msr.state.caches.clear()  # deregistered in MSR's UI
    assert provider.read(created.id, props(msr)).id is None


def test_delete_deregisters_and_tolerates_a_registration_already_gone(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    provider.delete(created.id, props(msr))
    assert msr.state.caches == {}
    provider.delete(created.id, props(msr))  # a 404 is what delete wanted


@pytest.mark.parametrize(("change", "replaces", "first_delete"), [
    ({"name": "asia-2"}, ["name"], False),
    ({"host": "https://other.example.com"}, ["host"], True),
    ({"apiUrl": "https://msr-2.example.com"}, ["apiUrl"], False),
    ({"token": "rotated"}, [], False),
])  # fmt: skip
def test_diff_replaces_on_name_host_or_msr(
    msr: MsrApi, change: dict[str, str], replaces: list[str], first_delete: bool
) -> None:
    diff = provider.diff("cc-1", props(msr), props(msr, **change))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (
        True,
        replaces,
        first_delete,
    )
    assert provider.diff("cc-1", props(msr), props(msr)).changes is False


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("apiUrl", "http://msr.example.com", "https:// URL"),
    ("apiUrl", "https://admin:pa55w0rd@msr.example.com", "without credentials"),
    ("apiUrl", "http://admin:pa55w0rd@msr.example.com", "without credentials"),
    ("host", "cache.example.com", "https:// URL"),
    ("name", "", "non-empty"),
])  # fmt: skip
def test_check_refuses_what_msr_could_not_take(
    msr: MsrApi, key: str, value: str, reason: str
) -> None:
    failures = provider.check({}, props(msr, **{key: value})).failures
    assert [(f.property, reason in f.reason) for f in failures] == [(key, True)]
    assert "pa55w0rd" not in failures[0].reason


# As the engine runs it: `python -m pulumi.dynamic` in the program's directory, over gRPC.
@pytest.fixture(scope="module")
def dynamic_host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with plugin_channel(
        [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], ROOT
    ) as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


def _wire(values: dict[str, Any]) -> struct_pb2.Struct:
    """The properties as the engine sends them, the provider serialized among them."""
    props = {"__provider": serialize_provider(MsrRegistrationProvider()), **values}
    # A loop of its own: asyncio.run would leave this thread without the loop the Pulumi mocks
    # of later tests use.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


URN = "urn:pulumi:dev::msr-cache::pulumi-python:dynamic/msr-cache:MsrRegistration::registration"


def test_the_engine_creates_and_deletes_through_the_dynamic_provider_host(
    msr: MsrApi, dynamic_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    # The host is another process: it waits between retries as users' runs do, so no failures.
    created = dynamic_host.Create(
        provider_pb2.CreateRequest(urn=URN, properties=_wire(props(msr))), timeout=30
    )
    assert msr.state.caches[created.id]["host"] == HOST
    outs = rpc.deserialize_properties(created.properties)
    assert outs["token"] == msr.state.token
    dynamic_host.Delete(
        provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=created.properties),
        timeout=30,
    )
    assert msr.state.caches == {}


def test_through_the_engine_a_refused_token_stays_out_of_the_error(
    msr: MsrApi, dynamic_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    request = provider_pb2.CreateRequest(
        urn=URN, properties=_wire(props(msr, token="wrong-token-value"))
    )
    with pytest.raises(grpc.RpcError) as raised:
        dynamic_host.Create(request, timeout=30)
    details = raised.value.details()  # type: ignore[attr-defined]
    assert "RegistrationError: MSR at" in details and "refused user 'admin' (HTTP 401)" in details
    assert "wrong-token-value" not in details
