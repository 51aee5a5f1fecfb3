"""`make render-diff BASE=<ref>`: the manifest diff a reviewer reads on the pull request."""

import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository's HEAD, to change without touching the working tree."""
    path = tmp_path_factory.mktemp("repo") / "msr-cache"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True)
    return path


def render_diff(tree: Path, base: str = "HEAD") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "render.diff", base],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_change_is_said_as_such(clone):
    result = render_diff(clone)
    assert result.returncode == 0, result.stderr
    assert "No manifest changes" in result.stdout


def test_a_config_change_shows_as_the_objects_it_changes(clone):
    dev = clone / "Pulumi.dev.yaml"
    original = dev.read_text()
    dev.write_text(original + "  msr-cache:blobTtl: 12h\n")
    try:
        result = render_diff(clone)
    finally:
        dev.write_text(original)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "### `dev`" in text and "```diff" in text
    assert "-          blobttl: 24h\n+          blobttl: 12h\n" in text
    # The ConfigMap is replaced under a new name and the Deployment follows it: the pods roll.
    assert "--- a/dev/v1-configmap-dtr-dev-config-" in text
    assert "+++ b/dev/apps_v1-deployment-dtr-dtr-cache.yaml" in text
    assert "PRIVATE KEY" not in text


def test_a_change_that_does_not_render_fails_with_the_programs_message(clone):
    dev = clone / "Pulumi.dev.yaml"
    original = dev.read_text()
    dev.write_text(original + "  msr-cache:blobTtl: '86400'\n")
    try:
        result = render_diff(clone)
    finally:
        dev.write_text(original)
    assert result.returncode == 1
    assert "does not render" in result.stdout and "msr-cache:blobTtl" in result.stdout


def test_an_unknown_base_is_a_clear_error(clone):
    result = render_diff(clone, "no-such-ref")
    assert result.returncode == 2 and "no-such-ref" in result.stderr
