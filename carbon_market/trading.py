"""Scripted market operations: open an instrument for trading, place and cancel orders, run a call auction, claim,
propose and accept block trades, and read what happened from the events. The demo uses them; each returns what the
chain reports, not what was asked for.

Opening is safe to re-run: an exchange already appointed, an instrument already listed and approvals already
given are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from carbon_market import bulk
from carbon_market.market import Phase, Side, approve, max_fills_in
from carbon_market.suite import Suite, appoint_exchange

#: clearing steps per transaction when a script closes a call (2,000 orders clear in two such transactions)
CLEARING_STEPS = 1_000


@dataclass(frozen=True)
class Fill:
    """One resting order filled by a taker, at the resting order's price (money units per lot)."""

    order_id: int
    taker: str
    price: int
    lots: int


@dataclass(frozen=True)
class Placed:
    order_id: int  # 0 when nothing rests
    filled: int
    rested: int
    expired: int
    fills: tuple[Fill, ...]


@dataclass(frozen=True)
class Cleared:
    """A call auction's result: one price (money units per lot) for every execution."""

    round: int
    price: int
    volume: int
    rationed: Side | None
    transactions: int


def find_instrument(suite: Suite, token_id: int) -> int:
    """The instrument number of a listed token id, or 0."""
    market = suite.market
    numbers = range(1, int(market.instrumentCount()) + 1)
    listed = bulk.read([(market.instrument, n) for n in numbers])
    return next((n for n, ins in zip(numbers, listed) if int(ins[0]) == token_id), 0)


def open_instrument(suite: Suite, regulator: Any, exchange: Any, token_id: int, *, lot_size: int, tick_size: int,
                    reference_price: int, traders: Iterable[Any] = ()) -> int:
    """Appoint the exchange, list ``token_id`` (unless listed) and let ``traders`` use the market and the block
    desk; returns the instrument number."""
    appoint_exchange(suite, regulator, exchange)
    number = find_instrument(suite, token_id)
    if not number:
        tx = suite.market.list(token_id, lot_size, tick_size, reference_price, {"from": exchange})
        number = int(tx.events["InstrumentListed"]["instrument"])
    for trader in traders:
        approve(suite, trader)
    return number


def fills(tx: Any) -> tuple[Fill, ...]:
    """The resting orders a transaction filled."""
    if "OrderFilled" not in tx.events:
        return ()
    return tuple(Fill(int(e["orderId"]), str(e["taker"]), int(e["price"]), int(e["lots"]))
                 for e in tx.events["OrderFilled"])


def place(suite: Suite, trader: Any, instrument: int, side: Side, price: int, lots: int, *,
          immediate_or_cancel: bool = False, max_fills: int | None = None,
          max_fee_bps: int | None = None) -> Placed:
    """Enter a limit order (in a call phase it joins the call, unbounded); ``max_fills`` defaults to no practical
    bound in the continuous phase, ``max_fee_bps`` to the trader's fee rate now (a fee raised before the order
    lands refuses it instead of charging more)."""
    if max_fills is None:
        max_fills = max_fills_in(suite.market.instrument(instrument)["phase"])
    if max_fee_bps is None:
        max_fee_bps = int(suite.market.feeRateOf(trader))
    tx = suite.market.place(instrument, side, price, lots, immediate_or_cancel, max_fills, max_fee_bps,
                            {"from": trader})
    e = tx.events["OrderPlaced"]
    filled, rested = int(e["filled"]), int(e["rested"])
    return Placed(int(e["orderId"]), filled, rested, lots - filled - rested, fills(tx))


def cancel(suite: Suite, trader: Any, order_id: int) -> int:
    """Cancel an order of ``trader``'s; returns the lots that were still resting."""
    tx = suite.market.cancel(order_id, {"from": trader})
    return int(tx.events["OrderCancelled"]["remaining"]) if "OrderCancelled" in tx.events else 0


def claim(suite: Suite, caller: Any, orders_by_owner: Mapping[Any, Sequence[int]]) -> list[Any]:
    """Claim every listed order's fills for its owner (one transaction per owner with something to claim)."""
    market, txs = suite.market, []
    for orders in orders_by_owner.values():
        owners = bulk.read([(market.order, i) for i in orders])
        open_ids = [i for i, o in zip(orders, owners) if int(str(o[0]), 16) != 0]  # not yet claimed in full
        if open_ids:
            txs.append(market.claim(open_ids, {"from": caller}))
    return txs


def run_call(suite: Suite, exchange: Any, instrument: int, steps: int = CLEARING_STEPS) -> Cleared:
    """Close the instrument's open call and clear it, in as many transactions of ``steps`` steps as it takes."""
    market = suite.market
    round_ = int(market.instrument(instrument)["round"])
    txs = [market.closeCall(instrument, steps, {"from": exchange})]
    while int(market.instrument(instrument)["phase"]) == Phase.CLEARING:
        txs.append(market.advanceClearing(instrument, steps, {"from": exchange}))
    e = txs[-1].events["CallCleared"]
    tick_size = int(market.instrument(instrument)["tickSize"])
    rationed = Side(int(e["rationed"])) if e["rationing"] else None
    return Cleared(round_, int(e["priceTick"]) * tick_size, int(e["volume"]), rationed, len(txs))


def propose_block(suite: Suite, proposer: Any, counterparty: Any, instrument: int, side: Side, lots: int,
                  price: int, expiry: int) -> int:
    """Propose a block trade; returns its id."""
    tx = suite.desk.propose(instrument, counterparty, side, lots, price, expiry, {"from": proposer})
    return int(tx.events["BlockProposed"]["blockId"])


def accept_block(suite: Suite, counterparty: Any, block_id: int) -> dict[str, Any]:
    """Accept a block trade; returns the ``BlockTraded`` event's fields."""
    tx = suite.desk.accept(block_id, {"from": counterparty})
    return dict(tx.events["BlockTraded"])
