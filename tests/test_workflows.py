"""The GitHub workflows in .github/workflows, checked offline.

Every file is validated against the GitHub workflow JSON schema that check-jsonschema ships (no
network), then the properties a reviewer relies on are checked: what runs when, with which
permissions and which secrets.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import CONFIG_KEYS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load(name: str) -> dict[str, Any]:
    """A workflow as data; its `on` key (which YAML 1.1 reads as the boolean True) under "on"."""
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def triggers(workflow: dict[str, Any]) -> set[str]:
    """The events of `on:`, written as a string, a list or a mapping."""
    on = workflow["on"]
    if isinstance(on, str):
        return {on}
    return set(on)


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def runs(workflow: dict[str, Any]) -> str:
    """Every `run:` script of the workflow, joined."""
    return "\n".join(step.get("run", "") for step in steps(workflow))


def uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps that use `action` (owner/name@ref)."""
    return [step for step in steps(workflow) if step.get("uses") == action]


def test_there_are_workflows() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"test.yml", "preview.yml", "render-diff.yml", "e2e.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    assert CHECK_JSONSCHEMA.exists(), f"{CHECK_JSONSCHEMA} is missing: install requirements-dev.txt"
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{path.name}:\n{result.stdout}\n{result.stderr}"


def test_tests_run_on_every_push_and_pull_request() -> None:
    workflow = load("test.yml")
    assert {"push", "pull_request"} <= triggers(workflow)
    on = workflow["on"]
    if isinstance(on, dict):  # no branch or path filter narrows "every"
        for event in ("push", "pull_request"):
            assert not (on[event] or {}), f"{event} is filtered: {on[event]}"
    assert re.search(r"^make test$", runs(workflow), re.MULTILINE)
    assert workflow["permissions"] == {"contents": "read"}


def test_preview_comments_each_stack_on_the_pull_request() -> None:
    workflow = load("preview.yml")
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for job in workflow["jobs"].values():
        assert "permissions" not in job, "a job widens or narrows the workflow's permissions"

    [step] = uses(workflow, "pulumi/actions@v7")
    given = step["with"]
    assert given["command"] == "preview"
    assert given["stack-name"] == "${{ matrix.stack }}"
    assert given["comment-on-pr"] is True
    assert given["edit-pr-comment"] is True
    assert given["github-token"] == "${{ secrets.GITHUB_TOKEN }}"
    assert given["policyPacks"] == "policy" and (ROOT / "policy" / "PulumiPolicy.yaml").exists()

    preview = next(job for job in workflow["jobs"].values() if step in job["steps"])
    env = preview["env"]
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert env["PULUMI_BACKEND_URL"] in (
        "${{ vars.PULUMI_BACKEND_URL }}",
        "${{ secrets.PULUMI_BACKEND_URL }}",
    )
    # The virtualenv Pulumi.yaml names exists before the action runs the program.
    names = [s.get("run", s.get("uses")) for s in preview["steps"]]
    assert names.index("make .venv/.installed") < names.index("pulumi/actions@v7")
    assert "secrets.KUBECONFIG" in yaml.safe_dump(preview["steps"])

    # The matrix is the list of Pulumi.<stack>.yaml files, made by an earlier job.
    [needed] = [preview["needs"]] if isinstance(preview["needs"], str) else preview["needs"]
    lister = workflow["jobs"][needed]
    assert preview["strategy"]["matrix"]["stack"] == (
        f"${{{{ fromJSON(needs.{needed}.outputs.stacks) }}}}"
    )
    assert "outputs.stacks" in lister["outputs"]["stacks"]
    assert "Pulumi.*.yaml" in "\n".join(s.get("run", "") for s in lister["steps"])


def test_render_diff_needs_no_credentials() -> None:
    workflow = load("render-diff.yml")
    text = (WORKFLOWS / "render-diff.yml").read_text()
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"GITHUB_TOKEN"}
    assert not re.search(r"secrets\s*\[", text)
    assert re.search(r"\bmake\b.*\brender-diff\b", runs(workflow))
    assert "$GITHUB_STEP_SUMMARY" in runs(workflow)
    [checkout] = uses(workflow, "actions/checkout@v4")
    assert checkout["with"]["fetch-depth"] == 0
    # Fork pull requests get a read-only token: a failed comment does not fail the job.
    [comment] = [step for step in steps(workflow) if "gh pr comment" in step.get("run", "")]
    assert comment["continue-on-error"] is True


def test_e2e_deploys_checks_and_destroys_the_kind_stack() -> None:
    workflow = load("e2e.yml")
    assert {"workflow_dispatch", "schedule"} <= triggers(workflow)
    assert workflow["on"]["schedule"][0]["cron"]
    assert workflow["permissions"] == {"contents": "read"}
    assert "secrets." not in (WORKFLOWS / "e2e.yml").read_text()
    assert workflow["env"]["STACK"] == "kind"

    [kind] = uses(workflow, "helm/kind-action@v1")
    assert kind["with"]["cluster_name"] == "msr-cache"
    script = runs(workflow)
    assert re.search(r"pulumi up --yes\b.*--stack \"\$STACK\"", script)
    assert "rollout status deployment/dtr-cache" in script
    assert re.search(r"curl .*--cacert ca\.pem .*--resolve", script, re.DOTALL)
    assert "caCertPem" in script

    all_steps = steps(workflow)
    [destroy] = [step for step in all_steps if "pulumi destroy" in step.get("run", "")]
    assert destroy["if"] == "always()"
    assert all_steps.index(destroy) == len(all_steps) - 1


def test_the_kind_stack_deploys_what_e2e_checks() -> None:
    known = set(CONFIG_KEYS.values()) | {"kubeContext", "renderYamlToDirectory"}
    config = yaml.safe_load((ROOT / "Pulumi.kind.yaml").read_text())["config"]
    keys = {key.removeprefix("msr-cache:") for key in config}
    assert all(key.startswith("msr-cache:") for key in config)
    assert keys <= known, f"unknown keys: {keys - known}"
    assert "renderYamlToDirectory" not in keys, "the kind stack must deploy, not render"

    env = load("e2e.yml")["env"]
    assert config["msr-cache:hosts"] == [env["NODE"]]
    assert str(config["msr-cache:port"]) == env["PORT"]
    assert config["msr-cache:kubeContext"] == "kind-msr-cache"
