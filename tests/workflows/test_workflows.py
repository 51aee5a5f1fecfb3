"""What the linters cannot see in .github/: the scripts the workflows run, on sample inputs.

`make lint` checks the workflows themselves: actionlint (their syntax, expressions, contexts, the
inputs of the actions they use, and each `run:` script through shellcheck) and zizmor (their
security). Here:
- `.github/stacks.py`: which stacks preview.yml and renewal.yml run, and which of them the default
  branch has (the only ones a preview may create in the backend);
- that every stack file of the repository is previewed, but the end-to-end ones e2e.yml deploys;
- `.github/comments.py`, against a fake `gh` over sample comments: render-diff's comment, and a
  failed preview's, each found and edited in place;
- `.github/renewal.py`, against a fake `pulumi` with sample previews: which stack needs
  `pulumi up`, said in an annotation and the job summary.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

GITHUB = ROOT / ".github"
RUN_URL = "https://github.com/owner/repo/actions/runs/99"
# What the runner sets for every step.
RUNNER = {
    "GITHUB_REPOSITORY": "owner/repo",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_RUN_ID": "99",
}


def run(
    script: str, *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a script of .github/ as its workflow step does, in `cwd`, with only `env` (and PATH)."""
    return subprocess.run(
        [sys.executable, str(GITHUB / script), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **(env or {})},
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def fake(bin_dir: Path, name: str, source: str) -> None:
    """A program `name` on a PATH of its own, written in Python."""
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / name
    program.write_text(f"#!{sys.executable}\n{source}")
    program.chmod(0o755)


# --- .github/stacks.py ----------------------------------------------------------------------------


def stack_files(folder: Path, *stacks: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text("name: msr-cache\n")
    for stack in stacks:
        (folder / f"Pulumi.{stack}.yaml").write_text("config: {}\n")


def list_stacks(checkout: Path, *args: str) -> dict[str, list[str]]:
    """Run stacks.py in `checkout`; the outputs it writes to $GITHUB_OUTPUT."""
    output = checkout.parent / "github_output"
    output.write_text("")
    run("stacks.py", *args, cwd=checkout, env={"GITHUB_OUTPUT": str(output)})
    return {k: json.loads(v) for k, _, v in (line.partition("=") for line in output.open())}


def test_the_stacks_are_the_stack_files_but_the_end_to_end_ones(tmp_path: Path) -> None:
    # A pull request's checkout, whose default branch has dev only: prod is the pull request's,
    # kindred is a stack like any other, and kind, kind-gateway are e2e.yml's.
    checkout = tmp_path / "pr"
    stack_files(checkout, "dev", "prod", "kind", "kind-gateway", "kindred")
    stack_files(checkout / ".default-branch", "dev")
    assert list_stacks(checkout, ".default-branch") == {
        "stacks": ["dev", "kindred", "prod"],
        "established": ["dev"],
    }
    # On the default branch itself (renewal.yml), every stack is established.
    listed = list_stacks(checkout)
    assert listed["stacks"] == listed["established"] == ["dev", "kindred", "prod"]


def test_without_github_output_the_stacks_are_printed(tmp_path: Path) -> None:
    stack_files(tmp_path, "dev")
    printed = run("stacks.py", cwd=tmp_path).stdout
    assert printed == 'stacks=["dev"]\nestablished=["dev"]\n'


def e2e_stacks() -> set[str]:
    """The stacks e2e.yml deploys: the STACK its jobs set."""
    e2e = yaml.safe_load((GITHUB / "workflows" / "e2e.yml").read_text())
    return {job["env"]["STACK"] for job in e2e["jobs"].values() if "STACK" in job.get("env", {})}


def test_every_stack_file_is_previewed_but_the_ones_e2e_deploys() -> None:
    # A stack file that neither preview.yml nor e2e.yml runs is never checked before `pulumi up`.
    printed = run("stacks.py", cwd=ROOT).stdout
    previewed = json.loads(printed.splitlines()[0].removeprefix("stacks="))
    files = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")
    }
    assert previewed
    assert files - set(previewed) == e2e_stacks()


# --- .github/comments.py ------------------------------------------------------------------------

# gh: `api --paginate --slurp` lists the pull request's comments (comments.json), as an array of
# pages of two; every call is logged to gh.log with the JSON body it was given on stdin.
FAKE_GH = """
import json, sys
from pathlib import Path
args = sys.argv[1:]
call = {"args": args}
if "--input" in args:
    call["body"] = json.load(sys.stdin)["body"]
if args[:3] == ["api", "--paginate", "--slurp"]:
    comments = json.loads(Path("comments.json").read_text())
    print(json.dumps([comments[i : i + 2] for i in range(0, len(comments), 2)]))
elif args[:2] != ["api", "--method"]:
    sys.exit(f"fake gh: unexpected {args}")
with open("gh.log", "a") as log:
    log.write(json.dumps(call) + "\\n")
"""


def comment(
    folder: Path, comments: list[dict[str, Any]], *args: str, **env: str
) -> list[dict[str, Any]]:
    """Run comments.py on pull request 7 of owner/repo in `folder`, with a fake `gh` over
    `comments`; what `gh` was asked to do after listing them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "comments.json").write_text(json.dumps(comments))
    fake(folder / "bin", "gh", FAKE_GH)
    path = f"{folder / 'bin'}:{os.environ['PATH']}"
    run("comments.py", *args, cwd=folder, env={**RUNNER, "PATH": path, "PR": "7", **env})
    [listed, *calls] = [json.loads(line) for line in (folder / "gh.log").open()]
    assert listed["args"] == ["api", "--paginate", "--slurp", "repos/owner/repo/issues/7/comments"]
    return calls


def by(login: str, number: int, body: str) -> dict[str, Any]:
    return {"id": number, "user": {"login": login}, "body": body}


BOT = "github-actions[bot]"


def test_render_diff_comment_is_posted_then_edited_in_place(tmp_path: Path) -> None:
    (tmp_path / "diff.md").write_text("## Manifests\n\nno manifest changes\n")
    [new] = comment(tmp_path / "first", [], "render-diff", str(tmp_path / "diff.md"))
    assert new["args"] == ["api", "--method", "POST", "repos/owner/repo/issues/7/comments",
                           "--input", "-"]  # fmt: skip
    marker, diff = new["body"].split("\n", 1)
    assert re.fullmatch(r"<!--.+-->", marker) and diff == "## Manifests\n\nno manifest changes\n"

    # On a later push, the bot's comment with the marker is edited: not the bot's last comment (a
    # pulumi preview, say), nor anyone else's quoting the marker.
    comments = [
        by(BOT, 1, f"{marker}\nold diff"),
        by("someone", 2, f"> {marker}\nquoted"),
        by(BOT, 3, "pulumi preview of dev"),
    ]
    [edit] = comment(tmp_path / "later", comments, "render-diff", str(tmp_path / "diff.md"))
    assert edit["args"][:4] == ["api", "--method", "PATCH", "repos/owner/repo/issues/comments/1"]
    assert edit["body"] == new["body"]


def test_render_diff_comment_fits_github_and_links_the_summary(tmp_path: Path) -> None:
    (tmp_path / "diff.md").write_text("```diff\n" + "+ line\n" * 20_000)
    [new] = comment(tmp_path / "run", [], "render-diff", str(tmp_path / "diff.md"))
    assert len(new["body"]) <= 65536  # GitHub refuses a longer comment
    assert f"[job summary]({RUN_URL})" in new["body"]
    assert new["body"].count("```") % 2 == 0  # the cut diff's fence is closed


def test_a_change_that_does_not_render_says_so_first(tmp_path: Path) -> None:
    # The summary and the comment then start with "render-diff failed at <sha>" and a link to the
    # run, above the error: the last comment's diff must not pass for this change's.
    diff = tmp_path / "render-diff.md"
    diff.write_text("### `dev`\n\nThe change does not render:\n")
    env = {**RUNNER, "SHA": "f00d" * 10}
    run("comments.py", "render-failed", str(diff), cwd=tmp_path, env=env)
    first, _, rest = diff.read_text().partition("\n")
    assert (
        first == f":x: **render-diff failed at {'f00d' * 10}**: see [the run]({RUN_URL}) for why."
    )
    assert "The change does not render:" in rest
    # Whatever failed before the diff was written, the line is there.
    diff.unlink()
    run("comments.py", "render-failed", str(diff), cwd=tmp_path, env=env)
    assert diff.read_text().startswith(first)


def test_a_failed_preview_replaces_its_stacks_comment(tmp_path: Path) -> None:
    # pulumi/actions v7 (src/libs/pr.ts) edits the bot's comment that starts with this heading and
    # holds this summary: the failure keeps both, so the next successful preview replaces it.
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    heading = f"#### :tropical_drink: `preview` on {project}/dev"
    summary = "<summary>Pulumi report</summary>"
    preview = f"{heading}\n\n<details>\n{summary}\n<pre>\n+ 6 to create\n</pre>\n</details>"
    comments = [
        by("someone", 1, f"{heading}\n{summary} quoted"),
        by(BOT, 2, preview.replace("/dev", "/dev-eu")),
        by(BOT, 3, preview),
    ]
    sha = "0123abc" * 5 + "01234"
    env = {"SHA": sha, "STACK": "dev"}
    folder = tmp_path / "edit"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    [edit] = comment(folder, comments, "preview-failed", **env)
    assert edit["args"][:4] == ["api", "--method", "PATCH", "repos/owner/repo/issues/comments/3"]
    body = edit["body"]
    assert body.startswith(heading + "\n") and summary in body
    assert f"preview failed at {sha}**: see [the run]({RUN_URL})" in body
    assert "+ 6 to create" not in body
    # No comment yet (the pull request's first preview failed): a new one.
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    [new] = comment(folder, comments[:2], "preview-failed", **env)
    assert new["args"][:4] == ["api", "--method", "POST", "repos/owner/repo/issues/7/comments"]
    assert new["body"] == body


# --- .github/renewal.py -------------------------------------------------------------------------

# pulumi: prints preview.out and exits with the code in preview.code; logs its arguments.
FAKE_PULUMI = """
import sys
from pathlib import Path
Path("pulumi.args").write_text(" ".join(sys.argv[1:]))
print(Path("preview.out").read_text(), end="")
sys.exit(int(Path("preview.code").read_text()))
"""
REPLACE = "  +-  tls:index:LocallySignedCert  asia-cert  replace  [diff: ~readyForRenewal]\n"


@pytest.mark.parametrize(
    ("output", "code", "says"),
    [
        (REPLACE + "error: no changes were expected but changes were proposed\n", 255,
         "needs pulumi up"),
        ("error: failed to read kubeconfig\n", 255, "preview failed"),
        ("Resources:\n    12 unchanged\n", 0, None),
    ],
    ids=["changes", "unfinished", "no-changes"],
)  # fmt: skip
def test_renewal_says_which_stack_needs_pulumi_up(
    tmp_path: Path, output: str, code: int, says: str | None
) -> None:
    fake(tmp_path / "bin", "pulumi", FAKE_PULUMI)
    (tmp_path / "preview.out").write_text(output)
    (tmp_path / "preview.code").write_text(str(code))
    summary = tmp_path / "summary.md"
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(summary)}
    result = run("renewal.py", "asia", cwd=tmp_path, env=env, check=False)
    assert result.returncode == code  # the job fails as the preview did
    words = (tmp_path / "pulumi.args").read_text().split()
    assert words[:3] == ["preview", "--stack", "asia"] and "--expect-no-changes" in words
    assert result.stdout.startswith(output)  # the preview's own output, in the log
    if says is None:
        assert not summary.exists() and "::error" not in result.stdout
        return
    # An annotation on the run: its title (where `:` and `,` would need escaping) names the stack.
    [title] = re.findall(r"^::error title=([^\n]*?)::", result.stdout, re.M)
    assert title == f"Stack asia {says}"
    assert summary.read_text().startswith(f"### Stack asia {says}\n")
    if says == "needs pulumi up":
        assert "make up STACK=asia" in result.stdout
        assert REPLACE.rstrip("\n") in summary.read_text()  # what the preview would replace
