"""The market's history from its events alone: every order's life (placed, filled, suspended, claimed, cancelled)
and the book it leaves, rebuilt without reading the market's storage. The stateful test rebuilds the book of every
run this way and compares it with the model, which is what "every action emits an event with enough fields to
rebuild the book" means in practice."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from carbon_market.market import CALL_BIT, Side


@dataclass(frozen=True)
class OrderKey:
    """What an order id says (``MarketIds``): instrument, side, price tick, call round (0: continuous)."""

    instrument: int
    side: Side
    tick: int
    call_round: int

    @classmethod
    def of(cls, order_id: int) -> OrderKey:
        key = order_id >> 32
        call = (key >> CALL_BIT) & 1
        return cls((key >> 57) & 0xFFFFFFFF, Side((key >> 24) & 1), key & 0xFFFFFF,
                   (key >> 25) & 0xFFFFFFFF if call else 0)


@dataclass
class OrderState:
    owner: str
    key: OrderKey
    fee_bps: int
    remaining: int
    filled: int = 0
    suspended: bool = False
    #: its place in its level's queue (the id's low 32 bits)
    position: int = 0
    #: out of the book because its level was withdrawn (outside the day's limits); it waits for its owner
    withdrawn: bool = False


@dataclass
class Book:
    """The open orders of one instrument (resting, suspended, or with fills to claim) and its continuous book."""

    orders: dict[int, OrderState] = field(default_factory=dict)
    cleared: dict[int, dict[str, Any]] = field(default_factory=dict)  # call round -> CallCleared fields

    def depth(self, side: Side, tick: int) -> int:
        return sum(o.remaining for o in self._resting() if o.key.side == side and o.key.tick == tick)

    def best(self, side: Side) -> int:
        ticks = [o.key.tick for o in self._resting() if o.key.side == side and o.remaining]
        return (max(ticks) if side == Side.BUY else min(ticks)) if ticks else 0

    def _resting(self) -> Iterator[OrderState]:
        return (o for o in self.orders.values() if not o.key.call_round and not o.suspended and not o.withdrawn)


def replay(events: Iterable[Any], instrument: int) -> Book:
    """The book of ``instrument`` that the market's events (in chain order, from the market's deployment or a block
    before which the instrument had no orders) add up to."""
    book = Book()
    for event in events:
        oid = int(event.fields.get("orderId", 0))
        if oid and OrderKey.of(oid).instrument != instrument:
            continue
        _apply(book, event.name, event.fields, oid, instrument)
    return book


def _apply(book: Book, name: str, e: dict[str, Any], oid: int, instrument: int) -> None:
    orders = book.orders
    if name == "OrderPlaced" and oid:
        orders[oid] = OrderState(str(e["owner"]), OrderKey.of(oid), int(e["feeBps"]), int(e["rested"]),
                                 position=oid & 0xFFFFFFFF)
    elif name == "OrderFilled":
        o = orders[oid]
        o.remaining -= int(e["lots"])
        o.filled += int(e["lots"])
    elif name == "OrderSuspended":
        orders[oid].suspended = True
    elif name == "OrderCancelled":
        del orders[oid]
    elif name == "OrderClaimed" and oid in orders:  # after OrderCancelled: the fills paid with the cancellation
        o = orders[oid]
        o.filled -= int(e["lots"]) if not o.key.call_round else 0
        if o.key.call_round or (o.remaining == 0 and not o.suspended):
            del orders[oid]
    elif name == "LevelWithdrawn" and int(e["instrument"]) == instrument:
        for o in orders.values():
            if (not o.key.call_round and o.key.side == int(e["side"]) and o.key.tick == int(e["tick"])
                    and int(e["head"]) <= o.position < int(e["tail"])):
                o.withdrawn = True
    elif name == "CallCleared" and int(e["instrument"]) == instrument:
        book.cleared[int(e["round"])] = e
