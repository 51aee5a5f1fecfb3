"""A stand-in for MSR's content cache API on 127.0.0.1, over HTTPS with a test CA.

It follows the contract components/registration.py relies on (MSR 2.9's docs): GET and POST
/api/v0/content_caches, DELETE /api/v0/content_caches/{id}, HTTP basic auth as an admin. A test
can make the next answers fail (`fail_next`), and reads every request it received.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

from render.stack_config import self_signed_pair

PATH = "/api/v0/content_caches"


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    authorization: str
    body: Any


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        state.seen.append(
            Seen(self.command, self.path, self.headers.get("Authorization", ""), body)
        )
        if state.failures:
            self._answer(state.failures.pop(0), {"errors": [{"message": "unavailable"}]})
        elif self.headers.get("Authorization") != state.authorization():
            self._answer(401, {"errors": [{"code": "NOT_AUTHENTICATED"}]})
        elif self.command == "GET" and self.path == PATH:
            self._answer(200, list(state.caches.values()))
        elif self.command == "POST" and self.path == PATH:
            self._answer(201, state.add(body["name"], body["host"]))
        elif self.command == "DELETE" and self.path.startswith(PATH + "/"):
            gone = state.caches.pop(self.path.rsplit("/", 1)[1], None)
            self._answer(204 if gone else 404)
        else:
            self._answer(404, {"errors": [{"code": "NOT_FOUND"}]})

    do_GET = do_POST = do_DELETE = _handle


@dataclasses.dataclass
class State:
    username: str
    token: str
    caches: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    seen: list[Seen] = dataclasses.field(default_factory=list)
    failures: list[int] = dataclasses.field(default_factory=list)

    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.token}".encode()).decode()

    def add(self, name: str, host: str) -> dict[str, str]:
        cache_id = f"cc-{len(self.caches) + len(self.seen)}"
        self.caches[cache_id] = {"id": cache_id, "name": name, "host": host}
        return self.caches[cache_id]


class _Server(http.server.ThreadingHTTPServer):
    state: State
    daemon_threads = True


class MsrApi:
    """The API on https://127.0.0.1:<port>, its certificate signed by (and being) `ca_pem`."""

    def __init__(self, username: str = "admin", token: str = "s3cr3t-token-value") -> None:
        self.ca_pem, key = self_signed_pair("127.0.0.1", "localhost")
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = State(username, token)
        with tempfile.TemporaryDirectory() as folder:
            cert, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert.write_text(self.ca_pem)
            key_file.write_text(key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def state(self) -> State:
        return self.server.state

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
