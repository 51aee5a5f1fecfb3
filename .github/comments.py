"""The pull request comments of the workflows, each edited in place on later pushes.

    python3 .github/comments.py render-diff FILE    the manifest diff in FILE, under a marker
    python3 .github/comments.py render-failed FILE  puts "render-diff failed at <sha>" atop FILE
    python3 .github/comments.py preview-failed      "preview failed at <sha>" in the place of the
                                                    stack's pulumi/actions comment

Reads PR (the pull request's number), SHA (its head commit), STACK (preview-failed), and what the
runner sets: GITHUB_REPOSITORY, GITHUB_SERVER_URL and GITHUB_RUN_ID. `gh` reads GH_TOKEN.
Standard library only: it runs with the runner's Python, before any virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BOT = "github-actions[bot]"
# render-diff's comment is found by this marker, not as the bot's last comment: that may be a
# pulumi preview comment of preview.yml.
MARKER = "<!-- msr-cache:render-diff -->"
# A comment holds at most 65536 characters; the rest of a longer diff is in the job summary.
LIMIT = 60_000
# pulumi/actions v7 (src/libs/pr.ts) finds the comment it edits by this heading, which the body
# starts with, and by this summary: a failed preview's comment keeps both, so the next successful
# preview replaces it in turn.
HEADING = "#### :tropical_drink: `preview` on {project}/{stack}"
SUMMARY = "<summary>Pulumi report</summary>"


def run_url() -> str:
    """The link to this workflow run."""
    env = os.environ
    return (
        f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    )


def gh(*args: str, body: str | None = None) -> str:
    """Run `gh api` with `body` as the request's JSON `{"body": ...}`; its output."""
    stdin = json.dumps({"body": body}) if body is not None else None
    extra = ["--input", "-"] if body is not None else []
    done = subprocess.run(
        ["gh", "api", *args, *extra], input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"gh api {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def upsert(body: str, is_ours: Callable[[dict[str, Any]], bool], last: bool) -> None:
    """Edit the pull request's comment that `is_ours` picks (the last such one if `last`, else
    the first), or post `body` as a new one."""
    repo, pr = os.environ["GITHUB_REPOSITORY"], os.environ["PR"]
    pages = json.loads(gh("--paginate", "--slurp", f"repos/{repo}/issues/{pr}/comments"))
    ours = [c for page in pages for c in page if c["user"]["login"] == BOT and is_ours(c)]
    if ours:
        comment = ours[-1] if last else ours[0]
        gh("--method", "PATCH", f"repos/{repo}/issues/comments/{comment['id']}", body=body)
    else:
        gh("--method", "POST", f"repos/{repo}/issues/{pr}/comments", body=body)


def render_diff(diff: str) -> None:
    """Post render-diff's comment: the diff under the marker, cut to fit a comment."""
    if len(diff) > LIMIT:
        diff = (
            f"{diff[:LIMIT]}\n```\n\nThe diff is too long for a comment; the full diff is in the "
            f"[job summary]({run_url()}).\n"
        )
    upsert(f"{MARKER}\n{diff}", lambda c: MARKER in c["body"], last=True)


def render_failed(diff: str) -> str:
    """What render-diff shows when the change does not render: the failure first, with a link
    to the run, so that the previous run's diff never passes for this one; then what the diff
    had printed, if anything."""
    sha = os.environ["SHA"]
    return f":x: **render-diff failed at {sha}**: see [the run]({run_url()}) for why.\n\n{diff}"


def project_name() -> str:
    """The project's name, from Pulumi.yaml (no YAML library: this runs before the virtualenv)."""
    text = Path("Pulumi.yaml").read_text()
    match = re.search(r"^name:\s*(\S+)", text, re.M)
    if not match:
        sys.exit("Pulumi.yaml has no name:")
    return match[1].strip("\"'")


def preview_failed() -> None:
    """Put "preview failed at <sha>" in the place of the stack's pulumi/actions comment, which
    that action posts only after a successful preview: the last green one must not stay on the
    pull request looking current."""
    heading = HEADING.format(project=project_name(), stack=os.environ["STACK"])
    body = "\n".join(
        [
            heading,
            "",
            f":x: **preview failed at {os.environ['SHA']}**: see [the run]({run_url()}) for why.",
            "",
            "<details>",
            SUMMARY,
            "",
            "No report: the preview did not finish. A mandatory policy's violation, an error",
            "of the program or of the stack's config, or a stack the backend does not have",
            "(one this pull request adds) stops it; the run's log says which.",
            "</details>",
        ]
    )
    upsert(
        body,
        lambda c: c["body"].startswith(heading + "\n") and SUMMARY in c["body"],
        last=False,
    )


def main(argv: list[str]) -> int:
    match argv[1:]:
        case ["render-diff", file]:
            render_diff(Path(file).read_text())
        case ["render-failed", file]:
            path = Path(file)
            path.write_text(render_failed(path.read_text() if path.exists() else ""))
        case ["preview-failed"]:
            preview_failed()
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
