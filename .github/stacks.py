"""The stacks preview.yml and renewal.yml run: `python3 .github/stacks.py [DEFAULT_BRANCH_DIR]`.

Writes two JSON lists to the file $GITHUB_OUTPUT names (to stdout without it):
- `stacks`: each Pulumi.<stack>.yaml in the working directory (the repository's root), but the
  end-to-end stacks `kind` and `kind-*` of e2e.yml: their state is thrown away with their kind
  clusters, and previewing them would create them in the shared backend and need clusters no
  kubeconfig holds;
- `established`: those whose file the default branch has too, DEFAULT_BRANCH_DIR being a checkout
  of it (without it, every stack: on the default branch itself). preview.yml lets a preview create
  only these in the backend (pulumi/actions' `upsert`): a stack that a pull request adds is created
  once it is merged (`make up STACK=<stack>`), not by the previews of every push of every PR.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def stacks(folder: Path) -> list[str]:
    """The stacks with a file in `folder`, without the end-to-end ones."""
    names = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))
    return [s for s in names if s != "kind" and not s.startswith("kind-")]


def main(argv: list[str]) -> int:
    found = stacks(Path("."))
    established = [
        s for s in found if len(argv) < 2 or (Path(argv[1]) / f"Pulumi.{s}.yaml").exists()
    ]
    print("stacks:", found, "of which on the default branch:", established, file=sys.stderr)
    lines = f"stacks={json.dumps(found)}\nestablished={json.dumps(established)}\n"
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as out:
            out.write(lines)
    else:
        print(lines, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
