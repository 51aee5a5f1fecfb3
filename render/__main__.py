"""`python -m render STACK [OUT]`: render a stack's manifests offline, as `pulumi up` would.

Evaluates the project's __main__.py under Pulumi's mock monitor with the stack's config, and writes
one YAML file per Kubernetes object to OUT/1-manifest/ (default rendered/STACK). No CLI, no
cluster, no network. A config mistake prints the same message as `pulumi up` and exits 1.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

import pulumi

from components.settings import ConfigError

from . import manifests, stack_config
from .engine import ClusterReadInRender, RenderProviders, evaluate

ROOT = Path(__file__).resolve().parent.parent


def render(stack: str, out: Path, root: Path = ROOT, stack_dir: Path | None = None) -> list[Path]:
    """Render `stack` (its file in `stack_dir`, default `root`) into `out`; returns the files
    written. Raises ConfigError on a mistake."""
    config = stack_config.load(root, stack, stack_dir)
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    providers = RenderProviders()

    def program() -> dict[str, object]:
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        return {}  # the manifests are what the providers recorded; no output is needed

    try:
        evaluate(program, providers, stack=stack)
    finally:
        pulumi.runtime.set_all_config({})
    return manifests.write(providers.resources, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m render", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--stack-dir", type=Path, help="folder of Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "rendered" / args.stack
    try:
        written = render(args.stack, out, stack_dir=args.stack_dir)
    except (ConfigError, ClusterReadInRender) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"rendered {len(written)} objects of stack {args.stack} into {out / manifests.MANIFEST_DIR}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
