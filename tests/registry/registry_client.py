"""A registry client as strict as a user's: it trusts only the CA it is given, verifies the name
it dials (as SNI for a DNS name, as an IP SAN for an address) with Python's strict X.509 checks,
and connects to the server's real port on 127.0.0.1 whatever name it uses."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import io
import json
import os
import socket
import ssl
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SKOPEO = "skopeo"


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def strict_context(ca_pem: str) -> ssl.SSLContext:
    """Trusts `ca_pem` only (no system CAs), with strict chain and hostname checks."""
    context = ssl.create_default_context(cadata=ca_pem)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


class _Dialed(http.client.HTTPSConnection):
    """An HTTPS connection to `name` that reaches 127.0.0.1:port instead of resolving it."""

    def __init__(self, name: str, port: int, context: ssl.SSLContext) -> None:
        super().__init__(name, 443, context=context, timeout=10)
        self.real_port = port

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.real_port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def request(
    port: int,
    name: str,
    ca_pem: str,
    method: str = "GET",
    path: str = "/v2/",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One HTTPS request to the registry on `port`, dialled as `name`."""
    connection = _Dialed(name, port, strict_context(ca_pem))
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        return Response(answer.status, dict(answer.getheaders()), answer.read())
    finally:
        connection.close()


def plain(port: int, path: str) -> Response:
    """One plain HTTP GET on 127.0.0.1 (the debug server)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return Response(answer.status, dict(answer.getheaders()), answer.read())
    finally:
        connection.close()


def probe_status(port: int, path: str, scheme: str) -> int:
    """The status a kubelet's httpGet probe sees: over HTTPS without verifying the certificate."""
    connection = (
        http.client.HTTPSConnection(
            "127.0.0.1", port, context=ssl._create_unverified_context(), timeout=10
        )
        if scheme == "HTTPS"
        else http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(port: int, name: str, ca_pem: str, repository: str, data: bytes) -> str:
    """Upload `data` as a blob (POST then a monolithic PUT); its digest."""
    started = request(port, name, ca_pem, "POST", f"/v2/{repository}/blobs/uploads/")
    assert started.status == 202, started
    location = started.headers["Location"]
    finished = request(
        port, name, ca_pem, "PUT", location_path(location) + f"&digest={digest(data)}", body=data,
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert finished.status == 201, finished
    return digest(data)


def location_path(location: str) -> str:
    """The path and query of an absolute Location."""
    return "/" + location.split("://", 1)[1].split("/", 1)[1]


def oci_image(folder: Path, tag: str, content: bytes) -> dict[str, str]:
    """An OCI image layout in `folder`: one layer holding `content` as /hello.txt, tagged `tag`.
    {"manifest"|"config"|"layer": digest}."""
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer = gzip.compress(layer_tar.getvalue(), mtime=0)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {},
         "rootfs": {"type": "layers", "diff_ids": [digest(layer_tar.getvalue())]}}
    ).encode()  # fmt: skip
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
        }
    ).encode()
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (layer, config, manifest):
        (blobs / digest(blob).removeprefix("sha256:")).write_bytes(blob)
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    index = {"schemaVersion": 2, "manifests": [
        {**_descriptor(MANIFEST, manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}
    ]}  # fmt: skip
    (folder / "index.json").write_text(json.dumps(index))
    return {"manifest": digest(manifest), "config": digest(config), "layer": digest(layer)}


MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _descriptor(media_type: str, blob: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest(blob), "size": len(blob)}


def skopeo(*args: str, env: Mapping[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run skopeo (no signature policy: these images are unsigned) with `env` only."""
    return subprocess.run(
        [SKOPEO, "--insecure-policy", *args],
        env={"PATH": os.environ["PATH"], "HOME": str(home), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def cert_dir(folder: Path, ca_pem: str) -> str:
    """A containers-style certs directory trusting `ca_pem` only."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.crt").write_text(ca_pem)
    return str(folder)
