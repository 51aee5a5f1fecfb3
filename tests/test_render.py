"""The offline render: the manifests each stack would deploy, valid, safe, stable and reviewed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from components.problems import ConfigError
from render import stack_config
from render.__main__ import ROOT, main, render
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


def stack_dir(stack: str) -> Path:
    return ROOT if stack in stacks(ROOT) else STACKS


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("rendered")
    for stack in SCENARIOS:
        render(stack, out / stack, stack_dir=stack_dir(stack))
    return {stack: out / stack for stack in SCENARIOS}


def objects(folder: Path) -> dict[str, dict]:
    return {
        p.name: yaml.safe_load(p.read_text())
        for p in sorted((folder / "1-manifest").glob("*.yaml"))
    }


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
    assert CHECKOV.exists(), "checkov is installed by `make test` into .venv-checkov"
    scans = {
        stack: subprocess.Popen(
            [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml"), "-d", str(folder),
             "--output", "json", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )
        for stack, folder in rendered.items()
    }  # fmt: skip
    failed, passed = [], 0
    for stack, scan in scans.items():
        out, err = scan.communicate(timeout=300)
        report = json.loads(out) if out.strip() else pytest.fail(f"checkov on {stack}: {err}")
        report = report[0] if isinstance(report, list) else report
        failed += [
            (stack, c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]
        ]
        passed += report["summary"]["passed"]
    assert failed == []
    assert passed > 0


def test_files_are_named_as_render_yaml_to_directory_names_them(rendered):
    names = set(objects(rendered["dev"]))
    assert names == {
        "v1-namespace-default-dtr.yaml",
        "networking.k8s.io_v1-networkpolicy-dtr-dtr-cache.yaml",
        "v1-service-dtr-dtr-cache.yaml",
        "apps_v1-deployment-dtr-dtr-cache.yaml",
        "v1-configmap-dtr-dev-config-83dfe03e.yaml",
        "v1-secret-dtr-dev-certs-4b98a07c.yaml",
    }
    config_map = objects(rendered["dev"])["v1-configmap-dtr-dev-config-83dfe03e.yaml"]
    assert config_map["metadata"]["annotations"] == {"pulumi.com/autonamed": "true"}


def test_two_renders_are_byte_identical(rendered, tmp_path):
    render("dev", tmp_path, stack_dir=ROOT)
    first = {p.name: p.read_bytes() for p in (rendered["dev"] / "1-manifest").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "1-manifest").iterdir()}
    assert first == second


def test_no_secret_is_ever_written(rendered):
    for stack in SCENARIOS:
        for name, obj in objects(rendered[stack]).items():
            text = (rendered[stack] / "1-manifest" / name).read_text()
            assert "PRIVATE KEY" not in text and "generated by pulumi" not in text, name
            if obj["kind"] == "Secret":
                assert "stringData" not in obj
                for key, value in obj["data"].items():
                    assert base64.b64decode(value).decode() == f"(redacted) {key}"


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
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n  msr-cache:hosts: [a.example.com]\n"
        "  msr-cache:port: 30443\n  msr-cache:blobTtl: '86400'\n"
    )
    assert main(["broken", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "msr-cache:blobTtl: got '86400'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


PASSPHRASE = "correct horse battery staple"


def encrypter(passphrase: str) -> tuple[str, callable]:
    """A passphrase provider's encryptionsalt and encrypt function, as the Pulumi CLI makes them."""
    salt = os.urandom(8)
    kdf = PBKDF2HMAC(hashes.SHA256(), length=32, salt=salt, iterations=1_000_000)
    aes = AESGCM(kdf.derive(passphrase.encode()))

    def encrypt(text: str) -> str:
        nonce = os.urandom(12)
        sealed = aes.encrypt(nonce, text.encode(), None)
        return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"

    return f"v1:{base64.b64encode(salt).decode()}:{encrypt('pulumi')}", encrypt


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    from test_msr_cache import self_signed

    cert, key = self_signed("cache.example.com")
    salt, encrypt = encrypter(PASSPHRASE)
    folder = tmp_path_factory.mktemp("secure")
    stack = {
        "encryptionsalt": salt,
        "config": {
            "msr-cache:upstreams": ["https://msr.example.com"],
            "msr-cache:exposure": "ingress",
            "msr-cache:hosts": ["cache.example.com"],
            "msr-cache:tlsCert": cert,
            "msr-cache:tlsKey": {"secure": encrypt(key)},
        },
    }
    (folder / "Pulumi.secure.yaml").write_text(yaml.safe_dump(stack))
    return folder, cert, key


def test_secure_values_are_decrypted_with_the_passphrase(secure_stack):
    folder, cert, key = secure_stack
    config = stack_config.load(
        ROOT, "secure", folder, environ={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
    )
    assert config.values["msr-cache:tlsKey"] == key
    assert config.values["msr-cache:tlsCert"] == cert
    assert config.secret_keys == ["msr-cache:tlsKey"] and config.stood_in == []


def test_a_wrong_passphrase_is_a_clear_error(secure_stack):
    with pytest.raises(ConfigError, match="PULUMI_CONFIG_PASSPHRASE"):
        stack_config.load(
            ROOT, "secure", secure_stack[0], environ={"PULUMI_CONFIG_PASSPHRASE": "wrong"}
        )


def test_without_a_passphrase_stand_ins_render_the_same_manifests(
    secure_stack, tmp_path, monkeypatch
):
    folder, _cert, key = secure_stack
    config = stack_config.load(ROOT, "secure", folder, environ={})
    assert config.stood_in == ["msr-cache:tlsCert", "msr-cache:tlsKey"]
    assert key not in config.values.values()
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    render("secure", tmp_path / "stand-ins", stack_dir=folder)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    render("secure", tmp_path / "decrypted", stack_dir=folder)
    stand_ins = {p.name: p.read_bytes() for p in (tmp_path / "stand-ins" / "1-manifest").iterdir()}
    decrypted = {p.name: p.read_bytes() for p in (tmp_path / "decrypted" / "1-manifest").iterdir()}
    assert stand_ins == decrypted


def test_a_render_says_it_cannot_read_the_cluster(tmp_path, capsys):
    (tmp_path / "Pulumi.reads.yaml").write_text(
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n  msr-cache:hosts: [a.example.com]\n"
        "  msr-cache:port: 30443\n  msr-cache:upstreamCaSecret: {namespace: msr, name: msr-nginx-ca-cert}\n"
    )
    assert main(["reads", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "reads Secret msr/msr-nginx-ca-cert from the cluster" in err and "upstreamCaCert" in err
    assert "Traceback" not in err


def test_encrypted_storage_credentials_get_stand_ins(tmp_path):
    salt, encrypt = encrypter(PASSPHRASE)
    stack = {
        "encryptionsalt": salt,
        "config": {
            "msr-cache:upstreams": ["https://msr.example.com"],
            "msr-cache:hosts": ["a.example.com"],
            "msr-cache:port": 30443,
            "msr-cache:objectStorage": {"driver": "s3", "region": "eu-west-1", "bucket": "b",
                                        "secretkey": {"secure": encrypt("real-secret")}},
        },
    }  # fmt: skip
    (tmp_path / "Pulumi.s3.yaml").write_text(yaml.safe_dump(stack))
    config = stack_config.load(ROOT, "s3", tmp_path, environ={})
    assert config.stood_in == ["msr-cache:objectStorage"]
    assert (
        json.loads(config.values["msr-cache:objectStorage"])["secretkey"] == stack_config.STAND_IN
    )
    decrypted = stack_config.load(
        ROOT, "s3", tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
    )
    assert json.loads(decrypted.values["msr-cache:objectStorage"])["secretkey"] == "real-secret"
    render("s3", tmp_path / "out", stack_dir=tmp_path)
    assert "real-secret" not in "".join(
        p.read_text() for p in (tmp_path / "out" / "1-manifest").iterdir()
    )
