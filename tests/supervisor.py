"""Every process the tests start ends with the test process that started it, however that ends.

`Supervised` is `subprocess.Popen` with a supervisor in between: this file, run as a script

    python -I -S tests/supervisor.py LIFELINE [--stay] -- COMMAND [ARG...]

in a session (and process group) of its own, which starts COMMAND and then stops it, and every
process started beneath it, when one of these happens:
- the lifeline breaks: LIFELINE is the read end of a pipe whose only write end the test process
  holds, so it reads end-of-file when that process closes it (`stop()`) or dies, SIGKILL included
  (the kernel closes a dead process's files); an xdist worker killed takes its servers with it;
- it gets SIGTERM, SIGINT or SIGHUP (`stop()` signals the whole group: it and COMMAND);
- COMMAND exits: what it left running is ended then. With --stay (a command that starts daemons
  and returns, as `kwokctl create cluster` does), only if it failed: if it succeeded, its daemons
  are what is supervised, until one of the above. A process left behind would also keep open
  the stdout pipe the test reads, and the test waiting (a Pulumi CLI killed leaves its plugins:
  tests/engine/pulumi_cli.py says which, and why).

Why a supervisor and not PR_SET_PDEATHSIG on each child: a death signal reaches only the process
it is set on and is not inherited, while the commands start processes of their own, in groups or
sessions of their own (the CLI puts each plugin in a process group of its own, pulumi/sdk
`go/common/util/cmdutil/child_unix.go` RegisterProcessGroup; kwokctl starts each component with
setsid). It is also tied to the *thread* that forked, and setting it in the test process would
take a preexec_fn, which is unsafe while other threads run (grpc's do). The supervisor is a
child subreaper (PR_SET_CHILD_SUBREAPER, Linux 3.4): a process beneath it whose parent exits is
re-parented to it rather than to init, so it finds every one of them by walking /proc from
itself, whatever group or session they moved to. Its own child has a death signal (set in this
single-threaded process), so even a supervisor killed with SIGKILL takes COMMAND with it.

It exits as COMMAND did (its code, or killed by the same signal), so `returncode` reads as if
there were no supervisor. Standard library only, started with -I -S: it costs a bare interpreter.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
# How long the processes get to exit on SIGTERM before SIGKILL, in the supervisor; the test side
# waits a little longer before it kills the group itself.
GRACE = 5.0
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Supervised(subprocess.Popen[Any]):
    """`subprocess.Popen(command, **options)`, with the supervisor above between the test and
    the command: the command and all it starts end when `stop()` is called, when the command
    exits (with `stay`, only if it fails), or when this process dies. `pid` is the supervisor's,
    which leads the process group; `returncode` is the command's."""

    def __init__(self, command: Sequence[str], *, stay: bool = False, **options: Any) -> None:
        read, self.lifeline = os.pipe()  # both ends are not inherited: only `read` is passed
        supervisor = [sys.executable, "-I", "-S", str(SCRIPT), str(read)]
        try:
            super().__init__(
                [*supervisor, *(["--stay"] if stay else []), "--", *command],
                pass_fds=(read,), start_new_session=True, **options,
            )  # fmt: skip
        except BaseException:
            self._close_lifeline()
            raise
        finally:
            os.close(read)

    def stop(self, timeout: float = GRACE + 5) -> None:
        """SIGTERM to the whole group (the supervisor and the command), then the supervisor
        ends whatever else is left (SIGKILL after GRACE); SIGKILL to the group if it is still
        there after `timeout`. Waits until the supervisor has exited."""
        if self.poll() is None:
            self._signal_group(signal.SIGTERM)
            self._close_lifeline()
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.wait(timeout)
        self._close_lifeline()

    def _signal_group(self, sig: signal.Signals) -> None:
        # Already gone (or a zombie whose group is empty).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def _close_lifeline(self) -> None:
        if self.lifeline >= 0:
            os.close(self.lifeline)
            self.lifeline = -1

    def wait(self, timeout: float | None = None) -> int:
        """Popen.wait; the lifeline is closed once the supervisor has exited."""
        code = super().wait(timeout)
        self._close_lifeline()
        return code

    def __del__(self) -> None:
        if getattr(self, "lifeline", -1) >= 0:
            os.close(self.lifeline)  # the supervisor then ends the command, if it still runs
        super().__del__()


# -- the supervisor itself (run as a script) --------------------------------------------------


def descendants(root: int) -> list[tuple[int, str]]:
    """Every process below `root`, found through /proc's parent links: (pid, state letter)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # gone meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses: split after the
        # last ')'.
        state, ppid = text[text.rindex(b")") + 2 :].split()[:2]
        children.setdefault(int(ppid), []).append((int(entry), state.decode()))
    found: list[tuple[int, str]] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def reap(command: int, status: list[int]) -> None:
    """Collect every exited child (orphans re-parented here included); COMMAND's exit code
    goes to `status`."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == command:
            status.append(os.waitstatus_to_exitcode(wait_status))


def end_all(command: int, status: list[int]) -> None:
    """SIGTERM to every process below this one, SIGKILL after GRACE, until none is left."""
    me = os.getpid()
    deadline = time.monotonic() + GRACE
    signalled: set[int] = set()
    while True:
        reap(command, status)
        alive = [pid for pid, state in descendants(me) if state not in "ZX"]
        if not alive:
            return
        late = time.monotonic() > deadline
        for pid in alive:
            if late or pid not in signalled:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
                signalled.add(pid)
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    lifeline = int(argv[0])
    split = argv.index("--")
    stay = "--stay" in argv[1:split]
    command = argv[split + 1 :]
    os.set_inheritable(lifeline, False)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"supervisor: prctl: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 126
    stop: list[int] = []
    for sig in STOPPING:
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    me = os.getpid()

    def die_with_supervisor() -> None:  # in the child, before exec: this process is 1-threaded
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != me:  # the supervisor died before the death signal was set
            os._exit(1)

    try:
        child = subprocess.Popen(command, preexec_fn=die_with_supervisor)
    except OSError as err:
        print(f"supervisor: cannot run {command[0]}: {err}", file=sys.stderr)
        return 127
    status: list[int] = []
    while not stop:
        reap(child.pid, status)
        if status and (not stay or status[0] != 0):
            break
        ready, _, _ = select.select([lifeline], [], [], 0.1)
        if ready and not os.read(lifeline, 1):
            break  # end of file: the test process closed it, or died
    end_all(child.pid, status)
    code = status[0] if status else 128 + signal.SIGKILL
    if code < 0:  # killed by a signal: end the same way, so the test sees what it would have
        if -code != signal.SIGKILL:
            signal.signal(-code, signal.SIG_DFL)
        os.kill(me, -code)
        time.sleep(1)  # a signal whose default is to be ignored (SIGCHLD...) falls through
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
