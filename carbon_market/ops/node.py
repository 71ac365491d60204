"""A chain as the operations runner sees it: views read with ``eth_call``, transactions prepared, sent and waited
for over raw JSON-RPC, reverts decoded into the contracts' custom errors, receipts decoded into events.

Everything goes through the :class:`Node`'s own web3 connection, never brownie's global one, so that the same
steps run on the network brownie is connected to or on a throw-away anvil fork of it (:func:`fork`), where every
sender is impersonated and gas is free: that is how a whole operations file is checked before anything is sent.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from carbon_market.codec import Codec, Event
from carbon_market.failures import REFUSED, CarbonMarketError
from carbon_market.ops.transport import relay

#: gas added to each estimate: state can move between the estimate and the block that includes the transaction
GAS_MARGIN_PCT = 25
RECEIPT_TIMEOUT = 300.0
#: seconds between looks for a receipt: the first look comes at once, then the pause doubles up to the last (a
#: local chain mines in milliseconds, a public one in seconds)
FIRST_POLL, LAST_POLL = 0.002, 0.5
#: while a receipt is awaited, seconds between asks whether the node still has the transaction at all, and how long
#: it must have been missing before it counts as dropped (a node restarted on an older state, or that evicted it)
LOOK_EVERY, DROP_GRACE = 2.0, 5.0
#: views per JSON-RPC batch of :meth:`Node.read_many`
READ_BATCH = 500
#: seconds a fork has to start (it reads the chain's head through the harness's retries; a loaded machine is slow)
FORK_START = 60.0


class OpsError(CarbonMarketError):
    """An operation cannot go ahead; the message is one line meant for the operator."""


class Reverted(OpsError):
    """A transaction or call reverted; ``error`` is the decoded custom error."""

    exit_code = REFUSED

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Dropped(OpsError):
    """The node no longer has a transaction it accepted: neither mined nor waiting in its pool."""


@dataclass(frozen=True)
class Signer:
    """Who signs: an address the node holds (``eth_sendTransaction``) or a key held here."""

    name: str
    address: str
    key: str | None = None


class LazyLogs(Sequence[Event]):
    """A receipt's events, decoded when first read: most receipts of a large batch are read for their count or one
    event, and decoding every log of every receipt cost a bulk sender more than sending."""

    def __init__(self, decode: Callable[..., Sequence[Event]]) -> None:
        self._decode: Callable[..., Sequence[Event]] | None = decode
        self._events: tuple[Event, ...] = ()

    def named(self, name: str) -> Sequence[Event]:
        """The events called ``name``, decoding no other."""
        if self._decode is None:
            return tuple(e for e in self._events if e.name == name)
        return self._decode(name=name)

    def _all(self) -> tuple[Event, ...]:
        if self._decode is not None:
            self._events, self._decode = tuple(self._decode()), None
        return self._events

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True)
class Receipt:
    tx: str
    block: int
    gas_used: int
    logs: Sequence[Event] = field(default=())
    #: the transaction's position in its block
    index: int = 0
    #: what the sender had in hand (a brownie receipt for the direct sender), for callers that inspect it
    raw: Any = field(default=None, compare=False, repr=False)
    #: what the transaction cost its sender, in the chain currency's smallest unit (gas used x the price paid)
    fee: int = 0

    def events(self, name: str) -> list[dict[str, Any]]:
        if isinstance(self.logs, LazyLogs):
            return [log.fields for log in self.logs.named(name)]
        return [log.fields for log in self.logs if log.name == name]

    def event(self, name: str) -> dict[str, Any]:
        found = self.events(name)
        if not found:
            raise OpsError(f"transaction {self.tx} emitted no {name} event")
        return found[-1]


class Node:
    """One chain: the real one, or a fork of it (``fork=True``: senders impersonated, gas free)."""

    def __init__(self, w3: Web3, codec: Codec, *, name: str, development: bool, fork: bool = False,
                 confirmations: int = 1, gas_price: int | None = None) -> None:
        """``confirmations``: the blocks a transaction's block must have on top of it, itself included, before
        :meth:`wait` returns (1: mined). ``gas_price``: a price the network's settings fix (brownie's
        ``gas_price`` of the network: 0 on a consortium chain without fees), else the node is asked."""
        self.w3, self.codec, self.name = w3, codec, name
        self.development, self.fork, self.confirmations = development, fork, max(1, confirmations)
        self.gas_price = gas_price
        self.chain_id = int(w3.eth.chain_id)
        self._held: set[str] | None = None
        #: the time set for the next block and not yet mined (:meth:`advance_to` with ``mine=False``)
        self._next_block_at = 0

    # -- reading --------------------------------------------------------------------------------------------

    def rpc(self, method: str, params: list[Any]) -> Any:
        answer = self.w3.provider.make_request(method, params)
        if "error" in answer:
            error = answer["error"]
            if _revert_data(error) is not None:
                raise Reverted(self.codec.error(_revert_data(error)))
            raise OpsError(f"{self.name}: {method} failed: {error.get('message', error)}")
        return answer["result"]

    def read(self, method: Any, *args: Any, block: int | str = "latest") -> Any:
        """A view of a brownie contract method, decoded as brownie decodes it."""
        tag = hex(block) if isinstance(block, int) else block
        result = self.rpc("eth_call", [{"to": method._address, "data": method.encode_input(*args)}, tag])
        return method.decode_output(result)

    def read_many(self, views: Sequence[tuple[Any, ...]], block: int | str = "latest") -> list[Any]:
        """Many views (``(method, *args)``) in JSON-RPC batches of :data:`READ_BATCH`, each decoded as :meth:`read`
        decodes it, all at one block: one round trip where a read per item would cost one each."""
        tag = hex(block) if isinstance(block, int) else block
        results: list[Any] = []
        for start in range(0, len(views), READ_BATCH):
            chunk = views[start:start + READ_BATCH]
            answers = self.w3.provider.make_batch_request(
                [("eth_call", [{"to": m._address, "data": m.encode_input(*args)}, tag]) for m, *args in chunk])
            if not isinstance(answers, list):  # a node that refuses batches answers with one error
                raise OpsError(f"{self.name}: a batch of reads failed: {answers.get('error', answers)}")
            for (method, *_), answer in zip(chunk, answers, strict=True):
                if "error" in answer:
                    error = answer["error"]
                    if _revert_data(error) is not None:
                        raise Reverted(self.codec.error(_revert_data(error)))
                    raise OpsError(f"{self.name}: eth_call failed: {error.get('message', error)}")
                results.append(method.decode_output(answer["result"]))
        return results

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber", []), 16)

    def timestamp(self) -> int:
        """The chain's time: its latest block's, or the time set for its next block if that is later."""
        return max(int(self.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16), self._next_block_at)

    def nonce(self, address: str, tag: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", [address, tag]), 16)

    def holds(self, address: str) -> bool:
        """Whether the node signs for ``address`` (its unlocked accounts)."""
        if self._held is None:
            self._held = {a.lower() for a in self.rpc("eth_accounts", [])}
        return address.lower() in self._held

    # -- sending ---------------------------------------------------------------------------------------------

    def prepare(self, signer: Signer, method: Any, args: Sequence[Any]) -> dict[str, Any]:
        """The transaction, with its nonce, gas and fees; raises :class:`Reverted` if it would revert now."""
        tx = {"from": signer.address, "to": method._address, "data": method.encode_input(*args)}
        gas = int(self.rpc("eth_estimateGas", [tx]), 16)
        return {**tx, "gas": gas * (100 + GAS_MARGIN_PCT) // 100 + 20_000, **self.fees(),
                "nonce": self.nonce(signer.address, "pending"), "chainId": self.chain_id}

    def fees(self) -> dict[str, int]:
        """What a transaction offers to pay, from the node: on a chain with a base fee (EIP-1559), a tip of the
        node's suggested priority fee and a ceiling of twice the latest base fee plus that tip (room for six
        blocks of full-block increases of 12.5%); on a chain without one or where it is zero, the node's gas price.
        A price the network's settings fix wins over both; free on a fork."""
        if self.fork:
            return {"gasPrice": 0}
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        base = self.rpc("eth_getBlockByNumber", ["latest", False]).get("baseFeePerGas")
        if base is None or int(base, 16) == 0:  # no EIP-1559, or a zero-fee chain (Besu's zeroBaseFee)
            return {"gasPrice": int(self.rpc("eth_gasPrice", []), 16)}
        try:
            tip = int(self.rpc("eth_maxPriorityFeePerGas", []), 16)
        except OpsError:  # a node without the method: what it asks on top of the base fee
            tip = max(0, int(self.rpc("eth_gasPrice", []), 16) - int(base, 16))
        return {"maxFeePerGas": 2 * int(base, 16) + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def broadcast(self, signer: Signer, tx: dict[str, Any]) -> str:
        if signer.key is not None and not self.fork:
            signed = self.w3.eth.account.sign_transaction(tx, signer.key)
            return self.rpc("eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()])
        if not self.fork and not self.holds(signer.address):
            raise OpsError(f"{self.name} does not hold {signer.name} ({signer.address}) and no key was given")
        fields = {k: hex(v) if isinstance(v, int) else v for k, v in tx.items() if k != "chainId"}
        return self.rpc("eth_sendTransaction", [fields])

    def wait(self, tx_hash: str, call: dict[str, Any] | None = None, timeout: float = RECEIPT_TIMEOUT) -> Receipt:
        """The transaction's receipt once mined; a failed one raises :class:`Reverted` with its error, found by
        replaying ``call`` on the state before its block. One the node has not had for :data:`DROP_GRACE` seconds,
        or has had only behind a nonce its sender's chain no longer has, raises at once (:meth:`_lost`) rather than
        after ``timeout``."""
        start = time.monotonic()
        deadline, pause, look, missing = start + timeout, FIRST_POLL, start + LOOK_EVERY, None
        while (raw := self.rpc("eth_getTransactionReceipt", [tx_hash])) is None:
            now = time.monotonic()
            if now > deadline:
                raise OpsError(f"{tx_hash} not mined after {timeout:.0f} s")
            if now >= look:
                look = now + LOOK_EVERY
                sent = self.rpc("eth_getTransactionByHash", [tx_hash])
                behind = None if sent is None else self.nonce(sent["from"])
                # not listed; or listed behind a nonce its sender's chain lacks; or listed unmined with its nonce
                # used by another transaction: none will be mined
                stuck = behind is None or (behind != int(sent["nonce"], 16) and sent.get("blockNumber") is None)
                missing = (now if missing is None else missing) if stuck else None
                if missing is not None and now - missing >= DROP_GRACE:
                    raise self._lost(tx_hash, sent, behind)
            time.sleep(pause)
            pause = min(pause * 2, LAST_POLL)
        block = int(raw["blockNumber"], 16)
        if int(raw["status"], 16) != 1:
            raise Reverted(self._why(tx_hash, block, call))
        if not deep(self.block_number, block, self.confirmations, deadline):
            raise OpsError(f"{tx_hash} not confirmed {self.confirmations} blocks deep after {timeout:.0f} s")
        gas = int(raw["gasUsed"], 16)
        return Receipt(tx_hash, block, gas, self.codec.decode_logs(self.w3, raw["logs"]),
                       int(raw["transactionIndex"], 16), fee=gas * int(raw.get("effectiveGasPrice") or "0x0", 16))

    def _lost(self, tx_hash: str, sent: dict[str, Any] | None, nonce: int | None) -> OpsError:
        """Why ``tx_hash`` will not be mined: the node dropped it (:class:`Dropped`: its nonce decides whether it
        can be sent again); another transaction of its sender took its nonce (what that one did is for a person to
        look at); or it waits behind a nonce of its sender that the chain no longer has: the node lost blocks it had
        mined (a restart on an older state), which only a new run, reading its journal, repairs; ``nonce`` is the
        sender's on chain."""
        if sent is None:
            return Dropped(f"{tx_hash} was dropped by {self.name}: not mined, and not in its pool")
        if nonce is not None and nonce > int(sent["nonce"], 16):
            return OpsError(f"{tx_hash} can no longer be mined: nonce {int(sent['nonce'], 16)} of {sent['from']} was "
                            f"taken by another transaction on {self.name}; look at the chain before running again")
        return OpsError(f"{tx_hash} waits behind nonce {nonce} of {sent['from']}, which "
                        f"{self.name} no longer has: it lost blocks it had mined (restarted on an older state?); "
                        f"run again: what the chain lost is sent again")

    def _why(self, tx_hash: str, block: int, call: dict[str, Any] | None) -> str:
        if call is None:
            sent = self.rpc("eth_getTransactionByHash", [tx_hash])
            call = {"from": sent["from"], "to": sent["to"], "data": sent["input"]}
        try:
            self.rpc("eth_call", [{k: call[k] for k in ("from", "to", "data")}, hex(block - 1)])
        except Reverted as exc:
            return exc.error
        return "failed on chain (out of gas, or undone by an earlier transaction of its block)"

    def find_sent(self, address: str, nonce: int, from_block: int) -> str | None:
        """The hash of the mined transaction of ``address`` with ``nonce``, searching from ``from_block``."""
        for number in range(from_block, self.block_number() + 1):
            block = self.rpc("eth_getBlockByNumber", [hex(number), True])
            for tx in block["transactions"]:
                if tx["from"].lower() == address.lower() and int(tx["nonce"], 16) == nonce:
                    return tx["hash"]
        return None

    def advance_to(self, timestamp: int, *, mine: bool = True) -> None:
        """Mine a block at ``timestamp`` or later (development chains and forks only); ``mine=False``: only set the
        next block's time, for a caller whose next act is a transaction (an empty block fewer; until that block,
        views still see the latest block's time, :meth:`timestamp` the time set)."""
        if not (self.development or self.fork):
            raise OpsError(f"{self.name} is a live network: its clock cannot be moved")
        if timestamp > self.timestamp():
            self.rpc("evm_setNextBlockTimestamp", [hex(timestamp)])
            self._next_block_at = timestamp
        if mine:
            self.rpc("evm_mine", [])


def _revert_data(error: dict[str, Any]) -> str | None:
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    message = str(error.get("message", ""))
    return "0x" if "revert" in message.lower() else None


def deep(head: Callable[[], int], block: int, confirmations: int, deadline: float) -> bool:
    """Whether ``block`` came to have ``confirmations`` blocks on top of it, itself included, before ``deadline``
    (a ``time.monotonic`` time), ``head`` giving the chain's latest block number."""
    while head() < block + confirmations - 1:
        if time.monotonic() > deadline:
            return False
        time.sleep(LAST_POLL)
    return True


def _answers(w3: Web3) -> bool:
    try:
        return bool(w3.is_connected())
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fork(node: Node, url: str) -> Iterator[Node]:
    """An anvil fork of ``node`` at its latest block, with every sender impersonated and gas free."""
    anvil = shutil.which("anvil")
    if anvil is None:
        raise OpsError("anvil is not on PATH (it comes from node_modules/.bin: run through make)")
    with relay(url) as through:  # the fork reads the chain through the harness's retries
        yield from _forked(node, url, through, anvil)


def _forked(node: Node, url: str, through: str, anvil: str) -> Iterator[Node]:
    port = _free_port()
    block = node.block_number()
    proc = subprocess.Popen([anvil, "--fork-url", through, "--fork-block-number", str(block), "--port", str(port),
                             "--auto-impersonate", "--block-base-fee-per-gas", "0", "--gas-price", "0",
                             "--silent", "--no-storage-caching"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 120}))
        deadline = time.monotonic() + FORK_START
        while not _answers(w3):
            if proc.poll() is not None:
                raise OpsError(f"anvil could not fork {node.name} at {url}")
            if time.monotonic() > deadline:
                raise OpsError(f"anvil did not start to fork {node.name} in {FORK_START:.0f} s")
            time.sleep(0.05)
        yield Node(w3, node.codec, name=f"a fork of {node.name} at block {block}", development=node.development,
                   fork=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
