"""`python -m render STACK [OUT]`: render a stack's manifests offline, as `pulumi up` would.

Checks Pulumi.yaml and the stack's config as the Pulumi CLI does before it runs a program
(render/pulumi_cli_config.py), evaluates the project's __main__.py under Pulumi's mock monitor
with that config, and writes one YAML file per Kubernetes object to OUT/1-manifest/ (default
<project>/rendered/STACK; with more than one Kubernetes provider, OUT/<provider>/1-manifest/).
No CLI, no cluster, no network: what the stack would read from the cluster, and encrypted values
without PULUMI_CONFIG_PASSPHRASE, get stand-ins, each named in a line `notice: ...`. A config
mistake prints the same message as `pulumi up` and exits 1, leaving no OUT behind: a folder of
manifests is always a whole render.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import runpy
import shutil
import sys
from pathlib import Path

import pulumi

from components.inputs.problems import Caller, ConfigError, set_caller

from . import manifests, outputs, policy_pack, stack_config
from .engine import Value, evaluate
from .provider_mocks import LOAD_BALANCER_STAND_IN, ClusterReadInRender, Registered, RenderProviders

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Said:
    """What a render says besides its manifests."""

    notices: list[str] = dataclasses.field(default_factory=list[str])
    """What the render stood in for (encrypted values, what the stack reads from the cluster)."""
    warnings: list[str] = dataclasses.field(default_factory=list[str])
    """What the program warned of (pulumi.log.warn), as `pulumi up` shows it."""
    outputs: dict[str, Value] = dataclasses.field(default_factory=dict[str, Value])
    """The stack's outputs, as the engine would see them."""
    resources: list[Registered] = dataclasses.field(default_factory=list[Registered])
    """What the program registered."""
    stood_in: list[str] = dataclasses.field(default_factory=list[str])
    """The inputs (config keys, without the namespace) the render stood in for."""


class NotARenderFolder(pulumi.RunError):
    """OUT holds files a render did not write: replacing it, or removing it on a failure, would
    lose them."""


def render(
    stack: str,
    out: Path,
    root: Path = ROOT,
    stack_dir: Path | None = None,
    said: Said | None = None,
) -> list[Path]:
    """Render `stack` (its file in `stack_dir`, default `root`) into `out`, replacing it whole;
    returns the files written, and records in `said` what the render stood in for, what the
    program warned of and the stack's outputs. Raises
    ConfigError on a mistake, and then `out` is gone: manifests left from an earlier run must not
    pass for this one's. Raises NotARenderFolder, touching nothing, when `out` holds anything but
    a render's manifests."""
    target = out.resolve()
    if not _is_render_output(target):
        raise NotARenderFolder(
            f"{out} holds files a render does not write; give an empty folder or an earlier "
            f"render's (only {manifests.MANIFEST_DIR}/ and {manifests.CRD_DIR}/ of YAML files, "
            "or a folder of those per provider)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Rendered beside `out` (same file system, so the swap is a rename) and swapped in on success.
    staging = _beside(target, "rendering")
    staging.mkdir()
    try:
        written = _render(stack, staging, root, stack_dir, said if said is not None else Said())
        _replace(target, staging)
    except BaseException:
        _remove(staging)
        _remove(target)
        raise
    return [out / path.relative_to(staging) for path in written]


def _is_render_output(path: Path, per_provider: bool = True) -> bool:
    """Whether `path` is absent or holds nothing but what a render writes: the manifest folders,
    or (`per_provider`) folders of them."""
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    for folder in path.iterdir():
        if per_provider and folder.name == manifests.INDEX and folder.is_file():
            continue
        if folder.name in (manifests.MANIFEST_DIR, manifests.CRD_DIR) and folder.is_dir():
            if any(not f.is_file() or f.suffix != ".yaml" for f in folder.iterdir()):
                return False
        elif not (per_provider and folder.is_dir() and _is_render_output(folder, False)):
            return False
    return True


def _beside(path: Path, purpose: str) -> Path:
    """A fresh hidden name in `path`'s folder."""
    return path.with_name(f".{path.name}.{purpose}-{os.urandom(4).hex()}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _replace(out: Path, staging: Path) -> None:
    """Put `staging` where `out` is: the old one is moved aside first, then deleted."""
    old = None
    if out.exists() or out.is_symlink():
        old = _beside(out, "old")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        _remove(old)


def _render(stack: str, out: Path, root: Path, stack_dir: Path | None, said: Said) -> list[Path]:
    config = stack_config.load(root, stack, stack_dir)
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    providers = RenderProviders(cluster={(c.typ, c.id): c.state for c in config.cluster})
    said.notices += [c.notice for c in config.cluster]
    said.stood_in = [key.split(":", 1)[1] for key in [*config.stood_in, *config.replaced]]
    for key in config.replaced:
        said.notices.append(
            f"{key}: not encrypted, but its key is, and PULUMI_CONFIG_PASSPHRASE is not set: "
            "the render checked your certificate as given (valid now, its SANs, its issuer), "
            "then put a stand-in pair in place of both, as a key needs its certificate"
        )
    if config.stood_in:
        said.notices.append(
            f"{', '.join(config.stood_in)}: encrypted, and PULUMI_CONFIG_PASSPHRASE is not set; "
            "the render puts stand-ins in their place (they reach only redacted Secrets)"
        )

    exported: dict[str, object] = {}

    def program() -> dict[str, object]:
        # The stack's outputs, as pulumi.export hands them to the engine (the manifests are what
        # the providers recorded).
        real_export = pulumi.export

        def export(name: str, value: object) -> None:
            exported[name] = value
            real_export(name, value)

        pulumi.export = export
        try:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = real_export
        return exported

    logged = _Warnings()
    try:
        said.outputs = evaluate(
            program, providers, stack=stack, project=config.project, logger=logged.logger
        )
        said.warnings += logged.texts
        said.resources = providers.resources
        if providers.load_balancers:
            said.notices.append(
                f"a LoadBalancer Service has {LOAD_BALANCER_STAND_IN} as its address in the "
                "render, a stand-in for the one the cloud assigns at deployment (a SAN of the "
                "certificate, and the URL's host without hosts)"
            )
        # What `make up` runs over the deployment, the render runs over its objects.
        reported = policy_pack.violations(
            root, providers.resources, stack=stack, project=config.project
        )
        said.warnings += [f"policy {v.policy} (advisory): {v.message}" for v in reported
                          if v.level == "advisory"]  # fmt: skip
        policy_pack.refuse_mandatory(reported)
    finally:
        pulumi.runtime.set_all_config({})
        set_caller(Caller.PYTHON)  # the stack program spelled keys for stack config
    return manifests.write(providers.resources, out)


class _Warnings(logging.Handler):
    """What the program warns of (pulumi.log.warn): `pulumi up` shows it, so the render does."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.texts: list[str] = []
        self.logger = logging.getLogger(f"msr-cache.render.{id(self)}")
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m render", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("stack")
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--stack-dir", type=Path, help="folder of Pulumi.<stack>.yaml")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=ROOT,
        help="folder of Pulumi.yaml and the program's __main__.py (default this project)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out or args.project_dir / "rendered" / args.stack
    said = Said()
    try:
        written = render(args.stack, out, args.project_dir, args.stack_dir, said)
    except (ConfigError, ClusterReadInRender, NotARenderFolder, pulumi.RunError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for notice in said.notices:
        print(f"notice: {notice}")
    for warning in said.warnings:
        print(f"warning: {warning}")
    if said.outputs:
        print("Outputs (as pulumi up would print them):")
        for line in outputs.described(said.outputs, said.resources, said.stood_in):
            print(f"    {line}")
    folders = sorted({str(path.relative_to(out).parent) for path in written})
    where = ", ".join(str(out / folder) for folder in folders) or str(out)
    print(f"rendered {len(written)} objects of stack {args.stack} into {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
