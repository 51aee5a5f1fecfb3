"""A fleet's command run over every cache's stack with Pulumi's Automation API, on this project's
own program: each cache is a stack of the project in `root`, in a LocalWorkspace of its own.

The fleet is checked first (`fleet.check`: nothing is touched when it raises FleetError). Then:
`up` in waves (the caches a cache pulls from first; a canary alone before them), `destroy` in
the waves reversed, `preview`, `drift` (a refresh preview) and `status` of every cache at once;
at most `concurrency` stacks at a time. A cache that fails stops only those that depend on it.

Interrupted (SIGINT, SIGTERM), the fleet starts no more stacks and interrupts each running CLI
once, which cancels its update as a Ctrl-C does: it lets the resource operations under way
finish, writes the state and releases the stack's lock; a second interrupt is passed on too, and
the CLI then stops at once. Each CLI runs in a process group of its own, so a terminal's Ctrl-C
reaches the fleet alone, which passes it on exactly once. Automation API's `Stack.cancel` is
`pulumi cancel`: on the file backend it deletes the stack's lock files and stops nothing (pulumi
v3.274.0 pkg/backend/diy/backend.go, CancelCurrentUpdate; tried: the update ran to its end
and then failed to delete its lock), so it is run only for a CLI an interrupt killed before it
could handle it (before its cancellation scope, pkg/backend/cancellation_scope.go, existed), which
leaves its lock behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import IO, Any, Literal, cast

from pulumi import automation as auto
from pulumi.automation import CommandResult, OnOutput
from pulumi.automation import errors as auto_errors
from semver import VersionInfo

from render.__main__ import ROOT
from render.stack_config import stand_in_ca

from . import stack_files
from .check import Checked, check
from .spec import CA_KEY, Cache, Fleet, FleetError
from .summary import SECRET, Outcome, Status, Summary, changes_text

__all__ = ["ROOT", "Command", "Outcome", "Status", "Summary", "run"]

Command = Literal["preview", "up", "drift", "destroy", "status"]
COMMANDS: tuple[Command, ...] = ("preview", "up", "drift", "destroy", "status")
SHOWN_OUTPUTS = ("url", "certExpiresAt", "caExpiresAt")
NOT_STARTED = "not started: interrupted"
# The CLI's subcommands that lock a stack or run its program: none starts once interrupted.
_OPERATIONS = {"up", "preview", "refresh", "destroy"}
_REASON_LINES = 20
_COLOR_TAG = re.compile(r"<\{%[^%]*%\}>|\x1b\[[0-9;]*m")
_KINDS = {"update": "up", "destroy": "destroy", "refresh": "refresh", "import": "import"}


class NoCli(Exception):
    """No Pulumi CLI the fleet can run."""


class NotStarted(Exception):
    """An operation the fleet did not start, as it was interrupted."""


class Cli(auto.PulumiCommand):
    """The Pulumi CLI for the Automation API (`pulumi_command`), each run in a process group of
    its own, which `interrupt` reaches; the last failed run of each thread is kept, as the
    Automation API's CommandError keeps only its text.

    Its contract is PulumiCommand.run's (pulumi 3.272 automation/_cmd.py): `--non-interactive`
    first, PULUMI_AUTOMATION_API set, the CLI's own folder first on PATH (where the language
    host and providers built beside it are), each line to the callbacks, and the SDK's
    CommandError for a non-zero exit (create_command_error, which names a missing stack)."""

    def __init__(self, path: str) -> None:
        # Not PulumiCommand.__init__: it runs `pulumi` from this process's PATH, not `path`.
        self.command = path
        said = subprocess.run(
            [path, "version"], capture_output=True, text=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        )  # fmt: skip
        try:
            self.version = VersionInfo.parse(said.stdout.strip().removeprefix("v"))
        except ValueError:
            shown = (said.stdout + said.stderr).strip()
            raise NoCli(f"`{path} version` printed {shown!r}, which is no version") from None
        self._lock = threading.RLock()  # an interrupt's handler takes it in the main thread
        self._running: set[subprocess.Popen[str]] = set()
        self._local = threading.local()
        self.interrupts = 0

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        args = args if "--non-interactive" in args else ["--non-interactive", *args]
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        env["PATH"] = os.pathsep.join([str(Path(self.command).parent), env.get("PATH", "")])
        operation = _subcommand(args) in _OPERATIONS
        with self._lock:
            if self.interrupts and operation:
                raise NotStarted(" ".join(args[:2]))
            process = subprocess.Popen(
                [self.command, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                errors="replace", process_group=0,
            )  # fmt: skip
            if operation:
                self._running.add(process)
        try:
            stdout, stderr = _pumped(process, on_output, on_error)
        finally:
            with self._lock:
                self._running.discard(process)
        result = CommandResult(stdout, stderr, process.returncode)
        if result.code != 0:
            self._local.failure = result
            raise auto_errors.create_command_error(result)
        return result

    def last_failure(self) -> CommandResult | None:
        """This thread's last failed run."""
        return cast(CommandResult | None, getattr(self._local, "failure", None))

    def interrupt(self) -> None:
        """SIGINT to every running operation (up, preview, refresh, destroy), which the CLI
        cancels; none starts after it. Other runs (stack select, config set, stack output) are
        short and left to end."""
        with self._lock:
            self.interrupts += 1
            for process in self._running:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)


def _subcommand(args: Sequence[str]) -> str:
    return next((a for a in args if not a.startswith("-")), "")


def _pumped(
    process: subprocess.Popen[str], on_output: OnOutput | None, on_error: OnOutput | None
) -> tuple[str, str]:
    """Every line of the process's stdout and stderr, each to its callback as it comes."""
    out: list[str] = []
    err: list[str] = []

    def pump(stream: IO[str] | None, callback: OnOutput | None, sink: list[str]) -> None:
        assert stream is not None
        for line in stream:
            if callback is not None:
                callback(line.rstrip())
            sink.append(line.rstrip())

    threads = [
        threading.Thread(target=pump, args=(process.stdout, on_output, out), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, on_error, err), daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    process.wait()
    return "\n".join(out), "\n".join(err)


def pulumi_cli(env: Mapping[str, str] | None = None) -> Cli:
    """The `pulumi` on PATH (`env`'s PATH, else this process's)."""
    path = (env or {}).get("PATH", os.environ.get("PATH", ""))
    found = shutil.which("pulumi", path=path)
    if found is None:
        raise NoCli(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/iac/"
            "download-install/), or build it with make toolchain, which make fleet then uses"
        )
    return Cli(found)


class _Events:
    """What an operation's engine events say: its errors, and each resource's resulting
    operation (a refresh's: update or delete where it changed outside Pulumi)."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []  # (resource, message)
        self.results: list[tuple[str, str, str]] = []  # op, type, urn

    def __call__(self, event: auto.EngineEvent) -> None:
        diagnostic = event.diagnostic_event
        if diagnostic is not None and diagnostic.severity == "error":
            message = _COLOR_TAG.sub("", diagnostic.message).strip()
            self.errors.append((_named(diagnostic.urn), message))
        outputs = event.res_outputs_event
        if outputs is not None:
            meta = outputs.metadata
            self.results.append((_op(meta.op), meta.type, meta.urn))


def _named(urn: str | None) -> str:
    """`<type> (<name>)` of a URN, as the CLI's diagnostics name a resource."""
    if not urn:
        return ""
    parts = urn.split("::")
    if len(parts) < 4:
        return urn
    return f"{parts[2].rsplit('$', 1)[-1]} ({'::'.join(parts[3:])})"


def _op(op: Any) -> str:
    return str(getattr(op, "value", op))


def _ops(changes: Mapping[Any, int] | None) -> dict[str, int]:
    return {_op(op): int(n) for op, n in (changes or {}).items()}


@dataclasses.dataclass
class _Upstreams:
    """The url and CA of each cache a cache pulls from."""

    urls: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    cas: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    secret: bool = False
    """A CA among them is a secret output (its upstream's tlsCert is encrypted)."""
    planned: list[str] = dataclasses.field(default_factory=list[str])
    """The upstreams not deployed, whose url and CA are the check's render's."""


class _Run:
    """One fleet command: what every cache's operation shares."""

    def __init__(
        self,
        command: Command,
        fleet: Fleet,
        checked: Checked,
        root: Path,
        env: Mapping[str, str],
        progress: Callable[[str], None],
    ) -> None:
        self.command: Command = command
        self.fleet, self.checked, self.root = fleet, checked, root
        self.env = dict(env)
        self.cli = pulumi_cli(env)
        self.policy = [str(root / "policy")]  # as make up and make preview run
        self.stopping = threading.Event()
        self._progress = progress
        self._saying = threading.RLock()  # an interrupt's handler says so in the main thread
        self._selecting = threading.Lock()
        self._outputs: dict[str, auto.OutputMap | None] = {}
        self.secrets = {
            str(value.value)
            for said in checked.said.values()
            for value in said.outputs.values()
            if value.secret and value.known
        }

    def say(self, line: str) -> None:
        with self._saying:
            self._progress(self.redacted(line))

    def interrupt(self) -> None:
        again = self.stopping.is_set()
        self.stopping.set()
        self.say(
            "interrupted again: the running stacks stop at once" if again else
            "interrupted: no more stacks start, the running ones are cancelled (interrupt "
            "again to stop them at once)"
        )  # fmt: skip
        self.cli.interrupt()

    def redacted(self, text: str) -> str:
        """`text` with every secret value this run met (whole, JSON-escaped, or any long line
        of it) shown as SECRET."""
        forms = {
            form
            for secret in self.secrets
            for form in (secret, secret.replace("\n", "\\n"), *secret.splitlines())
            if len(form.strip()) >= 16
        }
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, SECRET)
        return text

    def workspace(self, cache: Cache) -> auto.LocalWorkspaceOptions:
        env = dict(self.env)
        if cache.cluster.kubeconfig is not None:
            env["KUBECONFIG"] = str(cache.cluster.kubeconfig)
        if self.command == "drift":
            # The CLI takes PULUMI_SKIP_CONFIRMATIONS for --yes, which refuses --preview-only
            # ("--yes and --preview-only cannot be used together": pulumi v3.274.0
            # pkg/cmd/pulumi/operations/refresh.go), so a refresh preview must not see it.
            env["PULUMI_SKIP_CONFIRMATIONS"] = "false"
        return auto.LocalWorkspaceOptions(
            work_dir=str(self.root), env_vars=env, pulumi_command=self.cli
        )

    def stack(self, cache: Cache, create: bool) -> auto.Stack | None:
        """The cache's stack, created when `create` (else None if there is none). One at a
        time: `pulumi stack select` writes the workspace's current stack, a file they share."""
        with self._selecting:
            try:
                if create:
                    return auto.create_or_select_stack(
                        cache.stack, work_dir=str(self.root), opts=self.workspace(cache)
                    )
                return auto.select_stack(
                    cache.stack, work_dir=str(self.root), opts=self.workspace(cache)
                )
            except auto_errors.StackNotFoundError:
                return None

    def remember(self, name: str, outputs: auto.OutputMap | None) -> None:
        self._outputs[name] = outputs
        # A new set, not an update: another thread may be iterating over this one.
        self.secrets = self.secrets | {str(v.value) for v in (outputs or {}).values() if v.secret}

    def outputs_of(self, name: str) -> auto.OutputMap | None:
        """A cache's stack outputs: as its `up` in this run gave them, else as its stack holds
        them (None without a stack)."""
        if name not in self._outputs:
            stack = self.stack(self.fleet.by_name()[name], create=False)
            self.remember(name, stack.outputs() if stack is not None else None)
        return self._outputs[name]

    def upstreams(self, cache: Cache) -> _Upstreams:
        """Each upstream cache's url and CA: its stack's outputs, else (not deployed) its
        render's, from the check."""
        found = _Upstreams()
        for name in cache.pulls_from:
            outputs = self.outputs_of(name) or {}
            url, ca = outputs.get("url"), outputs.get("caCertPem")
            if (url is None or ca is None) and name not in self.checked.said:
                continue  # neither deployed nor checked: written as the fleet file has it
            if url is None or ca is None:
                said = self.checked.said[name].outputs
                url = auto.OutputValue(said["url"].value, said["url"].secret)
                ca = auto.OutputValue(said["caCertPem"].value, said["caCertPem"].secret)
                found.planned.append(name)
            found.urls[name], found.cas[name] = str(url.value), str(ca.value)
            found.secret = found.secret or ca.secret
        return found

    def write(self, stack: auto.Stack, cache: Cache, outcome: Outcome) -> None:
        """The cache's stack file, its upstreams resolved; a CA that is a secret output is set
        encrypted (`pulumi config set --secret`), never written in the clear."""
        upstreams = self.upstreams(cache)
        if upstreams.planned and self.command == "up":
            raise RuntimeError(f"{', '.join(upstreams.planned)}: no url output; deploy it first")
        config = cache.resolved(upstreams.urls, upstreams.cas)
        bundle = config.pop(CA_KEY) if upstreams.secret and CA_KEY not in cache.config else None
        stack_files.write(self.root, cache.stack, config, self.root)
        if bundle is not None:
            stack.set_config(CA_KEY, auto.ConfigValue(bundle, secret=True))
        if upstreams.planned:
            names = " and ".join(f"{n}'s" for n in upstreams.planned)
            verb = {"preview": "previewed", "drift": "refreshed"}.get(self.command, "destroyed")
            stand_in = all(stand_in_ca() in upstreams.cas[n] for n in upstreams.planned)
            ca = "a stand-in CA" if stand_in else "its render's CA"
            outcome.note = f"{verb} with {names} planned url and {ca}: not deployed yet"

    def shown(self, outputs: auto.OutputMap) -> dict[str, Any]:
        return {
            k: SECRET if v.secret else v.value for k, v in outputs.items() if k in SHOWN_OUTPUTS
        }

    def operate(self, cache: Cache) -> Outcome:
        """The command on one cache's stack; what it did, failed at, or why it did not run."""
        outcome = Outcome(cache.name, cache.stack, "succeeded")
        if self.stopping.is_set():
            return self.skipped(outcome, NOT_STARTED)
        started = time.monotonic()
        self.say(f"{cache.name}: {self.command} started")
        events = _Events()
        stack = None
        try:
            stack = self.stack(cache, create=self.command in ("preview", "up"))
            if stack is None:
                outcome.note = _NO_STACK[self.command]
            else:
                _OPERATIONS_OF[self.command](self, stack, cache, outcome, events)
        except NotStarted:  # interrupted once it began, before its operation started
            outcome.status, outcome.reason = "cancelled", "interrupted before its operation started"
        except auto_errors.CommandError:
            self.failed(stack, outcome, events)
        except Exception as err:  # a cache's failure must not stop the others'
            outcome.status = "failed"
            outcome.reason = self.redacted(f"{type(err).__name__}: {err}")
        outcome.seconds = time.monotonic() - started
        self.say(_progress_line(self.command, outcome))
        return outcome

    def skipped(self, outcome: Outcome, reason: str) -> Outcome:
        outcome.status, outcome.reason = "skipped", reason
        self.say(_progress_line(self.command, outcome))
        return outcome

    def failed(self, stack: auto.Stack | None, outcome: Outcome, events: _Events) -> None:
        """A failed CLI run: its errors as the engine reported them, else its last lines. Once
        interrupted, it was cancelled; a CLI the interrupt killed before it could cancel may
        have left its lock, which `pulumi cancel` removes."""
        result = self.cli.last_failure()
        lines = _grouped(events.errors) or _last_lines(result)
        outcome.status = "cancelled" if self.stopping.is_set() else "failed"
        if outcome.status == "cancelled":
            lines = ["interrupted", *lines]
        outcome.reason = self.redacted("\n".join(lines))
        if outcome.status == "cancelled" and stack is not None and result and result.code < 0:
            with contextlib.suppress(auto_errors.CommandError):
                stack.cancel()
            outcome.reason += "\n(the CLI was killed before it could cancel: pulumi cancel ran)"


def _grouped(errors: Sequence[tuple[str, str]]) -> list[str]:
    """One line per error message, naming every resource that reported it."""
    by_message: dict[str, list[str]] = {}
    for where, message in errors:
        by_message.setdefault(message, [])
        if where and where not in by_message[message]:
            by_message[message].append(where)
    return [f"{', '.join(where)}: {m}" if where else m for m, where in by_message.items()]


def _last_lines(result: CommandResult | None) -> list[str]:
    if result is None:
        return []
    text = _COLOR_TAG.sub("", result.stderr.strip() or result.stdout)
    return [line for line in text.splitlines() if line.strip()][-_REASON_LINES:]


def _up(run: _Run, stack: auto.Stack, cache: Cache, outcome: Outcome, events: _Events) -> None:
    run.write(stack, cache, outcome)
    result = stack.up(on_event=events, policy_packs=run.policy, color="never", show_secrets=False)
    outcome.changes = _ops(result.summary.resource_changes)
    run.remember(cache.name, result.outputs)
    outcome.outputs = run.shown(result.outputs)


def _preview(run: _Run, stack: auto.Stack, cache: Cache, outcome: Outcome, events: _Events) -> None:
    run.write(stack, cache, outcome)
    result = stack.preview(on_event=events, policy_packs=run.policy, color="never")
    outcome.changes = _ops(result.change_summary)


def _drift(run: _Run, stack: auto.Stack, cache: Cache, outcome: Outcome, events: _Events) -> None:
    """A refresh preview: the resources it finds changed (update) or gone (delete), but those
    the stack only reads (a `.get`, external in the state), which a first refresh reports as
    updated however unchanged (pulumi/pulumi#16401)."""
    run.write(stack, cache, outcome)
    result = stack.preview_refresh(on_event=events, color="never")
    resources: list[dict[str, Any]] = (stack.export_stack().deployment or {}).get("resources") or []
    external = {r.get("urn") for r in resources if r.get("external")}
    outcome.changes = _ops(result.change_summary)
    outcome.drifted = sorted(
        f"{typ} {urn.split('::')[-1]}"
        for op, typ, urn in events.results
        if op in ("update", "delete") and urn not in external
    )


def _destroy(run: _Run, stack: auto.Stack, cache: Cache, outcome: Outcome, events: _Events) -> None:
    run.write(stack, cache, outcome)
    result = stack.destroy(on_event=events, color="never", show_secrets=False)
    outcome.changes = _ops(result.summary.resource_changes)


def _status(run: _Run, stack: auto.Stack, cache: Cache, outcome: Outcome, events: _Events) -> None:
    history = stack.history(page_size=1, show_secrets=False)
    if not history:
        outcome.note = "never deployed"
        return
    last = history[0]
    when = (last.end_time or last.start_time).strftime("%Y-%m-%dT%H:%M:%SZ")  # UTC, as the CLI
    by = _KINDS.get(last.kind, last.kind)
    outcome.last_update = f"{when} by {by}" + (
        "" if last.result == "succeeded" else f", {last.result}"
    )
    outputs = stack.outputs()
    run.remember(cache.name, outputs)
    outcome.outputs = run.shown(outputs)


_Operation = Callable[[_Run, auto.Stack, Cache, Outcome, _Events], None]
_OPERATIONS_OF: dict[Command, _Operation] = {
    "up": _up, "preview": _preview, "drift": _drift, "destroy": _destroy, "status": _status,
}  # fmt: skip
_NO_STACK: dict[Command, str] = {
    "up": "", "preview": "",
    "drift": "never deployed (no stack): nothing to refresh",
    "destroy": "never deployed (no stack): nothing to destroy",
    "status": "never deployed (no stack)",
}  # fmt: skip


def _progress_line(command: Command, o: Outcome) -> str:
    note = f" ({o.note})" if o.note else ""
    if o.status == "skipped":
        return f"{o.cache}: skipped: {o.reason}"
    if o.status == "cancelled":
        return f"{o.cache}: {command} cancelled after {o.seconds:.0f} s"
    if o.status == "failed":
        first = next((line for line in o.reason.splitlines() if line.strip()), "")
        return f"{o.cache}: {command} failed in {o.seconds:.0f} s: {first}"
    if command == "status":
        url = o.outputs.get("url", "no url")
        return f"{o.cache}: {url}, last update {o.last_update or 'never'}{note}"
    if command == "drift":
        drift = ", ".join(o.drifted) if o.drifted else "nothing changed outside Pulumi"
        return f"{o.cache}: drift succeeded in {o.seconds:.0f} s: {drift}{note}"
    return f"{o.cache}: {command} succeeded in {o.seconds:.0f} s: {changes_text(command, o.changes)}{note}"


def _blocked(outcomes: Mapping[str, Outcome], after: Sequence[str], up: bool) -> str | None:
    """Why a cache does not run: a cache it must come after (up: one it pulls from; destroy:
    one that pulls from it) did not succeed."""
    for name in after:
        before = outcomes.get(name)
        if before is None or before.status == "succeeded":
            continue
        what = {"failed": "failed", "cancelled": "was cancelled"}.get(before.status)
        what = what or f"was skipped: {before.reason}"
        return (
            f"it pulls from {name}, which {what}" if up else f"{name}, which pulls from it, {what}"
        )
    return None


def _awaited(future: Future[Outcome]) -> Outcome:
    """The future's outcome, the main thread waking often: Python runs a signal's handler in the
    main thread only, once it runs again, and a SIGINT the kernel hands to another thread (a
    CLI's output pump, say) does not wake one blocked on a lock."""
    while True:
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


def _in_waves(
    run: _Run,
    pool: ThreadPoolExecutor,
    waves: Sequence[Sequence[Cache]],
    outcomes: dict[str, Outcome],
) -> None:
    """Each wave after the last, at most the pool's workers at once; a cache whose
    predecessor did not succeed is skipped, saying which."""
    up = run.command == "up"
    pulled_by = {c.name: [d.name for d in run.fleet.caches if c.name in d.pulls_from]
                 for c in run.fleet.caches}  # fmt: skip
    for wave in waves:
        started: list[tuple[Cache, Future[Outcome]]] = []
        for cache in wave:
            if cache.name in outcomes:
                continue
            why = _blocked(outcomes, cache.pulls_from if up else pulled_by[cache.name], up)
            why = NOT_STARTED if run.stopping.is_set() else why
            if why is not None:
                outcomes[cache.name] = run.skipped(Outcome(cache.name, cache.stack, "skipped"), why)
            else:
                started.append((cache, pool.submit(run.operate, cache)))
        for cache, future in started:
            outcomes[cache.name] = _awaited(future)


def _schedule(run: _Run, pool: ThreadPoolExecutor, canary: str | None) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    caches = run.fleet.caches
    if run.command in ("preview", "drift", "status"):
        futures = [(c, pool.submit(run.operate, c)) for c in caches]
        return {c.name: _awaited(future) for c, future in futures}
    if canary is not None:
        first = _awaited(pool.submit(run.operate, run.fleet.by_name()[canary]))
        outcomes[canary] = first
        if first.status != "succeeded":
            why = f"the canary {canary} {'failed' if first.status == 'failed' else first.status}"
            for cache in caches:
                if cache.name != canary:
                    outcomes[cache.name] = run.skipped(
                        Outcome(cache.name, cache.stack, "skipped"), why
                    )
            return outcomes
    waves = run.fleet.waves()
    _in_waves(run, pool, waves if run.command == "up" else waves[::-1], outcomes)
    return outcomes


@contextlib.contextmanager
def _interruptible(run: _Run) -> Generator[None]:
    """SIGINT and SIGTERM interrupt the run (in the main thread only, where Python handles
    signals), then the handlers before are put back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        run.interrupt()

    before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handled in before.items():
            signal.signal(s, handled)


def _refused(command: Command, fleet: Fleet, concurrency: int, canary: str | None) -> list[str]:
    """What is wrong with the run's own options."""
    problems: list[str] = []
    if concurrency < 1:
        problems.append(f"--concurrency: got {concurrency}; expected at least 1")
    if canary is None:
        return problems
    cache = fleet.by_name().get(canary)
    if command != "up":
        problems.append(f"--canary {canary}: only up has a canary")
    if cache is None:
        names = ", ".join(c.name for c in fleet.caches)
        problems.append(
            f"--canary {canary}: no cache of the fleet has that name; expected one of {names}"
        )
    elif cache.pulls_from:
        problems.append(
            f"--canary {canary}: it pulls from {', '.join(cache.pulls_from)}, which must be up "
            "before it; a canary pulls from no cache of the fleet"
        )
    return problems


def _checked(command: Command, fleet: Fleet, root: Path) -> Checked:
    """The fleet's check, which must pass before a preview or an up runs the program; destroy,
    drift and status run none, so a config the check refuses (say, one being fixed) keeps no
    fleet from going, or from being looked at."""
    try:
        return check(fleet, root)
    except FleetError:
        if command in ("preview", "up"):
            raise
        return Checked({})


def run(
    command: Command,
    fleet: Fleet,
    *,
    root: Path = ROOT,
    concurrency: int = 4,
    canary: str | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] = print,
) -> Summary:
    """Run `command` on every cache of `fleet`, each a stack of the project in `root`, with `env`
    over this process's environment (and each cluster's kubeconfig as KUBECONFIG); `progress`
    gets a line per stack as it starts and ends. Raises FleetError, touching nothing, when the
    fleet or the options are wrong; NoCli without a Pulumi CLI."""
    problems = _refused(command, fleet, concurrency, canary)
    if problems:
        raise FleetError(problems)
    state = _Run(command, fleet, _checked(command, fleet, root), root, env or {}, progress)
    with (
        _interruptible(state),
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fleet") as pool,
    ):
        outcomes = _schedule(state, pool, canary)
    return Summary(command, [outcomes[c.name] for c in fleet.caches], state.stopping.is_set())
