"""The servers the tests start (tests/registry/servers.py): a missing tool skips where it may, and fails
under CI; a port is a server's own only when it listens there, and one taken by another process
between the pick and the bind is picked again; a plugin's port is awaited for a bounded time."""

import os
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import servers
from harness import plugin_channel
from pod import free_port
from servers import RUNNING, Moto, PortTaken, Process, on_free_ports, require, running


def test_a_missing_tool_skips_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no-such-registry not installed: .*apt-get"):
        require("no-such-registry")


def test_under_ci_a_missing_tool_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-such-registry not installed"):
        require("no-such-registry")


def http_server(root: Path, port: int) -> Process:
    """Python's own HTTP server on 127.0.0.1:port, as a server the tests start."""
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    process = Process("http", command, {"PATH": os.environ["PATH"]}, root / "http.log")
    process.wait_for(port)
    return process


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something else (here, this test) listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_a_port_another_process_listens_on_is_not_taken_for_the_servers(
    tmp_path: Path, taken: int
) -> None:
    # Something answers on the port, but not this server: it exits, saying the address is in use.
    with pytest.raises(PortTaken, match="address was in use"):
        http_server(tmp_path, taken)
    assert not any(p.name == "http" for p in RUNNING)


def test_a_server_that_found_its_port_taken_starts_again_on_another(
    tmp_path: Path, taken: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under xdist: the first port picked was free when picked, and bound by another worker
    # before the server bound it.
    picks = iter([taken])
    monkeypatch.setattr(servers, "free_port", lambda: next(picks, None) or free_port())
    with running(on_free_ports(1, lambda ports: http_server(tmp_path, ports[0]))) as server:
        (port,) = server.listening()
        assert port != taken
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            assert answer.status == 200


def test_moto_binds_a_port_of_its_own_choosing_and_says_which(tmp_path: Path) -> None:
    with running(Moto(tmp_path, setup_actions=0)) as moto:
        assert moto.listening() == {moto.port}
        with urllib.request.urlopen(f"{moto.url}/moto-api/", timeout=10) as answer:
            assert answer.status == 200


def test_a_plugin_that_prints_no_port_fails_the_test_in_time(tmp_path: Path) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(1000)"]
    started = time.monotonic()
    with (
        pytest.raises(pytest.fail.Exception, match="printed no port within 1"),
        plugin_channel(silent, cwd=tmp_path, timeout=1),
    ):
        pass
    assert time.monotonic() - started < 15  # the timeout and the plugin's stop, not a hang
