"""A stack's configuration as `pulumi up` hands it to the program, read without the CLI.

The stack file's values are merged over the defaults declared in Pulumi.yaml; every value reaches
the program as a string (structured ones as JSON), as the CLI passes them. `secure:` values are
decrypted with PULUMI_CONFIG_PASSPHRASE as the passphrase secrets provider does; without it they
are replaced by stand-ins that pass validation and never reach a manifest (see `stand_ins`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.x509.oid import NameOID

from components.settings import ConfigError, Problem


@dataclasses.dataclass(frozen=True)
class StackConfig:
    """What the program receives: `namespace:key` -> string, and which keys are secret."""

    values: dict[str, str]
    secret_keys: list[str]
    stood_in: list[str]  # secret keys whose values are stand-ins (no passphrase)


class Passphrase:
    """The passphrase secrets provider: PBKDF2-SHA256 (1,000,000 rounds) keys AES-256-GCM."""

    def __init__(self, passphrase: str, encryption_salt: str) -> None:
        version, salt, check = encryption_salt.split(":", 2)
        if version != "v1":
            raise ValueError(f"unknown encryptionsalt version {version!r}")
        kdf = PBKDF2HMAC(
            hashes.SHA256(), length=32, salt=base64.b64decode(salt), iterations=1_000_000
        )
        self._aes = AESGCM(kdf.derive(passphrase.encode()))
        if self.decrypt(check) != "pulumi":
            raise InvalidTag

    def decrypt(self, ciphertext: str) -> str:
        """Plain text of a `v1:<nonce>:<ciphertext>` value."""
        version, nonce, sealed = ciphertext.split(":")
        if version != "v1":
            raise ValueError(f"unknown secure value version {version!r}")
        return self._aes.decrypt(base64.b64decode(nonce), base64.b64decode(sealed), None).decode()


def self_signed_pair(*hosts: str) -> tuple[str, str]:
    """(certificate, key) PEMs of a fresh self-signed EC P-256 certificate whose SANs are `hosts`
    (names or IPs); it is its own CA (CA:TRUE), so it stands in for a CA certificate as well."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.UTC)
    sans = [
        x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h) for h in hosts
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


STAND_IN = "(stand-in for an encrypted value)"


def _each_secure(value: Any, replacement: str) -> Any:
    if _is_secure(value):
        return replacement
    if isinstance(value, Mapping):
        return {k: _each_secure(v, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_secure(v, replacement) for v in value]
    return value


def stand_ins(project: str) -> dict[str, Callable[[tuple[str, str], Any], Any]]:
    """Stand-ins for the keys a user may encrypt, each valid where it is used (all land only in
    the redacted Secrets): given the stand-in (certificate, key) pair and the stack's value.
    tlsCert and tlsKey come from one pair so they still match; object storage credentials are
    any non-empty text."""
    return {
        f"{project}:tlsKey": lambda pair, _: pair[1],
        f"{project}:tlsCert": lambda pair, _: pair[0],
        f"{project}:tlsCaCert": lambda pair, _: pair[0],
        f"{project}:upstreamCaCert": lambda pair, _: pair[0],
        f"{project}:objectStorage": lambda _, value: _each_secure(value, STAND_IN),
    }


def _as_program_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _is_secure(value: Any) -> bool:
    return (
        isinstance(value, Mapping) and set(value) == {"secure"} and isinstance(value["secure"], str)
    )


def _has_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, Mapping):
        return any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _decrypted(value: Any, crypter: Passphrase) -> Any:
    if _is_secure(value):
        return crypter.decrypt(value["secure"])
    if isinstance(value, Mapping):
        return {k: _decrypted(v, crypter) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypted(v, crypter) for v in value]
    return value


def stacks(folder: Path) -> set[str]:
    """The stacks whose file, Pulumi.<stack>.yaml, is in `folder`."""
    return {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in folder.glob("Pulumi.*.yaml")
    }


def load(
    root: Path, stack: str, stack_dir: Path | None = None, environ: Mapping[str, str] = os.environ
) -> StackConfig:
    """The config `pulumi up --stack <stack>` would give the program in `root`; the stack file is
    read from `stack_dir` (default `root`)."""
    project_file = yaml.safe_load((root / "Pulumi.yaml").read_text())
    project = project_file["name"]
    stack_path = (stack_dir or root) / f"Pulumi.{stack}.yaml"
    if not stack_path.exists():
        raise ConfigError(
            [Problem("stack", stack, f"a stack with a file Pulumi.<stack>.yaml in {root}")]
        )
    stack_file = yaml.safe_load(stack_path.read_text()) or {}

    def full_key(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    merged: dict[str, Any] = {}
    for key, declaration in (project_file.get("config") or {}).items():
        if isinstance(declaration, Mapping) and "default" in declaration:
            merged[full_key(key)] = declaration["default"]
        elif not isinstance(declaration, Mapping):
            merged[full_key(key)] = declaration
    stack_values = {full_key(k): v for k, v in (stack_file.get("config") or {}).items()}
    merged.update(stack_values)

    secret_keys = sorted(k for k, v in stack_values.items() if _has_secure(v))
    passphrase = environ.get("PULUMI_CONFIG_PASSPHRASE")
    if passphrase is None and environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        passphrase = Path(environ["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text().strip()
    stood_in: list[str] = []
    if secret_keys and passphrase is not None and stack_file.get("encryptionsalt"):
        try:
            crypter = Passphrase(passphrase, stack_file["encryptionsalt"])
        except InvalidTag:
            raise ConfigError(
                [
                    Problem(
                        "PULUMI_CONFIG_PASSPHRASE", "<secret>", f"the passphrase of stack {stack}"
                    )
                ]
            ) from None
        for key in secret_keys:
            merged[key] = _decrypted(merged[key], crypter)
    elif secret_keys:
        pair = self_signed_pair("stand-in.invalid")
        known = stand_ins(project)
        missing = [k for k in secret_keys if k not in known]
        if missing:
            raise ConfigError(
                [
                    Problem(
                        k.split(":", 1)[1],
                        "an encrypted value",
                        "PULUMI_CONFIG_PASSPHRASE set, to render it (no stand-in fits this key)",
                    )
                    for k in missing
                ]
            )
        if f"{project}:tlsKey" in secret_keys and f"{project}:tlsCert" not in secret_keys:
            secret_keys.append(f"{project}:tlsCert")  # the stand-in key needs its own certificate
        for key in secret_keys:
            merged[key] = known[key](pair, merged[key])
            stood_in.append(key)
    return StackConfig(
        values={k: _as_program_string(v) for k, v in merged.items()},
        secret_keys=sorted(secret_keys),
        stood_in=sorted(stood_in),
    )
