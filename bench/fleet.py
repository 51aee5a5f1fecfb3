"""`make bench-fleet`: what a fleet's `up` and `preview` (fleet/run.py) cost at concurrency 1 and
at N, under the real engine.

A fleet of N caches (4 unless --caches), each in a namespace of its own on a node port of its
own, all pulling from MSR, so they form one wave and concurrency N runs them all at once. They
run on a real control plane started for the bench (tests/engine/cluster.py: kube-apiserver and
kwok's nodes, built by `make toolchain`), or on the cluster of --kubeconfig, through the real
Pulumi CLI and providers, in a copy of the project with a file backend of its own
(tests/engine/pulumi_cli.py). For each concurrency, 1 then N: `up` from nothing, `preview`
(nothing to change), `destroy`, each timed with a wall clock, the fleet's offline check (a render
of every cache, which every command runs first) included; then the same check alone, for scale.

It is a benchmark, not a test: it prints a table and never fails on a time. Run from the repo
root:
  .venv/bin/python bench/fleet.py [--caches N] [--runs R] [--kubeconfig FILE]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests", ROOT / "tests" / "registry", ROOT / "tests" / "engine"):
    sys.path.insert(0, str(folder))

import yaml  # noqa: E402

from fleet.check import check  # noqa: E402
from fleet.run import Command, run  # noqa: E402
from fleet.spec import Fleet, load  # noqa: E402
from toolchain import bin_dir  # noqa: E402

# The engine layer's harness (tests/engine), a folder of test modules rather than a package.
cluster_harness: Any = importlib.import_module("cluster")
pulumi_cli: Any = importlib.import_module("pulumi_cli")

MSR = "https://msr.example.com"
FIRST_PORT = 30443
COMMANDS: tuple[Command, ...] = ("up", "preview", "destroy")


def fleet_file(folder: Path, caches: int, kubeconfig: Path) -> Fleet:
    """N caches of one cluster, none pulling from another (one wave)."""
    entries = [
        {
            "name": f"bench-{i}",
            "cluster": {"kubeconfig": str(kubeconfig)},
            "config": {
                "msr-cache:upstreams": [MSR],
                "msr-cache:namespace": f"bench-{i}",
                "msr-cache:hosts": [f"bench-{i}.fleet.example.test"],
                "msr-cache:port": FIRST_PORT + i,
            },
        }
        for i in range(caches)
    ]
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump({"caches": entries}, sort_keys=False))
    return load(path)


def timed(command: Command, fleet: Fleet, project: Any, concurrency: int) -> tuple[float, float]:
    """Wall-clock seconds of the command over the whole fleet, and the slowest stack's own."""
    started = time.monotonic()
    summary = run(command, fleet, root=project.root, concurrency=concurrency, env=project.env,
                  progress=lambda line: print(f"    {line}", flush=True))  # fmt: skip
    took = time.monotonic() - started
    if not summary.ok or any(o.status != "succeeded" for o in summary.outcomes):
        raise SystemExit(f"fleet {command} did not succeed:\n{summary.markdown()}")
    if command == "preview" and any(set(o.changes) != {"same"} for o in summary.outcomes):
        raise SystemExit(f"fleet preview after up has changes:\n{summary.markdown()}")
    return took, max(o.seconds for o in summary.outcomes)


@contextmanager
def a_cluster(folder: Path, kubeconfig: Path | None) -> Generator[Path]:
    """The kubeconfig of the cluster the bench deploys into: the one given, or one started."""
    if kubeconfig is not None:
        yield kubeconfig
        return
    started = time.monotonic()
    with cluster_harness.running_cluster(folder / "cluster") as cluster:
        print(f"control plane started in {time.monotonic() - started:.0f} s", flush=True)
        yield Path(cluster.kubeconfig)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--caches", type=int, default=4, help="N: the caches (default 4)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each (median; default 1)")
    parser.add_argument("--kubeconfig", type=Path, help="a cluster of yours instead of one started")
    args = parser.parse_args()
    if args.caches < 2 or args.runs < 1:
        parser.error("--caches: at least 2; --runs: at least 1")
    missing = [t for t in pulumi_cli.TOOLS if not (bin_dir() / t).exists()]
    missing += cluster_harness.missing_tools() if args.kubeconfig is None else []
    if missing:
        print(f"not built: {', '.join(missing)}; run `make toolchain` first", file=sys.stderr)
        return 1
    n = args.caches
    concurrencies = (1, n)
    times: dict[tuple[Command, int], list[float]] = {}
    slowest: dict[tuple[Command, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        folder = Path(tmp)
        with a_cluster(folder, args.kubeconfig) as kubeconfig:
            project = pulumi_cli.Project(folder / "project")
            fleet = fleet_file(folder, n, kubeconfig)
            try:
                for r in range(args.runs):
                    for concurrency in concurrencies:
                        for command in COMMANDS:
                            print(f"run {r + 1}: {command}, concurrency {concurrency}", flush=True)
                            took, longest = timed(command, fleet, project, concurrency)
                            times.setdefault((command, concurrency), []).append(took)
                            slowest.setdefault((command, concurrency), []).append(longest)
            except BaseException:  # nothing left in a cluster of the user's (one started goes)
                if args.kubeconfig is not None:
                    run("destroy", fleet, root=project.root, env=project.env, progress=print)
                raise
            started = time.monotonic()
            check(fleet, project.root)
            checked = time.monotonic() - started

    print()
    print(f"| fleet of {n} caches | concurrency 1 | concurrency {n} | speed-up |")
    print("|---|---|---|---|")
    for command in COMMANDS:
        one, many = (statistics.median(times[command, c]) for c in concurrencies)
        print(f"| `{command}` | {one:.0f} s | {many:.0f} s | {one / many:.1f}x |")
    print()
    for concurrency in concurrencies:
        per = ", ".join(f"{c} {statistics.median(slowest[c, concurrency]):.0f} s" for c in COMMANDS)
        print(f"slowest stack at concurrency {concurrency}: {per}")
    print(f"the offline check alone (every command's first step): {checked:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
