"""A stack's configuration as `pulumi up` hands it to the program, read without the CLI.

Pulumi.yaml and the stack file are read, merged and refused as the CLI does before it runs a
program (render/pulumi_cli_config.py); every value reaches the program as the text the CLI stores
it as (structured ones as compact JSON). `secure:` values are decrypted with
PULUMI_CONFIG_PASSPHRASE as the passphrase secrets provider does; without it they are replaced by
stand-ins that pass validation and never reach a manifest (see `stand_ins`). What the stack reads
from the cluster at deployment (upstreamCaSecret) gets a stand-in too, as the render reaches no
cluster (see `cluster_stand_ins`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import functools
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.x509.oid import NameOID

from components.inputs import checks, rules
from components.inputs.ip_literal import ip_or_none
from components.inputs.plain import is_list
from components.inputs.problems import ConfigError, Invalid, Problem, Shape, shape
from components.inputs.settings import OPTIONS

from . import pulumi_cli_config
from .pulumi_cli_config import GETTING, CliConfigError, decrypted


@dataclasses.dataclass(frozen=True)
class ClusterStandIn:
    """An object the stack reads from the cluster at deployment, as the render reads it instead:
    its type and ID (as `Resource.get` names them), its state, and the notice that says so."""

    typ: str
    id: str
    state: dict[str, Any]
    notice: str


@dataclasses.dataclass(frozen=True)
class StackConfig:
    """What the program receives: `namespace:key` -> string, and which keys are secret."""

    values: dict[str, str]
    secret_keys: list[str]
    stood_in: list[str]  # secret keys whose values are stand-ins (no passphrase)
    replaced: list[str] = dataclasses.field(default_factory=list[str])
    """Plaintext keys stood in for too: tlsCert, when only its key is encrypted."""
    project: str = "msr-cache"
    cluster: tuple[ClusterStandIn, ...] = ()  # what the render reads in place of the cluster


SECRETS_MANAGER = "get stack secrets manager: "
"""How the CLI words what stops it making the passphrase secrets manager (cmd/pulumi/config/io.go),
after GETTING."""


def check_salt(encryption_salt: str, stack_file: Path) -> tuple[bytes, str]:
    """(salt, the sealed check value) of an encryptionsalt `v1:<salt>:<sealed "pulumi">`, refused
    in the CLI's words (symmetricCrypterFromPhraseAndState), then where."""
    where = f" (the encryptionsalt of '{stack_file}')"
    parts = encryption_salt.split(":", 2)
    if len(parts) != 3:
        raise CliConfigError(f"{GETTING}{SECRETS_MANAGER}malformed state value{where}")
    version, salt, check = parts
    if version != "v1":
        raise CliConfigError(f"{GETTING}{SECRETS_MANAGER}unknown state version{where}")
    try:
        return base64.b64decode(salt, validate=True), check
    except binascii.Error as err:
        raise CliConfigError(
            f"{GETTING}{SECRETS_MANAGER}illegal base64 data ({err}){where}"
        ) from None


class Passphrase:
    """The passphrase secrets provider: PBKDF2-SHA256 (1,000,000 rounds) keys AES-256-GCM.

    As in the CLI, a passphrase that does not open the encryptionsalt is refused when the
    provider is made, before any value is decrypted (and whether the stack has any)."""

    def __init__(self, passphrase: str, encryption_salt: str, stack_file: Path) -> None:
        salt, check = check_salt(encryption_salt, stack_file)
        kdf = PBKDF2HMAC(hashes.SHA256(), length=32, salt=salt, iterations=1_000_000)
        self._aes = AESGCM(kdf.derive(passphrase.encode()))
        self._plaintexts: dict[str, str] = {}
        try:
            correct = self.decrypt(check) == "pulumi"
        except ValueError:
            correct = False
        if not correct:
            raise CliConfigError(
                f"{GETTING}{SECRETS_MANAGER}incorrect passphrase (the passphrase given, "
                f"PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, does not open the "
                f"encryptionsalt of '{stack_file}')"
            )

    def decrypt(self, ciphertext: str) -> str:
        """Plain text of a `v1:<nonce>:<ciphertext>` value; ValueError with the CLI's words."""
        if ciphertext not in self._plaintexts:
            nonce, sealed = pulumi_cli_config.sealed_parts(ciphertext)
            try:
                plain = self._aes.decrypt(nonce, sealed, None)
            except InvalidTag:
                raise ValueError("cipher: message authentication failed") from None
            self._plaintexts[ciphertext] = plain.decode("utf-8", "replace")
        return self._plaintexts[ciphertext]


def self_signed_pair(
    *hosts: str, ca: bool = True, valid_from_days: int = 0, valid_days: int = 30
) -> tuple[str, str]:
    """(certificate, key) PEMs of a fresh self-signed EC P-256 certificate whose SANs are `hosts`
    (names or IPs). By default it is its own CA (CA:TRUE), so it stands in for a CA certificate
    as well, and valid from now (less 5 minutes of clock skew) for 30 days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=valid_from_days)
    sans = [
        x509.IPAddress(address) if (address := ip_or_none(h)) else x509.DNSName(h) for h in hosts
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(minutes=5))
        .not_valid_after(start + datetime.timedelta(days=valid_days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


@functools.cache
def stand_in_ca() -> str:
    """The render's stand-in CA certificate (CA:TRUE, its key thrown away): for what a stack reads
    from the cluster and for the CAs pulumi-tls makes; it reaches only redacted Secrets."""
    return self_signed_pair("stand-in.invalid")[0]


def _stand_in_hosts(hosts: Any) -> list[str]:
    """The stack's hosts a stand-in certificate can name (the program checks the rest), so the
    stand-in covers every host as the user's own certificate must."""
    if not is_list(hosts):
        return []
    named: list[str] = []
    for host in hosts:
        try:
            self_signed_pair(host)
        except (TypeError, ValueError):
            continue
        named.append(host)
    return named


STAND_IN = "(stand-in for an encrypted value)"


def stand_ins(project: str) -> dict[str, Callable[[tuple[str, str], Any], Any]]:
    """Stand-ins for the inputs a user may encrypt, from the registry, each valid where it is
    used (all land only in the redacted Secrets): given the stand-in (certificate, key) pair and
    the stack's value. PEM certificates and keys come from one pair so they still match; inside
    structured inputs (object storage credentials) any non-empty text stands in."""
    made: dict[str, Callable[[tuple[str, str], Any], Any]] = {}
    for o in OPTIONS:
        if o.pem == "key":
            made[f"{project}:{o.key}"] = lambda pair, _: pair[1]
        elif o.pem == "certificate":
            made[f"{project}:{o.key}"] = lambda pair, _: pair[0]
        elif o.outputs == "inside" and o.key != "extraEnv":
            # An encrypted extraEnv value may be a proxy, whose port the network policy opens:
            # no stand-in would render it right, so the render asks for the passphrase.
            made[f"{project}:{o.key}"] = lambda _, value: decrypted(value, lambda _: STAND_IN)
    return made


def _upstream_ca_secret(project: str, text: str) -> ClusterStandIn | None:
    """The Secret upstreamCaSecret names, holding a stand-in CA certificate at its key; None when
    the value is not a Secret reference (the program then says what is wrong with it)."""
    try:
        ref = checks.check_secret_ref(json.loads(text))
    except ValueError:  # not JSON, or Invalid
        return None
    ca = stand_in_ca()  # valid now, as the program requires of a CA input
    return ClusterStandIn(
        "kubernetes:core/v1:Secret",
        f"{ref.namespace}/{ref.name}",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": ref.name, "namespace": ref.namespace},
            "type": "Opaque",
            "data": {ref.key: base64.b64encode(ca.encode()).decode()},
        },
        f"{project}:upstreamCaSecret: Secret {ref.namespace}/{ref.name} is read from the cluster "
        f"at deployment; the render reads a stand-in CA certificate at its key {ref.key}",
    )


def _storage_class(project: str, text: str) -> ClusterStandIn | None:
    """The StorageClass storageClass names, as one that allows volume expansion."""
    try:
        checks.check_dns_subdomain(text)
    except Invalid:
        return None  # the program says what is wrong with it
    return ClusterStandIn(
        "kubernetes:storage.k8s.io/v1:StorageClass",
        text,
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": text},
            "provisioner": "render.stand-in",
            "allowVolumeExpansion": True,
        },
        f"{project}:storageClass: StorageClass {text} is read from the cluster at deployment, "
        "to know whether a larger storageSize grows the claim in place; the render reads a "
        "stand-in that allows volume expansion (where the class does not, a change of "
        "storageSize replaces the claim instead)",
    )


CLUSTER_READS: dict[str, Callable[[str, str], ClusterStandIn | None]] = {
    "upstreamCaSecret": _upstream_ca_secret,
    "storageClass": _storage_class,
}
"""The inputs that make the program read an object from the cluster, and its stand-in."""


def cluster_stand_ins(project: str, values: Mapping[str, str]) -> tuple[ClusterStandIn, ...]:
    """Stand-ins for the objects the stack reads from the cluster, given its config as the
    program receives it: the render reaches no cluster (as pulumi-kubernetes' render mode)."""
    found = [
        made(project, values[f"{project}:{key}"])
        for key, made in CLUSTER_READS.items()
        if f"{project}:{key}" in values
    ]
    return tuple(stand_in for stand_in in found if stand_in is not None)


def _check_given_certificate(config: Mapping[str, Any], project: str) -> None:
    """A plaintext tlsCert, checked as the program checks it, all but against its key (which is
    encrypted, and which the render cannot read): valid now, its SANs covering the hosts, issued
    by tlsCaCert when that is given in plaintext. Raises ConfigError."""
    cert = config.get(f"{project}:tlsCert")
    if cert is None:
        return
    try:
        checks.check_serving_certificate(cert)
    except Invalid as invalid:
        raise ConfigError(
            [Problem("tlsCert", shape(cert), invalid.accepted, namespace=project)]
        ) from None
    try:
        hosts = checks.check_hosts(config.get(f"{project}:hosts", []))
    except Invalid:
        hosts = ()  # the program says what is wrong with them
    ca = config.get(f"{project}:tlsCaCert")
    problems = rules.certificate_problems(cert, hosts, ca if isinstance(ca, str) else None)
    if problems:
        raise ConfigError([dataclasses.replace(p, namespace=project) for p in problems])


def stacks(folder: Path) -> set[str]:
    """The stacks whose file, Pulumi.<stack>.yaml, is in `folder`."""
    return {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in folder.glob("Pulumi.*.yaml")
    }


def _passphrase(environ: Mapping[str, str]) -> str | None:
    """The passphrase the CLI would use: PULUMI_CONFIG_PASSPHRASE, else the file named by
    PULUMI_CONFIG_PASSPHRASE_FILE (trimmed)."""
    if "PULUMI_CONFIG_PASSPHRASE" in environ:
        return environ["PULUMI_CONFIG_PASSPHRASE"]
    if environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        try:
            return Path(environ["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text().strip()
        except OSError as err:
            raise CliConfigError(
                f"{GETTING}{SECRETS_MANAGER}unable to read PULUMI_CONFIG_PASSPHRASE_FILE: "
                f"{err.strerror or err}"
            ) from None
    return None


def load(
    root: Path, stack: str, stack_dir: Path | None = None, environ: Mapping[str, str] = os.environ
) -> StackConfig:
    """The config `pulumi up --stack <stack>` would give the program in `root`; the stack file is
    read from `stack_dir` (default the project's stackConfigDir, else `root`). Raises
    CliConfigError where the CLI refuses the project or the stack, ConfigError where the render
    has no stand-in for a secret."""
    project = pulumi_cli_config.load_project(root / "Pulumi.yaml")
    folder = stack_dir or root / (project.stack_config_dir or "")
    stack_path = folder / f"Pulumi.{stack}.yaml"
    if not stack_path.exists():
        known = ", ".join(sorted(stacks(folder))) or "none yet"
        raise ConfigError(
            [
                Problem(
                    "stack",
                    stack,
                    f"a stack with a file Pulumi.<stack>.yaml in {folder}: {known} (make render "
                    "STACK=<stack>; a new stack is a new file, e.g. a copy of Pulumi.dev.yaml)",
                )
            ]
        )
    stack_file = pulumi_cli_config.load_stack_file(stack_path, project.name)

    secret_keys = sorted(k for k, v in stack_file.config.items() if pulumi_cli_config.has_secure(v))
    salt = stack_file.encryption_salt
    # The CLI makes the secrets manager of every stack with a salt, secrets or none: a passphrase
    # that does not open the salt stops it. Without a passphrase the render stands in for the
    # secrets, but a salt the CLI cannot read at all is refused still.
    passphrase = _passphrase(environ) if secret_keys or salt else None
    crypter = None
    if salt and passphrase is not None:
        crypter = Passphrase(passphrase, salt, stack_path)
    elif salt:
        check_salt(salt, stack_path)
    merged = pulumi_cli_config.validate_stack_config(
        stack, project, stack_file.config, crypter.decrypt if crypter else None, stack_file.written
    )

    stood_in: list[str] = []
    replaced: list[str] = []
    if crypter:
        for key in secret_keys:
            merged[key] = decrypted(merged[key], crypter.decrypt)
    elif secret_keys:
        pair = self_signed_pair(
            "stand-in.invalid", *_stand_in_hosts(merged.get(f"{project.name}:hosts"))
        )
        known = stand_ins(project.name)
        missing = [k for k in secret_keys if k not in known]
        if missing:
            raise ConfigError(
                [
                    Problem(
                        k.split(":", 1)[1],
                        Shape("an encrypted value"),
                        "PULUMI_CONFIG_PASSPHRASE set, to render it (no stand-in fits this key)",
                        namespace=k.split(":", 1)[0],
                    )
                    for k in missing
                ]
            )
        cert_key = f"{project.name}:tlsCert"
        if f"{project.name}:tlsKey" in secret_keys and cert_key not in secret_keys:
            # The stand-in key needs its certificate: the plaintext one is checked as given
            # first (all but its key), then stood in for too, and the render says so.
            _check_given_certificate(merged, project.name)
            if cert_key in merged:
                replaced.append(cert_key)
                secret_keys.append(cert_key)
        for key in secret_keys:
            merged[key] = known[key](pair, merged.get(key))
            stood_in.append(key)
    values = {k: pulumi_cli_config.cli_text(v) for k, v in merged.items()}
    return StackConfig(
        values=values,
        secret_keys=sorted(secret_keys),
        stood_in=sorted(set(stood_in) - set(replaced)),
        replaced=replaced,
        project=project.name,
        cluster=cluster_stand_ins(project.name, values),
    )
