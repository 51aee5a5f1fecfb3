"""A fleet's commands (fleet/run.py, `python -m fleet`) through Pulumi's Automation API and the
real Pulumi CLI, its language host, providers and policy pack, without a cluster: every cache is
a render stack (`renderYamlToDirectory`, pulumi-kubernetes' own render mode), so `up` writes
manifests to a folder and reaches no cluster. Each cluster is a kubeconfig file that names none
(the program refuses kubeContext beside renderYamlToDirectory). The two-cluster fleet under real
API servers is tests/engine/test_fleet_up.py's.

Four caches in three waves: central (pulling from MSR), asia and eu (from central), eu-west (from
eu). central's serving pair is its stack's own, set with `pulumi config set --secret` (a fleet
file holds no secret), so its caCertPem is a secret output, which must reach asia's and eu's
stacks encrypted and no summary, progress line or JSON.

What a render stack cannot show: drift of what a cluster holds. pulumi-kubernetes 4.25 reads a
resource for a refresh only from a reachable cluster, render mode or not (provider.go, Read: the
unreachable check comes first), so `drift` of a render stack fails, naming that; with
PULUMI_K8S_DELETE_UNREACHABLE the provider reports every object gone, which `drift` lists.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT
from pulumi_cli import RUN_TIMEOUT, Project, require_tools

from fleet import spec
from fleet.run import Command, run
from fleet.spec import FleetError
from fleet.summary import SECRET, Summary
from render.stack_config import self_signed_pair
from toolchain import bin_dir

pytestmark = pytest.mark.timeout(900)
CHAIN = {"central": "https://msr.example.com", "asia": "cache:central", "eu": "cache:central",
         "eu-west": "cache:eu"}  # fmt: skip
KUBERNETES = "kubernetes:"


class Fleet:
    """A fleet file of render stacks, in a copy of the project with its own state (HOME)."""

    def __init__(self, tmp: Path, broken: str | None = None) -> None:
        self.project = Project(tmp / "project")
        self.out = tmp / "out"
        (tmp / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")  # no cluster in it
        (tmp / "a-file").write_text("")  # a broken cache renders under it: not a folder
        caches = [
            {"name": name, "cluster": {"kubeconfig": "kubeconfig"},
             "config": {"msr-cache:upstreams": [upstream],
                        "msr-cache:hosts": [f"cache.{name}.example.com"],
                        "msr-cache:port": 30443,
                        "msr-cache:renderYamlToDirectory":
                            str((tmp / "a-file" if name == broken else self.out) / name)}}
            for name, upstream in CHAIN.items()
        ]  # fmt: skip
        self.file = tmp / "fleet.yaml"
        self.file.write_text(yaml.safe_dump({"caches": caches}, sort_keys=False))
        self.lines: list[str] = []

    def run(self, command: Command, **options: Any) -> Summary:
        env = {**self.project.env, **options.pop("env", {})}
        return run(command, spec.load(self.file), root=self.project.root, env=env,
                   progress=self.lines.append, **options)  # fmt: skip

    def cli(self, *args: str) -> subprocess.Popen[str]:
        """`python -m fleet <args> --project-dir <the copy>`, as `make fleet` runs it."""
        return subprocess.Popen(
            [sys.executable, "-m", "fleet", *args, "--project-dir", str(self.project.root)],
            cwd=ROOT, env={**os.environ, **self.project.env}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def outputs(self, stack: str) -> dict[str, Any]:
        return self.project.pulumi(
            "stack", "output", "--json", "--show-secrets", "--stack", stack
        ).json()

    def rendered(self, cache: str, kind: str) -> dict[str, Any]:
        """The one object of `kind` (its file's prefix) the cache's stack rendered."""
        (path,) = (self.out / cache / "1-manifest").glob(f"{kind}-*.yaml")
        return yaml.safe_load(path.read_text())

    def locks(self) -> list[Path]:
        """The file backend's lock files (PULUMI_BACKEND_URL is the project's HOME)."""
        return [p for p in (self.project.home / ".pulumi" / "locks").rglob("*") if p.is_file()]


def completed(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    return process.returncode, stdout, stderr


def set_secret(fleet: Fleet, stack: str, key: str, value: str) -> None:
    """`pulumi config set --secret <key> < file` (a PEM starts with `-`)."""
    done = subprocess.run(
        [str(bin_dir() / "pulumi"), "config", "set", "--secret", f"msr-cache:{key}", "--stack",
         stack, "--non-interactive"], input=value, cwd=fleet.project.root,
        env=fleet.project.env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def before(lines: Sequence[str], first: str, then: str) -> bool:
    return lines.index(next(line for line in lines if line.startswith(first))) < lines.index(
        next(line for line in lines if line.startswith(then))
    )


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    require_tools()
    made = Fleet(tmp_path)
    # The check renders in this process: it decrypts the stacks' secrets as the CLI does.
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", made.project.env["PULUMI_CONFIG_PASSPHRASE"])
    return made


def secret_lines(*pems: str) -> list[str]:
    """The body lines of PEMs: what a secret certificate or key would show of itself."""
    return [line for pem in pems for line in pem.splitlines() if not line.startswith("-----")]


def test_a_chained_fleet_previewed_deployed_in_waves_reported_and_destroyed_in_reverse(
    fleet: Fleet,
) -> None:
    cert, key = self_signed_pair("cache.central.example.com")
    fleet.project.pulumi("stack", "init", "central", "--secrets-provider", "passphrase")
    set_secret(fleet, "central", "tlsCert", cert)
    set_secret(fleet, "central", "tlsKey", key)
    preview = previewed_before_any_is_deployed(fleet, secret_lines(cert, key))
    up = deployed_in_waves(fleet, cert)
    shown = [preview.markdown(), up.markdown(), json.dumps(up.as_json()), *fleet.lines]
    assert not [line for line in secret_lines(cert, key) if any(line in s for s in shown)]
    status = fleet.run("status")
    asia = fleet.outputs("asia")
    for o in status.outcomes:
        assert o.last_update is not None and o.last_update.endswith(" by up"), o
        assert o.outputs["url"] == f"https://cache.{o.cache}.example.com:30443"
    assert f"| asia | asia | succeeded | {asia['url']} | {asia['certExpiresAt']} |" in (
        status.markdown()
    )
    drift_of_render_stacks(fleet)
    destroyed_in_reverse(fleet, up)


def previewed_before_any_is_deployed(fleet: Fleet, secrets: Sequence[str]) -> Summary:
    """Nothing deployed: each region is previewed with its upstream's url and CA as the check's
    render gives them, and says so; central's secret CA reaches its regions' files encrypted."""
    preview = fleet.run("preview")
    assert [o.status for o in preview.outcomes] == ["succeeded"] * 4, preview.markdown()
    assert all(set(o.changes) == {"create"} for o in preview.outcomes), preview.as_json()
    notes = {o.cache: o.note for o in preview.outcomes}
    assert notes["central"] == "" and "central's planned url" in notes["asia"], notes
    assert "eu's planned url and a stand-in CA" in notes["eu-west"], notes
    assert f"- asia: {notes['asia']}" in preview.markdown()
    for path in fleet.project.root.glob("Pulumi.*.yaml"):
        assert not any(line in path.read_text() for line in secrets), path
    asia_file = yaml.safe_load((fleet.project.root / "Pulumi.asia.yaml").read_text())
    assert set(asia_file["config"]["msr-cache:upstreamCaCert"]) == {"secure"}
    return preview


def deployed_in_waves(fleet: Fleet, cert: str) -> Summary:
    """Each wave once the one before succeeded; each region pulls from its upstream's real url
    and trusts its real CA, read from the upstream stack's outputs once it was up (central's CA
    is its own secret certificate)."""
    fleet.lines.clear()
    up = fleet.run("up")
    assert up.ok and [o.status for o in up.outcomes] == ["succeeded"] * 4, up.markdown()
    lines = fleet.lines
    assert before(lines, "central: up succeeded", "asia: up started"), lines
    assert before(lines, "central: up succeeded", "eu: up started"), lines
    assert before(lines, "eu: up succeeded", "eu-west: up started"), lines
    assert all(set(o.changes) == {"create"} for o in up.outcomes), up.as_json()
    assert fleet.outputs("central")["caCertPem"] == cert.strip()  # stdin loses the newline
    for cache, upstream in (("asia", "central"), ("eu", "central"), ("eu-west", "eu")):
        real = fleet.outputs(upstream)
        config = yaml.safe_load(fleet.rendered(cache, "v1-configmap")["data"]["config.yaml"])
        assert config["middleware"]["registry"][0]["options"]["upstreams"] == [real["url"]]
        certs = fleet.rendered(cache, "v1-secret")["data"]
        assert base64.b64decode(certs["msr.cert.pem"]).decode() == real["caCertPem"], cache
    by_cache = {o.cache: o for o in up.outcomes}
    assert by_cache["central"].outputs == {"url": "https://cache.central.example.com:30443",
                                           "certExpiresAt": SECRET, "caExpiresAt": SECRET}  # fmt: skip
    asia = fleet.outputs("asia")
    assert by_cache["asia"].outputs == {k: asia[k] for k in ("url", "certExpiresAt", "caExpiresAt")}
    for o in up.outcomes:
        row = f"| {o.cache} | {o.stack} | succeeded | {o.changes['create']} created |"
        assert row in up.markdown(), up.markdown()
    return up


def drift_of_render_stacks(fleet: Fleet) -> None:
    """A render stack's refresh reads from no cluster: it fails, naming why. Told the cluster
    is gone, the provider reads every object as deleted: drift names each (every Kubernetes
    object the state holds) and nothing else (the TLS resources, unchanged)."""
    drift = fleet.run("drift")
    assert not drift.ok and [o.status for o in drift.outcomes] == ["failed"] * 4
    assert all("unreachable cluster" in o.reason for o in drift.outcomes), drift.as_json()
    gone = fleet.run("drift", env={"PULUMI_K8S_DELETE_UNREACHABLE": "true"})
    for o in gone.outcomes:
        state = fleet.project.pulumi("stack", "export", "--stack", o.stack).json()
        objects = sorted(f"{r['type']} {r['urn'].split('::')[-1]}"
                         for r in state["deployment"]["resources"]
                         if r["type"].startswith(KUBERNETES) and r.get("custom"))  # fmt: skip
        assert o.status == "succeeded" and o.drifted == objects and objects, o
    assert f"- eu: `{gone.outcomes[2].drifted[0]}`" in gone.markdown()


def destroyed_in_reverse(fleet: Fleet, up: Summary) -> None:
    """A cache after every cache pulling from it; every object it made gone; a config the
    check refuses (a port out of range) stops a preview, not a destroy, which runs no program."""
    raw = yaml.safe_load(fleet.file.read_text())
    raw["caches"][1]["config"]["msr-cache:port"] = 70000
    fleet.file.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(FleetError, match="asia: msr-cache:port: got 70000"):
        fleet.run("preview")
    fleet.lines.clear()
    destroy = fleet.run("destroy")
    assert destroy.ok, destroy.markdown()
    lines = fleet.lines
    assert before(lines, "eu-west: destroy succeeded", "eu: destroy started"), lines
    assert before(lines, "eu: destroy succeeded", "central: destroy started"), lines
    assert before(lines, "asia: destroy succeeded", "central: destroy started"), lines
    assert {o.cache: o.changes for o in destroy.outcomes} == {
        o.cache: {"delete": o.changes["create"]} for o in up.outcomes
    }
    assert not list(fleet.out.rglob("*.yaml"))
    after = fleet.run("status")
    assert all(o.last_update and o.last_update.endswith(" by destroy") for o in after.outcomes)
    assert all(o.outputs == {} for o in after.outcomes), after.as_json()


def test_a_cache_failing_at_deployment_stops_only_the_caches_pulling_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tools()
    fleet = Fleet(tmp_path, broken="eu")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", fleet.project.env["PULUMI_CONFIG_PASSPHRASE"])
    # eu renders into a path under a file: its config is sound, and only pulumi up, which
    # writes the files, finds it is no folder (as an API server refusing an object would).
    code, out, err = completed(fleet.cli("check", str(fleet.file)))
    assert code == 0 and "eu (stack eu): checked" in out.splitlines(), err

    code, out, err = completed(fleet.cli("up", str(fleet.file)))
    assert code == 1, err
    assert "Traceback" not in err, err
    progress = err.splitlines()
    assert "eu-west: skipped: it pulls from eu, which failed" in progress
    assert any(
        line.startswith("eu: up failed in ") and "not a directory" in line for line in progress
    )
    assert any(line.startswith("asia: up succeeded in ") for line in progress), progress
    assert out.startswith("### Fleet up: 2 succeeded, 1 failed, 1 skipped\n"), out
    for row in ("| central | central | succeeded |", "| asia | asia | succeeded |",
                "| eu | eu | failed |", "| eu-west | eu-west | skipped |"):  # fmt: skip
        assert row in out, out
    failure = out.split("#### eu failed\n\n```text\n", 1)[1].split("\n```", 1)[0]
    assert "failed to write YAML file" in failure and "not a directory" in failure, out
    assert "#### Skipped\n\n- eu-west: it pulls from eu, which failed\n" in out

    code, out, err = completed(fleet.cli("status", str(fleet.file), "--json"))
    assert code == 0, err
    status = json.loads(out)
    by_cache = {o["cache"]: o for o in status["outcomes"]}
    assert by_cache["eu"]["last_update"].endswith(" by up, failed"), by_cache["eu"]
    assert by_cache["central"]["last_update"].endswith(" by up"), by_cache["central"]
    assert by_cache["eu-west"]["last_update"] is None
    assert by_cache["eu-west"]["note"] == "never deployed (no stack)", by_cache["eu-west"]
    assert status["ok"] is True and status["counts"] == {"succeeded": 4}

    # destroy, in reverse: asia's stack is held by another process's lock, so its destroy fails
    # and central, which asia pulls from, stays; eu goes (the cache pulling from it has no stack).
    held = fleet.project.home / ".pulumi" / "locks" / "organization" / "msr-cache" / "asia"
    held.mkdir(parents=True, exist_ok=True)  # (left empty by asia's up)
    lock = held / "6f1c1f52-8d55-4c4a-9d1e-5a0f2f1b7d3e.json"
    lock.write_text(json.dumps({"pid": 1, "username": "someone", "hostname": "elsewhere",
                                "timestamp": "2026-01-01T00:00:00Z"}))  # fmt: skip
    destroy = fleet.run("destroy")
    statuses = {o.cache: o.status for o in destroy.outcomes}
    assert statuses == {"central": "skipped", "asia": "failed", "eu": "succeeded",
                        "eu-west": "succeeded"}, destroy.markdown()  # fmt: skip
    by_cache = {o.cache: o for o in destroy.outcomes}
    assert "the stack is currently locked by 1 lock(s)" in by_cache["asia"].reason
    assert by_cache["central"].reason == "asia, which pulls from it, failed"
    assert by_cache["eu-west"].note == "never deployed (no stack): nothing to destroy"
    assert lock.is_file()  # another's lock is never removed
    lock.unlink()
    assert fleet.run("destroy").ok


def test_a_failing_canary_stops_the_fleet_and_a_wrong_fleet_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tools()
    fleet = Fleet(tmp_path / "canary", broken="central")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", fleet.project.env["PULUMI_CONFIG_PASSPHRASE"])
    summary = fleet.run("up", canary="central")
    assert [o.status for o in summary.outcomes] == ["failed", "skipped", "skipped", "skipped"]
    assert {o.reason for o in summary.outcomes[1:]} == {"the canary central failed"}
    assert [line.split(":")[0] for line in fleet.lines] == ["central"] * 2 + [
        "asia",
        "eu",
        "eu-west",
    ]

    # A canary must be a cache pulling from none; a wrong option or fleet file is refused with
    # every problem named (exit status 2), before any stack exists.
    other = Fleet(tmp_path / "wrong")
    code, _, err = completed(other.cli("up", str(other.file), "--canary", "asia"))
    assert code == 2 and "--canary asia: it pulls from central" in err, err
    raw = yaml.safe_load(other.file.read_text())
    raw["caches"][2]["config"]["msr-cache:port"] = 70000
    raw["caches"][3]["config"]["msr-cache:blobTTl"] = "1h"
    other.file.write_text(yaml.safe_dump(raw))
    code, out, err = completed(other.cli("up", str(other.file), "--concurrency", "2"))
    assert code == 2 and out == "", out
    assert err.startswith("invalid fleet:\n") and "Traceback" not in err, err
    assert "  - eu: msr-cache:port: got 70000;" in err and "  - eu-west: " in err, err
    assert sorted(p.name for p in other.project.root.glob("Pulumi.*")) == ["Pulumi.yaml"]
    assert not (other.project.home / ".pulumi" / "stacks").exists()


def test_an_interrupted_up_cancels_the_running_stack_and_leaves_no_lock(fleet: Fleet) -> None:
    # SIGINT to `python -m fleet` alone (as a terminal's Ctrl-C reaches it: each CLI runs in a
    # process group of its own), once central's update holds its stack's lock.
    process = fleet.cli("up", str(fleet.file), "--concurrency", "1", "--json")
    deadline = time.monotonic() + RUN_TIMEOUT
    while not fleet.locks():
        assert process.poll() is None, completed(process)
        assert time.monotonic() < deadline, "central's update never took its lock"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    code, out, err = completed(process)
    assert code == 1, err
    assert "Traceback" not in err, err
    summary = json.loads(out)
    assert summary["interrupted"] is True and summary["ok"] is False
    by_cache = {o["cache"]: o for o in summary["outcomes"]}
    assert by_cache["central"]["status"] == "cancelled", by_cache["central"]
    assert by_cache["central"]["reason"].startswith("interrupted\n"), by_cache["central"]
    assert [by_cache[n]["status"] for n in ("asia", "eu", "eu-west")] == ["skipped"] * 3
    assert {by_cache[n]["reason"] for n in ("asia", "eu", "eu-west")} == {
        "not started: interrupted"
    }
    assert "central: up cancelled after" in err and "interrupted: no more stacks start" in err
    assert fleet.locks() == []
    again = fleet.run("up")
    assert [o.status for o in again.outcomes] == ["succeeded"] * 4, again.markdown()
