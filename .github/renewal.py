"""Whether a stack needs `pulumi up`: python3 .github/renewal.py STACK

Runs `pulumi preview --expect-no-changes` of STACK, in the backend that PULUMI_BACKEND_URL names
(with the backend's credentials from the environment), printing its output as it comes. A stack
whose generated certificate has entered its early-renewal window plans to replace it
(pulumi-tls), so its preview has changes, and so has a stack that drifted.

When the preview fails, this says which of two things happened, as an annotation of the run (an
`::error` line) and in the job summary ($GITHUB_STEP_SUMMARY; without it, on stdout): the stack
needs `pulumi up`, or its preview did not finish (an unreachable cluster, a stack the backend
does not have), so whether a certificate is due is not known. It exits as the preview did.
Standard library only: it runs with the runner's Python.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

# What `pulumi preview --expect-no-changes` says when the preview finished with changes.
CHANGES = "no changes were expected"


def preview(stack: str) -> tuple[int, str]:
    """Run the preview, echoing its output; its exit code and output."""
    command = ["pulumi", "preview", "--stack", stack, "--expect-no-changes", "--diff",
               "--non-interactive"]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
    return process.returncode, "".join(lines)


def verdict(stack: str, output: str) -> tuple[str, str]:
    """The title and the explanation of a failed preview of `stack`."""
    if CHANGES in output:
        return (
            f"Stack {stack} needs pulumi up",
            "its preview plans changes: a certificate in its early-renewal window is replaced, "
            f"or the stack drifted. Review the preview below, then run: make up STACK={stack}",
        )
    return (
        f"Stack {stack} preview failed",
        "the preview did not finish, so whether a certificate is due is not known; the log says "
        "why",
    )


def summary(title: str, says: str, output: str) -> str:
    """The job summary: the verdict, then the lines of the preview that say what it would
    replace and what failed."""
    shown = [line for line in output.splitlines() if re.search(r"replace|error:", line)][:50]
    return "\n".join([f"### {title}", "", f"{says}.", "", "```", *shown, "```", ""])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stack = argv[1]
    code, output = preview(stack)
    if code == 0:
        return 0
    title, says = verdict(stack, output)
    # An annotation's title ends at "::"; a "," or ":" in it would need escaping, and it has none.
    print(f"::error title={title}::{says}")
    text = summary(title, says, output)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as out:
            out.write(text)
    else:
        print(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
