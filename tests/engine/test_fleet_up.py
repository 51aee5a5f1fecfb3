"""A fleet of caches across two clusters, driven by fleet.run (Pulumi's Automation API) through the
real Pulumi CLI, its language host and providers, into two real control planes started at once
(tests/engine/cluster.py), each reached through a kubeconfig file of its own.

One fleet goes through a team's day 2, in one test as the other day-2 sequences of this layer
(each CLI run costs seconds; a fleet's, one per cache): a central cache on cluster A and four
regions on cluster B, three pulling from `cache:central` and one from a region, so three waves.
- `up`: every stack succeeds; each wave starts once the one before has finished (the stacks'
  own update history says when each ran); each region's config.yaml, read back from its API
  server, pulls from the url central's stack output, and its Secret holds central's caCertPem as
  the upstream CA (as the kubelet would mount them: tests/registry/pod.py).
- `preview`: every stack unchanged.
- `drift`: nothing changed outside Pulumi; then a region's Deployment scaled with kubectl, which
  `drift` reports, that resource of that region alone. pulumi-kubernetes 4.25 applies server-side:
  its refresh reads back only the fields its own field manager owns, so a label or annotation
  added with kubectl (another manager's field) is not drift to it, where a scale
  (spec.replicas, Pulumi's) is.
- a config change of one region (blobTtl): `up` changes that stack alone, and its new
  config.yaml holds the new blobttl.
- a broken region, whose config passes the offline check (fleet.check) but which the API server
  refuses at deploy time (a node port another region of its cluster holds): through the command
  line (`python -m fleet up --json`), it fails alone, the cache chained to it is skipped, a new
  region in its wave still deploys, the summary's ok is false and the exit status 1.
- `destroy`: every namespace gone from both clusters, no resource left in any stack.
A fixture destroys whatever a failing test left deployed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster, missing_tools
from harness import ROOT, unavailable
from pod import lay_out
from pulumi_cli import Project, require_tools

from fleet import spec
from fleet.check import check
from fleet.run import Command, run
from fleet.summary import Outcome, Summary

pytestmark = pytest.mark.timeout(1800)
MSR = "https://msr.example.com"
# Three waves: central; the regions pulling from it; the one pulling from a region.
CENTRAL = "central"
REGIONS = {"emea": CENTRAL, "apac": CENTRAL, "amer": CENTRAL, "edge": "emea"}
# Node ports, each held once per cluster: central's on cluster A, the others on B. The broken
# region's is apac's; behind pulls from it, late is a new region in its wave.
PORTS = {"central": 30443, "emea": 30443, "apac": 30444, "amer": 30445, "edge": 30446,
         "broken": 30444, "behind": 30448, "late": 30447}  # fmt: skip
DRIFTED = "apac"  # the region scaled out of band
CHANGED = "amer"  # the region whose blobTtl changes
CONCURRENCY = 3


@contextmanager
def running_clusters(roots: Sequence[Path]) -> Generator[list[Cluster]]:
    """A control plane per root, started at once (threads: each start waits on its processes,
    not on this one), all stopped on exit whatever happened. Each picks its own free ports."""
    clusters = [Cluster(root) for root in roots]
    try:
        with ThreadPoolExecutor(len(clusters)) as pool:
            started = [pool.submit(c.start) for c in clusters]
        for future in started:
            future.result()
        yield clusters
    finally:
        for c in clusters:
            c.stop()


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Cluster]]:
    """Two clusters of the test's own (not the session's `cluster`): one fleet spans both."""
    missing = missing_tools()
    if missing:
        unavailable(f"not built: {', '.join(missing)}: run `make toolchain`")
    require_tools()
    roots = [tmp_path_factory.mktemp(f"cluster-{n}") for n in ("a", "b")]
    with running_clusters(roots) as clusters:
        yield clusters


class Fleet:
    """A fleet file in a copy of the project (tests/engine/pulumi_cli.py: its own HOME, file
    backend and passphrase), and the fleet's commands run on it."""

    def __init__(self, root: Path) -> None:
        self.project = Project(root)
        self.file = root / "fleet.yaml"
        self.entries: list[dict[str, Any]] = []
        self.deployed = False  # whether a stack may hold resources
        self.progress: list[tuple[float, str]] = []

    def add(self, name: str, cluster: Cluster, config: Mapping[str, Any], **where: str) -> None:
        entry = {"name": name, "cluster": {"kubeconfig": str(cluster.kubeconfig), **where},
                 "config": {f"msr-cache:{k}": v for k, v in config.items()}}  # fmt: skip
        self.entries.append(entry)

    def set(self, name: str, key: str, value: Any) -> None:
        (entry,) = [e for e in self.entries if e["name"] == name]
        entry["config"][f"msr-cache:{key}"] = value

    def load(self) -> spec.Fleet:
        self.file.write_text(yaml.safe_dump({"caches": self.entries}, sort_keys=False))
        return spec.load(self.file)

    def run(self, command: Command, concurrency: int = CONCURRENCY) -> Summary:
        """fleet.run of the file as it is; each progress line kept with when it came."""
        fleet = self.load()
        self.deployed = self.deployed or command == "up"
        self.progress = []

        def said(line: str) -> None:
            self.progress.append((time.monotonic(), line))
            print(f"{time.monotonic() - started:6.1f} s  {line}")  # shown when the test fails

        started = time.monotonic()
        print(f"fleet {command}:")
        return run(command, fleet, root=self.project.root, concurrency=concurrency,
                   env=self.project.env, progress=said)  # fmt: skip

    def said(self, line: str) -> float:
        """When the last run said `line`."""
        (when,) = [t for t, said in self.progress if said == line or said.startswith(line + " ")]
        return when

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m fleet <args> fleet.yaml`, as a user runs it, in the project's copy."""
        self.load()
        self.deployed = self.deployed or args[0] == "up"
        command = [sys.executable, "-m", "fleet", args[0], str(self.file), *args[1:],
                   f"--project-dir={self.project.root}"]  # fmt: skip
        return subprocess.run(command, cwd=ROOT, env={**os.environ, **self.project.env},
                              capture_output=True, text=True, timeout=1200)  # fmt: skip

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", "--stack", stack]
        return self.project.pulumi(*args, *(["--show-secrets"] if show_secrets else [])).json()

    def history(self, stack: str) -> list[dict[str, Any]]:
        """The stack's updates, the latest first (the backend's own record of when each ran)."""
        return self.project.pulumi("stack", "history", "--json", "--stack", stack).json()

    def stacks(self) -> dict[str, int]:
        """Each stack of the project, and how many resources its state holds."""
        listed = self.project.pulumi("stack", "ls", "--json").json()
        return {s["name"]: s.get("resourceCount", 0) for s in listed}


@pytest.fixture
def fleet(two_clusters: list[Cluster], tmp_path: Path) -> Iterator[Fleet]:
    """The fleet a test runs; whatever it left deployed (a failed test's) is destroyed."""
    made = Fleet(tmp_path / "project")
    yield made
    if made.deployed:
        summary = made.run("destroy")
        assert summary.ok, summary.markdown()


def by_cache(summary: Summary) -> dict[str, Outcome]:
    return {o.cache: o for o in summary.outcomes}


def statuses(summary: Summary) -> dict[str, str]:
    return {o.cache: o.status for o in summary.outcomes}


def namespace(name: str) -> str:
    return f"fleet-{name}"


def cache_config(name: str, pulls_from: str | None) -> dict[str, Any]:
    """A cache on its node port, under a host that resolves nowhere (.test): this layer proves
    what the API servers hold; the registry layer proves pulls."""
    return {"upstreams": [f"cache:{pulls_from}" if pulls_from else MSR],
            "namespace": namespace(name), "hosts": [f"{name}.fleet.example.test"],
            "port": PORTS[name]}  # fmt: skip


def pulled_from(cluster: Cluster, name: str, tmp: Path) -> tuple[list[str], str, str]:
    """What region `name` pulls from as its pod would mount it: the upstreams and blob TTL of its
    config.yaml, and the CA file its config names, from the objects its API server holds."""
    pod = lay_out(cluster.deployed(namespace(name)), tmp / name)
    (downstream,) = pod.config["middleware"]["registry"]
    options = downstream["options"]
    (ca,) = options["cas"]
    return options["upstreams"], options["blobttl"], pod.path(ca).read_text()


def namespaces_left(cluster: Cluster, names: Sequence[str]) -> list[str]:
    return [n for n in names if cluster.kubectl("get", "namespace", namespace(n),
                                               "--ignore-not-found")]  # fmt: skip


def test_a_fleet_across_two_clusters_deploys_in_waves_reports_drift_and_goes_with_destroy(
    two_clusters: list[Cluster], fleet: Fleet, tmp_path: Path
) -> None:
    a, b = two_clusters
    fleet.add(CENTRAL, a, cache_config(CENTRAL, None))
    for name, upstream in REGIONS.items():
        # One region names its cluster's context too (both clusters call theirs kwok-msr-cache).
        where = {"context": b.context} if name == "edge" else {}
        fleet.add(name, b, cache_config(name, upstream), **where)
    assert [[c.name for c in w] for w in fleet.load().waves()] == [
        [CENTRAL],
        ["emea", "apac", "amer"],
        ["edge"],
    ]

    # -- up, in waves --------------------------------------------------------------------------
    summary = fleet.run("up")
    assert summary.ok and set(statuses(summary).values()) == {"succeeded"}, summary.markdown()
    central = fleet.outputs(CENTRAL, show_secrets=True)
    assert central["url"] == "https://central.fleet.example.test:30443"
    assert by_cache(summary)[CENTRAL].outputs["url"] == central["url"]
    for name, upstream in REGIONS.items():
        given = fleet.outputs(upstream, show_secrets=True)
        upstreams, _, ca = pulled_from(b, name, tmp_path / "up")
        assert upstreams == [given["url"]], name
        assert ca == given["caCertPem"], name
    # Each wave after the one before: a stack's update began once its upstream's had ended, as
    # the fleet said and as the stacks' own history records it (to the second).
    ran = {name: fleet.history(name)[0] for name in (CENTRAL, *REGIONS)}
    for name, upstream in REGIONS.items():
        assert fleet.said(f"{name}: up started") > fleet.said(f"{upstream}: up succeeded")
        assert ran[name]["startTime"] >= ran[upstream]["endTime"], (name, ran)
    # ... and the regions of a wave ran at once (concurrency 3): each began before any ended.
    wave = ("emea", "apac", "amer")
    assert max(fleet.said(f"{n}: up started") for n in wave) < min(
        fleet.said(f"{n}: up succeeded") for n in wave
    ), fleet.progress
    for cluster, names in ((a, [CENTRAL]), (b, list(REGIONS))):
        for name in names:
            deployment = cluster.get("deployment", "dtr-cache", namespace(name))
            assert deployment["status"].get("readyReplicas") == 1, name

    # -- an empty preview ----------------------------------------------------------------------
    summary = fleet.run("preview")
    assert set(statuses(summary).values()) == {"succeeded"}, summary.markdown()
    for outcome in summary.outcomes:
        assert set(outcome.changes) == {"same"}, (outcome.cache, outcome.changes)

    # -- drift: none, then a Deployment scaled out of band -------------------------------------
    summary = fleet.run("drift")
    assert summary.ok, summary.markdown()
    assert {o.cache: o.drifted for o in summary.outcomes if o.drifted} == {}, summary.markdown()
    b.kubectl("scale", "deployment/dtr-cache", f"--namespace={namespace(DRIFTED)}", "--replicas=2")
    summary = fleet.run("drift")
    assert summary.ok, summary.markdown()
    drifted = {o.cache: o.drifted for o in summary.outcomes if o.drifted}
    assert drifted == {DRIFTED: [f"kubernetes:apps/v1:Deployment {DRIFTED}-deployment"]}, drifted

    # -- a config change to one region ---------------------------------------------------------
    fleet.set(CHANGED, "blobTtl", "12h")
    summary = fleet.run("up")
    assert summary.ok, summary.markdown()
    changed = {o.cache: o.changes for o in summary.outcomes if set(o.changes) != {"same"}}
    assert set(changed) == {CHANGED}, summary.markdown()
    # The config is a new object (its name is its content's digest); the pods roll onto it.
    assert changed[CHANGED].get("replace") == 1 and changed[CHANGED].get("update") == 1, changed
    _, ttl, _ = pulled_from(b, CHANGED, tmp_path / "changed")
    assert ttl == "12h"

    # -- a broken region fails alone -----------------------------------------------------------
    # Its node port is apac's: every region's own check passes (a port is checked against its
    # own stack, not the cluster), and the API server refuses the Service.
    fleet.add("broken", b, cache_config("broken", CENTRAL))
    fleet.add("behind", b, cache_config("behind", "broken"))
    fleet.add("late", b, cache_config("late", CENTRAL))
    check(fleet.load(), fleet.project.root)  # raises FleetError if any cache's config is bad
    # Through the command line, as a user runs it: the summary as data (Summary.as_json), the
    # progress on stderr, and exit status 1, a stack failed (2 is a bad file or option).
    done = fleet.cli("up", f"--concurrency={CONCURRENCY}", "--json")
    print(done.stderr)
    assert done.returncode == 1, done
    summary = json.loads(done.stdout)
    assert summary["ok"] is False, summary
    outcomes = {o["cache"]: o for o in summary["outcomes"]}
    assert outcomes["broken"]["status"] == "failed", outcomes["broken"]
    assert "provided port is already allocated" in outcomes["broken"]["reason"], outcomes["broken"]
    assert outcomes["behind"]["status"] == "skipped", outcomes["behind"]
    assert outcomes["behind"]["reason"] == "it pulls from broken, which failed", outcomes["behind"]
    others = {n: o["status"] for n, o in outcomes.items() if n not in ("broken", "behind")}
    assert others == {n: "succeeded" for n in (CENTRAL, *REGIONS, "late")}, summary
    assert set(outcomes["late"]["changes"]) == {"create"}, outcomes["late"]  # new: deployed now
    assert b.get("deployment", "dtr-cache", namespace("late"))["status"].get("readyReplicas") == 1

    # -- destroy -------------------------------------------------------------------------------
    names = [e["name"] for e in fleet.entries]
    summary = fleet.run("destroy")
    assert summary.ok and set(statuses(summary).values()) == {"succeeded"}, summary.markdown()
    fleet.deployed = False
    assert namespaces_left(a, names) == [] and namespaces_left(b, names) == []
    # No resource left in any stack; behind, never deployed, has none at all.
    assert fleet.stacks() == {n: 0 for n in names if n != "behind"}, fleet.stacks()
    for name in names:
        if name != "behind":
            assert fleet.outputs(name) == {}, name
    assert "never deployed" in by_cache(summary)["behind"].note, summary.markdown()
