"""The GitHub workflows in .github/workflows, checked offline.

Every file is validated against the GitHub workflow JSON schema that check-jsonschema ships (no
network), then the properties a reviewer relies on are checked from the parsed YAML: what runs
when, with which permissions and which secrets, which steps do what and in which order. The
scripts a property lives in (the stack list, the kubeconfig file, the pull request comment) are
run, with fakes for what they call.
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


def make_targets() -> set[str]:
    """The targets the Makefile defines, its `X := value` variables expanded."""
    text = (ROOT / "Makefile").read_text()
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*?)\s*$", text, re.MULTILINE))
    targets = set()
    for line in re.findall(r"^([^\s#=:][^=:]*?)\s*:(?!=)", text, re.MULTILINE):
        for target in line.split():
            targets.add(re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), target))
    return targets


def make_target(step: dict[str, Any]) -> str:
    """The target of the step's `make` command."""
    words = command_of(step, "make")
    [target] = [w for w in words[1:] if not w.startswith("-") and "=" not in w][:1]
    return target


def redirected_to(words: list[str]) -> str | None:
    """Where a command's output goes (`> file` or `>> file`)."""
    for i, word in enumerate(words[:-1]):
        if word in (">", ">>"):
            return words[i + 1]
    return None


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
    assert workflow["permissions"] == {"contents": "read"}
    assert secrets_used(workflow) == []
    [step] = running(workflow, "make", "test")
    assert make_target(step) in make_targets()


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


def test_preview_installs_the_program_before_running_it() -> None:
    # pulumi/actions installs no dependencies: the virtualenv Pulumi.yaml names must exist.
    virtualenv = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"][
        "virtualenv"
    ]
    job, action = preview_job(load("preview.yml"))
    [install] = running(job, "make")
    assert make_target(install) in make_targets()
    assert make_target(install).startswith(f"{virtualenv}/")
    assert job["steps"].index(install) < job["steps"].index(action)


def test_preview_matrix_is_every_stack_but_the_e2e_one(tmp_path: Path) -> None:
    workflow = load("preview.yml")
    job, _ = preview_job(workflow)
    needs = [job["needs"]] if isinstance(job["needs"], str) else job["needs"]
    [lister] = [
        name for name in needs if f"needs.{name}.outputs" in job["strategy"]["matrix"]["stack"]
    ]
    [step] = [s for s in steps(jobs(workflow)[lister]) if s.get("shell") == "python"]
    assert f"steps.{step['id']}.outputs" in jobs(workflow)[lister]["outputs"]["stacks"]
    # Run the lister as the runner would, in a checkout with three stacks.
    names = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.kind.yaml", "Pulumi.kind-gateway.yaml",
             "Pulumi.prod.yaml")  # fmt: skip
    for name in names:
        (tmp_path / name).write_text("config: {}\n")
    output = tmp_path / "github_output"
    script = tmp_path / "list.py"
    script.write_text(step["run"])
    subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
        capture_output=True,
    )
    [line] = output.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "stacks" and json.loads(value) == ["dev", "prod"]


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
        assert path[-1] != "run", f"{secret} in a script; hand it over in env: {path}"
    where = {secret: [path for path, s in used if s == secret] for _, secret in used}
    # The passphrase for the action's pulumi; the token for its comment; the kubeconfig for
    # the one step that writes it to a file.
    assert where["PULUMI_CONFIG_PASSPHRASE"] == [("jobs", name, "env", "PULUMI_CONFIG_PASSPHRASE")]
    action_at = job["steps"].index(action)
    assert where["GITHUB_TOKEN"] == [("jobs", name, "steps", action_at, "with", "github-token")]
    [(_, _, _, index, env, variable)] = where["KUBECONFIG"]
    assert env == "env"
    writer = job["steps"][index]
    assert index < action_at

    # The kubeconfig is a file only the runner's user reads, named by KUBECONFIG for later steps.
    runner_temp = tmp_path
    github_env = runner_temp / "github_env"
    github_env.touch()
    shell = {"RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env)}
    run_step(writer, {**shell, variable: "apiVersion: v1\nkind: Config"})
    [kubeconfig] = [p for p in runner_temp.iterdir() if p != github_env]
    assert kubeconfig.read_text().rstrip("\n") == "apiVersion: v1\nkind: Config"
    assert kubeconfig.stat().st_mode & 0o077 == 0
    assert github_env.read_text() == f"KUBECONFIG={kubeconfig}\n"
    # Without the secret, nothing is written and KUBECONFIG is left alone.
    kubeconfig.unlink()
    github_env.write_text("")
    run_step(writer, {**shell, variable: ""})
    assert [p for p in runner_temp.iterdir() if p != github_env] == []
    assert github_env.read_text() == ""


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
    assert conditions(summary["if"]) == ["always()"]  # a diff that fails to render shows too


def comment_step_run(
    tmp_path: Path, comments: list[dict[str, Any]], diff: str
) -> list[dict[str, Any]]:
    """Run the comment step with a fake `gh` over `comments` (the pull request's, as GitHub's API
    lists them); returns what `gh` was asked to do."""
    [step] = running(load("render-diff.yml"), "gh")
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "render-diff.md").write_text(diff)
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
