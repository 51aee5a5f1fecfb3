"""A stack's config as `pulumi up` hands it to the program: merged, decrypted with the passphrase, or stood in for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from harness import PASSPHRASE, ROOT, encrypter

from components.problems import ConfigError
from render import stack_config
from render.__main__ import render
from render.stack_config import self_signed_pair


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    cert, key = self_signed_pair("cache.example.com")
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
