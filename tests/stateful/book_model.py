"""A Python model of one instrument of the market, written from the rules in README and IMarket, not from the
contract's code paths: price-time matching with a bound on the resting orders touched, self-match expiry, frozen
makers suspended, makers claiming, call auctions cleared by the independent `clear_call`, and the escrow and
liabilities every open order stands for."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from carbon_market.market import CallOrder, Phase, Side, band, buy_escrow, clear_call, fee_per_lot

#: ``OrderBook.MAX_SKIPS``: cancelled or suspended slots one taker skips at one level
MAX_SKIPS = 100


@dataclass
class Order:
    owner: Any
    side: Side
    tick: int
    lots: int  # entered (call) or resting at placement (continuous)
    fee_bps: int
    remaining: int = 0
    filled: int = 0  # continuous: filled and not yet claimed
    suspended: bool = False
    call_round: int = 0  # 0: continuous
    withdrawn: bool = False  # its level left the book outside the day's limits; it waits for its owner


@dataclass
class Auction:
    orders: list[int] = field(default_factory=list)  # ids in entry order
    cleared: bool = False
    price_tick: int = 0
    fills: dict[int, int] = field(default_factory=dict)


@dataclass
class Placement:
    """What a placement does: fills against resting orders, suspensions, what rests and what the taker moves."""

    fills: list[tuple[int, int, int]] = field(default_factory=list)  # (order id, tick, lots)
    suspended: list[int] = field(default_factory=list)
    filled: int = 0
    rested: int = 0
    money: int = 0  # the fills' value
    fee: int = 0  # the taker's fee on them
    last_tick: int = 0


class BookModel:
    def __init__(self, tick_size: int, lot_size: int, reference_tick: int, band_bps: int,
                 call_min_traders: int = 2) -> None:
        self.tick_size, self.lot_size, self.band_bps = tick_size, lot_size, band_bps
        self.call_min_traders = call_min_traders
        self.reference = self.last = reference_tick
        self.phase = Phase.CONTINUOUS
        self.round = 1
        self.orders: dict[int, Order] = {}
        self.queues: dict[tuple[Side, int], deque[int]] = {}
        self.auctions: dict[int, Auction] = {1: Auction()}
        self.fees = 0
        #: orders whose state the last operations changed (the machine checks them against the chain and clears it)
        self.touched: set[int] = set()

    # ------------------------------------------------------------ the continuous book

    def price(self, tick: int) -> int:
        return tick * self.tick_size

    def limits(self) -> tuple[int, int]:
        return band(self.reference, self.band_bps)

    def live(self, oid: int) -> bool:
        o = self.orders.get(oid)
        return o is not None and o.remaining > 0 and not o.suspended and not o.withdrawn and not o.call_round

    def level_lots(self, side: Side, tick: int) -> int:
        return sum(self.orders[i].remaining for i in self.queues.get((side, tick), ()) if self.live(i))

    def best(self, side: Side) -> int:
        ticks = [t for (s, t) in self.queues if s == side and self.level_lots(s, t)]
        if not ticks:
            return 0
        return max(ticks) if side == Side.BUY else min(ticks)

    def tradable_best(self, side: Side) -> int:
        """The best price that can trade today: levels outside the limits do not count."""
        low, high = self.limits()
        ticks = [t for (s, t) in self.queues if s == side and low <= t <= high and self.level_lots(s, t)]
        return (max(ticks) if side == Side.BUY else min(ticks)) if ticks else 0

    def head(self, side: Side, tick: int) -> Any:
        """The owner of the first live order at a price level."""
        return next(self.orders[i].owner for i in self.queues[side, tick] if self.live(i))

    def crosses(self, side: Side, tick: int) -> bool:
        other = self.best(Side(1 - side))
        return other != 0 and (other <= tick if side == Side.BUY else other >= tick)

    def match(self, taker: Any, side: Side, limit: int, lots: int, max_fills: int, fee_bps: int,
              active: Any) -> tuple[Placement, bool]:
        """Match an incoming order (mutating the model); returns the outcome and whether it met its owner's."""
        out, left, touched, self_match = Placement(), lots, 0, False
        maker = Side(1 - side)
        low, high = self.limits()
        while left and touched < max_fills:
            best = self.best(maker)
            if not best or (best > limit if side == Side.BUY else best < limit):
                break
            queue = self.queues[maker, best]
            if not low <= best <= high:  # a level outside the day's limits leaves the book: one order touched
                touched += 1
                for oid in queue:
                    if self.live(oid):
                        self.orders[oid].withdrawn = True
                        self.touched.add(oid)
                queue.clear()
                continue
            level_fill = 0
            skipped = 0
            while queue and left and touched < max_fills and skipped < MAX_SKIPS:
                oid = queue[0]
                o = self.orders.get(oid)
                if not self.live(oid):  # a cancelled slot: skipped, not counted as touched
                    queue.popleft()
                    skipped += 1
                    continue
                touched += 1
                self.touched.add(oid)
                if o.owner == taker:
                    self_match = True
                    break
                if not active(o.owner):
                    o.suspended = True
                    queue.popleft()
                    out.suspended.append(oid)
                    continue
                q = min(o.remaining, left)
                o.remaining -= q
                o.filled += q
                left -= q
                level_fill += q
                out.fills.append((oid, best, q))
                if o.remaining == 0:
                    queue.popleft()
            if level_fill:
                out.money += level_fill * self.price(best)
                out.fee += level_fill * fee_per_lot(self.price(best), fee_bps)
                out.last_tick = best
            if self_match or self.level_lots(maker, best):
                break
            queue.clear()
        out.filled = lots - left
        return out, self_match

    def place(self, oid: int | None, taker: Any, side: Side, tick: int, lots: int, ioc: bool, max_fills: int,
              fee_bps: int, active: Any) -> Placement:
        """A continuous placement; rests under ``oid`` what may rest (the caller learns the id from the chain)."""
        out, self_match = self.match(taker, side, tick, lots, max_fills, fee_bps, active)
        left = lots - out.filled
        if not ioc and not self_match and left and not self.crosses(side, tick):
            out.rested = left
        if out.last_tick:
            self.last = out.last_tick
        self.fees += out.fee
        return out

    def rest(self, oid: int, owner: Any, side: Side, tick: int, lots: int, fee_bps: int) -> None:
        self.orders[oid] = Order(owner, side, tick, lots, fee_bps, remaining=lots)
        self.touched.add(oid)
        self.queues.setdefault((side, tick), deque()).append(oid)

    def taker_moves(self, side: Side, tick: int, out: Placement, fee_bps: int) -> tuple[int, int]:
        """The taker's (money, units) change."""
        if side == Side.BUY:
            pay = out.money + out.fee + buy_escrow(self.price(tick), out.rested, fee_bps)
            return -pay, out.filled * self.lot_size
        return out.money - out.fee, -(out.filled + out.rested) * self.lot_size

    # ------------------------------------------------------------ call auctions

    def enter_call(self, oid: int, owner: Any, side: Side, tick: int, lots: int, fee_bps: int) -> None:
        self.orders[oid] = Order(owner, side, tick, lots, fee_bps, remaining=lots, call_round=self.round)
        self.touched.add(oid)
        self.auctions[self.round].orders.append(oid)

    def call_side(self, owner: Any) -> Side | None:
        """The side ``owner`` has orders on in the current call (one side per owner and round), if any."""
        return next((self.orders[i].side for i in self.auctions[self.round].orders
                     if self.orders[i].owner == owner), None)

    def clear(self) -> tuple[int, int]:
        """Clear the current call; returns (price tick, volume). Its price becomes the reference only when at least
        ``call_min_traders`` distinct owners entered (and stayed) on each side."""
        auction = self.auctions[self.round]
        entered = [self.orders[i] for i in auction.orders]
        result = clear_call([CallOrder(o.side, o.tick, o.remaining) for o in entered], self.reference)
        auction.cleared, auction.price_tick = True, result.price_tick
        auction.fills = dict(zip(auction.orders, result.fills))
        self.touched.update(auction.orders)
        owners = {side: {o.owner for o in entered if o.side == side} for side in Side}
        if result.volume and min(len(owners[Side.BUY]), len(owners[Side.SELL])) >= self.call_min_traders:
            self.reference = self.last = result.price_tick
        self.round += 1
        self.auctions[self.round] = Auction()
        self.phase = Phase.CONTINUOUS
        return result.price_tick, result.volume

    # ------------------------------------------------------------ claims and cancellations

    def payout(self, oid: int) -> tuple[int, int, int, int]:
        """What claiming ``oid`` now pays its owner: (lots executed, money, units, fee)."""
        o = self.orders[oid]
        if o.call_round:
            auction = self.auctions[o.call_round]
            fill = auction.fills[oid]
            clearing = self.price(auction.price_tick)
            fee = fill * fee_per_lot(clearing, o.fee_bps)
            if o.side == Side.BUY:
                money = buy_escrow(self.price(o.tick), o.remaining, o.fee_bps) - fill * clearing - fee
                return fill, money, fill * self.lot_size, fee
            return fill, fill * clearing - fee, (o.remaining - fill) * self.lot_size, fee
        price = self.price(o.tick)
        fee = o.filled * fee_per_lot(price, o.fee_bps)
        if o.side == Side.SELL:
            return o.filled, o.filled * price - fee, 0, fee
        return o.filled, 0, o.filled * self.lot_size, fee

    def claim(self, oid: int) -> tuple[int, int, int, int]:
        self.touched.add(oid)
        paid = self.payout(oid)
        o = self.orders[oid]
        self.fees += paid[3]
        if o.call_round or (o.remaining == 0 and not o.suspended):
            del self.orders[oid]
        else:
            o.filled = 0
        return paid

    def cancel(self, oid: int) -> tuple[int, int]:
        """Cancel a continuous or collecting call order; returns what its owner receives (money, units)."""
        o = self.orders[oid]
        self.touched.add(oid)
        if o.call_round:
            self.auctions[o.call_round].orders.remove(oid)
            del self.orders[oid]
            return self._escrow_of(o)
        _, money, units, fee = self.payout(oid)
        self.fees += fee
        was_live = self.live(oid)
        del self.orders[oid]
        if was_live and not self.level_lots(o.side, o.tick):
            self.queues[o.side, o.tick].clear()
        escrow = self._escrow_of(o)
        return money + escrow[0], units + escrow[1]

    def _escrow_of(self, o: Order) -> tuple[int, int]:
        if o.side == Side.BUY:
            return buy_escrow(self.price(o.tick), o.remaining, o.fee_bps), 0
        return 0, o.remaining * self.lot_size

    # ------------------------------------------------------------ invariants

    def holdings(self) -> tuple[int, int]:
        """What the market must hold: every open order's escrow and unclaimed proceeds, and the accrued fees."""
        money, units = self.fees, 0
        for oid, o in self.orders.items():
            if o.call_round and self.auctions[o.call_round].cleared:
                _, m, u, f = self.payout(oid)
                money, units = money + m + f, units + u
            else:
                m, u = self._escrow_of(o)
                _, pm, pu, pf = (0, 0, 0, 0) if o.call_round else self.payout(oid)
                money, units = money + m + pm + pf, units + u + pu
        return money, units

    def snapshot(self) -> BookModel:
        return copy.deepcopy(self)
