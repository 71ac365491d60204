"""JSON-RPC over HTTP as a public endpoint needs it: requests that fail in transit are tried again, and a
transaction is sent at most once whatever the connection does.

A public endpoint drops connections, answers late, limits the rate (HTTP 429, or -32005 in the answer), fails
with server errors while a node restarts, and sometimes cuts a connection after the node has acted. web3 tries
again only reads, five times in two seconds; brownie and the operations runner sent a transaction once and turned
any failure into a crash. :class:`Provider` is what both use on a live network (and what the runner uses
everywhere):

* every request, reads and sends alike, is tried again on a transport failure, a 429 (after the ``Retry-After``
  it gives) or a 5xx, with a pause that doubles, :data:`ATTEMPTS` times in about half a minute (a node restart
  fits in it); then :class:`Unreachable`, one line;
* a signed transaction is identified by its hash (the hash of its bytes), so sending the same bytes again is safe:
  an error answered to a repeated send ("already known", "nonce too low") is success when the node knows that
  hash, and is returned as the node's error otherwise;
* a transaction that the node forgot (a restart emptied its pool) is sent again, the same bytes, when a wait for
  it finds the node does not know it.

Nothing here decides whether an action should happen: the journal of the operations runner does
(:mod:`carbon_market.ops.runner`). This only makes one attempt at the chain mean one transaction on it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from eth_utils import keccak
from web3 import HTTPProvider

from carbon_market.failures import CarbonMarketError

#: tries of one request before giving up; the pauses between them double from FIRST_PAUSE up to LAST_PAUSE
ATTEMPTS, FIRST_PAUSE, LAST_PAUSE = 12, 0.25, 4.0
#: an answer's error codes that mean "try again later" (rate limits of public endpoints)
BUSY_CODES = (-32005, 429)
#: seconds between two looks at whether the node still knows a transaction it did not mine yet
FORGOTTEN_CHECK = 3.0

UNREACHABLE = 4


class Unreachable(CarbonMarketError):
    """The node did not answer in :data:`ATTEMPTS` tries; nothing was lost (run the same command again)."""

    exit_code = UNREACHABLE


class Provider(HTTPProvider):
    """web3's HTTP provider, with the retries and the send-at-most-once of the module's documentation."""

    def __init__(self, endpoint_uri: str, *, timeout: float = 120, attempts: int = ATTEMPTS,
                 first_pause: float = FIRST_PAUSE, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(endpoint_uri, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.attempts, self.first_pause, self._sleep = attempts, first_pause, sleep
        self.retries = 0
        #: transactions sent through this provider and not yet seen mined: hash -> (raw bytes, last look)
        self._unmined: dict[str, tuple[str, float]] = {}

    # -- one request ----------------------------------------------------------------------------------------

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_sendRawTransaction":
            return self._send(params[0])
        answer = self._tried(method, lambda: self._once(method, params))
        if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash") and params[0] in self._unmined:
            self._follow(params[0], answer.get("result"), method)
        return answer

    def _once(self, method: str, params: Any) -> Any:
        """One try, as web3's provider makes it."""
        return super().make_request(method, params)  # type: ignore[arg-type]

    def make_batch_request(self, batch_requests: Any) -> Any:
        methods = {m for m, _ in batch_requests}
        if any(m.startswith(("eth_send", "evm_", "anvil_", "hardhat_")) for m in methods):
            return super().make_batch_request(batch_requests)  # actions in a batch: development chains only
        return self._tried("a batch", lambda: super(Provider, self).make_batch_request(batch_requests))

    def _tried(self, what: str, request: Callable[[], Any]) -> Any:
        pause, last = self.first_pause, ""
        for attempt in range(self.attempts):
            if attempt:
                self.retries += 1
            try:
                answer = request()
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status != 429 and status < 500:
                    raise
                last = f"HTTP {status}"
                wait = _retry_after(exc.response) or pause
            except (requests.ConnectionError, requests.Timeout, ValueError) as exc:  # ValueError: a cut answer
                last, wait = type(exc).__name__, pause
            else:
                if not _busy(answer):
                    return answer
                last, wait = "rate limited", pause
            if attempt + 1 < self.attempts:
                self._sleep(wait)
                pause = min(pause * 2, LAST_PAUSE)
        raise Unreachable(f"{self.endpoint_uri} did not answer {what} in {self.attempts} tries (last: {last}); "
                          f"nothing was lost: run the same command again")

    # -- sending once ----------------------------------------------------------------------------------------

    def _send(self, raw: str) -> Any:
        tx_hash = "0x" + keccak(hexstr=raw).hex().removeprefix("0x")
        self._unmined[tx_hash] = (raw, time.monotonic())
        answer = self._tried("eth_sendRawTransaction", lambda: self._once("eth_sendRawTransaction", [raw]))
        if "error" in answer and self._known(tx_hash):  # an earlier try (or a copy of this one) got there
            return {"jsonrpc": "2.0", "id": answer.get("id"), "result": tx_hash}
        if "error" in answer:
            self._unmined.pop(tx_hash, None)
        return answer

    def _known(self, tx_hash: str) -> bool:
        found = self._tried("eth_getTransactionByHash", lambda: self._once("eth_getTransactionByHash", [tx_hash]))
        return found.get("result") is not None

    def _follow(self, tx_hash: str, result: Any, method: str) -> None:
        """A wait looked at ``tx_hash``: forget it once mined; send it again if the node no longer knows it."""
        raw, looked = self._unmined[tx_hash]
        if result is not None and (method == "eth_getTransactionReceipt" or result.get("blockNumber")):
            del self._unmined[tx_hash]
            return
        if time.monotonic() - looked < FORGOTTEN_CHECK:
            return
        self._unmined[tx_hash] = (raw, time.monotonic())
        forgotten = result is None if method == "eth_getTransactionByHash" else not self._known(tx_hash)
        if forgotten:  # the same bytes again: at most this one transaction, whatever the node answers
            self._tried("eth_sendRawTransaction", lambda: self._once("eth_sendRawTransaction", [raw]))


@contextlib.contextmanager
def relay(url: str) -> Iterator[str]:
    """A local endpoint (its URL) that forwards to ``url`` through a :class:`Provider`, for a node that reads the
    chain itself: anvil forking it tries again after a rate limit but gives up on a cut connection, so the fork of
    the operations runner's rehearsal reads through the same retries as the harness."""
    upstream = Provider(url)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this the second waits for the client's delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            try:
                if isinstance(payload, list):
                    answer: Any = upstream.make_batch_request([(c["method"], c.get("params", [])) for c in payload])
                    if isinstance(answer, list):
                        answer = [{**a, "id": c.get("id")} for a, c in zip(answer, payload, strict=True)]
                else:
                    answer = {**upstream.make_request(payload["method"], payload.get("params", [])),
                              "id": payload.get("id")}
            except Unreachable as exc:
                answer = {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": str(exc)}}
            body = json.dumps(answer).encode()
            with contextlib.suppress(OSError):  # the fork stopped while a read was under way
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # anvil opens many connections at once; beyond the backlog a connect waits 1 s

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that went away: nothing to tell the operator

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _busy(answer: Any) -> bool:
    error = answer.get("error") if isinstance(answer, dict) else None
    return isinstance(error, dict) and error.get("code") in BUSY_CODES


def _retry_after(response: Any) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), LAST_PAUSE * 4)
    except (TypeError, ValueError, AttributeError):
        return None
