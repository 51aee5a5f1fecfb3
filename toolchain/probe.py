"""Ask the Go module proxy for every module and version the toolchain needs, and for the versions
we would rather have, and write what it served and refused into docs/toolchain.md.

Each answer is `go mod download -json` of that module@version, so a refusal is the go command's
own error. The table sits between markers in the doc; the rest of the doc is prose.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, NamedTuple, cast

from toolchain import HERE, PinError, pins
from toolchain.build import BuildError, download, expand, go

DOC = HERE.parent / "docs" / "toolchain.md"
TABLE = re.compile(r"(<!-- probe -->\n)(.*?)(<!-- /probe -->)", re.DOTALL)
HEADER = "| tool | module | version | why | served | the go command's error |"
# The module column of the row that stands for every module a tool's go.mod points at
# ./staging/ (Kubernetes' own k8s.io/api, client-go, …), which the build takes at `staging`.
STAGED = "./staging/"


class Row(NamedTuple):
    """One module@version the table reports, and why it is asked for."""

    tool: str
    module: str
    version: str
    why: str


def asked(tool: str, spec: dict[str, Any]) -> list[Row]:
    """What the table asks the proxy for one tool, offline: the pin and everything pinned with it
    (requires, files, the versions of replace directives, the staging release), then what we would
    rather have (the commits of other releases, `wanted`, `candidates`)."""
    release = spec.get("release")
    commits: dict[str, str] = spec.get("commits", {})
    pinned = f"pinned ({of(release, spec['version'])})" if release in commits else "pinned"
    rows = [Row(tool, spec["module"], spec["version"], pinned)]
    for required in spec.get("requires", []):
        module, _, version = expand(required, spec).partition("@")
        rows.append(Row(tool, module, version, f"pinned, with {tool}"))
    for replace in spec.get("replace", []):
        old, _, new = expand(replace, spec).partition("=")
        module, _, version = new.partition("@")
        if version:
            rows.append(Row(tool, module, version, f"pinned, replacing {old}"))
    if "staging" in spec:
        rows.append(Row(tool, STAGED, spec["staging"], f"pinned, with {tool}"))
    for file in spec.get("files", []):
        module, _, rest = expand(file, spec).partition("@")
        rows.append(Row(tool, module, rest.split("/", 1)[0], f"pinned, files for {tool}"))
    for other, version in spec.get("commits", {}).items():
        rows.append(Row(tool, spec["module"], version, f"wanted ({of(other, version)})"))
    rows += [Row(tool, spec["module"], v, "wanted") for v in spec.get("wanted", [])]
    for module, versions in spec.get("candidates", {}).items():
        if isinstance(versions, dict):  # release → its version or commit, for a module with no tags
            named = cast(dict[str, str], versions)
            rows += [Row(tool, module, v, f"wanted ({of(r, v)})") for r, v in named.items()]
        else:
            rows += [Row(tool, module, v, "wanted") for v in versions]
    first: dict[tuple[str, str], Row] = {}
    for row in rows:
        first.setdefault((row.module, row.version), row)
    return list(first.values())


# A pseudo-version (go.dev/ref/mod#pseudo-versions): a commit's time and hash after the version.
PSEUDO = re.compile(r"[-.](?:0\.)?\d{14}-[0-9a-f]{12}$")


def of(release: str, version: str) -> str:
    """What a version is of a release: its commit (a pseudo-version), or the release itself."""
    return f"release {release}'s commit" if PSEUDO.search(version) else f"release {release}"


def staged(spec: dict[str, Any]) -> list[str]:
    """The modules the pinned module requires and its go.mod replaces with a folder under
    ./staging/: the build takes each at `staging`. (It replaces the others too, Kubernetes'
    sample-* modules, which nothing requires, so Go never fetches them.)"""
    gomod = download(f"{spec['module']}@{spec['version']}")["GoMod"]
    upstream: dict[str, Any] = json.loads(go("mod", "edit", "-json", gomod))
    requires: list[dict[str, Any]] = upstream.get("Require") or []
    required = {str(r["Path"]) for r in requires}
    replaces: list[dict[str, Any]] = upstream.get("Replace") or []
    return [
        r["Old"]["Path"]
        for r in replaces
        if r["New"]["Path"].startswith(STAGED) and r["Old"]["Path"] in required
    ]


def answer(module: str, version: str) -> tuple[bool, str]:
    """Whether the proxy serves module@version, with the go command's error when not."""
    try:
        download(f"{module}@{version}")
    except BuildError as e:
        return False, " ".join(str(e).split())
    return True, ""


def line(row: Row, cell: str, served: bool, error: str) -> str:
    """A row of the Markdown table."""
    error = error.replace("|", "\\|")
    said = "yes" if served else "no"
    return f"| {row.tool} | {cell} | `{row.version}` | {row.why} | {said} | {error} |"


def table() -> str:
    """The Markdown table of every module@version asked for."""
    lines = [HEADER, "|---|---|---|---|---|---|"]
    for tool, spec in pins().items():
        for row in asked(tool, spec):
            if row.module == STAGED:
                # One row for them all: each is asked, and each refusal is reported.
                modules = staged(spec)
                answers = [(m, *answer(m, row.version)) for m in modules]
                errors = [error for _, served, error in answers if not served]
                cell = f"the {len(modules)} modules it requires from `{STAGED}` (`{modules[0]}`, …)"
                lines.append(line(row, cell, not errors, " ".join(errors)))
            else:
                lines.append(line(row, f"`{row.module}`", *answer(row.module, row.version)))
            print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main() -> int:
    doc = DOC.read_text()
    if not TABLE.search(doc):
        print(f"{DOC} has no <!-- probe --> … <!-- /probe --> block", file=sys.stderr)
        return 2
    try:
        text = table()
    except PinError as e:
        print(f"tools.toml: {e}", file=sys.stderr)
        return 2
    DOC.write_text(TABLE.sub(lambda m: m[1] + text + m[3], doc))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
