"""`make render-diff BASE=<ref>`: the manifest diff a reviewer reads on the pull request."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness import ROOT

from render.diff import Rendering, changes


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository, to change without touching the working tree, whose HEAD is
    the working tree as it is (committed on top of its HEAD): the render code under test."""
    path = tmp_path_factory.mktemp("repo") / "msr-cache"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, path / name)
        elif not (ROOT / name).exists():
            (path / name).unlink(missing_ok=True)  # deleted in the working tree
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(
        [*git, "commit", "-q", "--allow-empty", "-m", "working tree"], cwd=path, check=True
    )
    return path


def render_diff(tree: Path, base: str = "HEAD") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "render.diff", base],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )


def render_diff_with(clone: Path, line: str) -> subprocess.CompletedProcess[str]:
    """`make render-diff` against HEAD with `line` added to the dev stack's config."""
    dev = clone / "Pulumi.dev.yaml"
    original = dev.read_text()
    dev.write_text(original + line)
    try:
        return render_diff(clone)
    finally:
        dev.write_text(original)


def summary(text: str) -> list[str]:
    """The reviewer's list of what `pulumi up` would do, object by object."""
    head = text.split("```diff", 1)[0]
    return [line for line in head.splitlines() if line.startswith("- ")]


def test_no_change_is_said_as_such(clone):
    result = render_diff(clone)
    assert result.returncode == 0, result.stderr
    assert "No manifest changes" in result.stdout


def test_a_change_shows_as_the_objects_it_changes_and_what_pulumi_up_does(clone):
    # One render of two changes (renders are the suite's slowest part): a config change, and the
    # upgrade runbook's new image tag, which changes the version label of every object in place.
    change = "  msr-cache:blobTtl: 12h\n  msr-cache:image: mirantis/dtr-content-cache:2.9.17\n"
    result = render_diff_with(clone, change)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "### `dev`" in text and "```diff" in text
    assert "-          blobttl: 24h\n+          blobttl: 12h\n" in text
    assert "+        image: mirantis/dtr-content-cache:2.9.17" in text
    assert "+        app.kubernetes.io/version: 2.9.17" in text
    # The ConfigMap is replaced under a new name and the Deployment follows it: the pods roll.
    assert "--- a/dev/v1-configmap-dtr-dev-config-" in text
    assert "+++ b/dev/apps_v1-deployment-dtr-dtr-cache.yaml" in text
    assert "PRIVATE KEY" not in text
    # Listed first, as pulumi-kubernetes will do it: only the ConfigMap's data replaces anything.
    lines = summary(text)
    assert "- replace ConfigMap `dtr/dev-config` (.data)" in lines
    assert "- update Deployment `dtr/dtr-cache` in place" in lines
    assert "- update Namespace `dtr` in place" in lines
    others = [line for line in lines if "ConfigMap `dtr/dev-config`" not in line]
    assert others and all(
        line.startswith("- update ") and line.endswith(" in place") for line in others
    )


def test_a_change_that_does_not_render_fails_with_the_programs_message(clone):
    result = render_diff_with(clone, "  msr-cache:blobTtl: '86400'\n")
    assert result.returncode == 1
    assert "does not render" in result.stdout and "msr-cache:blobTtl" in result.stdout


def docs_production_stack() -> str:
    """The complete Pulumi.prod.yaml of docs/deploy.md, its encrypted value given in plain text."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text[text.index("## Production") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") :]
    stack = yaml.safe_load(block[: block.index("```\n")])
    stack["config"]["msr-cache:objectStorage"]["secretkey"] = "s3cr3t"
    return yaml.safe_dump(stack)


def test_every_stack_renders_the_fleet_a_folder_per_cache_and_a_cluster_read_a_stand_in(clone):
    # Two changes, one render of every stack: the docs' production stack added (it reads
    # MSR's CA from a Secret at deployment: the render reads a stand-in instead, and says so in
    # a line of its own), and a port of the fleet's asia cache changed (its objects only).
    prod = clone / "Pulumi.prod.yaml"
    prod.write_text(docs_production_stack())
    example = clone / "examples" / "fleet" / "Pulumi.example.yaml"
    original = example.read_text()
    example.write_text(original.replace("port: 30443", "port: 30444", 1))  # asia's
    try:
        result = render_diff(clone)
    finally:
        prod.unlink()
        example.write_text(original)
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    [notice] = [line for line in text.splitlines() if "stand-in" in line.lower()]
    assert "`prod`" in notice and "upstreamCaSecret" in notice and "msr/msr-nginx-ca-cert" in notice
    stacks = {
        part.split("`", 1)[0]: part for part in text.split("\n### `")[1:]
    }  # each stack's section, by its name
    assert set(stacks) == {"prod", "examples/fleet/example"}
    assert "- create Deployment `dtr/dtr-cache`" in summary(stacks["prod"])
    assert "+++ b/prod/apps_v1-deployment-dtr-dtr-cache.yaml" in stacks["prod"]
    assert "s3cr3t" not in text
    fleet = stacks["examples/fleet/example"]
    files = [line.split()[-1] for line in fleet.splitlines() if line.startswith(("--- ", "+++ "))]
    assert files and {f.split("/", 5)[4] for f in files} == {"asia-k8s"}, files
    assert "+    nodePort: 30444" in fleet


def test_an_unknown_base_is_a_clear_error(clone):
    result = render_diff(clone, "no-such-ref")
    assert result.returncode == 2 and "no-such-ref" in result.stderr


def _file(kind: str, name: str, auto: bool = False, **fields: object) -> tuple[str, str]:
    metadata: dict[str, object] = {"name": name, "namespace": "dtr"}
    if auto:
        metadata["annotations"] = {"pulumi.com/autonamed": "true"}
    api = "apps/v1" if kind == "Deployment" else "v1"
    text = yaml.safe_dump({"apiVersion": api, "kind": kind, "metadata": metadata, **fields})
    return f"{api.replace('/', '_')}-{kind.lower()}-dtr-{name}.yaml", text


def test_changes_say_what_pulumi_up_does_to_each_object():
    before = dict([
        _file("ConfigMap", "c-aaaa1111", auto=True, data={"k": "1"}),
        _file("Deployment", "d", spec={"selector": {"matchLabels": {"a": "1"}}, "replicas": 1}),
        _file("Service", "gone"),
    ])  # fmt: skip
    after = dict([
        _file("ConfigMap", "c-bbbb2222", auto=True, data={"k": "2"}),
        _file("Deployment", "d", spec={"selector": {"matchLabels": {"a": "1"}}, "replicas": 2}),
        _file("Service", "new"),
    ])  # fmt: skip
    assert changes(before, after) == [
        "- update Deployment `dtr/d` in place",
        "- replace ConfigMap `dtr/c` (.data)",
        "- delete Service `dtr/gone`",
        "- create Service `dtr/new`",
    ]


def test_an_object_moved_to_another_namespace_is_replaced_as_its_resource_is():
    # pulumi up pairs objects by their Pulumi resource (the URN), which the render's index names:
    # a Service moved to another namespace is replaced, not deleted and created anew.
    moved = {"metadata": {"name": "dtr-cache", "namespace": "after"}, "spec": {"type": "NodePort"}}
    before = Rendering(dict([_file("Service", "dtr-cache", spec={"type": "NodePort"})]),
                       {"v1-service-dtr-dtr-cache.yaml": "asia-service"}, [])  # fmt: skip
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "Service", **moved})
    after = Rendering({"v1-service-after-dtr-cache.yaml": text},
                      {"v1-service-after-dtr-cache.yaml": "asia-service"}, [])  # fmt: skip
    assert changes(before, after) == ["- replace Service `after/dtr-cache` (.metadata.namespace)"]
    # Without the index (an older render), the two files are two objects.
    assert changes(before.files, after.files) == [
        "- create Service `after/dtr-cache`",
        "- delete Service `dtr/dtr-cache`",
    ]
