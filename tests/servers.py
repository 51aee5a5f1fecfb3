"""Real servers for the tests, run on 127.0.0.1 and free ports, started and stopped by PID.

- `Registry`: Debian's `docker-registry` (distribution 2.8.2, the code MSR's cache is built on)
  serving a laid-out pod (tests/pod.py).
- `Names`: an HTTP CONNECT proxy standing in for DNS. Go clients (the registry's pull-through,
  skopeo) reach `name:port` through it via HTTPS_PROXY, and TLS still runs end to end with
  the name as SNI, so certificates are checked against the names clients use.
- `Moto`: an S3 API (moto's server, from its own virtualenv).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from harness import ROOT, unavailable
from pod import Pod, free_port

REGISTRY = "docker-registry"
MOTO_VENV = ROOT / ".venv-moto"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

# Every server this worker has running: a failed test's report shows their logs' tails.
RUNNING: list[Process] = []


def require(*commands: str) -> None:
    """Skip (fail under CI) unless each command is installed."""
    missing = [c for c in commands if shutil.which(c) is None]
    if not missing:
        return
    message = (
        f"{' and '.join(missing)} not installed: `sudo apt-get install docker-registry skopeo` "
        "(Debian/Ubuntu; `make test` installs them when run as root)"
    )
    unavailable(message)


def require_moto() -> Path:
    """moto's server, from the virtualenv `make test` builds."""
    server = MOTO_VENV / "bin" / "moto_server"
    if not server.exists():
        unavailable(f"{server} is missing: `make test` builds it from requirements-moto.lock")
    return server


class Process:
    """A server started by PID with its output in a log file; stop() ends it."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("w") as out:
            # Only the env given: the pod's own, not this machine's (no AWS_* or proxies leak in).
            self.process = subprocess.Popen(
                command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        RUNNING.append(self)

    def wait_for(self, port: int) -> None:
        """Until something accepts on 127.0.0.1:port; fail with the log if the server exits."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{self.name} not listening after {START_TIMEOUT}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        if self in RUNNING:
            RUNNING.remove(self)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Registry(Process):
    """distribution's registry serving `pod`, config.yaml rewritten by `pod.rewritten()` and then
    `changed` (the test's stand-ins), with `extra_env` beside the pod's env."""

    def __init__(
        self,
        pod: Pod,
        name: str = "registry",
        changed: Any = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        config = pod.rewritten()
        if changed is not None:
            config = changed(config)
        self.pod = pod
        self.config = config
        path = pod.root / f"{name}.config.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        env = {**pod.env, **(extra_env or {})}
        super().__init__(name, [REGISTRY, "serve", str(path)], env, pod.root / f"{name}.log")
        self.wait_for(pod.port)
        if pod.metrics_port is not None:
            self.wait_for(pod.metrics_port)


@contextlib.contextmanager
def running(server: Process) -> Iterator[Process]:
    try:
        yield server
    finally:
        server.stop()


class _Tunnel(socketserver.BaseRequestHandler):
    server: _Names

    def handle(self) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            request += chunk
        method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ", 2)
        port = self.server.routes.get(target)
        if method != "CONNECT" or port is None:  # as if the name did not resolve
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", port), 5) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(self.request, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    ends = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(ends), [], [], 30)
        if not readable:
            return
        for end in readable:
            data = end.recv(65536)
            if not data:
                return
            ends[end].sendall(data)


class _Names(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    routes: dict[str, int]


class Names:
    """A CONNECT proxy on 127.0.0.1 routing `name:port` to local ports: DNS for Go clients."""

    def __init__(self) -> None:
        self.server = _Names(("127.0.0.1", 0), _Tunnel)
        self.server.routes = {}
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, address: str, port: int) -> None:
        """Send connections for `address` (host:port) to 127.0.0.1:port."""
        self.server.routes[address] = port

    @property
    def env(self) -> dict[str, str]:
        """The env a Go client needs to resolve the routed names through this proxy."""
        return {"HTTPS_PROXY": f"http://127.0.0.1:{self.port}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Moto(Process):
    """moto's S3 API on a free port, with IAM authentication on after `setup_actions` calls."""

    def __init__(self, root: Path, setup_actions: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(setup_actions), "PATH": os.environ["PATH"]}
        command = [str(require_moto()), "-H", "127.0.0.1", "-p", str(self.port)]
        super().__init__("moto", command, env, root / "moto.log")
        self.wait_for(self.port)

    def boto(self, script: str, **values: str) -> str:
        """Run a boto3 script (with `s3`/`iam` clients on this server) in moto's virtualenv."""
        prelude = (
            "import boto3, json, sys\n"
            "v = json.loads(sys.argv[1])\n"
            "def client(name, key='x', secret='x'):\n"
            "    return boto3.client(name, endpoint_url=v['url'], region_name='us-east-1',"
            " aws_access_key_id=key, aws_secret_access_key=secret)\n"
        )
        done = subprocess.run(
            [str(MOTO_VENV / "bin" / "python"), "-c", prelude + script,
             json.dumps({"url": self.url, **values})],
            capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout


class S3:
    """A bucket on moto's S3 API, and the access key of an IAM user allowed in it."""

    SETUP = """
iam = client('iam')
iam.create_user(UserName='cache')
key = iam.create_access_key(UserName='cache')['AccessKey']
iam.put_user_policy(UserName='cache', PolicyName='s3', PolicyDocument=json.dumps({
    'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}]}))
client('s3', key['AccessKeyId'], key['SecretAccessKey']).create_bucket(Bucket=v['bucket'])
print(json.dumps([key['AccessKeyId'], key['SecretAccessKey']]))
"""
    LIST = """
s3 = client('s3', v['key'], v['secret'])
pages = s3.get_paginator('list_objects_v2').paginate(Bucket=v['bucket'])
print(json.dumps([o['Key'] for page in pages for o in page.get('Contents', [])]))
"""

    def __init__(self, moto: Moto, bucket: str = "msr-cache") -> None:
        self.moto = moto
        self.bucket = bucket
        # IAM answers without authentication for the three calls making the user.
        self.key, self.secret = json.loads(moto.boto(self.SETUP, bucket=bucket))

    def storage(self) -> dict[str, str]:
        """The cache's objectStorage for this bucket."""
        return {"driver": "s3", "region": "us-east-1", "bucket": self.bucket,
                "regionendpoint": self.moto.url, "accesskey": self.key, "secretkey": self.secret}  # fmt: skip

    def objects(self) -> list[str]:
        found = self.moto.boto(self.LIST, bucket=self.bucket, key=self.key, secret=self.secret)
        return json.loads(found)
