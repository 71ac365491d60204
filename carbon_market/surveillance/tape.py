"""The market as its events describe it, for the detectors: who is who (identity documents, declared groups,
roles), every order and its fate, every trade with its buyer and seller (continuous fills, call executions, block
trades), the references and limits, holdings of every token, and each enterprise's compliance obligation.

Pure: a :class:`Tape` is built from decoded events (:class:`carbon_market.codec.Event`) in chain order and the
timestamps of their blocks; nothing here reads the chain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from carbon_market.codec import Event
from carbon_market.history import OrderKey
from carbon_market.ids import Kind, decode
from carbon_market.market import Side, trading_day
from carbon_market.roles import Role

ZERO = "0x" + "0" * 40
NO_GROUP = b"\0" * 32
#: the market's price band unless its parameters say otherwise (``IMarket.Params.bandBps``)
DEFAULT_BAND_BPS = 1_000


@dataclass(frozen=True)
class Ref:
    """Where an event is on the chain: the evidence of an alert."""

    block: int
    tx: str
    log_index: int
    event: str

    @classmethod
    def of(cls, e: Event) -> Ref:
        return cls(e.block, e.tx, e.log_index, f"{e.contract}.{e.name}")


@dataclass
class Order:
    id: int
    owner: str
    instrument: int
    side: Side
    price: int  # money units per lot
    lots: int
    time: int
    ref: Ref
    call_round: int = 0
    filled: int = 0
    cancelled: Ref | None = None
    cancel_time: int = 0
    left: int = 0  # lots resting now (continuous orders)
    #: the book's best bid and ask (ticks; 0: none) right after the order was entered, and when it was withdrawn
    best_placed: tuple[int, int] = (0, 0)
    best_cancelled: tuple[int, int] = (0, 0)

    @property
    def tick(self) -> int:
        return OrderKey.of(self.id).tick if self.id else 0


@dataclass(frozen=True)
class Trade:
    instrument: int
    time: int
    block: int
    buyer: str
    seller: str
    price: int  # money units per lot
    lots: int
    kind: str  # "continuous", "call" or "block"
    ref: Ref
    aggressor: str = ""  # the taker of a continuous fill


@dataclass
class Instrument:
    number: int
    token: int
    lot: int
    tick: int
    #: (time, reference tick) in the order the references were set (listing, a new day, a call's clearing)
    references: list[tuple[int, int]] = field(default_factory=list)
    position_limit: int = 0  # units; 0: none
    limit_set: Ref | None = None

    def reference_at(self, time: int) -> int:
        ticks = [tick for at, tick in self.references if at <= time]
        return ticks[-1] if ticks else (self.references[0][1] if self.references else 0)


@dataclass
class Obligation:
    """An enterprise's year as compliance's events say it: what it must surrender and what it has."""

    year: int
    enterprise: str
    emissions: int = 0
    finalized: bool = False
    surrendered: int = 0
    settled: bool = False
    ref: Ref | None = None


class Tape:
    """Everything the detectors read, built from a chain-ordered event list (see :meth:`build`)."""

    def __init__(self, times: dict[int, int]) -> None:
        self.times = times  # block -> timestamp
        self.identity: dict[str, bytes] = {}
        self.groups: dict[str, bytes] = {}
        self.roles: dict[str, int] = {}
        self.instruments: dict[int, Instrument] = {}
        self.orders: dict[int, Order] = {}
        self.placements: list[Order] = []  # every order entered, those with nothing resting included
        self.trades: list[Trade] = []
        self.calls: dict[tuple[int, int], list[Order]] = defaultdict(list)  # (instrument, round) -> its orders
        self.cleared: dict[tuple[int, int], tuple[int, int, Ref]] = {}  # (instrument, round) -> (tick, time, ref)
        self.balances: dict[tuple[str, int], int] = defaultdict(int)  # (holder, token id) -> units
        self.supply: dict[int, int] = defaultdict(int)
        #: the latest transfers that built each holding (the evidence of a position)
        self.moves: dict[tuple[str, int], list[Ref]] = defaultdict(list)
        self.band_bps = DEFAULT_BAND_BPS
        #: the continuous book's resting lots per (instrument, side) and price tick
        self.levels: dict[tuple[int, Side], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.deadlines: dict[int, int] = {}  # year -> deadline
        self.obligations: dict[tuple[int, str], Obligation] = {}
        self.events = 0
        self._open_buys: dict[tuple[str, int], int] | None = None  # derived once the tape is built

    def time_of(self, block: int) -> int:
        return self.times.get(block, 0)

    # -- who is who ------------------------------------------------------------------------------------------

    def owner_key(self, account: str) -> tuple[bytes | None, bytes | None]:
        """The beneficial owner of an account: its identity documents' hash and its declared group."""
        account = account.lower()
        group = self.groups.get(account)
        return self.identity.get(account), group if group and group != NO_GROUP else None

    def same_owner(self, a: str, b: str) -> str:
        """Why ``a`` and ``b`` are one beneficial owner ("identity", "group"), or "" if nothing says so."""
        if a.lower() == b.lower():
            return "self"
        (ia, ga), (ib, gb) = self.owner_key(a), self.owner_key(b)
        if ga is not None and ga == gb:
            return "group"
        if ia is not None and ia == ib:
            return "identity"
        return ""

    def is_system(self, account: str) -> bool:
        return bool(self.roles.get(account.lower(), 0) & Role.SYSTEM)

    def has_role(self, account: str, role: Role) -> bool:
        return bool(self.roles.get(account.lower(), 0) & role)

    def best(self, instrument: int) -> tuple[int, int]:
        """The best bid and ask of an instrument's continuous book now (ticks; 0 where a side is empty)."""
        bids = [t for t, lots in self.levels[(instrument, Side.BUY)].items() if lots > 0]
        asks = [t for t, lots in self.levels[(instrument, Side.SELL)].items() if lots > 0]
        return max(bids, default=0), min(asks, default=0)

    def rest(self, order: Order, lots: int) -> None:
        """Add (or, negative, take) resting lots of a continuous order to its level."""
        if order.id and not order.call_round and lots:
            self.levels[(order.instrument, order.side)][order.tick] += lots

    def open_buy_lots(self, account: str, instrument: int) -> int:
        """Lots an account's continuous buy orders still have resting (summed once for every account)."""
        if self._open_buys is None:
            self._open_buys = defaultdict(int)
            for o in self.orders.values():
                if o.side == Side.BUY and not o.call_round and o.left:
                    self._open_buys[(o.owner, o.instrument)] += o.left
        return self._open_buys.get((account.lower(), instrument), 0)

    # -- building --------------------------------------------------------------------------------------------

    @classmethod
    def build(cls, events: Iterable[Event], times: dict[int, int]) -> Tape:
        tape = cls(times)
        for e in events:
            tape.events += 1
            handler = _HANDLERS.get(e.name)
            if handler is not None:
                handler(tape, e)
        return tape


def _lower(value: Any) -> str:
    return str(value).lower()


def _onboarded(t: Tape, e: Event) -> None:
    account = _lower(e.fields["account"])
    t.identity[account] = bytes(e.fields["identityHash"])
    t.roles[account] = int(e.fields["roles"])


def _group(t: Tape, e: Event) -> None:
    t.groups[_lower(e.fields["account"])] = bytes(e.fields["group"])


def _listed(t: Tape, e: Event) -> None:
    f = e.fields
    number = int(f["instrument"])
    t.instruments[number] = Instrument(number, int(f["tokenId"]), int(f["lotSize"]), int(f["tickSize"]),
                                       [(t.time_of(e.block), int(f["referenceTick"]))])


def _rolled(t: Tape, e: Event) -> None:
    t.instruments[int(e.fields["instrument"])].references.append((t.time_of(e.block), int(e.fields["referenceTick"])))


def _placed(t: Tape, e: Event) -> None:
    f = e.fields
    instrument, order_id = int(f["instrument"]), int(f["orderId"])
    key = OrderKey.of(order_id) if order_id else None
    order = Order(order_id, _lower(f["owner"]), instrument, Side(int(f["side"])), int(f["price"]), int(f["lots"]),
                  t.time_of(e.block), Ref.of(e), key.call_round if key else 0, filled=int(f["filled"]),
                  left=int(f["rested"]))
    t.placements.append(order)
    if order_id:
        t.orders[order_id] = order
        if order.call_round:
            t.calls[(instrument, order.call_round)].append(order)
        t.rest(order, order.left)
        order.best_placed = t.best(instrument)


def _filled(t: Tape, e: Event) -> None:
    f = e.fields
    maker = t.orders.get(int(f["orderId"]))
    if maker is None:
        return
    lots, taker = int(f["lots"]), _lower(f["taker"])
    maker.filled += lots
    maker.left -= lots
    t.rest(maker, -lots)
    buyer, seller = (taker, maker.owner) if maker.side == Side.SELL else (maker.owner, taker)
    t.trades.append(Trade(maker.instrument, t.time_of(e.block), e.block, buyer, seller, int(f["price"]), lots,
                          "continuous", Ref.of(e), taker))


def _gone(t: Tape, e: Event) -> None:
    order = t.orders.get(int(e.fields["orderId"]))
    if order is not None:
        t.rest(order, -order.left)
        order.left = 0
        if e.name == "OrderCancelled":
            order.cancelled, order.cancel_time = Ref.of(e), t.time_of(e.block)
            order.best_cancelled = t.best(order.instrument)


def _withdrawn(t: Tape, e: Event) -> None:
    """A level outside the day's limits left the book (its orders wait for their owners, out of the book)."""
    f = e.fields
    t.levels[(int(f["instrument"]), Side(int(f["side"])))][int(f["tick"])] = 0
    for order in t.orders.values():
        if order.instrument == int(f["instrument"]) and order.side == int(f["side"]) and order.tick == int(f["tick"]) \
                and not order.call_round and int(f["head"]) <= (order.id & 0xFFFFFFFF) < int(f["tail"]):
            order.left = 0


def _claimed(t: Tape, e: Event) -> None:
    order = t.orders.get(int(e.fields["orderId"]))
    lots = int(e.fields["lots"])
    if order is None or not order.call_round or not lots:
        return
    order.filled += lots
    tick, _, _ = t.cleared.get((order.instrument, order.call_round), (0, 0, None))
    instrument = t.instruments[order.instrument]
    buyer, seller = (order.owner, "") if order.side == Side.BUY else ("", order.owner)
    t.trades.append(Trade(order.instrument, t.time_of(e.block), e.block, buyer, seller, tick * instrument.tick, lots,
                          "call", Ref.of(e)))


def _cleared(t: Tape, e: Event) -> None:
    f = e.fields
    key, tick = (int(f["instrument"]), int(f["round"])), int(f["priceTick"])
    t.cleared[key] = (tick, t.time_of(e.block), Ref.of(e))
    if int(f["volume"]):
        t.instruments[key[0]].references.append((t.time_of(e.block), tick))


def _block(t: Tape, e: Event) -> None:
    f = e.fields
    t.trades.append(Trade(int(f["instrument"]), t.time_of(e.block), e.block, _lower(f["buyer"]), _lower(f["seller"]),
                          int(f["price"]), int(f["lots"]), "block", Ref.of(e)))


def _params(t: Tape, e: Event) -> None:
    current = e.fields["current"]
    t.band_bps = int(current["bandBps"] if isinstance(current, dict) else current[1])


def _limit(t: Tape, e: Event) -> None:
    instrument = t.instruments[int(e.fields["instrument"])]
    instrument.position_limit, instrument.limit_set = int(e.fields["current"]), Ref.of(e)


#: transfers kept per holding as its evidence
MOVES_KEPT = 20


def _move(t: Tape, sender: str, receiver: str, token: int, amount: int, ref: Ref) -> None:
    for holder, sign in ((sender, -1), (receiver, 1)):
        if holder == ZERO:
            t.supply[token] -= sign * amount
            continue
        t.balances[(holder, token)] += sign * amount
        moves = t.moves[(holder, token)]
        moves.append(ref)
        del moves[:-MOVES_KEPT]


def _transfer(t: Tape, e: Event) -> None:
    f = e.fields
    _move(t, _lower(f["from"]), _lower(f["to"]), int(f["id"]), int(f["value"]), Ref.of(e))


def _transfers(t: Tape, e: Event) -> None:
    f = e.fields
    for token, amount in zip(f["ids"], f["values"]):
        _move(t, _lower(f["from"]), _lower(f["to"]), int(token), int(amount), Ref.of(e))


def _year(t: Tape, e: Event) -> None:
    rules = e.fields["rules"]
    t.deadlines[int(e.fields["year"])] = int(rules["deadline"] if isinstance(rules, dict) else rules[3])


def _obligation(t: Tape, e: Event) -> Obligation:
    key = (int(e.fields["year"]), _lower(e.fields["enterprise"]))
    return t.obligations.setdefault(key, Obligation(*key))


def _finalized(t: Tape, e: Event) -> None:
    record = _obligation(t, e)
    record.emissions, record.finalized, record.ref = int(e.fields["emissions"]), True, Ref.of(e)


def _surrendered(t: Tape, e: Event) -> None:
    _obligation(t, e).surrendered += int(e.fields["amount"])


def _settled(t: Tape, e: Event) -> None:
    _obligation(t, e).settled = True


_HANDLERS = {
    "ParticipantOnboarded": _onboarded, "ParticipantUpdated": _onboarded, "GroupDeclared": _group,
    "LevelWithdrawn": _withdrawn, "InstrumentListed": _listed, "ReferenceRolled": _rolled, "OrderPlaced": _placed,
    "OrderFilled": _filled,
    "OrderCancelled": _gone, "OrderReturned": _gone, "OrderRecovered": _gone, "OrderSuspended": _gone,
    "OrderClaimed": _claimed, "CallCleared": _cleared, "BlockTraded": _block, "ParamsChanged": _params,
    "PositionLimitChanged": _limit, "TransferSingle": _transfer, "TransferBatch": _transfers,
    "YearOpened": _year, "ReportFinalized": _finalized, "UnitsSurrendered": _surrendered,
    "EnterpriseSettled": _settled,
}


def is_allowance(token: int) -> bool:
    return decode(token).kind is Kind.ALLOWANCE


def day_of(time: int) -> int:
    return trading_day(time)
