"""Traceability: the history of an order, a token id or an account, rebuilt from the suite's events alone (no
storage is read), so that anyone holding the chain can check it. ``scripts/trace.py`` prints them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from carbon_market.history import Event, events
from carbon_market.suite import Suite

ZERO = "0x" + "0" * 40
#: the allowance's own records of what a transfer to or from nobody means
ALLOWANCE_RECORDS = ("Issued", "Surrendered", "Retired", "Invalidated", "ClawedBack")


def suite_events(suite: Suite, from_block: int = 0, to_block: int | str = "latest") -> list[Event]:
    """Every event of every contract of the suite, in chain order."""
    found = [e for name in ("registry", "allowance", "credit", "money", "compliance", "offsets", "market", "desk")
             for e in events(getattr(suite, name), from_block, to_block)]
    return sorted(found, key=lambda e: (e.block, e.log_index))


def order_history(suite: Suite, order_id: int, from_block: int = 0) -> list[Event]:
    """An order's life: placed, each fill, suspension, claims, cancellation."""
    return [e for e in events(suite.market, from_block) if int(e.fields.get("orderId", -1)) == order_id]


@dataclass(frozen=True)
class UnitHistory:
    """A token id's movements (mints, transfers, burns) with the allowance's own records of each, and the
    balances they add up to."""

    events: list[Event]
    balances: dict[str, int]
    minted: int
    burned: int


def unit_history(suite: Suite, token_id: int, from_block: int = 0) -> UnitHistory:
    chosen, balances, minted, burned = [], Counter(), 0, 0
    for e in events(suite.allowance, from_block):
        moves = list(_moves(e, token_id))
        if moves or (e.name in ALLOWANCE_RECORDS and int(e.fields["id"]) == token_id):
            chosen.append(e)
        for source, target, amount in moves:
            if source == ZERO:
                minted += amount
            else:
                balances[source] -= amount
            if target == ZERO:
                burned += amount
            else:
                balances[target] += amount
    return UnitHistory(chosen, {k: v for k, v in balances.items() if v}, minted, burned)


def _moves(e: Event, token_id: int):
    if e.name == "TransferSingle" and int(e.fields["id"]) == token_id:
        yield str(e.fields["from"]), str(e.fields["to"]), int(e.fields["value"])
    elif e.name == "TransferBatch":
        for i, v in zip(e.fields["ids"], e.fields["values"]):
            if int(i) == token_id:
                yield str(e.fields["from"]), str(e.fields["to"]), int(v)


def account_history(suite: Suite, account: Any, from_block: int = 0) -> list[Event]:
    """Every event of the suite that names ``account`` in any field."""
    address = str(account).lower()
    return [e for e in suite_events(suite, from_block) if any(_names(v, address) for v in e.fields.values())]


def _names(value: Any, address: str) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_names(v, address) for v in value)
    return isinstance(value, str) and value.lower() == address
