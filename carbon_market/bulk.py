"""Many transactions at once: JSON-RPC batches with explicit nonces, receipts checked together.

Brownie sends one transaction, waits for its receipt, decodes it and records it: about 25 a second on a
local chain, and slower as its history grows. Setting up a thousand enterprises that way measures brownie,
not the contracts. :func:`send` builds each call's data with the contract's ABI, gives every sender's
transactions consecutive nonces, posts them in batches (``eth_sendTransaction`` for accounts the node
holds, ``eth_sendRawTransaction`` for keys held here; on anvil with mining paused, each batch mined before the
next is posted), then fetches every receipt (on anvil, the mined blocks' receipts a block at a time) and raises
:class:`BulkError`, naming the first failed call and its decoded custom error, if any failed.

The calls are independent transactions, not one atomic unit: callers keep their operations safe to re-run
(skip what is already done) rather than relying on all-or-nothing.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlparse

import requests
from brownie import web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak, to_checksum_address

from carbon_market import errors
from carbon_market.failures import REFUSED, CarbonMarketError

#: gas limit of each call unless the caller gives one; unused gas costs nothing, but on anvil a block
#: takes only as many calls as their limits fit into its own
DEFAULT_GAS = 1_000_000
#: requests per JSON-RPC batch (reads, nonces, receipts)
BATCH = 250
#: transactions posted in one JSON-RPC batch on anvil, each batch mined before the next is posted (:func:`send`),
#: unless :data:`SEND_BYTES` of them come first: anvil answers a request of more than about 2 MB with an error.
#: Larger batches are fewer, fuller blocks (3,000 enterprises over ten years: 250 a batch 821 s, 1,000 582 s; the
#: node's peak memory 8.6 GB and 13.7 GB); the node's pool still walks a batch's pending transactions at every arrival.
SEND_BATCH = 1_000
SEND_BYTES = 1_000_000


class BulkError(CarbonMarketError):
    """A call of the bulk failed (reverted, or was refused by the node)."""

    exit_code = REFUSED


@dataclass(frozen=True)
class Call:
    """``method(*args)`` sent by ``sender``: ``method`` is a brownie contract method, ``sender`` a brownie account."""

    method: Any
    args: tuple[Any, ...]
    sender: Any
    #: its own gas limit, else the send's; in a send, raised to its sender's earlier calls' limits (:func:`_limits`)
    gas: int | None = None

    def describe(self) -> str:
        args = ", ".join(map(_shown, self.args))
        return f"{self.method._name}({args if len(args) <= 200 else args[:200] + '...'}) from {self.sender}"


def _shown(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value)


def address_of(label: str) -> str:
    """A development account's address made from a label (the same label, the same address; no key exists)."""
    return to_checksum_address(keccak(label.encode())[12:])


def act_for(addresses: Sequence[str], gas_money: int = 10**21) -> None:
    """Let the node send from ``addresses`` (anvil: impersonated) and give each ``gas_money`` wei of gas money, in
    one batch. Development chains only: what the simulations, the bench and the tests' traders send from."""
    web3.provider.make_batch_request([("anvil_impersonateAccount", [a]) for a in addresses]
                                     + [("anvil_setBalance", [a, hex(gas_money)]) for a in addresses])


def call(method: Any, *args: Any, sender: Any, gas: int | None = None) -> Call:
    return Call(method, args, sender, gas)


def _transaction(item: Call, nonce: int, gas: int) -> dict[str, Any]:
    return {"from": str(item.sender), "to": item.method._address, "data": item.method.encode_input(*item.args),
            "gas": gas, "nonce": nonce}


def _request(item: Call, nonce: int, gas: int, chain_id: int, gas_price: int,
             price: int | None = None) -> tuple[str, list[Any]]:
    """The request that sends ``item``: for the node to sign, or signed here (at ``gas_price``). ``price``: the gas
    price it carries either way, where the send orders its calls by price (:func:`_order_prices`)."""
    tx = _transaction(item, nonce, gas)
    key = getattr(item.sender, "private_key", None)
    if key is None:
        if price is not None:
            tx["gasPrice"] = price
        return "eth_sendTransaction", [{k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}]
    signed = web3.eth.account.sign_transaction(
        {**tx, "chainId": chain_id, "gasPrice": gas_price if price is None else price}, key)
    return "eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()]


def _nonces(calls: Sequence[Call]) -> list[int]:
    """Each call's nonce: consecutive per sender from the sender's pending count (the counts read in batches), or,
    inside :func:`fuller_blocks`, from the nonce after the sender's last call sent there (:attr:`_Stretch.nonces`)."""
    known = _STRETCH[-1].nonces if _STRETCH else {}
    next_nonce = {sender: known[sender] for item in calls if (sender := str(item.sender)) in known}
    senders = list(dict.fromkeys(s for item in calls if (s := str(item.sender)) not in next_nonce))
    for start in range(0, len(senders), BATCH):
        chunk = senders[start:start + BATCH]
        answers = web3.provider.make_batch_request([("eth_getTransactionCount", [a, "pending"]) for a in chunk])
        for sender, answer in zip(chunk, answers, strict=True):
            if "error" in answer:
                raise BulkError(f"the nonce of {sender} could not be read: "
                                f"{answer['error'].get('message', answer['error'])}")
            next_nonce[sender] = int(answer["result"], 16)
    out = []
    for item in calls:
        sender = str(item.sender)
        out.append(next_nonce[sender])
        next_nonce[sender] += 1
    if _STRETCH:
        _STRETCH[-1].nonces.update(next_nonce)
    return out


def _post(requests: list[tuple[str, list[Any]]], calls: Sequence[Call], offset: int) -> list[str]:
    answers = web3.provider.make_batch_request(requests)
    hashes = []
    for i, answer in enumerate(answers):
        if "error" in answer:
            raise BulkError(f"call #{offset + i} {calls[offset + i].describe()} was refused: "
                            f"{answer['error'].get('message', answer['error'])}")
        hashes.append(answer["result"])
    return hashes


def _receipts(hashes: list[str], timeout: float) -> list[dict[str, Any]]:
    """Every receipt, polling for those not yet mined until ``timeout`` seconds have passed."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while True:
        missing = [h for h in hashes if h not in found]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            answers = web3.provider.make_batch_request([("eth_getTransactionReceipt", [h]) for h in chunk])
            found.update({h: a["result"] for h, a in zip(chunk, answers) if a.get("result")})
        if len(found) == len(hashes):
            return [found[h] for h in hashes]
        if time.monotonic() > deadline:
            raise BulkError(f"{len(hashes) - len(found)} of {len(hashes)} transactions not mined after {timeout:.0f} s")
        time.sleep(0.5)


def _why(item: Call, receipt: dict[str, Any]) -> str:
    """The custom error of a failed call, found by replaying it on the state before its block."""
    block = int(receipt["blockNumber"], 16) - 1
    try:
        item.method.call(*item.args, {"from": item.sender}, block_identifier=block)
    except VirtualMachineError as exc:
        return str(errors.decode(exc))
    return f"out of gas or reverted by an earlier call of its block (gas used {int(receipt['gasUsed'], 16):,})"


_ANVIL: dict[str, bool] = {}


def _is_anvil() -> bool:
    """Whether the node is anvil (asked once per endpoint)."""
    endpoint = str(getattr(web3.provider, "endpoint_uri", ""))
    if endpoint not in _ANVIL:
        _ANVIL[endpoint] = str(web3.client_version).lower().startswith("anvil")
        go_direct()
    return _ANVIL[endpoint]


def go_direct() -> None:
    """Reach a node on this machine over kept-alive connections of the standard library's ``http.client``
    (:class:`LocalSession`) instead of requests'. Before every request requests read the environment's proxy
    settings and the user's ``.netrc``, and requests and urllib3 prepare, hook and parse each one: about a
    millisecond of the harness's time a request, half of a planning run's harness time.
    Only web3's own HTTP provider on this machine is changed: a remote node, and the resilient provider of live
    networks (:mod:`carbon_market.ops.transport`, whose retries read requests' errors), are left alone."""
    from web3 import HTTPProvider

    provider = web3.provider
    endpoint = str(getattr(provider, "endpoint_uri", ""))
    if (type(provider) is HTTPProvider and urlparse(endpoint).hostname in ("127.0.0.1", "localhost")
            and not isinstance(provider._request_session_manager, LocalSession)):
        provider._request_session_manager = LocalSession()
        provider.encode_batch_rpc_request = partial(_encode_batch, provider)  # type: ignore[method-assign]


def _encode_batch(provider: Any, requests: list[tuple[str, Any]]) -> bytes:
    """A batch's body in one pass of the standard library's encoder: web3 encodes each request on its own through
    its own encoder (a tenth of a planning run's harness time); what that encoder alone can write (bytes, say) goes
    to it. The ids are the provider's, by which web3 puts the answers back in order."""
    try:
        return json.dumps([{"jsonrpc": "2.0", "method": method, "params": params or [],
                            "id": next(provider.request_counter)} for method, params in requests]).encode()
    except TypeError:
        return type(provider).encode_batch_rpc_request(provider, requests)  # type: ignore[no-any-return]


class LocalSession:
    """What web3's HTTP provider posts its requests through (its ``_request_session_manager``), for a node on this
    machine: one kept-alive ``http.client`` connection per thread and endpoint, opened again (once) when the node
    closed it between two requests; a refused connection and an HTTP error raise requests' own exceptions, as
    web3's session manager does."""

    def __init__(self) -> None:
        self._local = threading.local()

    def make_post_request(self, endpoint_uri: str, data: bytes | dict[str, Any], **kwargs: Any) -> bytes:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        headers = {"Content-Type": "application/json", **(kwargs.get("headers") or {})}
        parts = urlparse(str(endpoint_uri))
        for attempt in (1, 2):
            connection, fresh = self._connection(parts, kwargs.get("timeout") or 30)
            try:
                connection.request("POST", parts.path or "/", body, headers)
                response = connection.getresponse()
                answer = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(parts)
                if fresh or attempt == 2:  # not a kept-alive connection the node had closed: the node is gone
                    raise requests.ConnectionError(f"{endpoint_uri}: {exc}") from None
                continue
            except OSError as exc:
                self._drop(parts)
                raise requests.ConnectionError(f"{endpoint_uri}: {exc}") from None
            if response.status >= 400:
                raise requests.HTTPError(f"{response.status} {response.reason} from {endpoint_uri}")
            return answer
        raise AssertionError("unreachable")

    def _connection(self, parts: Any, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        pool = self._local.__dict__.setdefault("connections", {})
        key = (parts.hostname, parts.port)
        if key in pool:
            return pool[key], False
        pool[key] = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        return pool[key], True

    def _drop(self, parts: Any) -> None:
        connection = self._local.__dict__.get("connections", {}).pop((parts.hostname, parts.port), None)
        if connection is not None:
            connection.close()


def _pool_size() -> tuple[int, int]:
    status = web3.provider.make_request("txpool_status", [])["result"]
    return int(status["pending"], 16), int(status["queued"], 16)


#: inside :func:`fuller_blocks` on anvil: mining is paused for the whole stretch, not once per send
_PAUSED: list[bool] = []


@dataclass
class _Stretch:
    """What :func:`send` knows inside :func:`fuller_blocks` on anvil (a stretch of bulk sends only)."""

    #: each sender's next nonce after the sends so far: a send asks the node only for the senders it has not seen
    #: (forgotten when a send fails)
    nonces: dict[str, int]
    #: the node's base fee is zero: a send's calls carry gas prices that fall by one from call to call, so that the
    #: node runs them in the order sent (anvil runs a block's ready transactions by price, and takes a batch's
    #: requests concurrently: in 600 calls of 600 senders in one batch at one price, 280 ran before the call sent
    #: ahead of them)
    ordered: bool


_STRETCH: list[_Stretch] = []


@contextmanager
def _automine_paused() -> Iterator[None]:
    """Anvil takes a batch's requests concurrently and, mining on arrival, can strand a transaction whose
    predecessor arrived a moment later. With mining paused the pool orders everything by nonce first."""
    if _PAUSED:  # already paused by an enclosing stretch: three requests a send saved
        yield
        return
    before = web3.provider.make_request("anvil_getAutomine", [])["result"]
    web3.provider.make_request("evm_setAutomine", [False])
    _PAUSED.append(True)
    try:
        yield
    finally:
        _PAUSED.pop()
        web3.provider.make_request("evm_setAutomine", [before])


@contextmanager
def fuller_blocks(gas: int) -> Iterator[None]:
    """Blocks of up to ``gas`` gas while inside, mined only when :func:`send` mines them (anvil only; elsewhere
    nothing changes); the node's limit and its mining restored after. Anvil computes each block's state root over
    the whole state, so a long simulation on a large state is cheaper in fewer, fuller blocks (3,000 enterprises:
    100 million gas a block took the node's time a year down by a sixth); its receipts cost grows with a block's
    size, so not without bound. Inside, a transaction sent by any other way than :func:`send` is not mined until
    the next block is: a stretch of bulk sends only (a simulation run)."""
    if not _is_anvil():
        yield
        return
    pending = web3.eth.get_block("pending")
    before = int(pending["gasLimit"])  # the node's limit now, not the last block's
    web3.provider.make_request("evm_setBlockGasLimit", [hex(gas)])
    _STRETCH.append(_Stretch({}, ordered=not int(pending.get("baseFeePerGas", 1))))
    try:
        with _automine_paused():
            yield
    finally:
        _STRETCH.pop()
        web3.provider.make_request("evm_setBlockGasLimit", [hex(before)])


def _mine_batch(hashes: list[str], limit: int) -> list[dict[str, Any]]:
    """Mine blocks until every one of ``hashes`` (a batch just posted) is mined, at most ``limit`` blocks; their
    receipts, in the order of ``hashes``. Each block's receipts are read in one request (one answer replaces a
    batch's; anvil still hashes every transaction of the block for each receipt, so their cost grows with the square
    of the block's size: README, Scale and speed); the pool is asked only when a block left some of the batch behind,
    so a batch that fits a block takes two requests."""
    wanted, found = set(hashes), dict[str, dict[str, Any]]()
    for _ in range(limit):
        web3.provider.make_request("evm_mine", [])
        receipts = _lean_receipts(wanted, _LEAN[-1]) if _LEAN else \
            web3.provider.make_request("eth_getBlockReceipts", ["latest"]).get("result") or []
        found.update((r["transactionHash"], r) for r in receipts if r["transactionHash"] in wanted)
        if len(found) == len(wanted):
            return [found[h] for h in hashes]
        pending, queued = _pool_size()
        if not pending:
            if queued:
                raise BulkError(f"{queued} transactions wait behind a missing nonce")
            raise BulkError(f"{len(wanted) - len(found)} of {len(hashes)} transactions left the pool unmined")
    raise BulkError(f"the pool still holds transactions after {limit} blocks")


@dataclass
class Mined:
    """The blocks the sends inside :func:`lean_receipts` mined, and the gas they used."""

    blocks: int = 0
    gas: int = 0


#: the count of the innermost :func:`lean_receipts` stretch, while inside one
_LEAN: list[Mined] = []


@contextmanager
def lean_receipts() -> Iterator[Mined]:
    """While inside, on anvil, a send's receipts are made from each mined block and its logs, in two requests a
    block, instead of read as receipts: anvil hashes every transaction of a block again for each receipt it makes
    of one it signed for a sender it impersonates, so a block's receipts cost it the square of the block's size
    (a 250-transaction block of the national run: 99 ms, its logs 9 ms). A transaction that emitted nothing, or
    failed, is read as a receipt. What such receipts leave out is each transaction's gas (``gasUsed`` is 0): the
    blocks' gas is counted instead, in the :class:`Mined` yielded, which is the sends' own gas when nothing else is
    mined while inside (:func:`fuller_blocks`'s stretch of bulk sends only). Elsewhere than on anvil nothing
    changes (and nothing is counted)."""
    mined = Mined()
    _LEAN.append(mined)
    try:
        yield mined
    finally:
        _LEAN.pop()


def _lean_receipts(wanted: set[str], mined: Mined) -> list[dict[str, Any]]:
    """The latest block's transactions among ``wanted``, as receipts made from the block and its logs
    (:func:`lean_receipts`); the block counted in ``mined``."""
    block, logs = (answer["result"] for answer in web3.provider.make_batch_request(
        [("eth_getBlockByNumber", ["latest", False]), ("eth_getLogs", [{"fromBlock": "latest", "toBlock": "latest"}])]))
    if any(log["blockHash"] != block["hash"] for log in logs):
        raise BulkError(f"a block was mined after block {int(block['number'], 16)} while its logs were read")
    mined.blocks += 1
    mined.gas += int(block["gasUsed"], 16)
    out = {tx: {"transactionHash": tx, "blockHash": block["hash"], "blockNumber": block["number"],
                "transactionIndex": hex(index), "status": "0x1", "gasUsed": "0x0", "logs": []}
           for index, tx in enumerate(block["transactions"]) if tx in wanted}
    for log in logs:
        if log["transactionHash"] in out:
            out[log["transactionHash"]]["logs"].append(log)
    # a transaction with logs succeeded; one without may have failed: its own receipt says (its gas kept if it did)
    silent = [tx for tx, receipt in out.items() if not receipt["logs"]]
    if silent:
        answers = web3.provider.make_batch_request([("eth_getTransactionReceipt", [tx]) for tx in silent])
        for tx, answer in zip(silent, answers, strict=True):
            receipt = answer["result"]
            out[tx] = receipt if int(receipt["status"], 16) != 1 else {**receipt, "gasUsed": "0x0"}
    return list(out.values())


def _post_all(calls: Sequence[Call], gas: int, *, batch: int = BATCH, turns: frozenset[int] = frozenset(),
              then: Callable[[list[str]], None] = lambda _: None) -> list[str]:
    """Post every call, ``batch`` or :data:`SEND_BYTES` to a request, whichever comes first; ``then(hashes)`` after
    each ``batch`` posted, with their hashes. A call at a position in ``turns`` goes out in a request of its own, after
    the node has taken every earlier call (anvil runs calls of one price in the order its pool took them)."""
    nonces, limits, prices = _nonces(calls), _limits(calls, gas, turns), _order_prices(len(calls))
    signing = _signing() if any(getattr(item.sender, "private_key", None) for item in calls) else (0, 0)
    hashes: list[str] = []
    requests: list[tuple[str, list[Any]]] = []
    size, handed = 0, 0  # the request's bytes; the hashes handed to ``then`` so far
    for i, item in enumerate(calls):
        request = _request(item, nonces[i], limits[i], *signing, price=prices[i])
        requests.append(request)
        size += _size(request)
        ends_batch = len(hashes) + len(requests) - handed == batch or size >= SEND_BYTES or i == len(calls) - 1
        if ends_batch or i + 1 in turns:
            hashes += _post(requests, calls, i + 1 - len(requests))
            requests, size = [], 0
        if ends_batch:
            then(hashes[handed:])
            handed = len(hashes)
    return hashes


def _size(request: tuple[str, list[Any]]) -> int:
    """About the bytes a transaction's request takes in a batch (its data, and room for the rest)."""
    tx = request[1][0]
    return 200 + (len(tx) if isinstance(tx, str) else len(tx["data"]))


def _limits(calls: Sequence[Call], gas: int, turns: frozenset[int] = frozenset()) -> list[int]:
    """Each call's gas limit: its own (else ``gas``), raised to the largest of its sender's earlier calls and, from a
    position in ``turns`` on, to the largest of any earlier turn's. Anvil fills a block while the gas used so far plus a
    call's limit fits: when a call no longer fits, a later call of a smaller limit would, and anvil tries it out of turn
    (a sender's next nonce: too high, and dropped from the pool; another turn's call: before the one it must follow).
    Limits never falling where the order matters, the calls that do not fit wait for the next block together."""
    highest: dict[str, int] = {}
    floor = top = 0
    out = []
    for i, item in enumerate(calls):
        if i in turns:
            floor = top
        sender = str(item.sender)
        highest[sender] = max(highest.get(sender, 0), item.gas or gas, floor)
        top = max(top, highest[sender])
        out.append(highest[sender])
    return out


def _order_prices(count: int) -> list[int | None]:
    """Each of ``count`` calls' gas price where a send orders its calls (:attr:`_Stretch.ordered`): from ``count``
    down to one, so that a block runs them in the order sent, whoever sends them (who a call auction's rationed price
    fills depends on it: a run's figures are then the same whatever the node's load); else none (the node's own)."""
    if _STRETCH and _STRETCH[-1].ordered:
        return list(range(count, 0, -1))
    return [None] * count


def _signing() -> tuple[int, int]:
    """The chain id and gas price a transaction signed here carries (asked only when one is)."""
    return web3.eth.chain_id, web3.eth.gas_price


def send(calls: Sequence[Call], *, gas: int = DEFAULT_GAS, timeout: float = 120.0,
         turns: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Send every call, in order per sender; return their receipts (raw JSON-RPC dicts), or raise
    :class:`BulkError` naming the first call that failed once all were mined. On anvil each batch is mined before
    the next is posted: anvil's pool walks its pending transactions at every arrival and every block, so a pool of
    thousands costs quadratically (3,000 enterprises: the node's time a year fell by a third).

    ``turns``: positions in ``calls`` where a turn starts: every call from there on runs after every call before it,
    whoever sends them (a call opened before the orders that enter it, reports before their attestation). On anvil
    the turns share blocks (:func:`_post_all`, :func:`_limits`) and the order the chain ran them in is checked;
    elsewhere each turn is sent once the one before it is mined."""
    if not calls:
        return []
    starts = frozenset(i for i in turns if 0 < i < len(calls))
    if _is_anvil():
        receipts: list[dict[str, Any]] = []
        try:
            with _automine_paused():
                _post_all(calls, gas, batch=SEND_BATCH, turns=starts,
                          then=lambda posted: receipts.extend(_mine_batch(posted, limit=len(posted) + 1)))
        except BaseException:
            if _STRETCH:
                _STRETCH[-1].nonces.clear()  # what reached the node is not known: ask it again
            raise
        _check_turns(calls, receipts, starts)
    else:
        bounds = [0, *sorted(starts), len(calls)]
        receipts = [r for a, b in zip(bounds, bounds[1:]) for r in _receipts(_post_all(calls[a:b], gas), timeout)]
    failed = [i for i, r in enumerate(receipts) if int(r["status"], 16) != 1]
    if failed:
        first = failed[0]
        raise BulkError(f"{len(failed)} of {len(calls)} calls failed; first #{first} "
                        f"{calls[first].describe()}: {_why(calls[first], receipts[first])}")
    return receipts


def _check_turns(calls: Sequence[Call], receipts: list[dict[str, Any]], starts: frozenset[int]) -> None:
    """Raise :class:`BulkError` if a call of a turn ran before a call of an earlier one."""
    places = [(int(r["blockNumber"], 16), int(r["transactionIndex"], 16)) for r in receipts]
    for start in sorted(starts):
        last = max(range(start), key=places.__getitem__)
        first = min(range(start, len(calls)), key=places.__getitem__)
        if places[first] < places[last]:
            raise BulkError(f"call #{first} {calls[first].describe()} ran before call #{last} "
                            f"{calls[last].describe()}, which it had to follow")


def read(views: Sequence[tuple[Any, ...]], *, block: int | str = "latest") -> list[Any]:
    """Many view calls in JSON-RPC batches: each item is ``(method, *args)`` with a brownie contract method;
    returns each call's decoded result, as brownie's ``method.call`` would, all read at the same ``block``.
    A reverted view raises :class:`BulkError` naming it."""
    results: list[Any] = []
    tag = hex(block) if isinstance(block, int) else block
    for start in range(0, len(views), BATCH):
        chunk = views[start:start + BATCH]
        answers = web3.provider.make_batch_request(
            [("eth_call", [{"to": m._address, "data": m.encode_input(*args)}, tag]) for m, *args in chunk])
        for (method, *args), answer in zip(chunk, answers):
            if "error" in answer:
                raise BulkError(f"view {method._name}({', '.join(map(_shown, args))}) failed: "
                                f"{_view_error(method, args, tag, answer['error'])}")
            results.append(method.decode_output(answer["result"]))
    return results


def _view_error(method: Any, args: list[Any], block: str, error: Any) -> str:
    """A failed view's custom error, decoded by calling it once more through brownie."""
    try:
        method.call(*args, block_identifier=block)
    except VirtualMachineError as exc:
        return str(errors.decode(exc))
    return str(error.get("message", error) if isinstance(error, dict) else error)


def gas_used(receipt: dict[str, Any]) -> int:
    return int(receipt["gasUsed"], 16)
