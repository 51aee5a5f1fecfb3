"""A value a stack gives with `pulumi config set --secret` stays secret under the real engine,
whichever key it was given for: here a proxy whose URL holds a password, set as the issue that
found it set it (`pulumi config set --secret --path extraEnv.HTTPS_PROXY ...`), which the program
once read with `config.get` and wrote into the Deployment as a plain env value.

One `pulumi up` with the real CLI, its Python language host, the providers and the policy pack,
against a real API server (tests/engine/cluster.py). Its text, its password and its base64 are then in
none of: what the CLI printed (`pulumi preview --diff`, as text and as JSON, `pulumi up --diff`,
the program's and the providers' log lines), the stack's state (`pulumi stack export`, and every file the file backend
keeps: the state, its backups and history), the stack's outputs, and what the API server holds of
the Deployment, its ReplicaSet and pods, the ConfigMaps, the Services and the NetworkPolicy. The
pod still gets it: the Deployment names the Secret and key it comes from (valueFrom.secretKeyRef),
and that Secret holds it. The network policy lets the cache out to the proxy's port.

What this cannot prove: kwok starts no container, so no kubelet resolves the reference into the
process's environment (the registry server does it from what the API server holds, as tests/registry/pod.py
lays a pod out, in test_registry_server.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import Cluster
from harness import ROOT
from pulumi_cli import Project, Stack, require_tools

POLICY = ("--policy-pack", str(ROOT / "policy"))
# Bounded by each CLI run's own timeout, not the suite's.
pytestmark = pytest.mark.timeout(900)
MSR = "https://msr.example.com"
NAMESPACE = "secret-env"
PASSWORD = "Pr0xy-pa55-in-the-engine-7q"
PROXY = f"http://msr-cache:{PASSWORD}@proxy.secret-env.example.test:3128"
# Every form the secret could leak in: as given, its password alone, as a Secret's data holds it.
FORMS = (PROXY, PASSWORD, base64.b64encode(PROXY.encode()).decode())
# What the API server holds that is no Secret: where the pod spec is copied, and the rest.
SHOWN = "deployments,replicasets,pods,configmaps,services,networkpolicies"


@pytest.fixture
def stack(cluster: Cluster, tmp_path: Path) -> Iterator[Stack]:
    """A nodePort cache whose extraEnv holds a plain variable and the secret proxy; destroyed
    at the end, whatever the test found."""
    require_tools()
    project = Project(tmp_path / "project", env={"KUBECONFIG": str(cluster.kubeconfig)})
    config = {"upstreams": [MSR], "namespace": NAMESPACE, "hosts": ["node0.example.test"],
              "port": 30462, "extraEnv": {"REGISTRY_LOG_FORMATTER": "json"}}  # fmt: skip
    made = project.stack("secret-env", config, secrets={"extraEnv.HTTPS_PROXY": PROXY})
    yield made
    if made.live:
        made.destroy(check=False)


def leaked(text: str) -> list[str]:
    """The forms of the secret `text` holds (none, for a pass)."""
    return [form for form in FORMS if form in text]


def state_files(project: Project) -> list[Path]:
    """Every file the file backend keeps in the project's HOME (PULUMI_BACKEND_URL): the stack's
    state, its backups and its update history."""
    backend = project.home / ".pulumi"
    return [p for d in ("stacks", "backups", "history") for p in (backend / d).rglob("*")
            if p.is_file()]  # fmt: skip


def test_a_secret_extra_env_value_is_shown_nowhere_and_reaches_the_pod_from_its_secret(
    stack: Stack, cluster: Cluster
) -> None:
    assert not leaked(stack.file.read_text()), "pulumi config set --secret stored it in the clear"

    # The CLI's text masks the whole text of an encrypted config value wherever a program writes
    # it ("[secret]": pulumi v3.274.0 pkg/engine/events.go, makeEventEmitter), but its JSON, the
    # state and the cluster do not: that masking hid the leak this test was written for.
    for args in (("--diff",), ("--diff", "--json")):
        preview = stack.preview(*args, *POLICY)
        assert "REGISTRY_LOG_FORMATTER" in preview.stdout, "the diff shows the Deployment's env"
        assert not leaked(preview.stdout + preview.stderr), args
    up = stack.up("--diff", *POLICY)
    assert not leaked(up.stdout + up.stderr)

    export = stack.run("stack", "export").stdout
    assert "kubernetes:core/v1:Secret" in export and "ciphertext" in export
    assert not leaked(export)
    files = state_files(stack.project)
    assert any(p.parent.name == "msr-cache" and p.name.startswith("secret-env.json") for p in files)
    for path in files:
        assert not leaked(path.read_text(errors="replace")), path
    assert not leaked(json.dumps(stack.outputs(show_secrets=True)))

    shown = cluster.get(SHOWN, namespace=NAMESPACE)["items"]
    assert {o["kind"] for o in shown} >= {"Deployment", "ReplicaSet", "Pod", "ConfigMap"}
    assert not leaked(json.dumps(shown))

    (deployment,) = [o for o in shown if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    # The CLI marks the whole extraEnv key secret, so its plain variable goes the same way.
    for name in ("HTTPS_PROXY", "REGISTRY_LOG_FORMATTER"):
        assert set(env[name]) == {"name", "valueFrom"}, env[name]
    ref = env["HTTPS_PROXY"]["valueFrom"]["secretKeyRef"]
    secret = cluster.get("secret", ref["name"], NAMESPACE)
    assert base64.b64decode(secret["data"][ref["key"]]).decode() == PROXY
    pods = [o for o in shown if o["kind"] == "Pod"]
    assert pods and all(
        {"name": "HTTPS_PROXY", "valueFrom": {"secretKeyRef": ref}}
        in p["spec"]["containers"][0]["env"]
        for p in pods
    )

    (policy,) = [o for o in shown if o["kind"] == "NetworkPolicy"]
    _, pulls = policy["spec"]["egress"]
    assert 3128 in [p["port"] for p in pulls["ports"]]

    stack.destroy()
    assert not cluster.kubectl("get", "namespace", NAMESPACE, "--ignore-not-found")
