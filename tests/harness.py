"""What the tests share: run a Pulumi program under ProviderMocks and collect what the engine
would receive; deploy one cache or the stack program; read what Kubernetes would get."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import runpy
import select
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import grpc
import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from mocks import LOAD_BALANCER_IP, ProviderMocks
from supervisor import Supervised

from components import MsrCache
from components.inputs.problems import Caller, ConfigError, set_caller
from components.inputs.settings import Settings, parse
from render.__main__ import main
from render.engine import Value, evaluate
from render.provider_mocks import Registered

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root."""
UPSTREAMS = ["https://msr-b.example.com", "https://msr-a.example.com:8443"]


def settings(**changes: Any) -> Settings:
    """A nodePort cache on node1.example.com:30443, with `changes` (camelCase config keys)."""
    return parse({"upstreams": UPSTREAMS, "hosts": ["node1.example.com"], "port": 30443, **changes})


@dataclasses.dataclass
class Deployment:
    """What a program registered and what its outputs resolved to."""

    resources: list[Registered]
    outputs: dict[str, Value]
    urns: list[str]

    def all(self, typ: str) -> list[Registered]:
        """Every resource of a type token, e.g. 'kubernetes:core/v1:Secret'."""
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str) -> Registered:
        """The one resource of a type token."""
        found = self.all(typ)
        assert len(found) == 1, f"{len(found)} resources of type {typ}"
        return found[0]

    def kinds(self) -> list[str]:
        """The Kubernetes kinds registered, in order."""
        return [
            r.inputs["kind"]
            for r in self.resources
            if r.typ.startswith("kubernetes:") and "kind" in r.inputs
        ]


def deploy(
    program: Callable[[], Mapping[str, Any]],
    preview: bool = False,
    stack: str = "test",
    project: str = "msr-cache",
    cluster: dict[tuple[str, str], dict] | None = None,
    load_balancer: str = LOAD_BALANCER_IP,
) -> Deployment:
    """Run `program` (returning the outputs to observe) with the mocks, in update or preview mode;
    `cluster` holds the objects a `.get` finds, `load_balancer` the address a cloud assigns."""
    mocks = ProviderMocks(preview=preview, cluster=cluster, load_balancer=load_balancer)
    values = evaluate(program, mocks, preview=preview, stack=stack, project=project)
    urns = list(pulumi.runtime.settings.get_monitor().resources)
    return Deployment(mocks.resources, values, urns)


def run_program(
    main: Path,
    project: str,
    config: Mapping[str, Any],
    *,
    stack: str = "test",
    preview: bool = False,
    errors: list | None = None,
    secret_keys: Sequence[str] = (),
) -> Deployment:
    """Run a stack program (its __main__.py) as `pulumi up` would, with `config` as its stack's
    `<project>:*` values (those in `secret_keys` stored encrypted); its `pulumi.export`s are the
    outputs observed.

    With `errors`, a ConfigError is caught and appended to it instead of failing the run."""
    # Pulumi hands the program every value as a string, structured ones as JSON.
    pulumi.runtime.set_all_config(
        {f"{project}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        [f"{project}:{k}" for k in secret_keys],
    )
    exports: dict[str, Any] = {}

    def program() -> dict[str, Any]:
        real_export = pulumi.export
        pulumi.export = lambda name, value: exports.__setitem__(name, value)  # type: ignore[assignment]
        try:
            runpy.run_path(str(main), run_name="__main__")
        except ConfigError as err:
            if errors is None:
                raise
            errors.append(err)
        finally:
            pulumi.export = real_export
        return exports

    try:
        return deploy(program, preview=preview, stack=stack, project=project)
    finally:
        pulumi.runtime.set_all_config({})
        set_caller(Caller.PYTHON)  # a stack program spells keys for stack config


MSR = "https://msr.example.com"


SECRET = "kubernetes:core/v1:Secret"


CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


SERVICE = "kubernetes:core/v1:Service"


INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


TLS_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:TLSRoute"


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"


PVC = "kubernetes:core/v1:PersistentVolumeClaim"


OUTPUTS = ("url", "ca_cert_pem", "namespace", "service_name", "registration", "cert_expires_at",
           "ca_expires_at")  # fmt: skip


def cache(args: dict[str, Any], name: str = "edge", **kw: Any) -> Deployment:
    """Deploy one MsrCache and observe all its outputs."""

    def program() -> dict[str, Any]:
        c = MsrCache(name, {"upstreams": [MSR], **args}, **kw)  # type: ignore[typeddict-item]
        return {key: getattr(c, key) for key in OUTPUTS}

    return deploy(
        program,
        preview=kw.pop("preview", False),
        load_balancer=kw.pop("load_balancer", LOAD_BALANCER_IP),
    )


def served_cert(d: Deployment) -> x509.Certificate:
    pem = d.one(SECRET).inputs["stringData"]["cache.cert.pem"]
    return x509.load_pem_x509_certificates(pem.encode())[0]


def sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ext.get_values_for_type(x509.DNSName), [
        str(a) for a in ext.get_values_for_type(x509.IPAddress)
    ]


def config_yaml(d: Deployment) -> dict[str, Any]:
    """The cache's config.yaml (its ConfigMap, not the dashboard's)."""
    (config,) = [c for c in d.all(CONFIG_MAP) if "config.yaml" in c.inputs["data"]]
    return yaml.safe_load(config.inputs["data"]["config.yaml"])


def pod_spec(d: Deployment) -> dict[str, Any]:
    return d.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]


def upstream_ca() -> str:
    d = cache({"hosts": ["msr.example.com"], "port": 30443}, name="msr")
    return d.outputs["ca_cert_pem"].value


def run_stack(
    config: dict[str, Any], stack: str = "dev", preview: bool = False, errors: list | None = None
) -> Deployment:
    """Run __main__.py as `pulumi up` would, with `config` as the stack's msr-cache:* values."""
    return run_program(
        ROOT / "__main__.py", "msr-cache", config, stack=stack, preview=preview, errors=errors
    )


NODE_PORT = {"hosts": ["n1.example.com"], "port": 30443}


S3 = {"driver": "s3", "region": "eu-west-1", "bucket": "msr-cache", "accesskey": "AKIAEXAMPLE",
      "secretkey": "s3-secret-value"}  # fmt: skip


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


PDB = "kubernetes:policy/v1:PodDisruptionBudget"


def named(d: Deployment, name: str) -> Any:
    return next(r for r in d.resources if r.name == name)


def container(d: Deployment) -> dict[str, Any]:
    return pod_spec(d)["containers"][0]


def rejected(args: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        MsrCache("bad", {"upstreams": [MSR], **args})  # type: ignore[typeddict-item]
    return raised.value


def pod_spec_selector(d: Deployment) -> dict[str, str]:
    return d.one("kubernetes:apps/v1:Deployment").inputs["spec"]["selector"]["matchLabels"]


def pod_labels(d: Deployment) -> dict[str, str]:
    return d.one(DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]


# A valid nodePort cache; each case below changes one thing.
BASE: Mapping[str, Any] = {"upstreams": [MSR], "hosts": ["node1.example.com"], "port": 30443}


ABSENT = object()  # a key removed from BASE


# Stand-ins for PEMs, swapped for the real ones from the `pki` fixture when a case runs.
CERT = "<cert>"


KEY = "<key>"


OTHER_KEY = "<other key>"


GARBAGE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "Tm90QVJlYWxLZXlCdXRTZWNyZXRNYXRlcmlhbA==\n"
    "-----END PRIVATE KEY-----\n"
)


def with_changes(
    changes: Mapping[str, Any], pems: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """BASE (stack config) with `changes` applied (ABSENT removes a key), PEM stand-ins
    replaced."""
    raw = {**BASE, **changes}
    raw = {k: v for k, v in raw.items() if v is not ABSENT}
    if pems:
        raw = {k: pems.get(v, v) if isinstance(v, str) else v for k, v in raw.items()}
    return raw


def refused(raw: Mapping[str, Any]) -> ConfigError:
    """The ConfigError `parse` raises for `raw`."""
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    return caught.value


def refused_as(raw: Mapping[str, Any], resource_name: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(raw, resource_name=resource_name)
    return caught.value


def objects(folder: Path) -> dict[str, dict]:
    return {
        p.name: yaml.safe_load(p.read_text())
        for p in sorted((folder / "1-manifest").glob("*.yaml"))
    }


PASSPHRASE = "correct horse battery staple"


def encrypter(passphrase: str = PASSPHRASE) -> tuple[str, Callable[[str], str]]:
    """A passphrase provider's encryptionsalt and encrypt function, as the Pulumi CLI makes them."""
    salt = os.urandom(8)
    kdf = PBKDF2HMAC(hashes.SHA256(), length=32, salt=salt, iterations=1_000_000)
    aes = AESGCM(kdf.derive(passphrase.encode()))

    def encrypt(text: str) -> str:
        nonce = os.urandom(12)
        sealed = aes.encrypt(nonce, text.encode(), None)
        return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"

    return f"v1:{base64.b64encode(salt).decode()}:{encrypt('pulumi')}", encrypt


def run_render(tmp_path: Path, capsys, stack_text: str | bytes, *extra: str) -> tuple[int, str]:
    """`python -m render bad OUT --stack-dir tmp_path` over a stack file: (exit code, stderr)."""
    path = tmp_path / "Pulumi.bad.yaml"
    if isinstance(stack_text, bytes):
        path.write_bytes(stack_text)
    else:
        path.write_text(stack_text)
    code = main(["bad", str(tmp_path / "out"), "--stack-dir", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def unavailable(message: str) -> NoReturn:
    """A test layer that cannot run here: a skip saying what is missing, a failure under CI
    (CI=true, as .ci/run sets), which must prove every layer."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


# How long a plugin may take to print its port: a Python plugin imports grpc and the SDK first.
PLUGIN_START_TIMEOUT = 60.0


@contextlib.contextmanager
def plugin_channel(
    command: Sequence[str],
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    timeout: float = PLUGIN_START_TIMEOUT,
) -> Iterator[grpc.Channel]:
    """A Pulumi plugin (a provider, a policy pack) started as the engine starts it, which
    prints its gRPC port first; a channel to it. Fails if no port comes within `timeout`
    seconds. The plugin, and whatever it started, is stopped on exit (tests/supervisor.py)."""
    # stderr to a file, not a pipe: a full pipe would block the plugin.
    with tempfile.TemporaryFile(mode="w+") as stderr:
        plugin = Supervised(
            list(command), cwd=cwd, env=None if env is None else dict(env),
            stdout=subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
        try:
            port = first_line(plugin.stdout, timeout)  # type: ignore[arg-type]
            if not port.isdigit():
                plugin.stop()
                stderr.seek(0)
                said = f"printed {port!r}" if port else f"printed no port within {timeout}s"
                pytest.fail(
                    f"{command[0]} {' '.join(command[1:3])} did not start ({said}):\n"
                    f"{stderr.read()}"
                )
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield channel
        finally:
            plugin.stop()


def first_line(stream: IO[bytes], timeout: float) -> str:
    """The first line `stream` gives within `timeout` seconds, stripped; what came if the
    stream ended or the time ran out first. Never blocks longer than that: a plugin that hangs
    before printing its port would otherwise hang the test until pytest-timeout kills it, and
    with it the worker's session fixtures."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)  # not stream.read: its buffer would keep what select cannot see
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()
