"""A registration survives what users do to the resource that holds it: respell MSR's URL or
the cache's, rename the resource, move it under another parent, replace it, run `destroy` from
another program's folder. The Pulumi CLI is not here, so `Engine` plays its part for one
resource as its step generator does (pkg/resource/deploy/step_generator.go): check, then a
create, an update or a replacement (delete-before-replace when the provider asks, else create
first and delete the old one last), and resources the program no longer declares deleted last.
An alias carries a resource's state over to its new URN."""

from __future__ import annotations

import base64
import dataclasses
import os
import pickletools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from harness import ROOT, plugin_channel, run_program
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msr_api import MsrApi
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from test_registration import wire

from components import registration
from components.registration import MsrRegistrationProvider, RegistrationError

TYPE = "pulumi-python:dynamic/msr-cache:MsrRegistration"
PARENT = "msr-cache:index:MsrCache"


def urn(name: str, parent: bool = False) -> str:
    typ = f"{PARENT}${TYPE}" if parent else TYPE
    return f"urn:pulumi:dev::msr-cache::{typ}::{name}"


@dataclasses.dataclass(frozen=True)
class Declared:
    """A registration as a program declares it: its URN, its aliases and inputs."""

    urn: str
    inputs: dict[str, Any]
    aliases: tuple[str, ...] = ()


class Engine:
    """The engine's steps for programs of registrations, against one provider; `state` is what
    the state file holds: URN -> (id, outputs), and the replaced ones waiting for their delete."""

    def __init__(self) -> None:
        self.provider = MsrRegistrationProvider()
        self.state: dict[str, tuple[str, dict[str, Any]]] = {}
        self.pending_deletes: list[tuple[str, dict[str, Any]]] = []

    def up(self, program: list[Declared]) -> None:
        """`pulumi up`: stops at the first failure, as the engine does, keeping what was done."""
        claimed: set[str] = set()
        for declared in program:
            old = next((u for u in (declared.urn, *declared.aliases) if u in self.state), None)
            if old is not None:
                claimed.add(old)
            self._step(declared, old)
        for gone in [u for u in self.state if u not in claimed and u not in
                     {d.urn for d in program}]:  # fmt: skip
            id_, outs = self.state[gone]
            self.provider.delete(id_, outs)
            del self.state[gone]
        while self.pending_deletes:
            id_, outs = self.pending_deletes[0]
            self.provider.delete(id_, outs)
            self.pending_deletes.pop(0)

    def _step(self, declared: Declared, old: str | None) -> None:
        olds = self.state[old][1] if old is not None else {}
        checked = self.provider.check(olds, declared.inputs)
        assert not checked.failures, checked.failures
        news = checked.inputs
        if old is None:
            created = self.provider.create(news)
            self.state[declared.urn] = (created.id, created.outs or {})
            return
        id_, outs = self.state.pop(old)
        self.state[declared.urn] = (id_, outs)  # the alias moves it; nothing is called
        diff = self.provider.diff(id_, outs, news)
        if not diff.changes:
            return
        if not diff.replaces:
            self.state[declared.urn] = (id_, self.provider.update(id_, outs, news).outs or {})
        elif diff.delete_before_replace:
            self.provider.delete(id_, outs)
            del self.state[declared.urn]
            created = self.provider.create(news)
            self.state[declared.urn] = (created.id, created.outs or {})
        else:
            created = self.provider.create(news)  # on failure the old one stays, untouched
            self.state[declared.urn] = (created.id, created.outs or {})
            self.pending_deletes.append((id_, outs))

    def held(self) -> set[str]:
        """The ids of the registrations the state holds (replaced ones not yet deleted too)."""
        return {id_ for id_, _ in self.state.values()} | {i for i, _ in self.pending_deletes}


@pytest.fixture(scope="module")
def msr() -> Iterator[MsrApi]:
    api = MsrApi()
    yield api
    api.close()


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registration, "RETRY_DELAYS", (0.0,) * len(registration.RETRY_DELAYS))


@dataclasses.dataclass(frozen=True)
class Program:
    """What a user edits between runs."""

    name: str = "registration"
    parent: bool = False
    aliases: tuple[str, ...] = ()
    api_url: str = "{ip}"
    host: str = "https://cache.asia.example.com:30443"
    cache_name: str = "asia"
    adopt: bool = False

    def declared(self, msr: MsrApi) -> list[Declared]:
        port = msr.url.rsplit(":", 1)[1]
        api_url = self.api_url.format(ip=f"https://127.0.0.1:{port}",
                                      name=f"https://localhost:{port}",
                                      capitals=f"HTTPS://LOCALHOST:{port}/")  # fmt: skip
        inputs = {"apiUrl": api_url, "username": "admin", "token": msr.state.token,
                  "caCertPem": msr.ca_pem, "name": self.cache_name, "host": self.host,
                  **({"adopt": True} if self.adopt else {})}  # fmt: skip
        return [Declared(urn(self.name, self.parent), inputs, self.aliases)]


def _moved(p: Program, name: str, parent: bool, alias: bool) -> Program:
    aliases = (urn(p.name, p.parent),) if alias else ()
    return dataclasses.replace(p, name=name, parent=parent, aliases=aliases)


# Each edit a user makes: the same MSR and cache spelled another way, a rename or a move (with
# an alias or without), a replacement (another host or name).
EDITS = {
    "apiUrl with a slash": lambda p: dataclasses.replace(p, api_url="{ip}/"),
    "apiUrl by name": lambda p: dataclasses.replace(p, api_url="{name}"),
    "apiUrl by IP": lambda p: dataclasses.replace(p, api_url="{ip}"),
    "apiUrl in capitals": lambda p: dataclasses.replace(p, api_url="{capitals}"),
    "host with :443": lambda p: dataclasses.replace(p, host="https://cache.example.com:443/"),
    "host respelled": lambda p: dataclasses.replace(p, host="https://Cache.Example.com"),
    "another host": lambda p: dataclasses.replace(p, host="https://cache-2.example.com:30443"),
    "another name": lambda p: dataclasses.replace(
        p, cache_name="asia-2" if p.cache_name == "asia" else "asia"
    ),
    "renamed": lambda p: _moved(p, p.name + "-x", p.parent, alias=False),
    "renamed with an alias": lambda p: _moved(p, p.name + "-y", p.parent, alias=True),
    "reparented": lambda p: _moved(p, p.name, not p.parent, alias=False),
    "reparented with an alias": lambda p: _moved(p, p.name, not p.parent, alias=True),
}


def run(
    msr: MsrApi, edits: list[str], program: Program | None = None, lagging: bool = False
) -> tuple[Engine, list[str]]:
    """Deploy, then each edit in turn; after every run, failed or not, MSR holds every
    registration the state holds. Returns the engine and the errors the runs stopped with.
    `lagging`: MSR's list lags behind its deletes, as a replica that has not seen them yet."""
    msr.state.caches.clear()
    msr.state.seen.clear()
    msr.state.ghosts.clear()
    msr.state.lagging = lagging
    engine, errors = Engine(), []
    program = program or Program()
    engine.up(program.declared(msr))
    for edit in edits:
        program = EDITS[edit](program)
        try:
            engine.up(program.declared(msr))
        except RegistrationError as err:
            errors.append(str(err))
        assert engine.held() <= set(msr.state.caches), (edit, engine.state, msr.state.caches)
    return engine, errors


@pytest.mark.parametrize("edit", [e for e in EDITS if "another" not in e])
def test_one_edit_keeps_the_registration_the_state_holds(msr: MsrApi, edit: str) -> None:
    engine, errors = run(msr, [edit])
    assert len(engine.held()) == 1
    # A move without an alias is a new resource, and MSR already has its registration: it is
    # not taken over (the old resource's delete would remove it), and the error says why.
    if edit in ("renamed", "reparented"):
        assert len(errors) == 1 and "keep that name or give an alias" in errors[0]
    else:
        assert errors == []


@pytest.mark.parametrize("edit", ["another host", "another name"])
def test_a_replacement_registers_anew(msr: MsrApi, edit: str) -> None:
    engine, errors = run(msr, [edit])
    assert errors == []
    ((_, outs),) = engine.state.values()
    assert [(c["name"], c["host"]) for c in msr.state.caches.values()] == [
        (outs["name"], outs["host"])
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=5))
def test_no_sequence_of_edits_leaves_msr_without_the_registration_the_state_holds(
    msr: MsrApi, edits: list[str]
) -> None:
    run(msr, edits)


# adopt is not for a move without an alias: the new resource would take over the registration
# the old one holds, and the old one's delete would deregister it (the docs say so).
ADOPTING = sorted(e for e in EDITS if e not in ("renamed", "reparented"))


def test_with_adopt_on_a_replacement_never_holds_the_registration_it_deleted(msr: MsrApi) -> None:
    # MSR by another name is a replacement that keeps the name, so the old registration is
    # deleted first; the list still shows it (a lagging replica) when the new one is created
    # with adopt left on: it is not taken, by its dead id, but registered anew.
    engine, errors = run(msr, ["apiUrl by name"], Program(adopt=True), lagging=True)
    assert errors == []
    assert engine.held() == set(msr.state.caches) and len(msr.state.ghosts) == 1
    assert engine.held().isdisjoint(msr.state.ghosts)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(ADOPTING), min_size=1, max_size=5))
def test_with_adopt_on_and_a_lagging_list_no_edits_hold_a_dead_registration(
    msr: MsrApi, edits: list[str]
) -> None:
    run(msr, edits, Program(adopt=True), lagging=True)


# 6. Moves: the state names the provider by module, and any program that can import it can
# update, refresh or destroy the registration.
REGISTRATION_PROGRAM = '''\
"""A program composing the cache and its registration, in a folder of its own."""

import pulumi

from components import MsrCache
from components.registration import MsrRegistration

cache = MsrCache("asia", {"upstreams": ["https://msr.example.com"],
                          "hosts": ["cache.asia.example.com"], "port": 30443})
config = pulumi.Config()
MsrRegistration("asia-registration", {
    "api_url": config.require("msrUrl"), "username": "admin",
    "token": config.require_secret("msrToken"), "name": "asia", "host": cache.url,
    "ca_cert_pem": config.require("msrCaCert"),
})
'''


def _globals(pickled: str) -> set[str]:
    """The module.name of everything a pickle imports when it is loaded."""
    strings: list[str] = []
    found: set[str] = set()
    for op, arg, _ in pickletools.genops(base64.b64decode(pickled)):
        if isinstance(arg, str):
            strings.append(arg)
        if op.name == "STACK_GLOBAL":
            found.add(".".join(strings[-2:]))
        elif op.name == "GLOBAL":
            found.add(str(arg).replace(" ", "."))
    return found


@pytest.fixture
def composed(tmp_path: Path, msr: MsrApi) -> dict[str, Any]:
    """The composed program run in its folder; the registration's inputs as the engine gets
    them."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "__main__.py").write_text(REGISTRATION_PROGRAM)
    d = run_program(folder / "__main__.py", "fleet",
                    {"msrUrl": msr.url, "msrToken": msr.state.token, "msrCaCert": msr.ca_pem})  # fmt: skip
    return d.one(TYPE).inputs


def test_the_state_names_the_provider_by_its_module(composed: dict[str, Any]) -> None:
    # By reference, not by value (dill pickles a class defined in __main__ with its code): the
    # state holds no copy of the provider's code, so a fixed provider applies to old states.
    assert _globals(composed["__provider"]) == {"components.registration.MsrRegistrationProvider"}


def _host(folder: Path, importable: bool) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if importable:  # as `pip install msr-cache` (or -e <checkout>) in the program's virtualenv
        env["PYTHONPATH"] = str(ROOT)
    return plugin_channel([sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], folder,
                          env)  # fmt: skip


def test_destroy_runs_from_a_composed_program_in_another_folder(
    msr: MsrApi, composed: dict[str, Any], tmp_path: Path
) -> None:
    msr.state.caches.clear()
    with _host(ROOT, importable=True) as channel:  # `pulumi up` from this project
        created = provider_pb2_grpc.ResourceProviderStub(channel).Create(
            provider_pb2.CreateRequest(urn=urn("asia-registration"), properties=wire(composed)),
            timeout=30,
        )
    assert created.id in msr.state.caches
    elsewhere = tmp_path / "fleet"
    delete = provider_pb2.DeleteRequest(
        id=created.id, urn=urn("asia-registration"), properties=created.properties
    )
    # Where `components` cannot be imported the engine cannot load the provider: destroy fails
    # saying so, and the registration (and the state) stay.
    with _host(elsewhere, importable=False) as channel, pytest.raises(grpc.RpcError) as failed:
        provider_pb2_grpc.ResourceProviderStub(channel).Delete(delete, timeout=30)
    assert "No module named 'components'" in failed.value.details()  # type: ignore[attr-defined]
    assert created.id in msr.state.caches
    with _host(elsewhere, importable=True) as channel:
        provider_pb2_grpc.ResourceProviderStub(channel).Delete(delete, timeout=30)
    assert msr.state.caches == {}
    assert rpc.deserialize_properties(created.properties)["apiUrl"] == msr.url
