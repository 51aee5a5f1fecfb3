"""The real Pulumi CLI judges the render's port of its config rules (render/cli_config.py).

Every stack file of the repository, and a set of bad ones, goes through both the real
`pulumi preview` (against the test cluster) and `make render`; they must accept and refuse the
same ones, and where the render says it speaks for the CLI (`validating stack config: ...`), it
must say what the CLI says. Where they disagree, the CLI is right.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cluster import Cluster
from harness import ROOT, encrypter
from pulumi_cli import PASSPHRASE, Project, require_tools

pytestmark = pytest.mark.timeout(600)

UPSTREAMS = "  msr-cache:upstreams: [https://msr.example.com]\n"
# Bad stack files: what the CLI refuses (its own rules) and what the program refuses.
BAD: dict[str, str | bytes] = {
    "missing-upstreams": "config:\n  msr-cache:port: 30443\n",
    "not-a-mapping": "- config\n",
    "config-not-a-mapping": "config: [a, b]\n",
    "yaml-syntax": "config:\n  msr-cache:upstreams: [https://msr.example.com\n  msr-cache:port: 1\n",
    "yaml-tab": "config:\n  msr-cache:hosts: [a\tb\n",
    "not-utf8": b"config:\n  msr-cache:name: \xff\xfe\n",
    "secure-malformed": "config:\n"
    + UPSTREAMS
    + "  msr-cache:tlsKey:\n    secure: not-a-ciphertext\n",
    "secure-version": "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: v2:AAAA:AAAA\n",
    "secure-not-text": "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: 42\n",
    "nan": "config:\n" + UPSTREAMS + "  msr-cache:replicas: .nan\n",
    "wrong-type": "config:\n" + UPSTREAMS + "  msr-cache:replicas: two\n",
    "wrong-item-type": "config:\n  msr-cache:upstreams: [1, 2]\n",
    "typo": "config:\n" + UPSTREAMS + "  msr-cache:blobTTL: 12h\n",
    "bad-value": "config:\n" + UPSTREAMS + "  msr-cache:exposure: nodeport\n",
}


def _sealed() -> dict[str, str]:
    """Stack files with encrypted values the passphrase cannot open."""
    salt, encrypt = encrypter(PASSPHRASE)
    other = base64.b64encode(b"n" * 12).decode()
    head = f"encryptionsalt: {salt}\nconfig:\n{UPSTREAMS}  msr-cache:tlsKey:\n"
    # One key derivation of the other passphrase (a million PBKDF2 rounds) serves both cases.
    other_salt, other_encrypt = encrypter("another passphrase")
    return {
        "sealed-by-no-key": head + f"    secure: v1:{other}:{other}\n",
        "sealed-by-another-key": head + f"    secure: {other_encrypt('key')}\n",
        "another-passphrase": f"encryptionsalt: {other_salt}\nconfig:\n{UPSTREAMS}"
        f"  msr-cache:tlsKey:\n    secure: {other_encrypt('key')}\n",
        "sealed-well": head + f"    secure: {encrypt('not a PEM key')}\n",
    }


BAD |= _sealed()


def repository_stacks() -> dict[str, tuple[Path, Path]]:
    """{case: (project folder, stack file)} of every stack file in the repository."""
    root = [*sorted(ROOT.glob("Pulumi.*.yaml")), *sorted(ROOT.glob("tests/stacks/*.yaml"))]
    fleet = ROOT / "examples" / "fleet"
    found = {f"root/{s.stem.removeprefix('Pulumi.')}": (ROOT, s) for s in root}
    found |= {
        f"fleet/{s.stem.removeprefix('Pulumi.')}": (fleet, s) for s in fleet.glob("Pulumi.*.yaml")
    }
    return found


STACKS = repository_stacks()
CASES = [*STACKS, *(f"bad/{name}" for name in BAD)]


@pytest.fixture(scope="module")
def projects(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Project]:
    """The root project and the fleet's, reaching the test cluster under every context a stack
    file names."""
    require_tools()
    contexts = {
        "kind-msr-cache",
        "kind-msr-cache-gateway",
        "central-cluster",
        "asia-cluster",
        "eu-cluster",
    }
    env = {"KUBECONFIG": str(cluster.kubeconfig_with(contexts))}
    fleet = ROOT / "examples" / "fleet"
    links = {"venv": ROOT / ".venv", "components": ROOT / "components"}
    return {
        ROOT: Project(tmp_path_factory.mktemp("root"), ROOT, env),
        fleet: Project(tmp_path_factory.mktemp("fleet"), fleet, env, links),
    }


def stack_text(case: str) -> tuple[Path, str | bytes]:
    if case.startswith("bad/"):
        return ROOT, BAD[case.removeprefix("bad/")]
    folder, path = STACKS[case]
    return folder, path.read_bytes()


def render(folder: Path, name: str, text: str | bytes, tmp: Path) -> tuple[int, str]:
    """`make render` of the stack: its exit code and what it printed on stderr."""
    stacks = tmp / "stacks"
    stacks.mkdir()
    (stacks / f"Pulumi.{name}.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    done = subprocess.run(
        [sys.executable, "-m", "render", name, str(tmp / "out"), "--project-dir", str(folder),
         "--stack-dir", str(stacks)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
    )  # fmt: skip
    return done.returncode, done.stderr


def preview(project: Project, name: str, text: str | bytes) -> tuple[int, str]:
    """The real `pulumi preview` of the stack file: its exit code and what it printed."""
    project.pulumi("stack", "init", name, "--secrets-provider", "passphrase")
    path = project.root / f"Pulumi.{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = project.pulumi("preview", "--stack", name, check=False)
    return result.code, result.stdout + result.stderr


def cli_message(output: str) -> str | None:
    """The CLI's own refusal of a stack's config (`validating stack config: ...`), if any."""
    for line in output.splitlines():
        if "validating stack config" in line:
            return line.strip().removeprefix("error: ")
    return None


@pytest.mark.parametrize("case", CASES)
def test_the_render_accepts_and_refuses_what_the_real_cli_does(
    case: str, projects: dict[Path, Project], tmp_path: Path
) -> None:
    folder, text = stack_text(case)
    name = case.replace("/", "-")
    real_code, real_output = preview(projects[folder], name, text)
    render_code, render_err = render(folder, name, text, tmp_path)
    assert (real_code == 0) == (render_code == 0), (
        f"pulumi preview exited {real_code}, make render {render_code}\n"
        f"--- pulumi preview\n{real_output}\n--- make render\n{render_err}"
    )
    said = cli_message(real_output)
    if said is not None:
        assert said in render_err, f"the CLI says\n{said}\nthe render says\n{render_err}"
