"""`python -m render.diff BASE`: what a change does to the manifests, as Markdown for review.

Renders every stack (each `Pulumi.<stack>.yaml` at the root, and in each Python example under
examples/, such as the fleet) twice, with each side's own code and config: at the git ref BASE
(in a temporary worktree) and in the working tree; prints the unified diff of the two trees, after
a line for each value the render stood in for (what a stack reads from the cluster, say). Needs no
credentials: the render reaches no cluster and its Secrets are redacted, so the output may be
posted on a pull request.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from components.inputs.plain import is_dict

from .manifests import INDEX
from .pulumi_kubernetes_replacement import replaced_by
from .stack_config import stacks

ROOT = Path(__file__).resolve().parent.parent


def projects(tree: Path) -> list[str]:
    """The Python Pulumi projects of `tree` that render-diff renders, as folders relative to it:
    the root, then each example (examples/<name>/, the fleet's); YAML programs have no render."""
    found: list[str] = []
    for file in [tree / "Pulumi.yaml", *sorted(tree.glob("examples/*/Pulumi.yaml"))]:
        if not file.exists():
            continue
        project: Any = yaml.safe_load(file.read_text())
        runtime: Any = project.get("runtime") if is_dict(project) else None
        if (runtime.get("name") if is_dict(runtime) else runtime) == "python":
            found.append(file.parent.relative_to(tree).as_posix())
    return found


def label(project: str, stack: str) -> str:
    """How the diff names a stack: `dev` at the root, `examples/fleet/example` in an example."""
    return stack if project == "." else f"{project}/{stack}"


NOTICE = "notice: "


class Rendering(NamedTuple):
    """One side of a diff: {file: YAML}, a file named as in its render folder (`<provider>/
    <file>` when a program's objects go through several Kubernetes providers); {file: the Pulumi
    resource it is}; and the render's notices."""

    files: dict[str, str]
    resources: dict[str, str]
    notices: list[str]


def rendered(tree: Path, project: str, stack: str, out: Path) -> Rendering | str:
    """`stack` of `project` rendered by `tree`'s own code, or the error it printed."""
    if stack not in stacks(tree / project):
        return Rendering({}, {}, [])
    result = subprocess.run(
        [sys.executable, "-m", "render", stack, str(out), "--project-dir", str(tree / project)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip()
    index = out / INDEX
    written: dict[str, str] = json.loads(index.read_text()) if index.exists() else {}
    files: dict[str, str] = {}
    resources: dict[str, str] = {}
    for path in sorted(out.glob("**/1-manifest/*.yaml")):
        name = path.relative_to(out).parent.parent.joinpath(path.name).as_posix()
        files[name] = path.read_text()
        if (resource := written.get(path.relative_to(out).as_posix())) is not None:
            resources[name] = resource
    notices = [
        line.removeprefix(NOTICE) for line in result.stdout.splitlines() if line.startswith(NOTICE)
    ]
    return Rendering(files, resources, notices)


def _identity(name: str, text: str, resources: Mapping[str, str]) -> str:
    """What a file stands for across a change: the Pulumi resource it is (which keeps its URN
    when the object moves to another namespace or name, and is then replaced); without the
    render's index, its name, an auto-named object's without its suffix (which changes with its
    content: that is what rolls the pods)."""
    obj: Mapping[str, Any] = yaml.safe_load(text) or {}
    if name in resources:
        return f"{obj.get('apiVersion')}/{obj.get('kind')} {resources[name]}"
    metadata: Mapping[str, Any] = obj.get("metadata") or {}
    annotations: Mapping[str, Any] = metadata.get("annotations") or {}
    if annotations.get("pulumi.com/autonamed") == "true":
        return name.rsplit("-", 1)[0]
    return name


def _paired(side: Mapping[str, str] | Rendering) -> dict[str, tuple[str, str]]:
    """{identity: (file, YAML)} of one side."""
    files, resources = (side.files, side.resources) if isinstance(side, Rendering) else (side, {})
    return {_identity(n, t, resources): (n, t) for n, t in files.items()}


def diff(
    stack: str, before: Mapping[str, str] | Rendering, after: Mapping[str, str] | Rendering
) -> str:
    """Unified diff of one stack's files, `a/` the base, `b/` the working tree; an object the
    change renames (an auto-named one given a new name, one moved to another namespace) is
    shown as one file changed, under both names."""
    old, new = _paired(before), _paired(after)
    lines: list[str] = []
    for key in sorted(set(old) | set(new)):
        (old_name, old_text), (new_name, new_text) = old.get(key, ("", "")), new.get(key, ("", ""))
        lines += difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{stack}/{old_name}" if old_name else "/dev/null",
            tofile=f"b/{stack}/{new_name}" if new_name else "/dev/null",
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def changes(
    before: Mapping[str, str] | Rendering, after: Mapping[str, str] | Rendering
) -> list[str]:
    """What `pulumi up` would do to each object (create, update in place, replace and why,
    delete), as pulumi-kubernetes decides (render/pulumi_kubernetes_replacement.py)."""
    old = {k: t for k, (_, t) in _paired(before).items()}
    new = {k: t for k, (_, t) in _paired(after).items()}
    lines: list[str] = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        obj: Mapping[str, Any] = yaml.safe_load(now or was or "") or {}
        metadata: Mapping[str, Any] = obj.get("metadata") or {}
        annotations: Mapping[str, Any] = metadata.get("annotations") or {}
        auto = annotations.get("pulumi.com/autonamed") == "true"
        name = str(metadata.get("name"))
        name = name.rsplit("-", 1)[0] if auto else name  # its suffix changes with a replacement
        namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
        what = f"{obj.get('kind')} `{namespace}{name}`"
        if was is None or now is None:
            lines.append(f"- {'create' if was is None else 'delete'} {what}")
            continue
        # An auto-named object's new name follows from what replaced it: not a reason of its own.
        why = [
            path
            for path in replaced_by(yaml.safe_load(was), obj)
            if not (auto and path == ".metadata.name")
        ]
        lines.append(f"- replace {what} ({', '.join(why)})" if why else f"- update {what} in place")
    return lines


Rendered = Rendering | str


def _section(name: str, before: Rendered, after: Rendered) -> tuple[str | None, bool]:
    """(Markdown of one stack's change, or None when there is none; whether the change renders)."""
    if isinstance(after, str):
        return f"### `{name}`\n\nThe change does not render:\n\n```\n{after}\n```\n", False
    if isinstance(before, str):
        last = before.splitlines()[-1] if before else "no output"
        return (
            f"### `{name}`\n\nThe base does not render ({last}); "
            f"the change renders {len(after.files)} objects.\n",
            True,
        )
    if text := diff(name, before, after):
        summary = "\n".join(changes(before, after))
        return f"### `{name}`\n\n{summary}\n\n```diff\n{text}```\n", True
    return None, True


def _render_both(root: Path, worktree: Path, tmp: Path) -> dict[str, tuple[Rendered, Rendered]]:
    """{stack's label: (base's render, working tree's render)} of every stack of either side."""
    names = sorted(
        {
            (project, stack)
            for tree in (worktree, root)
            for project in projects(tree)
            for stack in stacks(tree / project)
        }
    )
    # Each render is a process of its own, with its tree's code: run them side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {
            label(project, stack): [
                pool.submit(rendered, tree, project, stack, tmp / side / project / stack)
                for side, tree in (("before", worktree), ("after", root))
            ]
            for project, stack in names
        }
    return {name: (base.result(), head.result()) for name, (base, head) in futures.items()}


def report(base: str, root: Path = ROOT) -> tuple[str, bool]:
    """(Markdown, whether the working tree rendered): the manifest diff against `base`."""
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(worktree), base],
            cwd=root,
            check=True,
            capture_output=True,
        )
        try:
            renders = _render_both(root, worktree, Path(tmp))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=root,
                check=False,
                capture_output=True,
            )
    sections: list[str] = []
    notes: list[str] = []
    ok = True
    for name, (before, after) in renders.items():
        section, renders_ok = _section(name, before, after)
        ok = ok and renders_ok
        sections += [section] if section else []
        if not isinstance(after, str):
            notes += [f"- Stand-in in `{name}`: {notice}" for notice in after.notices]
    title = f"## Manifest changes against `{base}`\n\n"
    if notes:
        title += "\n".join(notes) + "\n\n"
    if not sections:
        return title + "No manifest changes: every stack renders the same Kubernetes objects.\n", ok
    return title + "\n".join(sections), ok


def _repository() -> Path:
    """The repository `make render-diff` runs in: the git work tree of the current folder."""
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    return Path(top.stdout.strip()) if top.returncode == 0 else ROOT


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m render.diff BASE   (a git ref: main, a commit, origin/main)",
            file=sys.stderr,
        )
        return 2
    try:
        text, ok = report(args[0], _repository())
    except subprocess.CalledProcessError as err:
        print(
            f"error: git cannot check out {args[0]!r}: {err.stderr.decode().strip()}",
            file=sys.stderr,
        )
        return 2
    print(text, end="")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
