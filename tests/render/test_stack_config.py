"""A stack's config as `pulumi up` hands it to the program: merged, decrypted with the passphrase, or stood in for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from harness import PASSPHRASE, ROOT, encrypter

from components.inputs.problems import ConfigError
from render import stack_config
from render.__main__ import main, render
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
    assert (config.stood_in, config.replaced) == (["msr-cache:tlsKey"], ["msr-cache:tlsCert"])
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


def _plain_cert_secret_key(folder: Path, cert: str, key: str, hosts: list[str]) -> None:
    salt, encrypt = encrypter(PASSPHRASE)
    stack = {
        "encryptionsalt": salt,
        "config": {
            "msr-cache:upstreams": ["https://msr.example.com"],
            "msr-cache:exposure": "ingress",
            "msr-cache:hosts": hosts,
            "msr-cache:tlsCert": cert,
            "msr-cache:tlsKey": {"secure": encrypt(key)},
        },
    }
    (folder / "Pulumi.half.yaml").write_text(yaml.safe_dump(stack))


@pytest.mark.parametrize(
    ("valid_from_days", "hosts", "says"),
    [
        (-60, ["cache.example.com"], "msr-cache:tlsCert: got PEM text with 1 block (CERTIFICATE); "
         "expected your serving certificate"),
        (0, ["other.example.com"], 'does not cover host "other.example.com"'),
    ],
    ids=["expired", "not-covering"],
)  # fmt: skip
def test_a_plaintext_certificate_is_checked_before_its_encrypted_key_is_stood_in_for(
    tmp_path, valid_from_days, hosts, says
):
    """Without the passphrase the key is unreadable, and the stand-in key needs a stand-in
    certificate: the plaintext certificate is checked as given first, not swapped silently."""
    cert, key = self_signed_pair("cache.example.com", valid_from_days=valid_from_days)
    _plain_cert_secret_key(tmp_path, cert, key, hosts)
    with pytest.raises(ConfigError, match=re.escape(says)):
        stack_config.load(ROOT, "half", tmp_path, environ={})


def test_the_render_says_it_stood_in_for_a_plaintext_certificate(tmp_path, capsys, monkeypatch):
    cert, key = self_signed_pair("cache.example.com")
    _plain_cert_secret_key(tmp_path, cert, key, ["cache.example.com"])
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    assert main(["half", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "notice: msr-cache:tlsCert: not encrypted, but its key is, and PULUMI_CONFIG_PASSPHRASE "
        "is not set: the render checked your certificate as given"
    ) in out
    assert "notice: msr-cache:tlsKey: encrypted, and PULUMI_CONFIG_PASSPHRASE is not set" in out
    assert "    certSans: (from the render's stand-in for tlsCert" in out


def test_an_encrypted_extra_env_asks_for_the_passphrase_as_no_stand_in_fits_it(tmp_path):
    # It may be a proxy, whose port the network policy opens: a stand-in would render it wrong.
    salt, encrypt = encrypter(PASSPHRASE)
    stack = {
        "encryptionsalt": salt,
        "config": {
            "msr-cache:upstreams": ["https://msr.example.com"],
            "msr-cache:hosts": ["cache.example.com"],
            "msr-cache:port": 30443,
            "msr-cache:extraEnv": {"HTTPS_PROXY": {"secure": encrypt("http://u:pw@proxy:3128")}},
        },
    }
    (tmp_path / "Pulumi.proxied.yaml").write_text(yaml.safe_dump(stack))
    with pytest.raises(ConfigError, match=r"msr-cache:extraEnv: .*PULUMI_CONFIG_PASSPHRASE set"):
        stack_config.load(ROOT, "proxied", tmp_path, environ={})
