"""The offline render: the manifests each stack would deploy, valid, safe, stable and reviewed."""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Iterator

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from harness import objects, run_render

from render.__main__ import ROOT
from render.stack_config import stacks

STACKS = ROOT / "tests" / "stacks"
# Every stack of the project (dev, kind) and the scenarios kept for the tests.
SCENARIOS = [
    *sorted(stacks(ROOT)),
    *sorted(stacks(STACKS)),
]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CUSTOM_RESOURCE_GROUPS = {"cert-manager.io", "monitoring.coreos.com"}
K8S_VERSIONS = ["1.29", kubernetes_validate.latest_version()]


@pytest.fixture(scope="module", autouse=True)
def schemas_read_once() -> Iterator[None]:
    """kubernetes-validate reads and parses a kind's schema and its 1 MB _definitions.json for
    every object it validates: here each file is read once (the validator only reads them)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kubernetes_validate.utils,
            "schema_contents",
            functools.cache(kubernetes_validate.utils.schema_contents),
        )
        yield


def test_scenarios_cover_every_exposure_with_and_without_claim_and_ca(rendered):
    kinds = {stack: {o["kind"] for o in objects(rendered[stack]).values()} for stack in SCENARIOS}
    services = {
        o["spec"]["type"]
        for stack in SCENARIOS
        for o in objects(rendered[stack]).values()
        if o["kind"] == "Service"
    }
    assert services == {"NodePort", "ClusterIP", "LoadBalancer"}
    assert any("Ingress" in k for k in kinds.values())
    assert any("PersistentVolumeClaim" in k for k in kinds.values())
    assert any("PersistentVolumeClaim" not in k for k in kinds.values())
    secrets = [
        o for stack in SCENARIOS for o in objects(rendered[stack]).values() if o["kind"] == "Secret"
    ]
    assert any("msr.cert.pem" in s["data"] for s in secrets) and any(
        "msr.cert.pem" not in s["data"] for s in secrets
    )


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("stack", SCENARIOS)
def test_every_object_is_valid_kubernetes(rendered, stack, version):
    for name, obj in objects(rendered[stack]).items():
        if obj["apiVersion"].split("/")[0] in CUSTOM_RESOURCE_GROUPS:
            # kubernetes-validate knows built-in kinds only; these are checked by their tests.
            assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}, name
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(
                f"{stack}/{name} is not valid Kubernetes {version}: {err.message} at {list(err.path)}"
            )


def test_checkov_finds_nothing(rendered):
    # One scan per stack: checkov's graph checks (a NetworkPolicy for every pod) match objects
    # across everything scanned together, so one stack's policy could hide another's lack.
    # tests/checkov_scan.py starts checkov once and forks one `checkov -d <folder>` per stack.
    # --skip-download: no call to Prisma Cloud for BC_* ID mappings and guideline links, which
    # no check here uses (the skips are CKV_* IDs); offline it only waits out retries.
    assert CHECKOV.exists(), "checkov is installed by `make test` into .venv-checkov"
    scan = subprocess.run(
        [str(CHECKOV.parent / "python"), str(ROOT / "tests" / "checkov_scan.py"),
         "--config-file", str(ROOT / ".checkov.yaml"), "--skip-download",
         "--", *(str(folder) for folder in rendered.values())],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert scan.returncode == 0 and scan.stdout.strip(), f"checkov: {scan.stderr}"
    reports = json.loads(scan.stdout)
    assert set(reports) == {str(folder) for folder in rendered.values()}
    failed, passed = [], 0
    for stack, folder in rendered.items():
        report = reports[str(folder)]
        if "error" in report:
            pytest.fail(f"checkov on {stack}: {report['error']}")
        report = report[0] if isinstance(report, list) else report
        failed += [
            (stack, c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]
        ]
        passed += report["summary"]["passed"]
    assert failed == []
    assert passed > 0


def test_rendered_config_is_what_the_cache_reads(rendered):
    (config_map,) = [
        o for o in objects(rendered["ingress-ca"]).values() if o["kind"] == "ConfigMap"
    ]
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["http"]["host"] == "https://cache.asia.example.com"
    assert config["middleware"]["registry"][0]["options"] == {
        "blobttl": "12h",
        "upstreams": ["https://msr.example.com"],
        "cas": ["/certs/msr.cert.pem"],
    }


@pytest.mark.parametrize("stack", SCENARIOS)
def test_manifests_match_the_reviewed_snapshot(rendered, stack, snapshot):
    # A change to what is deployed shows in review as a diff of tests/__snapshots__/.
    # Accept an intended change with: .venv/bin/python -m pytest tests/test_render.py --snapshot-update
    files = {p.name: p.read_text() for p in sorted((rendered[stack] / "1-manifest").glob("*.yaml"))}
    assert files == snapshot


def test_a_config_mistake_exits_with_the_programs_message(tmp_path, capsys):
    code, err = run_render(
        tmp_path,
        capsys,
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n  msr-cache:hosts: [a.example.com]\n"
        "  msr-cache:port: 30443\n  msr-cache:blobTtl: '86400'\n",
    )
    assert code == 1
    assert "msr-cache:blobTtl: got '86400'" in err
    assert not (tmp_path / "out").exists()
