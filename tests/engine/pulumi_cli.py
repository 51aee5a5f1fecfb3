"""The real Pulumi CLI, run as a user runs it, on a copy of a Pulumi project.

A `Project` is a folder of its own (its own HOME, so its own ~/.pulumi: file backend, plugins,
workspace) holding links to the project's program and virtualenv, so stack files written by a
test never touch the work tree. A `Stack` is one `Pulumi.<stack>.yaml` in it, with passphrase
secrets. The CLI finds the language host and the provider plugins on PATH (the toolchain's
bin/), never downloads one, and never asks anything (--non-interactive).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from harness import ROOT, unavailable
from supervisor import Supervised

from toolchain import bin_dir

PASSPHRASE = "engine-layer-passphrase"
# The binaries `pulumi up` of this project needs (`make toolchain` builds them).
TOOLS = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-kubernetes",
    "pulumi-resource-tls",
    "pulumi-resource-random",
)
# A bound on one CLI run: pulumi-kubernetes awaits a Deployment for up to 10 minutes, and a
# test must fail with the CLI's output long before that.
RUN_TIMEOUT = int(os.environ.get("PULUMI_RUN_TIMEOUT", "300"))


def require_tools(*more: str) -> None:
    """Skip (fail under CI) unless `make toolchain` has built the CLI and its plugins."""
    missing = [t for t in (*TOOLS, *more) if not (bin_dir() / t).exists()]
    if missing:
        unavailable(f"not built: {', '.join(missing)} (in {bin_dir()}): run `make toolchain`")


@dataclasses.dataclass
class Result:
    """One CLI run: its exit code and what it printed."""

    args: Sequence[str]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"pulumi {' '.join(self.args)} exited {self.code}\n{self.stdout}\n{self.stderr}"

    def json(self) -> Any:
        return json.loads(self.stdout)


class Project:
    """A Pulumi project laid out in `root`: links to the files of the one in `source` (the
    repository's, by default), without its stack files, and the `links` given."""

    def __init__(
        self,
        root: Path,
        source: Path = ROOT,
        env: Mapping[str, str] | None = None,
        links: Mapping[str, Path] | None = None,
    ):
        self.root = root
        self.home = root / ".home"
        self.home.mkdir(parents=True, exist_ok=True)
        for entry in source.iterdir():
            if entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml":
                continue  # stacks are the test's own
            if entry.name in {".git", "rendered", "manifests"}:
                continue
            (root / entry.name).symlink_to(entry)
        for name, target in (links or {}).items():  # more, such as an example's virtualenv
            (root / name).symlink_to(target)
        self.env = {
            "PATH": f"{bin_dir()}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            # The file backend needs no account; state lives in this project's own HOME.
            "PULUMI_BACKEND_URL": f"file://{self.home}",
            "PULUMI_HOME": str(self.home / ".pulumi"),
            # The language host built here (docs/toolchain.md) runs a policy pack as `python
            # <dir>`, where newer ones run `python -u`: pulumi_policy writes its port without a
            # flush, so unbuffered output is what lets the CLI read it.
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }

    def pulumi(self, *args: str, check: bool = True, timeout: float = RUN_TIMEOUT) -> Result:
        """`pulumi <args>` in the project; fails the test with its output unless it exits 0
        (or check is False)."""
        # Under a supervisor (tests/supervisor.py), which ends the CLI's plugins with it.
        #
        # The language host once seen left running was `pulumi-language-python 127.0.0.1:<the
        # engine's port>`, started by the CLI, and its program (`python .../pulumi-language-
        # python-exec --monitor ... --engine ...`). The CLI stops every plugin it started before
        # it exits, on success and on error alike (SIGINT to the plugin's process group, SIGKILL
        # after 5 s: pulumi/pkg v3.274.0 resource/plugin/plugin.go); none was left after any
        # run of the engine layer, traced. But it starts each plugin in a process group of its
        # own (sdk go/common/util/cmdutil RegisterProcessGroup), and when the CLI itself is
        # killed outright it stops none. That was our doing: on a timeout the harness sent
        # SIGKILL to the CLI's process group, which holds no plugin, and so did the kill added
        # after it (commit fa6d184), which could therefore not stop a language host. Orphaned,
        # the host and its program live until the host's health check finds the engine gone:
        # it asks every 5 minutes (pulumi/pulumi#9735, which closed #8696: orphaned language
        # hosts). Users of the released CLI see the same when their CLI is killed (SIGKILL, the
        # OOM killer, a CI job cancelled hard): its plugins outlive it for up to 5 minutes.
        # Here, the supervisor adopts what the CLI leaves (a child subreaper) and ends it.
        cli = Supervised(
            [str(bin_dir() / "pulumi"), *args, "--non-interactive"],
            cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            stdout, stderr = cli.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            cli.stop()  # SIGTERM to the CLI's group, then to all it started; SIGKILL after
            stdout, stderr = cli.communicate()
            raise AssertionError(
                f"pulumi {' '.join(args)} still running after {timeout}s:\n{stdout}\n{stderr}"
            ) from None
        result = Result(args, cli.returncode, stdout, stderr)
        if check and result.code != 0:
            raise AssertionError(str(result))
        return result

    def stack(
        self, name: str, config: Mapping[str, Any], secrets: Mapping[str, str] | None = None
    ) -> Stack:
        return Stack(self, name, config, dict(secrets or {}))


def program_project(root: Path, name: str, program: str, env: Mapping[str, str]) -> Project:
    """A Pulumi project of a test's own in `root`: `program` as its __main__.py, run with the
    repository's virtualenv and able to import its components."""
    source = root / f"{name}-source"
    source.mkdir(parents=True)
    runtime = {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(ROOT / ".venv")}}
    (source / "Pulumi.yaml").write_text(yaml.safe_dump({"name": name, "runtime": runtime}))
    (source / "__main__.py").write_text(program)
    (source / "components").symlink_to(ROOT / "components")
    return Project(root / name, source, env=env)


class Stack:
    """A stack of the project: `config` (keys without the project prefix) written as the user
    writes Pulumi.<stack>.yaml, `secrets` set with `pulumi config set --secret`."""

    def __init__(
        self, project: Project, name: str, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> None:
        self.project = project
        self.name = name
        self.file = project.root / f"Pulumi.{name}.yaml"
        prefix = yaml.safe_load((project.root / "Pulumi.yaml").read_text())["name"]
        self.prefix = prefix
        self.secrets = secrets
        self.live = False  # whether `up` ran since the last successful `destroy`
        project.pulumi("stack", "init", name, "--secrets-provider", "passphrase")
        self.set_config(config)

    def set_config(self, config: Mapping[str, Any]) -> None:
        """Replace the stack's config with `config` and the secrets (`--path` keys, such as
        objectStorage.secretkey), keeping what `stack init` wrote (the salt)."""
        text = yaml.safe_load(self.file.read_text()) or {}
        text["config"] = {f"{self.prefix}:{k}": v for k, v in config.items()}
        self.file.write_text(yaml.safe_dump(text, sort_keys=False))
        for key, value in self.secrets.items():
            self.run("config", "set", "--secret", "--path", f"{self.prefix}:{key}", value)

    def run(self, *args: str, check: bool = True, timeout: float = RUN_TIMEOUT) -> Result:
        return self.project.pulumi(*args, "--stack", self.name, check=check, timeout=timeout)

    def up(self, *args: str, check: bool = True, preview: bool = False) -> Result:
        """`pulumi up --yes`, with its preview first when `preview` (as `make up` runs it)."""
        self.live = True
        return self.run("up", "--yes", *([] if preview else ["--skip-preview"]), *args, check=check)

    def preview(self, *args: str, check: bool = True) -> Result:
        return self.run("preview", *args, check=check)

    def destroy(self, check: bool = True) -> Result:
        result = self.run("destroy", "--yes", "--skip-preview", check=check)
        self.live = self.live and result.code != 0
        return result

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", *(["--show-secrets"] if show_secrets else [])]
        return self.run(*args).json()

    def remove(self) -> None:
        self.run("stack", "rm", "--yes", "--force")
        shutil.rmtree(self.project.root / ".pulumi", ignore_errors=True)
