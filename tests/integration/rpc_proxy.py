"""A JSON-RPC proxy between the harness and a test node: it makes any node look like a public RPC endpoint.

* **Keys only**: the signing methods a provider refuses (``eth_sendTransaction``, ``eth_sign*``, ``personal_*``)
  are answered with an error, so every transaction must be signed with a key, as on a testnet.
* **Faults**, on a schedule: every n-th request whose methods match (a batch matches when one of its methods does)
  is dropped before the node sees it, answered late, sent to the node twice, answered with a rate limit (429) or a
  server error (503), or sent to the node and then cut off before the answer (the action happened; the client
  cannot know). Each fault is counted, so that a test can assert it was met.

It runs in the test process, on a thread; the command line under test (a subprocess) reaches the node through it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: what a public endpoint refuses: the node would sign with an account it holds
SIGNING = ("eth_sendTransaction", "eth_sign", "eth_signTransaction", "eth_signTypedData", "personal_")

#: the fault kinds, in the words of the fault matrix
KINDS = ("drop", "delay", "duplicate", "rate_limit", "server_error", "cut_after_send")


@dataclass
class Fault:
    """Inject ``kind`` into every ``every``-th request whose methods include one of ``methods`` (any if empty),
    ``times`` times at most (no limit if None)."""

    kind: str
    every: int = 5
    methods: tuple[str, ...] = ()
    times: int | None = None
    delay: float = 1.5
    seen: int = 0
    injected: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")

    def due(self, methods: list[str]) -> bool:
        if self.methods and not any(m in self.methods for m in methods):
            return False
        self.seen += 1
        if self.seen % self.every or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True


@dataclass
class Proxy:
    """Listens on ``port`` and forwards to the node at ``upstream`` (``host:port``)."""

    port: int
    upstream: str
    keys_only: bool = True
    faults: list[Fault] = field(default_factory=list)
    requests: int = 0
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this the second waits for the client's delayed ACK
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up
                    proxy.handle(self, body)

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a node forking through it opens many connections at once

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults = list(faults)

    @property
    def injected(self) -> dict[str, int]:
        return {f.kind: f.injected for f in self.faults}

    # -- one request ---------------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            return self._answer(handler, 400, b'{"error": "not JSON"}')
        calls = payload if isinstance(payload, list) else [payload]
        methods = [str(c.get("method", "")) for c in calls if isinstance(c, dict)]
        with self._lock:
            self.requests += 1
            fault = next((f for f in self.faults if f.due(methods)), None)
        if self.keys_only and any(m.startswith(SIGNING) for m in methods):
            self.refused.extend(m for m in methods if m.startswith(SIGNING))
            error = [{"jsonrpc": "2.0", "id": c.get("id"), "error": {
                "code": -32601, "message": f"{c.get('method')} is not available: sign with a key"}} for c in calls]
            return self._answer(handler, 200, json.dumps(error if isinstance(payload, list) else error[0]).encode())
        kind = fault.kind if fault else None
        if kind == "drop":
            return self._cut(handler)
        if kind == "rate_limit":
            return self._answer(handler, 429, b'{"jsonrpc":"2.0","error":{"code":-32005,"message":"rate limited"}}',
                                {"Retry-After": "1"})
        if kind == "server_error":
            return self._answer(handler, 503, b"upstream unavailable")
        if kind == "delay":
            time.sleep(fault.delay)  # type: ignore[union-attr]
        status, answer = self._forward(body)
        if kind == "duplicate":
            status, answer = self._forward(body)  # the node sees it twice; the client gets the second answer
        if kind == "cut_after_send":
            return self._cut(handler)
        self._answer(handler, status, answer)

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        host, port = self.upstream.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            connection.request("POST", "/", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:  # the node is down (a restart): what a load balancer answers
            return 502, b"node unreachable"
        finally:
            connection.close()

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes,
                headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _cut(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
