"""python -m fleet {check,preview,up,drift,destroy,status} FILE [--concurrency N] [--canary NAME]
[--json] [--project-dir DIR]: a fleet file's command over every cache's stack (make fleet
ARGS="...").

Progress goes to stderr, a line per stack as it starts and ends; the summary (Markdown, a pull
request's comment, or with --json the same as data) to stdout. The exit status is 0 when every
stack succeeded (or was skipped), 1 when one failed or was cancelled or the run was interrupted,
2 when the fleet file or the options are wrong (every problem printed, nothing touched) or there
is no Pulumi CLI, 130 when interrupted during the check (nothing touched).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from render.outputs import described

from .check import Checked, check
from .run import COMMANDS, ROOT, Command, NoCli, run
from .spec import Fleet, FleetError, load
from .summary import SECRET


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fleet", description="A fleet of caches: one command over every stack."
    )
    parser.add_argument("command", choices=("check", *COMMANDS))
    parser.add_argument("file", type=Path, help="the fleet file (fleet.yaml)")
    parser.add_argument("--concurrency", type=int, default=4, help="stacks at once (default 4)")
    parser.add_argument("--canary", help="up: this cache first, alone; nothing else if it fails")
    parser.add_argument("--json", action="store_true", help="the summary as JSON")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=ROOT,
        help="the project whose stacks these are, where their stack files are written "
        "(default this project)",
    )
    return parser


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _checked_text(fleet: Fleet, checked: Checked, as_json: bool) -> str:
    """What the check's render says of each cache: its outputs (a secret one as SECRET)."""
    if as_json:
        data: dict[str, Any] = {
            c.name: {
                "stack": c.stack,
                "outputs": {
                    key: SECRET if value.secret else value.value if value.known else None
                    for key, value in checked.said[c.name].outputs.items()
                },
            }
            for c in fleet.caches
        }
        return json.dumps({"caches": data}, indent=2)
    lines: list[str] = []
    for cache in fleet.caches:
        said = checked.said[cache.name]
        lines.append(f"{cache.name} (stack {cache.stack}): checked")
        lines += [f"  {line}" for line in described(said.outputs, said.resources, said.stood_in)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        fleet = load(args.file)
        if args.command == "check":
            print(_checked_text(fleet, check(fleet, args.project_dir), args.json))
            return 0
        summary = run(
            cast(Command, args.command),
            fleet,
            root=args.project_dir,
            concurrency=args.concurrency,
            canary=args.canary,
            progress=_say,
        )
    except FleetError as err:
        print(err, file=sys.stderr)
        return 2
    except NoCli as err:
        print(f"python -m fleet: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # during the check, before any stack was touched
        print("interrupted: no stack was touched", file=sys.stderr)
        return 130
    print(json.dumps(summary.as_json(), indent=2) if args.json else summary.markdown(), end="")
    if args.json:
        print()
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
