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
from crd_schemas import crd_for
from crd_schemas import validate as validate_custom_resource
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from harness import objects, run_render

from render.__main__ import ROOT, main
from render.stack_config import self_signed_pair, stacks

STACKS = ROOT / "tests" / "render" / "stacks"
# Every stack of the project (dev, kind) and the scenarios kept for the tests.
SCENARIOS = [
    *sorted(stacks(ROOT)),
    *sorted(stacks(STACKS)),
]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
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


def refusals(obj: dict, version: str) -> list[str]:
    """Why a Kubernetes `version` API server would refuse `obj` (strict field validation): a
    custom resource against its CRD's schema vendored in tests/render/crds/ (tests/render/crd_schemas.py), any
    other kind by kubernetes-validate --strict, which knows built-in kinds only: a custom resource
    whose CRD is not vendored is refused. Built-in groups have no dot or end in .k8s.io (which
    kubernetes-validate drops: it would take apps.example.com/v1 Deployment for apps/v1's)."""
    group = obj["apiVersion"].rpartition("/")[0]
    if crd_for(obj) is not None or ("." in group and not group.endswith(".k8s.io")):
        return validate_custom_resource(obj)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as err:
        return [f"{err.message}; a custom resource's CRD must be vendored in tests/render/crds/"]
    except kubernetes_validate.ValidationError as err:
        return [f"{err.message} at {list(err.path)}"]
    return []


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("stack", SCENARIOS)
def test_every_object_is_valid_kubernetes(rendered, stack, version):
    for name, obj in objects(rendered[stack]).items():
        if problems := refusals(obj, version):
            pytest.fail(f"{stack}/{name} is not valid Kubernetes {version}: {'; '.join(problems)}")


def test_custom_resources_are_validated_against_their_crd(rendered):
    custom = [
        o
        for stack in SCENARIOS
        for o in objects(rendered[stack]).values()
        if crd_for(o) is not None
    ]
    assert {"Certificate", "ServiceMonitor"} <= {o["kind"] for o in custom}
    (certificate, *_) = [o for o in custom if o["kind"] == "Certificate"]
    assert refusals(certificate, K8S_VERSIONS[-1]) == []
    certificate = {**certificate, "spec": {**certificate["spec"], "unknownField": "x"}}
    assert refusals(certificate, K8S_VERSIONS[-1]) == ['unknown field "spec.unknownField"']


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("example.com/v1", "Widget"),
        ("apps.example.com/v1", "Deployment"),  # not apps/v1's Deployment
        ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),  # a CRD in a k8s.io group
    ],
)
def test_a_custom_resource_whose_crd_is_not_vendored_is_refused(api_version, kind):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w"}, "spec": {}}
    (problem,) = refusals(obj, K8S_VERSIONS[-1])
    assert "tests/render/crds/" in problem and kind in problem


def test_checkov_finds_nothing(rendered):
    # One scan per stack: checkov's graph checks (a NetworkPolicy for every pod) match objects
    # across everything scanned together, so one stack's policy could hide another's lack.
    # tests/render/checkov_scan.py starts checkov once and forks one `checkov -d <folder>` per stack.
    # --skip-download: no call to Prisma Cloud for BC_* ID mappings and guideline links, which
    # no check here uses (the skips are CKV_* IDs); offline it only waits out retries.
    assert CHECKOV.exists(), "checkov is installed by `make test` into .venv-checkov"
    scan = subprocess.run(
        [str(CHECKOV.parent / "python"), str(ROOT / "tests" / "render" / "checkov_scan.py"),
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
    # A change to what is deployed shows in review as a diff of tests/render/__snapshots__/.
    # Accept an intended change with: .venv/bin/python -m pytest tests/render/test_render.py --snapshot-update
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
    assert 'msr-cache:blobTtl: got "86400"' in err
    assert not (tmp_path / "out").exists()


def test_a_stack_that_does_not_exist_is_named_with_the_ones_that_do(capsys):
    """`make render STACK=nosuch` says which stacks there are, as `pulumi stack ls` would."""
    code = main(["nosuch", "--stack-dir", str(ROOT / "tests" / "render" / "stacks")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(
        'error: invalid configuration:\n  - stack: got "nosuch"; expected a stack'
    )
    listed = err.split(": ", 3)[-1]
    assert "certmanager-gcs, gateway, gateway-class, ha, hostport, ingress-ca" in listed


def test_keys_nested_helm_style_say_what_was_meant(tmp_path, capsys):
    """`msr-cache:` with keys indented under it is one key to the CLI, msr-cache:msr-cache; the
    program (under make render and pulumi up alike) says how to write them."""
    code, err = run_render(
        tmp_path,
        capsys,
        "config:\n  msr-cache:\n    upstreams: [https://msr.example.com]\n"
        "    hosts: [n1.example.com]\n    port: 30443\n",
    )
    assert code == 1
    assert (
        "  - msr-cache:msr-cache: keys (hosts, port, upstreams) nested under msr-cache: as in a "
        "Helm values file, which the CLI reads as one key named msr-cache; write each at the top "
        "of config:, namespaced: msr-cache:hosts, msr-cache:port, msr-cache:upstreams\n"
    ) in err
    assert "  - msr-cache:upstreams: missing; expected at least one https URL" in err
    assert "unknown key" not in err


def test_a_misspelled_project_namespace_is_not_ignored(tmp_path, capsys):
    code, err = run_render(
        tmp_path,
        capsys,
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n"
        "  msr-cache:hosts: [n1.example.com]\n  msr-cache:port: 30443\n"
        "  msr-cahce:storageSize: 10Gi\n  kubernetes:context: kind\n",
    )
    assert code == 1
    assert err.split("\n", 1)[1] == (
        "  - msr-cahce:storageSize: namespace msr-cahce is not this project's (msr-cache), so "
        "the program never reads it; did you mean msr-cache:storageSize?\n"
    )


def test_an_image_with_a_capitalised_first_component_is_warned_of(tmp_path, capsys):
    """`MyOrg/cache:1` is pulled from a host named MyOrg: accepted (the kubelet pulls it), but
    said, by pulumi up (pulumi.log.warn) and by the render alike."""
    (tmp_path / "Pulumi.warned.yaml").write_text(
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n"
        "  msr-cache:hosts: [n1.example.com]\n  msr-cache:port: 30443\n"
        "  msr-cache:image: MyOrg/dtr-content-cache:2.9.16\n"
    )
    assert main(["warned", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        'warning: msr-cache:image: "MyOrg/dtr-content-cache:2.9.16" is pulled from a registry '
        "host named MyOrg: a first path component with capitals is read as a host"
    ) in out


def test_the_render_refuses_what_the_policy_pack_refuses(tmp_path, capsys):
    """A CPU limit without a memory limit passes the program's checks; the pack's mandatory
    container-memory-limit stops `make up` on it, and the render runs the same pack."""
    code, err = run_render(
        tmp_path,
        capsys,
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n"
        "  msr-cache:hosts: [n1.example.com]\n  msr-cache:port: 30443\n"
        "  msr-cache:resources: {limits: {cpu: '2'}}\n",
    )
    assert code == 1
    assert err.startswith("error: the policy pack (policy/) refuses what this stack would deploy")
    assert (
        "  - [mandatory] container-memory-limit: Deployment dtr/dtr-cache, container 'dtr-cache' "
        "has no memory limit"
    ) in err
    assert not (tmp_path / "out").exists()


def test_the_packs_advisories_are_said_as_pulumi_up_says_them(tmp_path, capsys):
    assert main(["dev", str(tmp_path / "out"), "--stack-dir", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "warning: policy image-by-digest (advisory): Deployment dtr/dtr-cache" in out


def test_the_render_prints_the_outputs_pulumi_up_would(tmp_path, capsys):
    """What is known offline is printed; what a provider makes at deployment is said to be."""
    assert main(["dev", str(tmp_path / "out"), "--stack-dir", str(ROOT)]) == 0
    out = capsys.readouterr().out
    printed = out.split("Outputs (as pulumi up would print them):\n", 1)[1].splitlines()
    assert printed[:3] == [
        "    url: https://cache.example.com:30443",
        "    caCertPem:",
        "      - CN=dtr-cache.dtr cache CA, O=msr-cache, generated by pulumi-tls (made at "
        "deployment)",
    ]
    assert "    certExpiresAt: (made at deployment)" in printed
    assert (
        "    certSans: DNS:cache.example.com, DNS:dtr-cache.dtr.svc, "
        "DNS:dtr-cache.dtr.svc.cluster.local"
    ) in printed


def test_a_given_ca_is_printed_by_subject_fingerprint_and_expiry(tmp_path, capsys):
    cert, key = self_signed_pair("n1.example.com", "192.0.2.7")
    pem = x509.load_pem_x509_certificate(cert.encode())
    fingerprint = pem.fingerprint(hashes.SHA256()).hex(":").upper()
    expiry = pem.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "Pulumi.given.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "msr-cache:upstreams": ["https://msr.example.com"],
                    "msr-cache:hosts": ["n1.example.com"],
                    "msr-cache:port": 30443,
                    "msr-cache:tlsCert": cert,
                    "msr-cache:tlsKey": key,
                }
            }
        )
    )
    assert main(["given", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert f"      - CN=n1.example.com, SHA-256 {fingerprint}, expires {expiry}" in printed
    assert f"    certExpiresAt: {expiry}" in printed
    assert "    certSans: DNS:n1.example.com, IP:192.0.2.7" in printed
    assert not [line for line in printed if "PRIVATE KEY" in line or "BEGIN" in line]
