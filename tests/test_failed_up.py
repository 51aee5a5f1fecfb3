"""A `pulumi up` that fails at one resource says why, and nothing else: the resource's error, as
the API server gave it, and no Python traceback from the program's shutdown.

The traceback was not the program's fault. When a resource fails, the engine ends the update
without waiting for the program (pulumi/pkg v3.274.0 resource/deploy/deployment_executor.go:
on an error, the source is cancelled with a context already done), then closes its plugins:
SIGINT to each plugin's process group, SIGKILL 5 s later (sdk v3.274.0
go/common/resource/plugin/plugin.go, since pulumi/pulumi#19603). The Python program is in its
language host's group and still unwinding the registrations the engine refused; the SIGINT
lands there as a KeyboardInterrupt, which pulumi-language-python-exec does not catch (only
Exception), so Python prints it, chained to the gRPC errors it interrupted, and the CLI shows the
program's stderr under pulumi:pulumi:Stack. __main__.py restores SIGINT's default action when the
language host runs it (end_silently_on_sigint): the program then ends at once, and silently.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import Cluster
from harness import ROOT, run_stack
from pulumi_cli import Project, Stack, require_tools

POLICY = ("--policy-pack", str(ROOT / "policy"))
MSR = "https://msr.example.com"
NAMESPACE = "refused"
LABEL = "pod-security.kubernetes.io/enforce"
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def namespace_taken(cluster: Cluster) -> Iterator[str]:
    """The namespace the stack asks for, applied beforehand with kubectl (client-side, as MSR's
    manual procedure applies its own) with another Pod Security level; gone with the test."""
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": NAMESPACE, "labels": {LABEL: "privileged"}}}  # fmt: skip
    cluster.kubectl("apply", "--filename=-", stdin=json.dumps(namespace))
    yield NAMESPACE
    cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")


@pytest.fixture
def stack(cluster: Cluster, tmp_path: Path, namespace_taken: str) -> Iterator[Stack]:
    """A stack of the project deploying into that namespace; destroyed with the test, whatever
    happened, before the namespace goes."""
    require_tools()
    project = Project(tmp_path / "project", env={"KUBECONFIG": str(cluster.kubeconfig)})
    made = project.stack("refused", {"upstreams": [MSR], "namespace": namespace_taken,
                                     "hosts": ["node0.example.test"], "port": 30470})  # fmt: skip
    yield made
    made.destroy(check=False)


def test_up_refused_by_the_api_server_names_the_error_and_prints_no_python_traceback(
    cluster: Cluster, stack: Stack
) -> None:
    # The Namespace is the first object made, so the program still has every other registration
    # outstanding when the engine gives up: the case where the CLI's SIGINT always found it
    # running (6 runs of 6 printed the traceback without end_silently_on_sigint; a refused
    # Service, made last, 5 of 8). As `make up` runs it: the preview, then the update, where the
    # API server refuses the Namespace's apply.
    result = stack.run("up", "--yes", *POLICY, check=False)
    assert result.code != 0, str(result)
    assert "Server-Side Apply field conflict" in result.stdout, str(result)
    assert f'conflict with "kubectl-client-side-apply" using v1: .metadata.labels.{LABEL}' in (
        result.stdout
    ), str(result)
    printed = result.stdout + result.stderr
    for python in ("Traceback (most recent call last)", "KeyboardInterrupt", "Exception ignored"):
        assert python not in printed, str(result)
    # Refused, not forced: the namespace keeps the level it was given.
    assert cluster.get("namespace", NAMESPACE)["metadata"]["labels"][LABEL] == "privileged"


def test_run_in_process_the_program_leaves_the_callers_sigint_handler() -> None:
    # The render and these tests run __main__.py in their own process, under Pulumi's mocks:
    # Ctrl-C there stays theirs (pytest's teardown, the render's cleanup).
    before = signal.getsignal(signal.SIGINT)
    run_stack({"upstreams": [MSR], "hosts": ["cache.example.com"], "port": 30443})
    assert signal.getsignal(signal.SIGINT) is before
