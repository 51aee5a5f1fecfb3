"""Real servers for the tests, run on 127.0.0.1 and free ports, each under a supervisor
(tests/supervisor.py) that stops it, and all it started, with this process.

- `Registry`: Debian's `docker-registry` (distribution 2.8.2, the code MSR's cache is built on)
  serving a laid-out pod (tests/registry/pod.py).
- `Names`: an HTTP CONNECT proxy standing in for DNS. Go clients (the registry's pull-through,
  skopeo) reach `name:port` through it via HTTPS_PROXY, and TLS still runs end to end with
  the name as SNI, so certificates are checked against the names clients use.
- `Moto`: an S3 API (moto's server, from its own virtualenv).

Ports: a server that can bind port 0 does, and its port is read from the sockets it listens on
(moto). One that must be told its ports before it starts (etcd, kube-apiserver, the registry,
which writes its address in config) gets ports free when picked (`on_free_ports`): another test
worker may bind one of them before the server does, so `wait_for` accepts a port only when this
server's own processes listen on it, and the server is started again on other ports when it
exits saying the address was in use.
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from harness import ROOT, unavailable
from pod import Pod, downstream, free_port, without_downstream
from supervisor import Supervised, descendants

REGISTRY = "docker-registry"
MOTO_VENV = ROOT / ".venv-moto"
START_TIMEOUT = 15.0
PORT_ATTEMPTS = 5
T = TypeVar("T")

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


class PortTaken(AssertionError):
    """A server exited because an address it was given was in use by then."""


class Process:
    """A server under a supervisor, with its output in a log file; stop() ends it and all it
    started (`stay`: the command starts daemons and returns, and they are the server)."""

    def __init__(
        self, name: str, command: list[str], env: Mapping[str, str], log: Path, stay: bool = False
    ) -> None:
        self.name = name
        self.log = log
        with log.open("w") as out:
            # Only the env given: the pod's own, not this machine's (no AWS_* or proxies leak in).
            self.process = Supervised(
                command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, stay=stay
            )
        RUNNING.append(self)

    def pids(self) -> list[int]:
        """The supervisor's and every process below it."""
        return [self.process.pid, *(pid for pid, _ in descendants(self.process.pid))]

    def listening(self) -> set[int]:
        """The TCP ports this server's own processes listen on."""
        return listening_ports(self.pids())

    def wait_for(self, *ports: int) -> None:
        """Until this server listens on each port; fail with the log if it exits (PortTaken if
        an address was in use) or does not listen in time."""
        self._wait(lambda listening: set(ports) <= listening, f"listening on {ports}")

    def wait_listening(self) -> int:
        """Until this server (told to bind port 0) listens on one port; that port."""
        found = self._wait(lambda listening: len(listening) == 1, "listening")
        return next(iter(found))

    def _wait(self, done: Callable[[set[int]], bool], what: str) -> set[int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                log = self.tail()
                if "address already in use" in log.lower():
                    raise PortTaken(f"{self.name}: an address was in use:\n{log}")
                raise AssertionError(f"{self.name} exited:\n{log}")
            listening = self.listening()
            if done(listening):
                return listening
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{self.name} not {what} after {START_TIMEOUT}s:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM to the server's process group, then SIGKILL to whatever is left (the
        supervisor's job); waits until it is all gone."""
        self.process.stop()
        if self in RUNNING:
            RUNNING.remove(self)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def listening_ports(pids: Iterable[int]) -> set[int]:
    """The TCP ports (v4 and v6) on which a socket held open by one of `pids` listens: a socket's
    inode in /proc/<pid>/fd matched against /proc/net/tcp's listening rows."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):  # gone meanwhile
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                # sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
                # timeout inode
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def on_free_ports(count: int, start: Callable[[list[int]], T]) -> T:
    """start(ports) with `count` ports that were free when picked; again with others while it
    raises PortTaken (a worker bound one between the pick and the server's bind)."""
    for _ in range(PORT_ATTEMPTS - 1):
        with contextlib.suppress(PortTaken):
            return start([free_port() for _ in range(count)])
    return start([free_port() for _ in range(count)])


class Registry(Process):
    """distribution's registry serving `pod`, config.yaml rewritten by `pod.rewritten()` and then
    `changed` (the test's stand-ins), with `extra_env` beside the pod's env; `binary` is the
    server run (Debian's 2.8.2 unless told, e.g. the toolchain's distribution v3)."""

    def __init__(
        self,
        pod: Pod,
        name: str = "registry",
        changed: Any = None,
        extra_env: Mapping[str, str] | None = None,
        binary: str = REGISTRY,
    ) -> None:
        self.pod = pod
        env = {**pod.env, **(extra_env or {})}
        for attempt in range(PORT_ATTEMPTS):
            if attempt:  # the ports lay_out picked were taken: the pod listens on others
                pod.port = free_port()
                pod.metrics_port = None if pod.metrics_port is None else free_port()
            config = pod.rewritten()
            if changed is not None:
                config = changed(config)
            self.config = config
            path = pod.root / f"{name}.config.yaml"
            path.write_text(yaml.safe_dump(config, sort_keys=False))
            super().__init__(name, [binary, "serve", str(path)], env, pod.root / f"{name}.log")
            try:
                self.wait_for(*(p for p in (pod.port, pod.metrics_port) if p is not None))
                return
            except PortTaken:
                if attempt == PORT_ATTEMPTS - 1:
                    raise


def pull_through(
    pod: Pod, name: str, names_env: Mapping[str, str], binary: str = REGISTRY
) -> Registry:
    """The cache of `pod` pulling through its first upstream: distribution's `proxy.remoteurl`
    standing in for MSR's `downstream`, trusting the CA file `downstream.cas` names (through
    SSL_CERT_FILE), with `names_env` routing the upstream's name."""
    options = downstream(pod.config)
    trust = {"SSL_CERT_FILE": str(pod.path(options["cas"][0])), **names_env}
    remote: str = options["upstreams"][0]

    def stand_in(config: dict[str, Any]) -> dict[str, Any]:
        return without_downstream(config, remote)

    return Registry(pod, name, stand_in, trust, binary)


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
        env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(setup_actions), "PATH": os.environ["PATH"]}
        # Port 0: the kernel picks a free one as moto binds it, so no other process can take it.
        command = [str(require_moto()), "-H", "127.0.0.1", "-p", "0"]
        super().__init__("moto", command, env, root / "moto.log")
        self.port = self.wait_listening()
        self.url = f"http://127.0.0.1:{self.port}"

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
