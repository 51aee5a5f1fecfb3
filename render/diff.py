"""`python -m render.diff BASE`: what a change does to the manifests, as Markdown for review.

Renders every stack (each `Pulumi.<stack>.yaml` at the root) twice, with each side's own code
and config: at the git ref BASE (in a temporary worktree) and in the working tree; prints the
unified diff of the two trees. Needs no credentials: the render reaches no cluster and its
Secrets are redacted, so the output may be posted on a pull request.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .replacement import replaced_by
from .stack_config import stacks

ROOT = Path(__file__).resolve().parent.parent


def rendered(tree: Path, stack: str, out: Path) -> dict[str, str] | str:
    """{file name: YAML} of `stack` rendered by `tree`'s own code, or the error it printed."""
    if stack not in stacks(tree):
        return {}
    result = subprocess.run(
        [sys.executable, "-m", "render", stack, str(out)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip()
    return {p.name: p.read_text() for p in sorted((out / "1-manifest").glob("*.yaml"))}


def _identity(name: str, text: str) -> str:
    """What a file stands for across a change: an auto-named object's name changes with its
    content (that is what rolls the pods), so its suffix is left out to pair the two versions."""
    obj: Mapping[str, Any] = yaml.safe_load(text) or {}
    metadata: Mapping[str, Any] = obj.get("metadata") or {}
    annotations: Mapping[str, Any] = metadata.get("annotations") or {}
    if annotations.get("pulumi.com/autonamed") == "true":
        return name.rsplit("-", 1)[0]
    return name


def diff(stack: str, before: dict[str, str], after: dict[str, str]) -> str:
    """Unified diff of one stack's files, `a/` the base, `b/` the working tree; an auto-named
    object renamed by the change is shown as one file changed, under both names."""
    old = {_identity(n, t): (n, t) for n, t in before.items()}
    new = {_identity(n, t): (n, t) for n, t in after.items()}
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


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What `pulumi up` would do to each object, as pulumi-kubernetes decides
    (render/replacement.py): create, update in place, replace (and why), or delete."""
    old = {_identity(n, t): t for n, t in before.items()}
    new = {_identity(n, t): t for n, t in after.items()}
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
            sections: list[str] = []
            ok = True
            names = sorted(stacks(root) | stacks(worktree))
            # Each render is a process of its own, with its tree's code: run them side by side.
            with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                befores = {
                    stack: pool.submit(rendered, worktree, stack, Path(tmp) / "before" / stack)
                    for stack in names
                }
                afters = {
                    stack: pool.submit(rendered, root, stack, Path(tmp) / "after" / stack)
                    for stack in names
                }
            for stack in names:
                before, after = befores[stack].result(), afters[stack].result()
                if isinstance(after, str):
                    ok = False
                    sections.append(
                        f"### `{stack}`\n\nThe change does not render:\n\n```\n{after}\n```\n"
                    )
                elif isinstance(before, str):
                    sections.append(
                        f"### `{stack}`\n\nThe base does not render ({before.splitlines()[-1]}); "
                        f"the change renders {len(after)} objects.\n"
                    )
                elif text := diff(stack, before, after):
                    summary = "\n".join(changes(before, after))
                    sections.append(f"### `{stack}`\n\n{summary}\n\n```diff\n{text}```\n")
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=root,
                check=False,
                capture_output=True,
            )
    title = f"## Manifest changes against `{base}`\n\n"
    if not sections:
        return title + "No manifest changes: every stack renders the same Kubernetes objects.\n", ok
    return title + "\n".join(sections), ok


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m render.diff BASE   (a git ref: main, a commit, origin/main)",
            file=sys.stderr,
        )
        return 2
    try:
        text, ok = report(args[0])
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
