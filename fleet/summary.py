"""What a fleet run did, per cache: an Outcome each, and the Summary of them all, as Markdown (a
pull request's comment) or as data (`--json`). Nothing here holds a secret: a secret output is
kept as SECRET, and failures' reasons are redacted before they get here (fleet.run)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Literal

Status = Literal["succeeded", "failed", "skipped", "cancelled"]
SECRET = "[secret]"
"""What a secret output reads as, as the Pulumi CLI shows it."""

# The engine's operations, as a summary words them after the fact and in a preview.
_DONE = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced",
         "same": "unchanged", "read": "read", "import": "imported", "refresh": "refreshed"}  # fmt: skip
_PLANNED = {"create": "to create", "update": "to update", "delete": "to delete",
            "replace": "to replace", "same": "unchanged", "read": "to read",
            "import": "to import"}  # fmt: skip
_ORDER = ("create", "update", "replace", "delete", "read", "import", "refresh", "same")


@dataclasses.dataclass
class Outcome:
    """One cache's stack under one command."""

    cache: str
    stack: str
    status: Status
    reason: str = ""
    """failed: the CLI's error, its last lines; skipped: why; cancelled: what was interrupted."""
    changes: dict[str, int] = dataclasses.field(default_factory=dict[str, int])
    """Operation -> count, from the engine's summary (drift: the refresh's)."""
    drifted: list[str] = dataclasses.field(default_factory=list[str])
    """drift: `<type> <name>` of each resource changed outside Pulumi."""
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict[str, Any])
    """up, status: url, certExpiresAt, caExpiresAt (a secret one reads SECRET)."""
    last_update: str | None = None
    """status: when the stack was last updated (RFC 3339), and by what (up, destroy, refresh)."""
    seconds: float = 0.0
    note: str = ""


def changes_text(command: str, changes: Mapping[str, int]) -> str:
    """`15 created, 1 updated` (a preview: `15 to create`); unchanged ones last."""
    words = _PLANNED if command in ("preview", "drift") else _DONE
    ops = sorted(changes, key=lambda op: (_ORDER.index(op) if op in _ORDER else len(_ORDER), op))
    shown = [f"{changes[op]} {words.get(op, op)}" for op in ops if changes[op]]
    return ", ".join(shown) or "no changes"


def _cell(text: str) -> str:
    """Text for a Markdown table's cell: one line, its pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _fenced(text: str) -> str:
    """A fenced block holding `text` as it is, however many backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


@dataclasses.dataclass
class Summary:
    """Every cache's outcome under `command`, in the fleet file's order."""

    command: str
    outcomes: list[Outcome]
    interrupted: bool = False
    """The run was interrupted (Ctrl-C): what had not started is skipped."""

    @property
    def ok(self) -> bool:
        """No stack failed or was cancelled, and the run was not interrupted."""
        failed = any(o.status in ("failed", "cancelled") for o in self.outcomes)
        return not failed and not self.interrupted

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for outcome in self.outcomes:
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    def markdown(self) -> str:
        """A pull request's comment: a table of every cache, then each failure's reason, each
        skip's why, each drifted resource and each note."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        head = f"### Fleet {self.command}: {counts or 'no caches'}"
        head += " (interrupted)" if self.interrupted else ""
        lines = [head, "", *self._table()]
        for o in self.outcomes:
            if o.status in ("failed", "cancelled"):
                lines += ["", f"#### {o.cache} {o.status}", "", _fenced(o.reason or "(no output)")]
        skipped = [f"- {o.cache}: {o.reason}" for o in self.outcomes if o.status == "skipped"]
        if skipped:
            lines += ["", "#### Skipped", "", *skipped]
        drifted = [f"- {o.cache}: `{d}`" for o in self.outcomes for d in o.drifted]
        if drifted:
            lines += ["", "#### Changed outside Pulumi", "", *drifted]
        notes = [f"- {o.cache}: {o.note}" for o in self.outcomes if o.note]
        if notes:
            lines += ["", "#### Notes", "", *notes]
        return "\n".join(lines) + "\n"

    def _table(self) -> list[str]:
        if self.command == "status":
            head = ["cache", "stack", "status", "url", "certificate expires", "CA expires",
                    "last update"]  # fmt: skip
            rows = [
                [o.cache, o.stack, o.status, *(str(o.outputs.get(k, "")) for k in
                 ("url", "certExpiresAt", "caExpiresAt")), o.last_update or "never"]
                for o in self.outcomes
            ]  # fmt: skip
        else:
            head = ["cache", "stack", "status", "drift" if self.command == "drift" else "changes",
                    "time"]  # fmt: skip
            rows = [
                [o.cache, o.stack, o.status, self._changes(o),
                 f"{o.seconds:.0f} s" if o.status not in ("skipped",) else ""]
                for o in self.outcomes
            ]  # fmt: skip
        table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return table + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]

    def _changes(self, o: Outcome) -> str:
        if o.status != "succeeded":
            return ""
        if self.command == "drift":
            return f"{len(o.drifted)} changed outside Pulumi" if o.drifted else "none"
        return changes_text(self.command, o.changes)

    def as_json(self) -> dict[str, Any]:
        """The same summary as data: the command, ok, the counts and every outcome's fields."""
        return {
            "command": self.command,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "outcomes": [dataclasses.asdict(o) for o in self.outcomes],
        }
