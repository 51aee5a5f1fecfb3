"""A stand-in for MSR's content cache API on 127.0.0.1, over HTTPS with a test CA.

It follows the contract components/registration.py relies on (MSR 2.9's docs): GET and POST
/api/v0/content_caches, DELETE /api/v0/content_caches/{id}, HTTP basic auth as an admin; and
what that code assumes of MSR, which its docs do not say: GET /api/v0/content_caches/{id} reads
one, and a name is registered once (a second POST of it is a 4xx). A test can make the next
answers fail (`failures`: a status, or a Trouble: a request carried out and then answered with
an error, too late, with a body that is no registration, a 429 with Retry-After, a redirect),
make the list lag behind deletes as a replica would (`lagging`), and reads every request it
received. `Elsewhere` is another origin a redirect may point to: it records what reaches it.
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
from urllib.parse import urlsplit

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
    # A redirect's target (the Location header), for a status 3xx.
    location: str | None = None
    # The answer's body as sent, instead of the JSON of the error or of what was carried out.
    body: bytes | None = None
    # Carried out with this host stored instead of the one posted (an MSR that rewrites it).
    stored_host: str | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None, trouble: Trouble | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        if trouble is not None and trouble.body is not None:
            data = trouble.body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if trouble is not None and trouble.retry_after is not None:
            self.send_header("Retry-After", trouble.retry_after)
        if trouble is not None and trouble.location is not None:
            self.send_header("Location", trouble.location)
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
            self._answer(trouble.status, {"errors": [{"message": "unavailable"}]}, trouble)
            return
        if trouble is not None and trouble.stored_host is not None:
            body = {**body, "host": trouble.stored_host}
        status, answer = self._carry_out(body)
        if trouble is not None:
            time.sleep(trouble.delay)
            if trouble.status >= 300:
                answer = {"errors": [{"message": "unavailable"}]}
            status = trouble.status
        self._answer(status, answer, trouble)

    def _carry_out(self, body: Any) -> tuple[int, Any]:
        state = self.server.state
        path = urlsplit(self.path).path  # a query changes nothing
        if self.headers.get("Authorization") != state.authorization():
            return 401, {"errors": [{"code": "NOT_AUTHENTICATED"}]}
        if self.command == "GET" and path == PATH:
            return 200, [*state.caches.values(), *state.ghosts.values()]
        if self.command == "GET" and path.startswith(PATH + "/"):
            found = state.caches.get(path.rsplit("/", 1)[1])
            return (200, found) if found else (404, {"errors": [{"code": "NOT_FOUND"}]})
        if self.command == "POST" and path == PATH:
            if any(c["name"] == body["name"] for c in state.caches.values()):
                return 400, {"errors": [{"code": "INVALID_JSON", "message": "name is taken"}]}
            return 201, state.add(body["name"], body["host"])
        if self.command == "DELETE" and path.startswith(PATH + "/"):
            gone = state.caches.pop(path.rsplit("/", 1)[1], None)
            if gone and state.lagging:
                state.ghosts[gone["id"]] = gone
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
    # Whether the list lags behind deletes, as a replica that has not seen them yet: a deleted
    # registration stays listed (in `ghosts`), while a GET of its id finds nothing.
    lagging: bool = False
    ghosts: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.token}".encode()).decode()

    def add(self, name: str, host: str) -> dict[str, str]:
        cache_id = f"cc-{len(self.caches) + len(self.seen)}"
        self.caches[cache_id] = {"id": cache_id, "name": name, "host": host}
        return self.caches[cache_id]


class _Server(http.server.ThreadingHTTPServer):
    state: State
    daemon_threads = True


def _serve_tls(server: http.server.HTTPServer, chain: str, key: str) -> None:
    """`server` answering over TLS with the certificate chain and key (PEM)."""
    with tempfile.TemporaryDirectory() as folder:
        cert, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_text(chain)
        key_file.write_text(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)


class MsrApi:
    """The API on https://127.0.0.1:<port>, its certificate signed by (and being) `ca_pem`; or,
    given `served` (the CA, the certificate chain and the key, PEMs), serving that chain."""

    def __init__(
        self,
        username: str = "admin",
        token: str = "s3cr3t-token-value",
        served: tuple[str, str, str] | None = None,
    ) -> None:
        if served is None:
            cert, key = self_signed_pair("127.0.0.1", "localhost")
            served = (cert, cert, key)
        self.ca_pem = served[0]
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = State(username, token)
        _serve_tls(self.server, served[1], served[2])
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def state(self) -> State:
        return self.server.state

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: _ElsewhereServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.seen.append(
            Seen(self.command, self.path, self.headers.get("Authorization", ""), body)
        )
        data = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _handle


class _ElsewhereServer(http.server.ThreadingHTTPServer):
    seen: list[Seen]
    daemon_threads = True


class Elsewhere:
    """Another origin on 127.0.0.1: plain http, or https with a self-signed certificate of its
    own (`ca_pem`: a client trusting it reaches this origin, so only a refusal keeps the token
    from it). It answers every request 200 with an empty list, and records it in `seen`."""

    def __init__(self, tls: bool = False) -> None:
        self.server = _ElsewhereServer(("127.0.0.1", 0), _Recorder)
        self.server.seen = []
        self.ca_pem = ""
        if tls:
            cert, key = self_signed_pair("127.0.0.1", "localhost")
            self.ca_pem = cert
            _serve_tls(self.server, cert, key)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def seen(self) -> list[Seen]:
        return self.server.seen

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
