"""The real Pulumi CLI judges the render's port of its config rules (render/pulumi_cli_config.py)
and of its secrets (render/stack_config.py).

Every stack file of the repository, and a set of bad ones, goes through both the real `pulumi
preview --policy-pack policy` (as `make preview` runs it, against the test cluster) and `make
render`. They must accept and refuse the same ones, and refuse them alike:

- at the same stage: where the CLI stops before the program runs (`getting stack
  configuration: ...`, `validating stack config: ...`), the render says the same words first;
  where the program refuses, it refuses in the render with the same list of problems;
- naming the mistake: each bad case says where the mistake is (the key as the stack file writes
  it, or the file when the file cannot be read at all). The render's refusal names it, and every
  key of the project's the CLI's refusal names, the render's names too. pulumi 3.274 names no key
  when it cannot decode the file or decrypt a value (`validating stack config: bad value`): there
  the render says the CLI's words and names the key as well;
- without crashing: a traceback, or a refusal that names nothing, fails.

Then a secret set by the real CLI (`pulumi config set --secret`) decrypts in the render to what
the program sees under the CLI. Where the two disagree, the CLI is right.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import io
import itertools
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster
from harness import ROOT, encrypter
from pulumi_cli import PASSPHRASE, RUN_TIMEOUT, Project, Stack, require_tools

from render import stack_config
from render.__main__ import Said
from render.__main__ import main as render_main
from render.__main__ import render as render_in_process
from render.stack_config import self_signed_pair
from toolchain import bin_dir

pytestmark = pytest.mark.timeout(600)

UPSTREAMS = "  msr-cache:upstreams: [https://msr.example.com]\n"
FILE = None
"""A mistake in no one key: the refusal names the stack file."""


@dataclasses.dataclass(frozen=True)
class Bad:
    """A stack file both refuse, and what the refusal must name: the key the mistake is in, as
    the file writes it, or FILE."""

    text: str | bytes
    names: str | None


# What the CLI refuses (its own rules), and what the program refuses. The comments say what
# pulumi 3.274 says, where it refuses before the program runs.
BAD: dict[str, Bad] = {
    "missing-upstreams": Bad("config:\n  msr-cache:port: 30443\n", "msr-cache:upstreams"),
    # expected project to be an object, was '[]interface {}'
    "not-a-mapping": Bad("- config\n", FILE),
    # invalid YAML file: could not unmarshal map: yaml: unmarshal errors: line 2: cannot
    # unmarshal !!seq into map[string]config.Value (a line of the file as the CLI re-encodes it)
    "config-not-a-mapping": Bad("config: [a, b]\n", "config"),
    "config-not-a-mapping-scalar": Bad("config: 42\n", "config"),
    # invalid YAML file: yaml: line 1: did not find expected ',' or ']'
    "yaml-syntax": Bad(
        "config:\n  msr-cache:upstreams: [https://msr.example.com\n  msr-cache:port: 1\n", FILE
    ),
    # the same: a tab between tokens is a space to yaml.v3, so the sequence is left open
    "yaml-unclosed-after-a-tab": Bad("config:\n  msr-cache:hosts: [a\tb\n", FILE),
    # invalid YAML file: yaml: invalid leading UTF-8 octet
    "not-utf8": Bad(b"config:\n  msr-cache:name: \xff\xfe\n", FILE),
    # yaml: unmarshal errors: line 4: mapping key "msr-cache:port" already defined at line 3
    "key-twice": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:port: 30001\n  msr-cache:port: 30002\n",
        "msr-cache:port",
    ),
    # invalid YAML file: could not unmarshal map: could not parse a:b:c as a configuration key
    "key-with-two-colons": Bad("config:\n" + UPSTREAMS + "  a:b:c: 1\n", "a:b:c"),
    # A tab as the space after a colon: both read the value, which the program refuses.
    "tab-separated": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:exposure:\tnodeport\n", "msr-cache:exposure"
    ),
    # validating stack config: bad value
    "secure-malformed": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: not-a-ciphertext\n",
        "msr-cache:tlsKey",
    ),
    # validating stack config: unknown value version
    "secure-version": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: v2:AAAA:AAAA\n",
        "msr-cache:tlsKey",
    ),
    # No ciphertext, so a map: the program refuses it as a key.
    "secure-not-text": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: 42\n", "msr-cache:tlsKey"
    ),
    # invalid YAML file: could not unmarshal map: json: unsupported value: NaN
    "nan": Bad("config:\n" + UPSTREAMS + "  msr-cache:replicas: .nan\n", "msr-cache:replicas"),
    # validating stack config: Stack 'bad-wrong-type' with configuration key 'replicas' must be
    # of type 'integer'
    "wrong-type": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:replicas: two\n", "msr-cache:replicas"
    ),
    "wrong-type-without-namespace": Bad("config:\n" + UPSTREAMS + "  replicas: two\n", "replicas"),
    "wrong-item-type": Bad("config:\n  msr-cache:upstreams: [1, 2]\n", "msr-cache:upstreams"),
    "typo": Bad("config:\n" + UPSTREAMS + "  msr-cache:blobTTL: 12h\n", "msr-cache:blobTTL"),
    "bad-value": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:exposure: nodeport\n", "msr-cache:exposure"
    ),
    # yaml.v3 reads YAML 1.2: `yes` is text (no boolean), 0777 is octal (511, no node port).
    "yes-is-no-boolean": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:createNamespace: yes\n", "msr-cache:createNamespace"
    ),
    "octal-port": Bad(
        "config:\n" + UPSTREAMS + "  msr-cache:hosts: [a.example.com]\n  msr-cache:port: 0777\n",
        "msr-cache:port",
    ),
    # A key with no value is set, to null, which no declared type is.
    "empty-value": Bad("config:\n" + UPSTREAMS + "  msr-cache:replicas:\n", "msr-cache:replicas"),
    # yaml.v3 reads the first document only: the second, broken, is never read.
    "second-document": Bad("config:\n" + UPSTREAMS + "---\nconfig: [\n", "msr-cache:hosts"),
    # get stack secrets manager: malformed state value (with or without secrets)
    "salt-malformed": Bad("encryptionsalt: v1:AAAA\nconfig:\n" + UPSTREAMS, "encryptionsalt"),
}


def _sealed() -> dict[str, Bad]:
    """Stack files with encrypted values the passphrase cannot open."""
    salt, encrypt = encrypter(PASSPHRASE)
    other = base64.b64encode(b"n" * 12).decode()
    head = f"encryptionsalt: {salt}\nconfig:\n{UPSTREAMS}  msr-cache:tlsKey:\n"
    # One key derivation of the other passphrase (a million PBKDF2 rounds) serves three cases.
    other_salt, other_encrypt = encrypter("another passphrase")
    key = "msr-cache:tlsKey"
    return {
        # validating stack config: cipher: message authentication failed
        "sealed-by-no-key": Bad(head + f"    secure: v1:{other}:{other}\n", key),
        "sealed-by-another-key": Bad(head + f"    secure: {other_encrypt('key')}\n", key),
        # get stack secrets manager: incorrect passphrase (with or without secrets)
        "another-passphrase": Bad(
            f"encryptionsalt: {other_salt}\nconfig:\n{UPSTREAMS}"
            f"  msr-cache:tlsKey:\n    secure: {other_encrypt('key')}\n",
            "encryptionsalt",
        ),
        "another-passphrase-without-secrets": Bad(
            f"encryptionsalt: {other_salt}\nconfig:\n{UPSTREAMS}", "encryptionsalt"
        ),
        "sealed-well": Bad(head + f"    secure: {encrypt('not a PEM key')}\n", key),
    }


BAD |= _sealed()


def repository_stacks() -> dict[str, tuple[Path, Path]]:
    """{case: (project folder, stack file)} of every stack file in the repository."""
    root = [*sorted(ROOT.glob("Pulumi.*.yaml")), *sorted(ROOT.glob("tests/render/stacks/*.yaml"))]
    fleet = ROOT / "examples" / "fleet"
    found = {f"root/{s.stem.removeprefix('Pulumi.')}": (ROOT, s) for s in root}
    found |= {
        f"fleet/{s.stem.removeprefix('Pulumi.')}": (fleet, s) for s in fleet.glob("Pulumi.*.yaml")
    }
    return found


STACKS = repository_stacks()
CASES = [*STACKS, *(f"bad/{name}" for name in BAD)]


def what_stacks_read() -> list[dict[str, Any]]:
    """What the repository's stack files read from the cluster (upstreamCaSecret's Secret,
    storageClass's StorageClass), as the render stands in for it, and the namespaces they are in:
    so the CLI, reading the test cluster, finds what the render assumes."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for folder, path in STACKS.values():
        stack = path.stem.removeprefix("Pulumi.")
        for read in stack_config.load(folder, stack, path.parent, environ={}).cluster:
            metadata = read.state["metadata"]
            if "namespace" in metadata:
                namespace = {"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": metadata["namespace"]}}  # fmt: skip
                found[("Namespace", "", metadata["namespace"])] = namespace
            found[(read.state["kind"], metadata.get("namespace", ""), metadata["name"])] = (
                read.state
            )
    return sorted(found.values(), key=lambda o: o["kind"] != "Namespace")


@pytest.fixture(scope="module")
def projects(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Project]:
    """The root project and the fleet's, reaching the test cluster under every context a stack
    file names, which holds what the stack files read from it."""
    require_tools()
    for read in what_stacks_read():
        cluster.kubectl("apply", "--filename=-", stdin=json.dumps(read))
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
        return ROOT, BAD[case.removeprefix("bad/")].text
    folder, path = STACKS[case]
    return folder, path.read_bytes()


def render(folder: Path, name: str, text: str | bytes, tmp: Path) -> tuple[int, str]:
    """`make render` of the stack (its `main`, in this process: a Python and its imports fewer
    per case): its exit code and what it printed on stderr."""
    stacks = tmp / "stacks"
    stacks.mkdir()
    (stacks / f"Pulumi.{name}.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    err = io.StringIO()
    passphrase = os.environ.get("PULUMI_CONFIG_PASSPHRASE")
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = PASSPHRASE
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = render_main([name, str(tmp / "out"), "--project-dir", str(folder),
                                "--stack-dir", str(stacks)])  # fmt: skip
    finally:
        if passphrase is None:
            del os.environ["PULUMI_CONFIG_PASSPHRASE"]
        else:
            os.environ["PULUMI_CONFIG_PASSPHRASE"] = passphrase
    return code, err.getvalue()


def policy_pack(project: Project) -> list[str]:
    """`--policy-pack policy` where the project has a pack, as `make preview` passes it (the
    render runs the same pack, and none where the project has none)."""
    return ["--policy-pack", "policy"] if (project.root / "policy").is_dir() else []


def preview(project: Project, name: str, text: str | bytes) -> tuple[int, str]:
    """The real `pulumi preview` of the stack file: its exit code and what it printed."""
    project.pulumi("stack", "init", name, "--secrets-provider", "passphrase")
    path = project.root / f"Pulumi.{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = project.pulumi("preview", "--stack", name, *policy_pack(project), check=False)
    return result.code, result.stdout + result.stderr


# Where a refusal comes: before the program runs (the CLI's two stages), or in the program.
STAGES = ("getting stack configuration: ", "validating stack config: ")
PROGRAM = "invalid configuration:"


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A refusal as one side printed it: its stage (one of STAGES, PROGRAM, or "" for any other),
    and its text (the program's: its list of problems, one per line)."""

    stage: str
    text: str


def cli_refusal(output: str) -> Refusal:
    """The CLI's refusal, from what `pulumi preview` printed: its `error: ` line before the
    program runs, or the program's list of problems in the Diagnostics."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        said = line.removeprefix("error: ")
        if said != line and said.startswith(STAGES):
            # A multi-line one (yaml's unmarshal errors) goes on in indented lines.
            more = itertools.takewhile(lambda m: m.startswith("  "), lines[i + 1 :])
            text = " ".join([said, *(m.strip() for m in more)])
            return Refusal(next(s for s in STAGES if said.startswith(s)), text)
    diagnostics = output.partition("\nDiagnostics:\n")[2].splitlines()
    for i, line in enumerate(diagnostics):
        if line.strip() == f"error: {PROGRAM}":
            problems = [p.strip() for p in diagnostics[i + 1 :]]
            return Refusal(PROGRAM, "\n".join(_problem_list(problems)))
    return Refusal("", output)


def render_refusal(err: str) -> Refusal:
    """The render's refusal, from what `make render` printed on stderr: one `error: ` message."""
    said = err.removeprefix("error: ")
    if said.startswith(f"{PROGRAM}\n"):
        problems = [p.strip() for p in said.splitlines()[1:]]
        return Refusal(PROGRAM, "\n".join(_problem_list(problems)))
    for stage in STAGES:
        if said.startswith(stage):
            return Refusal(stage, said.strip())
    return Refusal("", said.strip())


def _problem_list(lines: list[str]) -> list[str]:
    problems: list[str] = []
    for line in lines:
        if not line.startswith("- "):
            break
        problems.append(line)
    return problems


def unplaced(text: str) -> str:
    """`text` without yaml.v3's positions (`line 2: `)."""
    return re.sub(r"\bline \d+: ", "", text)


def names(text: str, name: str) -> bool:
    """Whether `text` names `name` as a whole key: not msr-cache:portName for msr-cache:port, nor
    Go's map[string]config.Value for config."""
    return re.search(rf"(?<![\w.:\[\]-]){re.escape(name)}(?![\w-]|\.\w)", text) is not None


def project_keys(text: str, project: str = "msr-cache") -> set[str]:
    """The project's config keys `text` names: `<project>:<key>`, or a declared key as the CLI
    quotes it (`'replicas'`)."""
    found = set(re.findall(rf"(?<![\w.:-]){re.escape(project)}:([A-Za-z]\w*)", text))
    return found | set(re.findall(r"configuration keys? '([A-Za-z]\w*)'", text))


@pytest.mark.parametrize("case", CASES)
def test_the_render_accepts_and_refuses_what_the_real_cli_does(
    case: str, projects: dict[Path, Project], tmp_path: Path
) -> None:
    folder, text = stack_text(case)
    name = case.replace("/", "-")
    real_code, real_output = preview(projects[folder], name, text)
    render_code, render_err = render(folder, name, text, tmp_path)
    both = f"--- pulumi preview\n{real_output}\n--- make render\n{render_err}"
    assert "Traceback" not in render_err, both
    assert (real_code == 0) == (render_code == 0), (
        f"pulumi preview exited {real_code}, make render {render_code}\n{both}"
    )
    if real_code == 0:
        return
    real, rendered = cli_refusal(real_output), render_refusal(render_err)
    assert rendered.stage and rendered.stage == real.stage, both
    if real.stage == PROGRAM:
        # The same program over the same config: the same problems, word for word.
        assert rendered.text == real.text, both
    else:
        # The CLI's words, the positions yaml.v3 gives aside (the line of the construct a mistake
        # is in, counted from 0, or of the file as the CLI re-encodes it): the render gives its own.
        assert unplaced(real.text) in unplaced(rendered.text), both
    mistake = BAD[case.removeprefix("bad/")].names if case.startswith("bad/") else FILE
    where = mistake or f"Pulumi.{name}.yaml"
    assert names(rendered.text.removeprefix(rendered.stage), where), f"names no {where}\n{both}"
    missing = project_keys(real.text) - project_keys(rendered.text)
    assert not missing, f"the CLI names {missing}, the render does not\n{both}"


# --- a secret set by the real CLI -------------------------------------------------------------

# Characters JSON and YAML each write their own way: a quote, a backslash, `<>&` (which Go's JSON
# escapes), a non-ASCII letter.
S3_SECRET_KEY = 's3/se<cr>&t "quoted" \\ é end'


def set_secret_from_stdin(stack: Stack, key: str, value: str) -> None:
    """`pulumi config set --secret <key> < file`, as docs/configuration.md sets tlsKey (a PEM
    starts with `-`, which the command line would read as a flag)."""
    done = subprocess.run(
        [str(bin_dir() / "pulumi"), "config", "set", "--secret", f"{stack.prefix}:{key}",
         "--stack", stack.name, "--non-interactive"],
        input=value, cwd=stack.project.root, env=stack.project.env, capture_output=True,
        text=True, timeout=RUN_TIMEOUT, start_new_session=True,
    )  # fmt: skip
    assert done.returncode == 0, f"pulumi config set exited {done.returncode}:\n{done.stderr}"


SECRET = "kubernetes:core/v1:Secret"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Hidden(str):
    """A secret's text, shown (in a failure's traceback, say) as its digest only."""

    def __repr__(self) -> str:
        return f"<secret sha256:{digest(self)}>"


def deployed_secrets(stack: Stack, cluster: Cluster) -> dict[str, dict[str, Hidden]]:
    """{resource name: entries} of every Secret `pulumi up` made, as the API server holds it
    (found by the IDs in the stack's state)."""
    found: dict[str, dict[str, Hidden]] = {}
    for resource in stack.run("stack", "export").json()["deployment"]["resources"]:
        if resource["type"] == SECRET:
            namespace, name = resource["id"].split("/", 1)
            data = cluster.get("secret", name, namespace).get("data") or {}
            found[resource["urn"].rsplit("::", 1)[-1]] = {
                k: Hidden(base64.b64decode(v).decode()) for k, v in data.items()
            }
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def rendered_secrets(
    stack: Stack, out: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, dict[str, Hidden]], set[str]]:
    """`make render` of the stack's file (in process, to read what the program registered):
    {resource name: entries} of every Secret, and the digests of what other resources made (a
    generated password, which a deployment makes anew)."""
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    said = Said()
    render_in_process(stack.name, out, ROOT, stack.project.root, said)
    found: dict[str, dict[str, Hidden]] = {}
    made: set[str] = set()
    for r in said.resources:
        if r.typ == SECRET:
            given = {
                k: base64.b64decode(v).decode() for k, v in (r.inputs.get("data") or {}).items()
            }
            given |= r.inputs.get("stringData") or {}
            found[r.name] = {k: Hidden(v) for k, v in given.items()}
        elif not r.typ.startswith("kubernetes:"):
            made |= {digest(v) for v in _strings(r.outputs)}
    return found, made


def test_a_secret_set_by_the_cli_decrypts_in_the_render_to_what_the_program_sees(
    projects: dict[Path, Project],
    cluster: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key set on stdin (a top-level secret) and an S3 secret key set with --path (a secret
    inside a plaintext object): the Secrets the program makes under the CLI (`pulumi up`, read
    back from the API server) and in the render of the same stack file hold the same entries.
    Compared by digest, so that no secret is printed."""
    cert, key = self_signed_pair("node0.example.test")
    storage = {"driver": "s3", "region": "eu-west-1", "bucket": "msr-cache",
               "accesskey": "AKIAEXAMPLE"}  # fmt: skip
    config = {"upstreams": ["https://msr.example.com"], "namespace": "stack-file-secrets",
              "hosts": ["node0.example.test"], "port": 30461, "tlsCert": cert,
              "objectStorage": storage}  # fmt: skip
    stack = projects[ROOT].stack(
        "secrets", config, secrets={"objectStorage.secretkey": S3_SECRET_KEY}
    )
    set_secret_from_stdin(stack, "tlsKey", key)
    written = stack.file.read_text()
    sealed = S3_SECRET_KEY not in written and "PRIVATE KEY" not in written
    assert sealed, "pulumi config set --secret left a secret in plaintext"

    rendered, made = rendered_secrets(stack, tmp_path / "out", monkeypatch)
    try:
        stack.up("--policy-pack", "policy")
        deployed = deployed_secrets(stack, cluster)
    finally:
        stack.destroy()
    assert sorted(deployed) == sorted(rendered)
    compared: list[Hidden] = []
    for name, entries in deployed.items():
        assert sorted(entries) == sorted(rendered[name]), name
        for entry, value in entries.items():
            if digest(rendered[name][entry]) in made:
                continue  # made at deployment (a generated password), not from config
            same = digest(value) == digest(rendered[name][entry])
            assert same, f"{name}[{entry}] differs: {value!r} deployed, {rendered[name][entry]!r}"
            compared.append(value)
    # Not vacuous: both secrets reached a Secret and were compared there (the CLI trims the
    # newline a PEM ends with, as it trims any value read from stdin).
    reached = [
        any(v.strip() == key.strip() for v in compared),
        any(S3_SECRET_KEY in v for v in compared),
    ]
    assert reached == [True, True], "tlsKey, objectStorage.secretkey: compared in a Secret"
