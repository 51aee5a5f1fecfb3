"""A stand-in for MSR's content cache API on 127.0.0.1, over HTTPS with a test CA.

It follows the contract components/registration.py relies on (MSR 2.9's docs): GET and POST
/api/v0/content_caches, DELETE /api/v0/content_caches/{id}, HTTP basic auth as an admin; a name
is registered once (a second POST of it is a 4xx, as the retries that were not idempotent met).
A test can make the next answers fail (`failures`: a status, or a Trouble: a request carried
out and then answered with an error or too late, a 429 with Retry-After), and reads every
request it received.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import ssl
import tempfile
import threading
import time
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


@dataclasses.dataclass
class Trouble:
    """One answer that goes wrong: `status` instead of the real answer, after `delay` seconds
    (past the client's timeout: no answer at all); with `commit`, the request is carried out
    first, as when MSR commits a POST and then fails or is too slow to say so."""

    status: int = 503
    commit: bool = False
    delay: float = 0.0
    retry_after: str | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None, retry_after: str | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
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
        trouble = state.failures.pop(0) if state.failures else None
        if isinstance(trouble, int):
            trouble = Trouble(trouble)
        if trouble is not None and not trouble.commit:
            time.sleep(trouble.delay)
            self._answer(trouble.status, {"errors": [{"message": "unavailable"}]},
                         trouble.retry_after)  # fmt: skip
            return
        status, answer = self._carry_out(body)
        if trouble is not None:
            time.sleep(trouble.delay)
            status, answer = trouble.status, {"errors": [{"message": "unavailable"}]}
        self._answer(status, answer)

    def _carry_out(self, body: Any) -> tuple[int, Any]:
        state = self.server.state
        if self.headers.get("Authorization") != state.authorization():
            return 401, {"errors": [{"code": "NOT_AUTHENTICATED"}]}
        if self.command == "GET" and self.path == PATH:
            return 200, list(state.caches.values())
        if self.command == "POST" and self.path == PATH:
            if any(c["name"] == body["name"] for c in state.caches.values()):
                return 400, {"errors": [{"code": "INVALID_JSON", "message": "name is taken"}]}
            return 201, state.add(body["name"], body["host"])
        if self.command == "DELETE" and self.path.startswith(PATH + "/"):
            gone = state.caches.pop(self.path.rsplit("/", 1)[1], None)
            return (204 if gone else 404), None
        return 404, {"errors": [{"code": "NOT_FOUND"}]}

    do_GET = do_POST = do_DELETE = _handle


@dataclasses.dataclass
class State:
    username: str
    token: str
    caches: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    seen: list[Seen] = dataclasses.field(default_factory=list)
    # The next answers' troubles, in order: a status, a Trouble, or None (that one answers well).
    failures: list[int | Trouble | None] = dataclasses.field(
        default_factory=list[int | Trouble | None]
    )

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
