"""The MSR registration under the real engine: the Pulumi CLI, its Python language host and
Python's dynamic provider host (`python -m pulumi.dynamic`), against the stand-in of MSR's API
(tests/msr_api.py), with a program of the test's own that declares only the registration, so no
cluster is needed. (`msrApi` of the stack program is tests/engine/test_pulumi_up.py's.)

What this proves that tests/unit/test_registration.py, calling the provider in-process and over
gRPC, cannot: what the engine itself does with the resource. Its import calls the provider's
Read with the id alone, which the dynamic provider host cannot serve (pulumi/pulumi#16175), so
`import_` is refused by MsrRegistration and `adopt` is the way to take a registration over; a
replacement's steps are the engine's own, in its order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from msr_api import MsrApi, Trouble
from pulumi_cli import Project, Stack, program_project, require_tools

pytestmark = pytest.mark.timeout(600)
TYPE = "pulumi-python:dynamic/msr-cache:MsrRegistration"
HOST = "https://cache.asia.example.com:30443"
PROGRAM = """
import pulumi

from components.registration import MsrRegistration

config = pulumi.Config()
import_id = config.get("importId")
made = MsrRegistration(
    "registration",
    {"api_url": config.require("msrUrl"), "username": "admin",
     "token": config.require_secret("msrToken"), "name": "asia", "host": config.require("host"),
     "ca_cert_pem": config.require("msrCaCert"), "adopt": config.get_bool("adopt")},
    opts=pulumi.ResourceOptions(import_=import_id) if import_id else None,
)
pulumi.export("id", made.id)
"""


@pytest.fixture
def msr() -> Iterator[MsrApi]:
    api = MsrApi()
    yield api
    api.close()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    require_tools()
    return program_project(tmp_path, "registration", PROGRAM, {})


def stack(project: Project, msr: MsrApi, **config: Any) -> Stack:
    """A stack of the program against `msr`, with `config` beside what it requires."""
    return project.stack("dev", settings(msr, **config), secrets={"msrToken": msr.state.token})


def settings(msr: MsrApi, **config: Any) -> dict[str, Any]:
    return {"msrUrl": msr.url, "msrCaCert": msr.ca_pem, "host": HOST, **config}


def held(stack: Stack) -> list[str]:
    """The ids of the registrations the stack's state holds."""
    state = stack.run("stack", "export").json()
    resources = state["deployment"].get("resources") or []
    return [r["id"] for r in resources if r["type"] == TYPE]


def test_import_is_refused_by_the_program_and_pulumi_import_fails_in_the_engine(
    project: Project, msr: MsrApi
) -> None:
    registered = msr.state.add("asia", HOST)
    dev = stack(project, msr, importId=registered["id"])
    refused = dev.up(check=False)
    assert refused.code != 0, refused
    assert "MsrRegistration 'registration': ResourceOptions(import_=...) cannot work" in str(
        refused
    ) and "adopt=True (msrApi.adopt: true)" in str(refused)
    assert "Traceback" not in str(refused)  # a RunError: the message alone
    # Without the program, `pulumi import` asks the engine directly, which reads the resource
    # with its id alone: the dynamic provider host cannot load a provider from nothing. When
    # this stops failing, pulumi/pulumi#16175 is fixed and import_ may be given back.
    dev.set_config(settings(msr))
    imported = dev.run("import", TYPE, "registration", registered["id"], "--yes", check=False)
    assert imported.code != 0, imported
    assert "KeyError: '__provider'" in str(imported), imported
    assert msr.state.seen == []  # neither reached MSR
    assert held(dev) == []
    assert msr.state.caches == {registered["id"]: registered}


def test_adopt_takes_over_what_msr_has_through_refresh_and_destroy(
    project: Project, msr: MsrApi
) -> None:
    registered = msr.state.add("asia", HOST.replace("cache", "CACHE"))
    dev = stack(project, msr)
    refused = dev.up(check=False)
    assert refused.code != 0, refused
    assert f"already has content cache 'asia' (id {registered['id']}" in str(refused)
    assert "msrApi.adopt: true" in str(refused)
    assert [s.method for s in msr.state.seen if s.method != "GET"] == []

    dev.set_config(settings(msr, adopt=True))
    dev.up()
    assert dev.outputs()["id"] == registered["id"] and held(dev) == [registered["id"]]
    assert [s.method for s in msr.state.seen if s.method != "GET"] == []  # taken, not posted
    dev.run("refresh", "--yes", "--expect-no-changes")
    dev.destroy()
    assert msr.state.caches == {}


def test_a_replacement_with_adopt_on_and_a_lagging_list_holds_a_live_registration(
    project: Project, msr: MsrApi
) -> None:
    # MSR by another name (localhost, in its certificate) replaces the registration and keeps
    # its name, so the engine deletes the old one first; the list still shows it when the new
    # one is created with adopt on: it is registered anew, not taken by its dead id.
    msr.state.lagging = True
    dev = stack(project, msr, adopt=True)
    dev.up()
    (old,) = held(dev)
    dev.set_config(settings(msr, adopt=True, msrUrl=msr.url.replace("127.0.0.1", "localhost")))
    dev.up()
    (new,) = held(dev)
    assert new != old and list(msr.state.caches) == [new] and list(msr.state.ghosts) == [old]
    dev.destroy()
    assert msr.state.caches == {}


def test_a_post_answered_without_the_registration_still_lands_in_the_state(
    project: Project, msr: MsrApi
) -> None:
    # MSR carried the POST out and answered 201 with an empty body: the lookup that follows
    # finds it, and the state holds it, so destroy removes it.
    msr.state.failures = [None, Trouble(201, commit=True, body=b"")]
    dev = stack(project, msr)
    dev.up()
    assert held(dev) == list(msr.state.caches) and len(msr.state.caches) == 1
    state = json.dumps(dev.run("stack", "export").json())
    assert msr.state.token not in state  # the token is in the state only encrypted
    dev.destroy()
    assert msr.state.caches == {}
