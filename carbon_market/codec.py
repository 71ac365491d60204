"""One codec for everyone: the contracts' custom errors (revert data) and events (logs), decoded from the compiled
ABIs. Receipts of the operations runner, of brownie transactions and of bulk batches, and the logs that ``trace``,
``audit`` and the book replay read, all become :class:`Event`; revert data becomes ``Name(arg=value, ...)``.

Plumbing with no brownie in it: what it needs is the ABIs (:func:`carbon_market.suite.codec_for` builds the codec
of a deployed suite) and a web3 connection for reading logs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3


@dataclass(frozen=True)
class Event:
    """One decoded event: which contract emitted it, where in the chain, and its fields."""

    contract: str
    name: str
    fields: dict[str, Any]
    block: int = 0
    tx: str = ""
    log_index: int = 0

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={_shown(v)}" for k, v in self.fields.items())
        return f"block {self.block} {self.tx[:10]}… {self.contract}.{self.name}({shown})"


def _shown(value: Any) -> str:
    """A field as people read it: ids (256-bit) in hex, a bytes32 reason that is text as text, other bytes in hex."""
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).rstrip(b"\0")
        if text and all(32 <= c < 127 for c in text):
            return repr(text.decode())
        return "0x" + bytes(value).hex()
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2**64:
        return hex(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


class Codec:
    """Custom errors and events of a set of ABIs (the compiled project's), by selector and by (address, topic)."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]]) -> None:
        self.errors: dict[bytes, dict[str, Any]] = {}
        self.events: dict[tuple[str, bytes], dict[str, Any]] = {}
        for abi in abis.values():
            for item in abi:
                if item["type"] == "error":
                    types = ",".join(_type(i) for i in item["inputs"])
                    self.errors[function_signature_to_4byte_selector(f"{item['name']}({types})")] = item
        self.abis = abis
        self.contracts: dict[str, str] = {}  # address (lower case) -> contract name

    def watch(self, contract: str, address: str) -> None:
        """Decode the events that ``address`` emits with contract ``contract``'s ABI."""
        self.contracts[address.lower()] = contract
        for item in self.abis[contract]:
            if item["type"] == "event" and not item.get("anonymous"):
                self.events[(address.lower(), event_abi_to_log_topic(item))] = {
                    **item, "contract": contract, "decode": _event_decoder(item)}

    def error(self, data: str | bytes | None) -> str:
        """``Name(arg=value, ...)`` for revert data; ``Error(string)`` and ``Panic(uint256)`` as well."""
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data or b"")
        if len(raw) < 4:
            return "reverted without a reason (out of gas, or a call to an address without code)"
        name, values = self.error_parts(raw)
        if values is None:
            return name
        if name in ("Error", "Panic"):  # the two built-in errors read as Solidity writes them
            return f"{name}({values[0][1]!r})" if name == "Error" else f"Panic({values[0][1]})"
        return f"{name}({', '.join(f'{k}={render(v)}' for k, v in values)})"

    def error_parts(self, raw: bytes) -> tuple[str, list[tuple[str, Any]] | None]:
        """The error's name and its (argument name, value) pairs; None as the pairs when the selector is unknown."""
        selector, body = raw[:4], raw[4:]
        if selector == bytes.fromhex("08c379a0"):
            return "Error", [("reason", abi_decode(["string"], body)[0])]
        if selector == bytes.fromhex("4e487b71"):
            return "Panic", [("code", hex(abi_decode(["uint256"], body)[0]))]
        item = self.errors.get(selector)
        if item is None:
            return f"unknown error 0x{raw.hex()}", None
        values = abi_decode([_type(i) for i in item["inputs"]], body)
        return item["name"], [(i["name"] or "_", v) for i, v in zip(item["inputs"], values)]

    def decode_logs(self, w3: Web3, logs: Sequence[Any], name: str | None = None) -> tuple[Event, ...]:
        """The events of raw JSON-RPC logs, web3 logs or a brownie receipt's logs, in their order; logs of
        addresses not watched are left out, and with ``name`` every event of another name (not decoded)."""
        out = []
        for log in logs:
            topics = log.get("topics") or []
            item = self.events.get((str(log["address"]).lower(), _bytes(topics[0]))) if topics else None
            if item is not None and (name is None or item["name"] == name):
                fields = item["decode"]([_bytes(t) for t in topics], _bytes(log["data"]))
                out.append(Event(item["contract"], item["name"], fields, _number(log["blockNumber"]),
                                 _hex(log.get("transactionHash")), _number(log["logIndex"])))
        return tuple(out)

    def logs(self, w3: Web3, address: str, from_block: int, to_block: int | str = "latest") -> list[Event]:
        """The events ``address`` emitted in the block range, in chain order."""
        if isinstance(to_block, str) and from_block > w3.eth.block_number:
            return []  # nothing mined since: some nodes refuse a range that starts in the future
        found = w3.eth.get_logs({"address": Web3.to_checksum_address(address), "fromBlock": from_block,
                                 "toBlock": to_block})
        return list(self.decode_logs(w3, found))


def _type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def render(value: Any) -> str:
    """A decoded error argument as the harness prints it (bytes in hex, tuples in parentheses)."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(render(v) for v in value) + ")"
    return str(value)


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _hex(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _event_decoder(item: dict[str, Any]) -> Any:
    """A function of (topics, data) to an event's fields, the indexed ones first (as web3 gives them): addresses
    checksummed, structs as mappings by field name, the topic itself for an indexed value of dynamic type."""
    inputs = item["inputs"]
    indexed = [i for i in inputs if i.get("indexed")]
    plain = [i for i in inputs if not i.get("indexed")]
    plain_types = [_type(i) for i in plain]

    words = [_word_decoder(kind) for kind in plain_types]
    keys = [(i, _type(i), _word_decoder(_type(i))) for i in indexed]

    def decode(topics: list[bytes], data: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (i, kind, word), topic in zip(keys, topics[1:]):
            if _dynamic(kind):
                out[i["name"]] = topic
            else:
                out[i["name"]] = _shape(i, abi_decode([kind], topic)[0] if word is None else word(topic))
        if None in words:
            values = abi_decode(plain_types, data) if plain else ()
        else:  # every value is one 32-byte word: sliced here, as the ABI lays them out (several times faster)
            values = tuple(word(data[32 * k:32 * k + 32]) for k, word in enumerate(words))  # type: ignore[misc]
        for i, value in zip(plain, values):
            out[i["name"]] = _shape(i, value)
        return out

    return decode


def _word_decoder(kind: str) -> Any:
    """How a value of an elementary static ``kind`` is read from its 32-byte word (what eth_abi returns for it);
    None for any other kind (arrays, tuples, dynamic types: decoded by eth_abi)."""
    if "[" in kind or "(" in kind:
        return None
    if kind.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if kind.startswith("int"):
        return lambda w: int.from_bytes(w, "big", signed=True)
    if kind == "address":
        return lambda w: "0x" + w[12:].hex()
    if kind == "bool":
        return lambda w: w != bytes(32)
    if kind.startswith("bytes") and kind[5:].isdigit():
        size = int(kind[5:])
        return lambda w: w[:size]
    return None


def _dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _shape(item: dict[str, Any], value: Any) -> Any:
    kind = item["type"]
    if kind.endswith("]"):
        inner = {**item, "type": kind[:kind.rindex("[")]}
        return [_shape(inner, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _shape(c, v) for c, v in zip(item["components"], value)}
    if kind == "address":
        return _checksum(value)
    return value


@functools.lru_cache(maxsize=65_536)
def _checksum(address: str) -> str:
    """An address checksummed (a keccak each: the same few thousand addresses come back in every event)."""
    return to_checksum_address(address)


def _number(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 0)
