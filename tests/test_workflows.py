"""The GitHub workflows in .github/workflows, checked offline.

Every file is validated against the GitHub workflow JSON schema that check-jsonschema ships (no
network), then the properties a reviewer relies on are checked from the parsed YAML: what runs
when, with which permissions and which secrets (each in the one step that needs it, from an
environment), every action pinned to a commit of a node24 release and the Pulumi CLI to the
locked SDK's release, no token left in .git/config, which steps do what, in which order and on
which condition. The scripts a property lives in (the stack list, the kubeconfig file, the pull
request comments, the renewal verdict) are run, with fakes for what they call. Last, the
Makefile targets they and the README rely on: the policy pack's virtualenv, the lock files.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

from components.settings import CONFIG_KEYS

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


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return workflow["jobs"]


def steps(workflow_or_job: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a job, or of every job of a workflow."""
    if "steps" in workflow_or_job:
        return workflow_or_job["steps"]
    return [step for job in jobs(workflow_or_job).values() for step in job.get("steps", [])]


def uses(workflow_or_job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps that use `action` (owner/name), at any ref."""
    return [s for s in steps(workflow_or_job) if s.get("uses", "").split("@")[0] == action]


def commands(step: dict[str, Any]) -> list[list[str]]:
    """The shell commands of a step's `run:`, as words (quotes removed, `VAR=value` prefixes
    dropped); a command substitution `$(...)` counts as a command of its own."""
    if step.get("shell", "bash") not in ("bash", "sh"):
        return []
    script = step.get("run", "").replace("\\\n", " ")
    found = []
    for part in re.split(r"\$\(|[;&|()`\n]", script):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:  # a quote split across parts: a word list is all that is needed
            words = part.split()
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            words.pop(0)
        if words:
            found.append(words)
    return found


def is_command(words: list[str], program: str, *subcommand: str) -> bool:
    """Whether `words` run `program` with `subcommand` (words in a row, after any options: in
    `kubectl --context c rollout status`, kubectl's subcommand is "rollout", "status")."""
    n = len(subcommand)
    rest = words[1:]
    return words[0] == program and any(
        rest[i : i + n] == list(subcommand) for i in range(len(rest) - n + 1)
    )


def running(workflow_or_job: dict[str, Any], *command: str) -> list[dict[str, Any]]:
    """The steps that run `command` (a program and its subcommand, e.g. "pulumi", "up")."""
    return [s for s in steps(workflow_or_job) if any(is_command(w, *command) for w in commands(s))]


def command_of(step: dict[str, Any], *command: str) -> list[str]:
    """The words of the one command of `step` that runs `command`."""
    [words] = [w for w in commands(step) if is_command(w, *command)]
    return words


def option(words: list[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` in a command's words."""
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def secrets_used(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every `secrets.<NAME>` reference in a workflow, with the path of keys where it is."""
    if isinstance(node, dict):
        return [found for k, v in node.items() for found in secrets_used(v, (*path, k))]
    if isinstance(node, list):
        return [found for i, v in enumerate(node) for found in secrets_used(v, (*path, i))]
    if isinstance(node, str):
        assert not re.search(r"\bsecrets\s*\[", node), f"a secret by computed name at {path}"
        return [(path, name) for name in re.findall(r"\bsecrets\.(\w+)", node)]
    return []


def conditions(expression: str) -> list[str]:
    """The conditions an `if:` joins with &&, whitespace normalised; any || fails the test."""
    expression = expression.strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    assert "||" not in expression, f"an `if:` with ||: {expression}"
    found = []
    for part in expression.split("&&"):
        part = " ".join(part.split())
        while part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
            part = part[1:-1].strip()
        found.append(part)
    return found


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def make_rules() -> dict[str, tuple[list[str], list[str]]]:
    """The Makefile's rules, {target: (prerequisites, recipe lines)}, its variables expanded."""
    lines = (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
    variables = {
        m[1]: m[2] for line in lines if (m := re.match(r"^(\w+)\s*(?::=|\?=|=)\s*(.*?)\s*$", line))
    }

    def expand(text: str) -> str:
        for _ in range(10):  # variables made of variables
            text = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), text)
        return text

    rules: dict[str, tuple[list[str], list[str]]] = {}
    recipe: list[str] = []
    for line in lines:
        if line.startswith("\t"):
            recipe.append(" ".join(expand(line).split()))
        elif rule := re.match(r"^([^\s#=:][^=:]*?)\s*:(?!=)(.*)$", line):
            recipe = []
            for target in expand(rule[1]).split():
                rules[target] = (expand(rule[2].split("#")[0]).split(), recipe)
    return rules


def make_targets() -> set[str]:
    """The targets the Makefile defines, its variables expanded."""
    return set(make_rules())


def make_goals(step: dict[str, Any]) -> list[str]:
    """The targets of the step's `make` command."""
    words = command_of(step, "make")
    return [w for w in words[1:] if not w.startswith("-") and "=" not in w]


def make_target(step: dict[str, Any]) -> str:
    """The (first) target of the step's `make` command."""
    return make_goals(step)[0]


def virtualenvs() -> tuple[str, str]:
    """The virtualenvs of the program (Pulumi.yaml's) and of the policy pack (PulumiPolicy.yaml's),
    as paths from the repository's root: the Pulumi CLI runs each with its Python, installing
    nothing into them."""
    program = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    return (
        program["runtime"]["options"]["virtualenv"],
        f"policy/{pack['runtime']['options']['virtualenv']}",
    )


def locked(package: str, lock: str = "requirements.lock") -> str:
    """The version `lock` pins `package` to."""
    [version] = re.findall(rf"^{re.escape(package)}==(\S+)", (ROOT / lock).read_text(), re.M)
    return version


def redirected_to(words: list[str]) -> str | None:
    """Where a command's output goes (`> file` or `>> file`)."""
    for i, word in enumerate(words[:-1]):
        if word in (">", ">>"):
            return words[i + 1]
    return None


def test_there_are_workflows() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"test.yml", "preview.yml", "render-diff.yml", "e2e.yml", "renewal.yml"} <= names


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
    assert workflow["permissions"] == {"contents": "read"}
    assert secrets_used(workflow) == []
    [step] = running(workflow, "make", "test")
    assert make_target(step) in make_targets()


# --- every workflow: pinned actions, no token left behind, secrets only where they are used -------

PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<commit>[0-9a-f]{40})"
    r"\s+#\s*(?P<release>v\d+\.\d+\.\d+)\s*$"
)
# The first release of each action whose action.yml says `runs: using: node24` (GitHub retires
# node20): a pin below it runs on a retired Node.js.
NODE24 = {
    "actions/checkout": (5,),
    "actions/setup-python": (6,),
    "pulumi/actions": (7,),
    "helm/kind-action": (1, 13),
}


def pins(path: Path) -> list[re.Match[str]]:
    """Each `uses:` line of a workflow, matched against a pin to a commit with its release."""
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    matched = [PINNED.match(line) for line in lines]
    unpinned = [line.strip() for line, m in zip(lines, matched, strict=True) if m is None]
    assert unpinned == [], f"{path.name}: not pinned to a full commit SHA with its release"
    return [m for m in matched if m is not None]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_release(path: Path) -> None:
    # A tag can be moved to other code; a commit cannot. The comment says which release it is.
    found = pins(path)
    workflow = load(path.name)
    used = [s["uses"] for s in steps(workflow) if "uses" in s]
    used += [j["uses"] for j in jobs(workflow).values() if "uses" in j]
    assert sorted(f"{m['action']}@{m['commit']}" for m in found) == sorted(used)


def test_each_action_is_one_release_everywhere_and_runs_on_node24() -> None:
    releases: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOW_FILES:
        for m in pins(path):
            releases.setdefault(m["action"], set()).add((m["commit"], m["release"]))
    assert set(releases) <= set(NODE24), (
        f"which release of {set(releases) - set(NODE24)} runs on node24?"
    )
    for action, pinned in releases.items():
        [(_, release)] = pinned  # one commit, one release, in every workflow
        assert tuple(int(n) for n in release[1:].split(".")) >= NODE24[action], action


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_no_checkout_leaves_the_token_in_git_config(path: Path) -> None:
    # actions/checkout otherwise writes the token into .git/config, where the code it checked
    # out (a pull request's) can read it.
    checkouts = uses(load(path.name), "actions/checkout")
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_secrets_reach_only_the_steps_that_use_them(path: Path) -> None:
    # A workflow's or a job's env is every step's, the ones running the pull request's code
    # (make, pip) included; a script's text is logged before it runs.
    workflow = load(path.name)
    for where, secret in secrets_used(workflow):
        assert where[0] == "jobs" and where[2] == "steps", f"{secret} beyond its step: {where}"
        assert where[-1] != "run", f"{secret} in a script; hand it over in env: {where}"
        if secret != "GITHUB_TOKEN":  # the others come from an environment a maintainer guards
            assert jobs(workflow)[where[1]].get("environment"), f"{secret} outside an environment"


def test_the_pulumi_cli_is_the_release_of_the_locked_sdk() -> None:
    # The CLI is pinned (pulumi/actions installs the newest 3.x otherwise), to the release of the
    # SDK that requirements.lock pins: the program, the CLI and the policy pack agree.
    installs = [s for path in WORKFLOW_FILES for s in uses(load(path.name), "pulumi/actions")]
    assert installs
    for step in installs:
        version = str(step["with"]["pulumi-version"])
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
        assert version == locked("pulumi") == locked("pulumi", "policy/requirements.lock")


# --- preview.yml ---------------------------------------------------------------------------------

FORK_GUARDS = {
    "github.event.pull_request.head.repo.full_name == github.repository",
    "github.repository == github.event.pull_request.head.repo.full_name",
    "github.event.pull_request.head.repo.fork == false",
    "!github.event.pull_request.head.repo.fork",
}


def preview_job(workflow: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job that runs pulumi/actions, and that step."""
    [(job, step)] = [(j, s) for j in jobs(workflow).values() for s in uses(j, "pulumi/actions")]
    return job, step


def test_preview_runs_on_pull_requests_with_least_permissions() -> None:
    workflow = load("preview.yml")
    # pull_request, never pull_request_target: a fork's code never runs with this repo's secrets.
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for name, job in jobs(workflow).items():
        assert "permissions" not in job, f"job {name} widens or narrows the permissions"


def test_preview_skips_pull_requests_from_forks() -> None:
    # A fork's pull request gets no secrets: the job would fail; render-diff.yml covers it.
    workflow = load("preview.yml")
    for name, job in jobs(workflow).items():
        if any(path[:2] == ("jobs", name) for path, _ in secrets_used(workflow)):
            assert FORK_GUARDS & set(conditions(job.get("if", ""))), f"job {name} runs for forks"
    job, _ = preview_job(workflow)
    assert FORK_GUARDS & set(conditions(job.get("if", "")))


def test_preview_only_previews_each_stack_and_comments_it() -> None:
    workflow = load("preview.yml")
    job, step = preview_job(workflow)
    given = step["with"]
    assert given["command"] == "preview"
    assert not [c for s in steps(workflow) for c in commands(s) if c[0] == "pulumi"]
    assert given["comment-on-pr"] is True
    assert given["edit-pr-comment"] is True  # one comment per stack, edited on later pushes
    assert "matrix.stack" in given["stack-name"]
    assert (ROOT / given["policyPacks"] / "PulumiPolicy.yaml").exists()
    assert job["strategy"]["fail-fast"] is False  # one stack's failure hides no other's preview


def test_preview_installs_the_program_and_the_policy_pack_before_running_them() -> None:
    # pulumi/actions installs no dependencies, and the CLI runs a local policy pack with the
    # Python of the virtualenv PulumiPolicy.yaml names: both virtualenvs must exist.
    job, action = preview_job(load("preview.yml"))
    [install] = running(job, "make")
    goals = make_goals(install)
    assert set(goals) <= make_targets()
    for virtualenv in virtualenvs():
        assert any(goal.startswith(f"{virtualenv}/") for goal in goals), virtualenv
    assert job["steps"].index(install) < job["steps"].index(action)


def stack_lister(workflow: dict[str, Any], job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The job whose output is `job`'s matrix of stacks, and its step that lists them."""
    needs = [job["needs"]] if isinstance(job["needs"], str) else job["needs"]
    [lister] = [
        name for name in needs if f"needs.{name}.outputs" in job["strategy"]["matrix"]["stack"]
    ]
    [step] = [s for s in steps(jobs(workflow)[lister]) if s.get("id") and "run" in s]
    assert f"steps.{step['id']}.outputs" in jobs(workflow)[lister]["outputs"]["stacks"]
    return lister, step


def list_stacks(step: dict[str, Any], checkout: Path) -> dict[str, list[str]]:
    """Run the lister step in `checkout` as the runner would; the outputs it writes."""
    (checkout / ".github").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / ".github" / "stacks.py", checkout / ".github" / "stacks.py")
    output = checkout.parent / "github_output"
    output.write_text("")
    run_step(step, {"GITHUB_OUTPUT": str(output)}, cwd=checkout)
    return {
        key: json.loads(value)
        for key, _, value in (line.partition("=") for line in output.read_text().splitlines())
    }


STACK_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.kind.yaml", "Pulumi.kind-gateway.yaml",
               "Pulumi.prod.yaml")  # fmt: skip


def test_preview_matrix_is_every_stack_but_the_e2e_one(tmp_path: Path) -> None:
    workflow = load("preview.yml")
    job, _ = preview_job(workflow)
    lister, step = stack_lister(workflow, job)
    # A checkout with stacks, of which the default branch has only dev (prod is the PR's).
    [base] = [s for s in uses(jobs(workflow)[lister], "actions/checkout") if "ref" in s["with"]]
    assert base["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    checkout = tmp_path / "pr"
    (checkout / base["with"]["path"]).mkdir(parents=True)
    for name in STACK_FILES:
        (checkout / name).write_text("config: {}\n")
    (checkout / base["with"]["path"] / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert command_of(step, "python3")[-1] == base["with"]["path"]
    outputs = list_stacks(step, checkout)
    assert outputs == {"stacks": ["dev", "prod"], "established": ["dev"]}


def test_preview_creates_only_the_stacks_the_default_branch_has() -> None:
    # `upsert` would create a stack in the shared backend for every stack file of every pull
    # request; only those of the default branch may be (the lister's `established`).
    workflow = load("preview.yml")
    job, action = preview_job(workflow)
    lister, step = stack_lister(workflow, job)
    upsert = " ".join(str(action["with"]["upsert"]).split())
    assert upsert == (
        f"${{{{ contains(fromJSON(needs.{lister}.outputs.established), matrix.stack) }}}}"
    )
    assert (
        f"steps.{step['id']}.outputs.established"
        in jobs(workflow)[lister]["outputs"]["established"]
    )


def test_preview_secrets_are_given_only_where_needed(tmp_path: Path) -> None:
    workflow = load("preview.yml")
    job, action = preview_job(workflow)
    [name] = [n for n, j in jobs(workflow).items() if j is job]
    used = secrets_used(workflow)
    assert {secret for _, secret in used} == {
        "PULUMI_CONFIG_PASSPHRASE",
        "KUBECONFIG",
        "GITHUB_TOKEN",
    }
    for path, secret in used:
        assert path[:2] == ("jobs", name), f"{secret} outside the preview job: {path}"
    # The secrets are the environment's, which a maintainer can guard with required reviewers.
    assert job["environment"]
    where = {secret: [path for path, s in used if s == secret] for _, secret in used}
    # The passphrase for the action's pulumi; the token for its comment and for the comment of
    # a failed preview; the kubeconfig for the one step that writes it to a file, removed last.
    at = job["steps"].index
    assert where["PULUMI_CONFIG_PASSPHRASE"] == [
        ("jobs", name, "steps", at(action), "env", "PULUMI_CONFIG_PASSPHRASE")
    ]
    [failed] = running(job, "gh")
    assert sorted(where["GITHUB_TOKEN"]) == [
        ("jobs", name, "steps", at(action), "with", "github-token"),
        ("jobs", name, "steps", at(failed), "env", "GH_TOKEN"),
    ]
    [(_, _, _, index, env, variable)] = where["KUBECONFIG"]
    assert env == "env" and index < at(action)
    check_kubeconfig_writer(job["steps"][index], variable, tmp_path)
    [remove] = [s for s in running(job, "rm") if "$RUNNER_TEMP/kubeconfig" in s["run"]]
    assert conditions(remove["if"]) == ["always()"] and at(remove) > at(failed)


def check_kubeconfig_writer(writer: dict[str, Any], variable: str, tmp_path: Path) -> None:
    """The step writes the kubeconfig in `variable` to a file only the runner's user reads,
    named by KUBECONFIG for later steps; without it, it writes nothing."""
    runner_temp = tmp_path / "runner_temp"
    runner_temp.mkdir()
    github_env = tmp_path / "github_env"
    github_env.touch()
    shell = {"RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env)}
    run_step(writer, {**shell, variable: "apiVersion: v1\nkind: Config"})
    [kubeconfig] = list(runner_temp.iterdir())
    assert kubeconfig.read_text().rstrip("\n") == "apiVersion: v1\nkind: Config"
    assert kubeconfig.stat().st_mode & 0o077 == 0
    assert github_env.read_text() == f"KUBECONFIG={kubeconfig}\n"
    # Without the secret, nothing is written and KUBECONFIG is left alone.
    kubeconfig.unlink()
    github_env.write_text("")
    run_step(writer, {**shell, variable: ""})
    assert list(runner_temp.iterdir()) == []
    assert github_env.read_text() == ""


# pulumi/actions v7 (src/libs/pr.ts) finds the comment it edits by this heading, which the body
# starts with, and by its summary.
ACTION_HEADING = "#### :tropical_drink: `{command}` on {project}/{stack}"
ACTION_SUMMARY = "<summary>Pulumi report</summary>"


def failed_preview_run(tmp_path: Path, comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the step that comments on a failed preview of stack dev, with a fake `gh` over
    `comments`; returns what `gh` was asked to do."""
    [step] = running(load("preview.yml"), "gh")
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    env = {"SHA": "0123abc" * 5 + "01234", "STACK": "dev"}
    return run_with_fake_gh(step, tmp_path, comments, env)


@pytest.mark.skipif(not shutil.which("jq"), reason="the comment step's gh --jq needs jq here")
def test_a_failed_preview_replaces_its_stacks_comment(tmp_path: Path) -> None:
    workflow = load("preview.yml")
    job, action = preview_job(workflow)
    [step] = running(job, "gh")
    # After the preview, whenever the job fails (cancelled, it stays quiet).
    assert conditions(step["if"]) == ["failure()"]
    assert job["steps"].index(step) > job["steps"].index(action)
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    heading = ACTION_HEADING.format(command="preview", project=project, stack="dev")
    preview = f"{heading}\n\n<details>\n{ACTION_SUMMARY}\n<pre>\n+ 6 to create\n</pre>\n</details>"
    comments = [
        {"id": 1, "user": {"login": "someone"}, "body": f"{heading}\n{ACTION_SUMMARY} quoted"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": preview.replace("/dev", "/dev-eu")},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": preview},
    ]  # fmt: skip
    sha = "0123abc" * 5 + "01234"
    calls = failed_preview_run(tmp_path / "edit", comments)
    assert calls[0] == {"list": "repos/owner/repo/issues/7/comments"}
    [edit] = calls[1:]
    assert edit["edit"] == "repos/owner/repo/issues/comments/3"
    body = edit["body"]
    # Still the action's comment (its next success replaces this one), saying what happened.
    assert body.startswith(heading + "\n") and ACTION_SUMMARY in body
    assert f"preview failed at {sha}" in body
    assert "(https://github.com/owner/repo/actions/runs/99)" in body
    assert "+ 6 to create" not in body
    # No comment yet (the first preview of the pull request failed): a new one.
    [_, new] = failed_preview_run(tmp_path / "new", comments[:2])
    assert new["new"] == "7" and new["body"] == body


def run_step(
    step: dict[str, Any], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner runs a `run:` without `shell:` (bash -e)."""
    assert "shell" not in step or step["shell"] == "bash"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


# --- render-diff.yml -----------------------------------------------------------------------------


def test_render_diff_needs_no_credentials() -> None:
    workflow = load("render-diff.yml")
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    # Only the workflow's own token, handed to the step that comments, never to a script.
    [(path, secret)] = secrets_used(workflow)
    assert secret == "GITHUB_TOKEN"
    [comment] = running(workflow, "gh")
    [job] = jobs(workflow)
    assert path == ("jobs", job, "steps", steps(workflow).index(comment), "env", "GH_TOKEN")


def test_render_diff_renders_base_and_head_into_the_summary() -> None:
    workflow = load("render-diff.yml")
    [checkout] = uses(workflow, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # the base is rendered from the history
    [render] = running(workflow, "make", "render-diff")
    assert make_target(render) == "render-diff" and "render-diff" in make_targets()
    diff = redirected_to(command_of(render, "make"))
    [summary] = [
        s
        for s in steps(workflow)
        for c in commands(s)
        if c[:2] == ["cat", diff] and redirected_to(c) == "$GITHUB_STEP_SUMMARY"
    ]
    # A diff that fails to render shows too; a run cancelled by a newer push writes nothing.
    assert conditions(summary["if"]) == ["!cancelled()"]
    [comment] = running(workflow, "gh")
    assert conditions(comment["if"]) == ["!cancelled()"]


def test_render_diff_says_when_the_change_does_not_render(tmp_path: Path) -> None:
    # The summary and the comment then start with "render-diff failed at <sha>" and a link to
    # the run, above the error: the last comment's diff must not pass for this change's.
    workflow = load("render-diff.yml")
    order = steps(workflow)
    [render] = running(workflow, "make", "render-diff")
    [failed] = [s for s in order if s.get("if") and conditions(s["if"]) == ["failure()"]]
    [summary] = [s for s in order if "$GITHUB_STEP_SUMMARY" in s.get("run", "")]
    [comment] = running(workflow, "gh")
    assert order.index(render) < order.index(failed) < order.index(summary) < order.index(comment)
    env = {
        "SHA": "f00d" * 10,
        "REPO": "owner/repo",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "99",
    }
    assert failed["env"]["SHA"] == "${{ github.event.pull_request.head.sha }}"
    (tmp_path / "render-diff.md").write_text("### `dev`\n\nThe change does not render:\n")
    run_step(failed, env, cwd=tmp_path)
    first, _, rest = (tmp_path / "render-diff.md").read_text().partition("\n")
    assert f"render-diff failed at {'f00d' * 10}" in first
    assert "(https://github.com/owner/repo/actions/runs/99)" in first
    assert "The change does not render:" in rest
    # Whatever failed before the diff was written, the line is there.
    (tmp_path / "render-diff.md").unlink()
    run_step(failed, env, cwd=tmp_path)
    assert f"render-diff failed at {'f00d' * 10}" in (tmp_path / "render-diff.md").read_text()


def comment_step_run(
    tmp_path: Path, comments: list[dict[str, Any]], diff: str
) -> list[dict[str, Any]]:
    """Run render-diff's comment step with a fake `gh` over `comments` (the pull request's, as
    GitHub's API lists them); returns what `gh` was asked to do."""
    [step] = running(load("render-diff.yml"), "gh")
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "render-diff.md").write_text(diff)
    return run_with_fake_gh(step, tmp_path, comments, {})


def run_with_fake_gh(
    step: dict[str, Any], tmp_path: Path, comments: list[dict[str, Any]], env: dict[str, str]
) -> list[dict[str, Any]]:
    """Run a step that comments on pull request 7 of owner/repo, in `tmp_path`, with a fake `gh`
    over `comments`; returns what `gh` was asked to do."""
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}")
    gh.chmod(0o755)
    run_step(
        step,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "GH_TOKEN": "token",
            "PR": "7",
            "REPO": "owner/repo",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "99",
            **env,
        },
        cwd=tmp_path,
    )
    log = tmp_path / "gh.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


FAKE_GH = """
import json, subprocess, sys
from pathlib import Path
args = sys.argv[1:]
def body(spec):
    return Path(spec.removeprefix("@") if spec.startswith("@") else spec).read_text()
if args[:2] == ["api", "--paginate"]:
    jq = args[args.index("--jq") + 1]
    print(subprocess.run(["jq", "-r", jq, "comments.json"], check=True,
                         capture_output=True, text=True).stdout, end="")
    call = {"list": args[2]}
elif args[:3] == ["api", "--method", "PATCH"]:
    call = {"edit": args[3], "body": body(args[args.index("-F") + 1].split("=", 1)[1])}
elif args[:2] == ["pr", "comment"]:
    call = {"new": args[2], "repo": args[args.index("--repo") + 1],
            "body": body(args[args.index("--body-file") + 1])}
else:
    sys.exit(f"fake gh: unexpected {args}")
with open("gh.log", "a") as log:
    log.write(json.dumps(call) + "\\n")
"""


@pytest.mark.skipif(not shutil.which("jq"), reason="the comment step's gh --jq needs jq here")
def test_render_diff_comment_is_found_by_its_marker_and_edited(tmp_path: Path) -> None:
    # Without one, a new comment: the diff under a marker, an HTML comment nobody sees.
    [new] = comment_step_run(tmp_path / "first", [], "## Manifests\n\nno manifest changes\n")[1:]
    assert (new["new"], new["repo"]) == ("7", "owner/repo")
    marker, diff = new["body"].split("\n", 1)
    assert re.fullmatch(r"<!--.+-->", marker) and diff == "## Manifests\n\nno manifest changes\n"

    # On a later push, that comment is edited: the bot's comment with the marker, not the bot's
    # last comment (a pulumi preview, say) nor anyone else's quoting the marker.
    comments = [
        {"id": 1, "user": {"login": "github-actions[bot]"}, "body": f"{marker}\nold diff"},
        {"id": 2, "user": {"login": "someone"}, "body": f"> {marker}\nquoted"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": "pulumi preview of dev"},
    ]
    calls = comment_step_run(tmp_path / "later", comments, "new diff\n")
    assert calls[0]["list"] == "repos/owner/repo/issues/7/comments"
    assert calls[1:] == [
        {"edit": "repos/owner/repo/issues/comments/1", "body": f"{marker}\nnew diff\n"}
    ]


@pytest.mark.skipif(not shutil.which("jq"), reason="the comment step's gh --jq needs jq here")
def test_render_diff_comment_fits_github_and_links_the_summary(tmp_path: Path) -> None:
    [new] = comment_step_run(tmp_path, [], "```diff\n" + "+ line\n" * 20_000)[1:]
    assert len(new["body"]) <= 65536  # GitHub refuses a longer comment
    assert "https://github.com/owner/repo/actions/runs/99" in new["body"]


def test_render_diff_comment_failing_does_not_fail_the_job() -> None:
    # Fork pull requests get a read-only token: the comment cannot be posted, the summary has it.
    [comment] = running(load("render-diff.yml"), "gh")
    assert comment["continue-on-error"] is True


# --- e2e.yml -------------------------------------------------------------------------------------


def test_e2e_is_manual_and_nightly_with_no_secret() -> None:
    workflow = load("e2e.yml")
    assert triggers(workflow) == {"workflow_dispatch", "schedule"}
    [schedule] = workflow["on"]["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert workflow["permissions"] == {"contents": "read"}
    assert secrets_used(workflow) == []


@pytest.mark.parametrize("name", ["e2e", "gateway"])
def test_e2e_deploys_checks_and_destroys_its_kind_stack(name: str) -> None:
    job = jobs(load("e2e.yml"))[name]
    order = job["steps"]
    [kind] = uses(job, "helm/kind-action")
    context = f"kind-{kind['with']['cluster_name']}"  # the context kind writes
    [up] = running(job, "pulumi", "up")
    [rollout] = [s for s in running(job, "kubectl") if "rollout" in s["run"]]
    [check] = running(job, "curl")
    [destroy] = running(job, "pulumi", "destroy")
    assert order.index(kind) < order.index(up) < order.index(rollout) < order.index(check)

    # Deployed with the policy pack, as `make up` does (the CLI starts it from its virtualenv).
    assert option(command_of(up, "pulumi", "up"), "--policy-pack") == "policy"
    [install] = running(job, "make")
    assert order.index(install) < order.index(up)
    for virtualenv in virtualenvs():
        assert any(goal.startswith(f"{virtualenv}/") for goal in make_goals(install))
    # Deployed and destroyed: the same stack, without a prompt.
    for step, command in ((up, ("pulumi", "up")), (destroy, ("pulumi", "destroy"))):
        words = command_of(step, *command)
        assert option(words, "--stack") == "$STACK" and {"--yes", "-y"} & set(words)
    # Every kubectl and helm talks to the kind cluster; the cache's Deployment is waited for.
    for step in steps(job):
        for words in commands(step):
            if words[0] == "kubectl":
                assert option(words, "--context") in (context, "$CONTEXT")
            if words[0] == "helm":
                assert option(words, "--kube-context") == "$CONTEXT"
    assert job["env"].get("CONTEXT", context) == context
    assert "deployment/dtr-cache" in rollout["run"]

    # GET /v2/ verifies the served certificate against the stack's exported CA, by name.
    curl = command_of(check, "curl")
    assert not {"-k", "--insecure"} & set(curl)
    [export] = [c for c in commands(check) if c[:4] == ["pulumi", "stack", "output", "caCertPem"]]
    assert 'pulumi.export("caCertPem"' in (ROOT / "__main__.py").read_text()
    assert option(curl, "--cacert") == redirected_to(export)
    assert option(curl, "--resolve") and curl[-1].endswith("/v2/")

    # Always destroyed, last, whatever failed before.
    assert conditions(destroy["if"]) == ["always()"]
    assert order[-1] is destroy


def _stack_config(stack: str) -> dict[str, Any]:
    known = set(CONFIG_KEYS.values()) | {"kubeContext", "renderYamlToDirectory"}
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    keys = {key.removeprefix("msr-cache:") for key in config}
    assert all(key.startswith("msr-cache:") for key in config)
    assert keys <= known, f"unknown keys: {keys - known}"
    assert "renderYamlToDirectory" not in keys, "an e2e stack must deploy, not render"
    return {key.removeprefix("msr-cache:"): value for key, value in config.items()}


def test_the_gateway_job_reaches_the_cache_through_the_gateway_it_makes() -> None:
    job = jobs(load("e2e.yml"))["gateway"]
    env = job["env"]
    config = _stack_config(env["STACK"])
    assert config["exposure"] == "gateway" and config["hosts"] == [env["HOST"]]
    assert config["kubeContext"] == env["CONTEXT"]
    # The GatewayClass the job installs is the one the stack makes its Gateway from, and the
    # Gateway's Envoy pods run in the namespace the network policy lets in.
    [install] = [s for s in steps(job) if "helm install" in s.get("run", "")]
    assert f"name: {config['gatewayClassName']}" in install["run"]
    assert "--namespace envoy-gateway-system" in install["run"]
    assert config["gatewayProxyNamespace"] == "envoy-gateway-system"
    assert "gateway-api/releases/download/v1.6.1/standard-install.yaml" in install["run"]
    [wait] = [s for s in running(job, "kubectl") if "condition=Programmed" in s["run"]]
    assert '"gateway/$GATEWAY"' in wait["run"]
    [check] = running(job, "curl")
    assert option(command_of(check, "curl"), "--resolve") == "$HOST:8443:127.0.0.1"


def test_the_kind_stack_deploys_what_e2e_checks() -> None:
    env = jobs(load("e2e.yml"))["e2e"]["env"]
    config = _stack_config(env["STACK"])
    assert config["hosts"] == [env["NODE"]]
    assert str(config["port"]) == env["PORT"]
    assert config["kubeContext"] == "kind-msr-cache"


# --- renewal.yml ---------------------------------------------------------------------------------


def test_renewal_is_weekly_and_manual_and_previews_every_stack_preview_does() -> None:
    workflow = load("renewal.yml")
    assert triggers(workflow) == {"workflow_dispatch", "schedule"}
    [schedule] = workflow["on"]["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    assert workflow["permissions"] == {"contents": "read"}
    # The same list as preview.yml's: the same script, the same way (all stacks are the default
    # branch's here).
    [job] = [j for j in jobs(workflow).values() if "strategy" in j]
    _, lister = stack_lister(workflow, job)
    preview = load("preview.yml")
    _, preview_lister = stack_lister(preview, preview_job(preview)[0])
    assert command_of(lister, "python3")[:2] == command_of(preview_lister, "python3")[:2]
    assert job["strategy"]["fail-fast"] is False
    # Without a backend there is no state to compare with: skipped, not failed.
    [skip] = [j for j in jobs(workflow).values() if "outputs" in j]
    assert "vars.PULUMI_BACKEND_URL != ''" in conditions(skip["if"])


def test_renewal_only_previews_expecting_no_changes(tmp_path: Path) -> None:
    workflow = load("renewal.yml")
    [job] = [j for j in jobs(workflow).values() if "strategy" in j]
    assert job["env"]["STACK"] == "${{ matrix.stack }}" and job["environment"]
    [preview] = running(job, "pulumi", "preview")
    words = command_of(preview, "pulumi", "preview")
    assert "--expect-no-changes" in words and option(words, "--stack") == "$STACK"
    # Nothing is changed, nor created: no up, refresh, destroy or stack init; no policy pack.
    for step in steps(job):
        for command in commands(step):
            if command[0] == "pulumi":
                assert command[1] in ("login", "preview"), command
    assert "pulumi/actions" not in str([s.get("with", {}).get("command") for s in steps(job)])
    [install] = running(job, "make")
    assert any(goal.startswith(f"{virtualenvs()[0]}/") for goal in make_goals(install))
    # The passphrase for the preview; the kubeconfig for the step that writes it to a file.
    at = job["steps"].index
    [name] = [n for n, j in jobs(workflow).items() if j is job]
    where = {secret: path for path, secret in secrets_used(workflow)}
    assert where["PULUMI_CONFIG_PASSPHRASE"] == (
        "jobs", name, "steps", at(preview), "env", "PULUMI_CONFIG_PASSPHRASE"
    )  # fmt: skip
    [(_, _, _, index, _, variable)] = [p for p, s in secrets_used(workflow) if s == "KUBECONFIG"]
    check_kubeconfig_writer(job["steps"][index], variable, tmp_path)


@pytest.mark.parametrize(
    ("log", "says"),
    [
        ("error: no changes were expected but changes were proposed\n", "needs pulumi up"),
        ("error: failed to read kubeconfig\n", "preview failed"),
    ],
)
def test_renewal_says_which_stack_needs_pulumi_up(tmp_path: Path, log: str, says: str) -> None:
    workflow = load("renewal.yml")
    [job] = [j for j in jobs(workflow).values() if "strategy" in j]
    [preview] = running(job, "pulumi", "preview")
    [say] = [s for s in steps(job) if "$GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert conditions(say["if"]) == ["failure()", f"steps.{preview['id']}.outcome == 'failure'"]
    # The preview's output is kept for this step, and its failure is not lost in the pipe.
    assert command_of(preview, "tee")[-1] == "preview.log"
    assert ["set", "-o", "pipefail"] in commands(preview)
    (tmp_path / "preview.log").write_text(
        "  +-  tls:index:LocallySignedCert  dev-cert  replace  [diff: ~readyForRenewal]\n" + log
    )
    summary = tmp_path / "summary.md"
    result = run_step(say, {"STACK": "asia", "GITHUB_STEP_SUMMARY": str(summary)}, cwd=tmp_path)
    # An annotation on the run: its title (where `:` and `,` would need escaping) names the stack.
    [title] = re.findall(r"^::error title=([^\n]*?)::", result.stdout, re.M)
    assert title == f"Stack asia {says}"
    assert "Stack asia" in summary.read_text() and says in summary.read_text()
    if says == "needs pulumi up":
        assert "make up STACK=asia" in result.stdout
        assert "LocallySignedCert" in summary.read_text()  # what the preview would replace


# --- the Makefile ----------------------------------------------------------------------------------


def test_the_policy_pack_gets_its_own_virtualenv_from_its_lock() -> None:
    rules = make_rules()
    _, pack = virtualenvs()
    prerequisites, recipe = rules[f"{pack}/.installed"]
    assert "policy/requirements.lock" in prerequisites
    assert any(
        line.startswith(f"{pack}/bin/python ")
        and "--require-hashes -r policy/requirements.lock" in line
        for line in recipe
    ), recipe
    # `make clean` removes it; `make test` builds it (a test starts the pack from it).
    assert any(pack in line.split() for line in rules["clean"][1] if line.startswith("rm -rf"))
    assert f"{pack}/.installed" in rules["test"][0]


@pytest.mark.parametrize("target", ["up", "preview"])
def test_deploys_and_previews_run_the_policy_pack(target: str) -> None:
    # A mandatory policy's violation stops `make up` as it stops `make preview`.
    prerequisites, recipe = make_rules()[target]
    for virtualenv in virtualenvs():
        assert f"{virtualenv}/.installed" in prerequisites
    [command] = [shlex.split(line) for line in recipe if line.startswith(f"pulumi {target} ")]
    assert option(command, "--policy-pack") == "policy"


def test_every_virtualenv_is_installed_from_lock_files_with_hashes() -> None:
    rules = make_rules()
    lock_files = set()
    for target, (_, recipe) in rules.items():
        installs = [shlex.split(line) for line in recipe if " -r " in f" {line} "]
        if target.endswith("/.installed") and installs:
            for words in installs:
                assert "--require-hashes" in words, f"{target}: {words}"
                files = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "-r"]
                assert files and all(f.endswith(".lock") for f in files), f"{target}: {words}"
                lock_files |= set(files)
    assert {"requirements.lock", "requirements-dev.lock", "policy/requirements.lock"} <= lock_files
    # `make lock` writes each of them with hashes, from the requirements file beside it.
    written = {}
    for line in rules["lock"][1]:
        words = shlex.split(line)
        assert words[0].endswith("pip-compile") and "--generate-hashes" in words
        written[option(words, "--output-file")] = words[-1]
    assert set(written) == lock_files
    for lock, source in written.items():
        assert source == lock.removesuffix(".lock") + ".txt"


def test_render_renders_any_project_and_render_diff_every_one() -> None:
    # make render PROJECT=examples/fleet STACK=example; render-diff renders every project itself.
    rules = make_rules()
    [render] = [shlex.split(line) for line in rules["render"][1]]
    assert render[1:4] == ["-m", "render", "dev"]  # STACK's default
    assert option(render, "--project-dir") == "."  # PROJECT's default: this project
