"""The MSR registration provider against a stand-in of MSR's API (tests/msr_api.py), called
in-process and as the engine calls it: `python -m pulumi.dynamic` over gRPC. How a registration
survives the engine's renames, moves and replacements is tests/test_registration_moves.py."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from harness import ROOT, plugin_channel
from msr_api import PATH, MsrApi, Trouble
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components import registration
from components.registration import MsrRegistrationProvider, RegistrationError, normalised_url
from render.stack_config import self_signed_pair

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


def methods(msr: MsrApi) -> list[str]:
    return [s.method for s in msr.state.seen]


def test_create_registers_the_cache_as_the_admin(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    assert msr.state.caches == {created.id: {"id": created.id, "name": "asia", "host": HOST}}
    [post] = [s for s in msr.state.seen if s.method == "POST"]
    assert (post.path, post.body, post.authorization) == (
        PATH, {"name": "asia", "host": HOST}, msr.state.authorization()
    )  # fmt: skip
    assert created.outs == props(msr)  # the token too: delete needs it (a secret output)


# 1. Identity: one spelling of MSR and of the cache, so a respelling is no change.
@pytest.mark.parametrize(("spelled", "one"), [
    ("https://msr.example.com/", "https://msr.example.com"),
    ("https://msr.example.com:443", "https://msr.example.com"),
    ("HTTPS://MSR.Example.COM:443/", "https://msr.example.com"),
    ("https://msr.example.com:8443/", "https://msr.example.com:8443"),
    ("https://[2001:DB8:0::1]:443", "https://[2001:db8::1]"),
    ("https://10.0.0.1:8443", "https://10.0.0.1:8443"),
])  # fmt: skip
def test_urls_have_one_spelling(spelled: str, one: str) -> None:
    assert normalised_url(spelled) == one


@pytest.mark.parametrize("url", [
    "http://msr.example.com",  # the API is https
    "https://msr.example.com/api/v0/content_caches",  # a path: the provider adds it
    "https://msr.example.com/msr",
    "https://msr.example.com?x=1",
    "https://msr.example.com#top",
    "https://admin:pa55w0rd@msr.example.com",  # credentials belong in username and token
    " https://msr.example.com",  # urllib strips it: what is checked must be what is used
    "https://msr.example.com ",
    "https://msr.exa\tmple.com",  # urllib drops tabs and newlines
    "https://msr.example.com\n",
    "https://msr.example.com:",
    "https://msr.example.com:0",
    "https://msr.example.com:65536",
    "https://msr.example.com:https",
    "https://msr_example.com",
    "https://msr.ex\u00e4mple.com",
    "https://[fe80::1%25en0]",
    "https://",
    "msr.example.com",
])  # fmt: skip
def test_urls_msr_could_not_take_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalised_url(url)


@pytest.mark.parametrize(("key", "respelled"), [
    ("apiUrl", "{url}/"),
    ("apiUrl", "{url}".replace("https", "HTTPS")),
    ("host", "https://Cache.Asia.Example.com:30443/"),
])  # fmt: skip
def test_a_respelling_is_no_change(msr: MsrApi, key: str, respelled: str) -> None:
    olds = provider.check({}, props(msr)).inputs
    news = provider.check(olds, props(msr, **{key: respelled.format(url=msr.url)})).inputs
    assert news[key] == olds[key]  # what the state keeps is the one spelling
    assert provider.diff("cc-1", olds, news).changes is False


def test_a_state_written_before_normalisation_is_no_change(msr: MsrApi) -> None:
    olds = props(msr, apiUrl=msr.url + "/", host=HOST.replace("cache", "CACHE"))
    assert provider.diff("cc-1", olds, provider.check(olds, props(msr)).inputs).changes is False


@pytest.mark.parametrize(("change", "replaces", "first_delete"), [
    ({"name": "asia-2"}, ["name"], False),  # both names may exist at once
    ({"host": "https://other.example.com"}, ["host"], True),
    # Maybe the same MSR by another name (its IP): the old one goes first, or the new would be it.
    ({"apiUrl": "https://msr-2.example.com"}, ["apiUrl"], True),
    ({"token": "rotated"}, [], False),
    ({"caCertPem": None}, [], False),
])  # fmt: skip
def test_diff_replaces_on_name_host_or_msr_and_a_kept_name_goes_first(
    msr: MsrApi, change: dict[str, str], replaces: list[str], first_delete: bool
) -> None:
    diff = provider.diff("cc-1", props(msr), props(msr, **change))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (
        True,
        replaces,
        first_delete,
    )
    assert provider.diff("cc-1", props(msr), props(msr)).changes is False


# 2. No silent adoption.
def test_a_registration_msr_already_has_stops_create_naming_its_id_and_host(msr: MsrApi) -> None:
    before = msr.state.add("asia", HOST)
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr))
    message = str(raised.value)
    assert f"already has content cache 'asia' (id {before['id']}, host {HOST})" in message
    assert "msrApi.adopt: true" in message and "alias" in message
    assert methods(msr) == ["GET"]
    assert msr.state.caches == {before["id"]: before}


def test_adopt_takes_over_the_same_name_and_host(msr: MsrApi) -> None:
    before = msr.state.add("asia", HOST.replace("cache", "CACHE") + "/")
    created = provider.create(props(msr, adopt=True))
    assert created.id == before["id"]
    assert methods(msr) == ["GET"]


@pytest.mark.parametrize("adopt", [False, True])
def test_the_same_name_with_another_host_is_refused_naming_both(msr: MsrApi, adopt: bool) -> None:
    msr.state.add("asia", "https://old.example.com")
    with pytest.raises(RegistrationError, match=r"named 'asia' \(id cc-\d+\) with host "
                       r"https://old.example.com, not https://cache.asia.example.com:30443"):  # fmt: skip
        provider.create(props(msr, adopt=adopt))


def test_an_import_reads_the_registration_by_its_id(msr: MsrApi) -> None:
    """`import_` with the id: the engine reads it with the program's inputs (no outputs yet),
    then diffs what it read against them: a match is no change."""
    before = msr.state.add("asia", HOST.replace("cache", "CACHE"))
    inputs = provider.check({}, props(msr)).inputs
    read = provider.read(before["id"], inputs)
    assert read.id == before["id"]
    assert provider.diff(before["id"], read.outs, inputs).changes is False
    assert [s.method for s in msr.state.seen] == ["GET"]


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


# 3. Its own trust: msrApi.caCert adds to the system's CAs.
def test_msr_is_trusted_through_the_system_beside_its_ca(
    msr: MsrApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system trust store (OpenSSL reads SSL_CERT_FILE) holds MSR's CA; caCertPem is another
    # CA (a chained cache's upstream, say): MSR must still be trusted.
    system = tmp_path / "system-cas.pem"
    system.write_text(msr.ca_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(system))
    other_ca, _ = self_signed_pair("central-cache.example.com")
    created = provider.create(props(msr, caCertPem=other_ca))
    assert created.id in msr.state.caches


def test_msr_not_trusted_is_refused_naming_its_ca_option(msr: MsrApi) -> None:
    with pytest.raises(RegistrationError, match=r"TLS failed .*msrApi\.caCert"):
        provider.create(props(msr, caCertPem=None))
    assert msr.state.caches == {}


# 4. Idempotent, bounded retries.
def test_5xx_answers_are_retried(msr: MsrApi) -> None:
    msr.state.failures = [503, 502, 500]
    created = provider.create(props(msr))
    assert created.id in msr.state.caches
    assert len(msr.state.seen) == 5  # three failures, the list, the registration


@pytest.mark.parametrize("trouble", [
    Trouble(503, commit=True),  # MSR registered it, then failed to say so
    Trouble(504, commit=True, delay=0.6),  # ... or answered after the client gave up
], ids=["5xx", "timeout"])  # fmt: skip
def test_a_post_msr_committed_is_looked_up_not_sent_again(
    msr: MsrApi, trouble: Trouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "TIMEOUT", 0.3)
    msr.state.failures = [None, trouble]  # the list answers; the POST is the trouble
    created = provider.create(props(msr))
    assert methods(msr) == ["GET", "POST", "GET"]
    assert list(msr.state.caches) == [created.id]


def test_a_refused_second_post_is_settled_by_what_msr_holds(
    msr: MsrApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first POST was committed but failed; the lookup after it reads a replica that has not
    # seen it yet, so the POST is sent again and MSR refuses the name it has: a second lookup
    # finds the registration, which is this create's.
    lookups: list[Any] = []
    find = registration._Api.find

    def lagging(api: Any, name: str) -> Any:
        lookups.append(found := find(api, name))
        return None if len(lookups) == 2 else found

    monkeypatch.setattr(registration._Api, "find", lagging)
    msr.state.failures = [None, Trouble(503, commit=True)]
    created = provider.create(props(msr))
    assert methods(msr) == ["GET", "POST", "GET", "POST", "GET"]
    assert list(msr.state.caches) == [created.id]


def test_the_last_post_msr_committed_is_found_after_the_retries(msr: MsrApi) -> None:
    # Every POST fails with a 5xx, each lookup between them finds nothing, and the fifth POST
    # was carried out: the lookup after the last attempt finds it.
    msr.state.failures = [None, 503, None, 503, None, 503, None, 503, None,
                          Trouble(503, commit=True)]  # fmt: skip
    created = provider.create(props(msr))
    assert methods(msr) == ["GET", *["POST", "GET"] * 5]
    assert list(msr.state.caches) == [created.id]


def test_429_is_retried_after_its_retry_after(msr: MsrApi, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real = registration.time
    clock = SimpleNamespace(monotonic=real.monotonic, time=real.time, sleep=waits.append)
    monkeypatch.setattr(registration, "time", clock)
    msr.state.failures = [Trouble(429, retry_after="3")]
    created = provider.create(props(msr))
    assert waits == [3.0]
    assert created.id in msr.state.caches
    assert methods(msr) == ["GET", "GET", "POST"]  # a 429 was refused: no lookup needed


def test_a_retry_after_past_the_deadline_fails_at_once(msr: MsrApi) -> None:
    msr.state.failures = [Trouble(429, retry_after=str(int(registration.DEADLINE) + 60))]
    with pytest.raises(RegistrationError, match=r"HTTP 429: MSR asks to wait 120 s, past"):
        provider.create(props(msr))
    assert methods(msr) == ["GET"]


def test_retries_are_bounded_and_name_the_url_and_status(msr: MsrApi) -> None:
    msr.state.failures = [503] * 10
    with pytest.raises(RegistrationError, match=rf"GET {msr.url}{PATH}: HTTP 503, 5 attempts"):
        provider.create(props(msr))
    assert len(msr.state.seen) == 5


class _Clock:
    """time for registration.py: a clock that moves only when the code waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("answers", [
    [],  # MSR never answers: five attempts of the list, 57.5 s
    [[]] * 1,  # the list answers; the POST and every lookup after it time out
    [None, None, None, None, []],  # the list answers at its fifth attempt, at 47.5 s
], ids=["never", "post-hangs", "list-slow-then-post-hangs"])  # fmt: skip
def test_the_worst_case_is_the_deadline(
    monkeypatch: pytest.MonkeyPatch, answers: list[Any]
) -> None:
    """With the real timeout and waits, whatever MSR does, a create gives up within DEADLINE
    (60 s, what docs/operate.md says), not after 157 s; an attempt that would end past it is
    shortened."""
    monkeypatch.setattr(registration, "RETRY_DELAYS", (0.5, 1.0, 2.0, 4.0))
    clock = _Clock()
    monkeypatch.setattr(registration, "time", clock)
    script = list(answers)

    def once(_self: Any, _method: str, _url: str, _body: Any, timeout: float) -> Any:
        answer = script.pop(0) if script else None
        if answer is None:  # no answer: the whole timeout goes by
            clock.now += timeout
            raise TimeoutError("timed out")
        return answer

    monkeypatch.setattr(registration._Api, "_once", once)
    api = {"apiUrl": "https://msr.example.com", "username": "admin", "token": "t",
           "name": "asia", "host": HOST}  # fmt: skip
    with pytest.raises(RegistrationError, match=r"cannot connect \(timed out\)"):
        registration.MsrRegistrationProvider().create(api)
    assert (registration.DEADLINE, registration.TIMEOUT) == (60.0, 10.0)
    assert 50 < clock.now <= registration.DEADLINE


def test_an_unreachable_msr_fails_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there
    with pytest.raises(RegistrationError, match=r"cannot connect .*, 5 attempts"):
        provider.create(
            {"apiUrl": url, "username": "admin", "token": "t", "name": "a", "host": HOST}
        )


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


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("apiUrl", "http://msr.example.com", "https:// URL"),
    ("apiUrl", "https://admin:pa55w0rd@msr.example.com", "or credentials"),
    ("apiUrl", "http://admin:pa55w0rd@msr.example.com", "or credentials"),
    ("apiUrl", "https://msr.example.com/api/v0/content_caches", "the provider adds"),
    ("host", "cache.example.com", "https:// URL"),
    ("name", "", "non-empty"),
    ("caCertPem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n", "PEM text"),
    ("adopt", "yes", "true or false"),
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


def wire(values: dict[str, Any]) -> struct_pb2.Struct:
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
    checked = dynamic_host.Check(
        provider_pb2.CheckRequest(urn=URN, news=wire(props(msr, apiUrl=msr.url + "/"))),
        timeout=30,
    )
    assert not checked.failures
    assert rpc.deserialize_properties(checked.inputs)["apiUrl"] == msr.url
    created = dynamic_host.Create(
        provider_pb2.CreateRequest(urn=URN, properties=checked.inputs), timeout=30
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
        urn=URN, properties=wire(props(msr, token="wrong-token-value"))
    )
    with pytest.raises(grpc.RpcError) as raised:
        dynamic_host.Create(request, timeout=30)
    details = raised.value.details()  # type: ignore[attr-defined]
    assert "RegistrationError: MSR at" in details and "refused user 'admin' (HTTP 401)" in details
    assert "wrong-token-value" not in details
