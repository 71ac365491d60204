"""The market from Python: enums and formulas that mirror ``Market.sol``, an independent call-auction clearing,
and the set-up a trader needs (approvals).

The call-auction rules (``CallAuction.sol``): the clearing price is the limit price that executes the most lots;
ties go to the smaller imbalance; then, with more demand than supply, to the highest such price, with more supply
to the lowest, and between one of each (or among balanced prices) to the price closer to the reference, then the
lower. The longer side is rationed at that price by time priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

BPS = 10_000
#: ``maxFills`` that places no practical bound on one placement's matching
MANY_FILLS = 1_000
#: the highest fee rate the market's rules allow (``MarketParams``): as a placement's ``maxFeeBps``, no bound
FEE_CAP_BPS = 1_000
#: default listing: 1 t per lot, 0.01 currency unit per tick (6 decimals)
LOT_SIZE = 1
TICK_SIZE = 10_000


class Side(IntEnum):
    BUY = 0
    SELL = 1


#: ``MarketIds``: an order id is ``level key << 32 | position in the level's queue``, a level key
#: ``call << 89 | instrument << 57 | round << 25 | side << 24 | tick`` (continuous orders: call and round 0)
CALL_BIT = 89


def call_order_id(instrument: int, round_: int, side: int, tick: int, position: int) -> int:
    """The id of the call order queued ``position``-th (from 0) on ``side`` at ``tick`` in call ``round_``."""
    key = (1 << CALL_BIT) | (instrument << 57) | (round_ << 25) | (int(side) << 24) | tick
    return (key << 32) | position


class Phase(IntEnum):
    CONTINUOUS = 0
    CALL = 1
    CLEARING = 2


def max_fills_in(phase: int) -> int:
    """The ``maxFills`` a placement passes in ``phase``: 0 in a call phase, where a bound means nothing and is
    refused (``Market__CallOrderFlags``), else one that places no practical bound."""
    return 0 if phase == Phase.CALL else MANY_FILLS


def fee_per_lot(price: int, fee_bps: int) -> int:
    """``MarketMath.feePerLot``: the fee of one lot, rounded down."""
    return price * fee_bps // BPS


def band(reference_tick: int, band_bps: int) -> tuple[int, int]:
    """``MarketMath.band``: the lowest and highest tick within ``band_bps`` of the reference."""
    low = -(-reference_tick * (BPS - band_bps) // BPS)
    high = reference_tick * (BPS + band_bps) // BPS
    return max(low, 1), min(high, 2**24 - 1)


#: ``MarketIds``: trading days are China Standard Time days
DAY_OFFSET = 8 * 3_600
#: when a simulated trading session opens, in seconds into the trading day: 09:30, as China's exchanges
SESSION_OPEN = 9 * 3_600 + 30 * 60


def trading_day(timestamp: int) -> int:
    """``MarketMath.tradingDay``."""
    return (timestamp + DAY_OFFSET) // 86_400


def session_open(day: int) -> int:
    """The timestamp at which the simulations open trading day ``day``'s session (:data:`SESSION_OPEN`)."""
    return day * 86_400 - DAY_OFFSET + SESSION_OPEN


def session_close(day: int) -> int:
    """The timestamp at which trading day ``day`` ends (midnight, China Standard Time: the close sets the next
    day's reference)."""
    return (day + 1) * 86_400 - DAY_OFFSET


def limits(instrument: Any, band_bps: int, timestamp: int) -> tuple[int, int]:
    """An instrument's price limits in ticks at ``timestamp``: the band around the day's reference, which is the
    last price once a new trading day has begun (``MarketMath.referenceTick``). ``instrument`` is the market's
    ``instrument(i)`` record, ``band_bps`` its parameters' ``bandBps``."""
    same_day = int(instrument["day"]) == trading_day(timestamp)
    reference = int(instrument["referenceTick"] if same_day else instrument["lastTick"])
    return band(reference, band_bps)


#: the fields of ``IMarket.Params``, in order
PARAMS = ("feeBps", "bandBps", "blockBandBps", "blockMinLots", "lowestTierMaxLots", "blockMinTier", "tierDiscountBps",
          "callMinTraders")


def params_with(market: Any, **changes: Any) -> tuple:
    """The market's parameters as ``setParams`` takes them, with ``changes`` (by field name) applied."""
    current = dict(zip(PARAMS, market.params()))
    unknown = set(changes) - set(PARAMS)
    if unknown:
        raise ValueError(f"unknown market parameters: {', '.join(sorted(unknown))}")
    current.update(changes)
    return tuple(current[name] for name in PARAMS)


def buy_escrow(price: int, lots: int, fee_bps: int) -> int:
    """Money a resting or call buy order of ``lots`` at ``price`` holds in escrow."""
    return lots * (price + fee_per_lot(price, fee_bps))


@dataclass(frozen=True)
class CallOrder:
    """An order of a call auction, in the order it was entered."""

    side: Side
    tick: int
    lots: int


@dataclass(frozen=True)
class Clearing:
    price_tick: int
    volume: int
    fills: tuple[int, ...]


def clear_call(orders: Sequence[CallOrder], reference_tick: int) -> Clearing:
    """Clear a call auction by brute force over every limit price (independent of the contract's walk)."""
    table = []
    for tick in sorted({o.tick for o in orders}):
        demand = sum(o.lots for o in orders if o.side == Side.BUY and o.tick >= tick)
        supply = sum(o.lots for o in orders if o.side == Side.SELL and o.tick <= tick)
        if min(demand, supply):
            table.append((tick, min(demand, supply), demand - supply))
    if not table:
        return Clearing(0, 0, tuple(0 for _ in orders))
    price, volume = choose_price(table, reference_tick)
    return Clearing(price, volume, tuple(_fills(orders, price, volume)))


def choose_price(table: Sequence[tuple[int, int, int]], reference_tick: int) -> tuple[int, int]:
    """The call's price and volume from its (tick, volume, demand - supply) rows with some volume: the most volume,
    then the least imbalance, then the side rules, then the nearest the reference (then the lower)."""
    volume = max(v for _, v, _ in table)
    imbalance = min(abs(d) for _, v, d in table if v == volume)
    tied = [(t, d) for t, v, d in table if v == volume and abs(d) == imbalance]
    candidates = [t for t, d in tied if d == 0]
    if imbalance:
        candidates = [max(t for t, d in tied if d > 0)] if any(d > 0 for _, d in tied) else []
        candidates += [min(t for t, d in tied if d < 0)] if any(d < 0 for _, d in tied) else []
    return min(candidates, key=lambda t: (abs(t - reference_tick), t)), volume


def _fills(orders: Sequence[CallOrder], price: int, volume: int) -> list[int]:
    """Each order's fill: better than the price in full; at the price by time priority until volume is used."""
    fills = []
    left = {Side.BUY: volume, Side.SELL: volume}
    better = {Side.BUY: lambda t: t > price, Side.SELL: lambda t: t < price}
    for o in orders:  # better-priced orders first, whatever their time
        if better[o.side](o.tick):
            left[o.side] -= o.lots
    for o in orders:
        if better[o.side](o.tick):
            fills.append(o.lots)
        elif o.tick == price:
            take = min(o.lots, left[o.side])
            left[o.side] -= take
            fills.append(take)
        else:
            fills.append(0)
    return fills
