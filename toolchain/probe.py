"""Ask the Go module proxy for every module and version the toolchain needs, and for the versions
we would rather have, and write what it served and refused into docs/toolchain.md.

Each answer is `go mod download -json` of that module@version, so a refusal is the go command's
own error. The table sits between markers in the doc; the rest of the doc is prose.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from toolchain import HERE, pins
from toolchain.build import BuildError, download, expand

DOC = HERE.parent / "docs" / "toolchain.md"
TABLE = re.compile(r"(<!-- probe -->\n)(.*?)(<!-- /probe -->)", re.DOTALL)


def asked(tool: str, spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(module, version, why) for the pin, what it requires, and the versions wanted instead."""
    rows = [(spec["module"], spec["version"], "pinned")]
    for required in spec.get("requires", []):
        module, _, version = expand(required, spec).partition("@")
        rows.append((module, version, f"pinned, with {tool}"))
    for file in spec.get("files", []):
        module, _, rest = expand(file, spec).partition("@")
        rows.append((module, rest.split("/", 1)[0], f"pinned, files for {tool}"))
    rows += [(spec["module"], v, "wanted") for v in spec.get("wanted", []) if v != spec["version"]]
    for module, versions in spec.get("candidates", {}).items():
        rows += [(module, v, "wanted") for v in versions]
    first: dict[tuple[str, str], tuple[str, str, str]] = {}
    for row in rows:
        first.setdefault(row[:2], row)
    return list(first.values())


def answer(module: str, version: str) -> tuple[bool, str]:
    """Whether the proxy serves module@version, with the go command's error when not."""
    try:
        download(f"{module}@{version}")
    except BuildError as e:
        return False, " ".join(str(e).split())
    return True, ""


def table() -> str:
    """The Markdown table of every module@version asked for."""
    lines = [
        "| tool | module | version | why | served | the go command's error |",
        "|---|---|---|---|---|---|",
    ]
    for tool, spec in pins().items():
        for module, version, why in asked(tool, spec):
            served, error = answer(module, version)
            error = error.replace("|", "\\|")
            lines.append(
                f"| {tool} | `{module}` | `{version}` | {why} | {'yes' if served else 'no'} | {error} |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main() -> int:
    doc = DOC.read_text()
    if not TABLE.search(doc):
        print(f"{DOC} has no <!-- probe --> … <!-- /probe --> block", file=sys.stderr)
        return 2
    DOC.write_text(TABLE.sub(lambda m: m[1] + table() + m[3], doc))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
