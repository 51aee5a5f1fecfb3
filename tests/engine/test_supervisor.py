"""tests/supervisor.py: what the tests start ends with them, however they end.

Each test marks the processes it starts with an environment variable of its own, which every
process started beneath them inherits, whatever group or session it moves to; "nothing left" is
then read from /proc, not from what the supervisor says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from harness import ROOT
from pulumi_cli import Project, require_tools
from supervisor import GRACE, Supervised

MARK = "MSR_CACHE_TEST_MARK"
# A shell that leaves a daemon behind: `setsid` puts it in a session (and group) of its own, out
# of reach of a signal to the command's group.
DAEMON = "setsid sleep 1000 &"


@pytest.fixture
def mark() -> Iterator[str]:
    value = uuid.uuid4().hex
    yield value
    for pid in marked(value):  # a failed test's leftovers, so that they do not outlive it
        os.kill(pid, signal.SIGKILL)


def marked(value: str) -> list[int]:
    """The processes whose environment holds MARK=value (zombies have none: they are gone)."""
    found = []
    needle = f"{MARK}={value}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


def env(mark: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], MARK: mark}


def wait_until(probe, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.05)
    return probe()


def test_a_worker_killed_with_sigkill_leaves_none_of_what_it_started(mark: str) -> None:
    # A stand-in for an xdist worker: it starts a command under a supervisor, as the tests
    # start servers, and is then killed as a worker is when it crashes or is cancelled.
    worker_code = (
        "import sys, time\n"
        "from supervisor import Supervised\n"
        f"server = Supervised(['sh', '-c', {DAEMON + ' sleep 1000'!r}], env={env(mark)!r})\n"
        "print('started', flush=True)\n"
        "time.sleep(1000)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", worker_code],
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert worker.stdout is not None and worker.stdout.readline() == "started\n"
    # The supervisor, the shell, its sleep and the daemon.
    assert wait_until(lambda: len(marked(mark)) == 4, 10), marked(mark)
    worker.kill()
    worker.wait()
    assert wait_until(lambda: not marked(mark), GRACE + 5), f"left running: {marked(mark)}"


def test_what_a_command_leaves_running_is_stopped_when_it_exits(mark: str) -> None:
    command = Supervised(
        ["sh", "-c", f"{DAEMON} echo started"], env=env(mark), stdout=subprocess.PIPE, text=True
    )
    stdout, _ = command.communicate(timeout=GRACE + 10)
    assert (stdout, command.returncode) == ("started\n", 0)
    assert not marked(mark)


def test_stop_ends_the_command_and_all_it_started_and_reports_its_signal(mark: str) -> None:
    command = Supervised(["sh", "-c", f"sleep 1000 & {DAEMON} wait"], env=env(mark))
    assert wait_until(lambda: len(marked(mark)) == 4, 10), marked(mark)
    command.stop()
    assert not marked(mark)
    assert command.returncode == -signal.SIGTERM


@pytest.mark.parametrize(
    ("script", "code"), [("exit 3", 3), ("kill -KILL $$", -signal.SIGKILL), ("true", 0)]
)
def test_the_command_exit_status_comes_through_the_supervisor(script: str, code: int) -> None:
    assert Supervised(["sh", "-c", script]).wait(GRACE + 10) == code


def test_a_command_that_cannot_start_says_so(tmp_path: Path) -> None:
    command = Supervised([str(tmp_path / "no-such-tool")], stderr=subprocess.PIPE, text=True)
    _, stderr = command.communicate(timeout=10)
    assert command.returncode == 127
    assert "cannot run" in stderr and "no-such-tool" in stderr


def test_with_stay_the_daemons_of_a_command_that_succeeded_run_until_stopped(mark: str) -> None:
    command = Supervised(["sh", "-c", DAEMON], env=env(mark), stay=True)
    # The shell is gone; its daemon and the supervisor stay.
    assert wait_until(lambda: len(marked(mark)) == 2, 10), marked(mark)
    time.sleep(0.3)
    assert command.poll() is None
    assert len(marked(mark)) == 2
    command.stop()
    assert not marked(mark)
    assert command.returncode == 0  # the shell's own


def test_with_stay_a_command_that_failed_takes_its_daemons_with_it(mark: str) -> None:
    command = Supervised(["sh", "-c", f"{DAEMON} exit 4"], env=env(mark), stay=True)
    assert command.wait(GRACE + 10) == 4
    assert not marked(mark)


def test_a_pulumi_run_cut_short_leaves_none_of_its_plugins(tmp_path: Path, mark: str) -> None:
    # The CLI starts each plugin in a process group of its own, so the harness's old SIGKILL to
    # the CLI's group left the language host and its program running (tests/engine/pulumi_cli.py).
    require_tools()
    source = tmp_path / "source"
    source.mkdir()
    runtime = {"name": "python", "options": {"virtualenv": str(ROOT / ".venv")}}
    (source / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "slow", "runtime": runtime}))
    (source / "__main__.py").write_text("import time\ntime.sleep(1000)\n")
    project = Project(tmp_path / "project", source, env={MARK: mark})
    project.pulumi("stack", "init", "slow", "--secrets-provider", "passphrase")
    with pytest.raises(AssertionError, match="still running after 10s"):
        project.pulumi("up", "--yes", "--skip-preview", "--stack", "slow", timeout=10)
    assert not marked(mark)
