"""Market quality with zero-intelligence traders (Gode and Sunder, 1993): buyers and sellers with generated unit
values and costs trade one allowance at a time through the real market, each bidding at random but never above
the value of the unit it is buying (never asking below the cost of the unit it is selling). Allocative efficiency
is the surplus their trades realise over the most the schedules allow; with budget constraints alone, the
market's rules are what brings it close to 100%.

Two institutions: the continuous book (traders quote one unit at a time, a new quote replacing the old) and the
call auction (every unit entered at a random price within its bound, one clearing price, repeated for the units
left).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from carbon_market import bulk
from carbon_market.clock import latest_timestamp
from carbon_market.history import OrderKey
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, Side, limits, params_with
from carbon_market.ops.senders import Operator, executed, money
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, Suite

TICK = MONEY_UNIT // 100  # 0.01 tCNY
REFERENCE, BAND_BPS = 100, 1_000  # the market's default limits: 90..110 ticks around the reference
VALUE_RANGE = (55, 145)


@dataclass(frozen=True)
class Schedules:
    """Unit values of each buyer (highest first) and unit costs of each seller (lowest first), in ticks."""

    buyers: list[list[int]]
    sellers: list[list[int]]

    def max_surplus(self) -> int:
        values = sorted((v for b in self.buyers for v in b), reverse=True)
        costs = sorted(c for s in self.sellers for c in s)
        return sum(v - c for v, c in zip(values, costs) if v > c)


def schedules(seed: int, buyers: int = 40, sellers: int = 40, units: int = 8) -> Schedules:
    rng = random.Random(seed)
    low, high = VALUE_RANGE
    return Schedules([sorted((rng.randint(low, high) for _ in range(units)), reverse=True) for _ in range(buyers)],
                     [sorted(rng.randint(low, high) for _ in range(units)) for _ in range(sellers)])


@dataclass
class Trader:
    address: str
    side: Side
    units: list[int]  # values or costs still to trade, best first
    surplus_units: list[int] = field(default_factory=list)  # the values or costs of units traded


class ZIMarket:
    """A fresh instrument of ``suite`` and the traders of ``schedules`` on it."""

    def __init__(self, suite: Suite, regulator: Any, issuer: Any, exchange: Any, plan: Schedules, seed: int,
                 band_bps: int = BAND_BPS) -> None:
        self.suite, self.rng, self.band_bps = suite, random.Random(seed), band_bps
        traders = [(Side.BUY, units) for units in plan.buyers] + [(Side.SELL, units) for units in plan.sellers]
        market_number = int(suite.market.instrumentCount())  # fresh traders for each market of a suite
        self.traders = [Trader(bulk.address_of(f"zi trader {seed} {market_number} {i}"), side, list(units))
                        for i, (side, units) in enumerate(traders)]
        self.names = [f"z{i}" for i in range(len(self.traders))]
        self.op = Operator(suite, {"regulator": regulator, "exchange": exchange}
                           | {n: t.address for n, t in zip(self.names, self.traders)}, sender="bulk")
        self.token = f"allowance {2030 + market_number}"
        self.plan = plan
        self.orders = 0
        #: (buyer's unit value, seller's unit cost, price) of every continuous trade, in ticks
        self.trades: list[tuple[int, int, int]] = []
        self._setup(regulator, issuer)

    def _setup(self, regulator: Any, issuer: Any) -> None:
        s, addresses = self.suite, [t.address for t in self.traders]
        bulk.act_for(addresses)
        self.op.do("onboard", by="regulator", participants=[{"account": n, "roles": Role.ENTERPRISE}
                                                            for n in self.names])
        params = s.market.params()
        if int(params["bandBps"]) != self.band_bps:
            s.market.setParams(params_with(s.market, bandBps=self.band_bps,
                                           blockBandBps=max(int(params["blockBandBps"]), self.band_bps)),
                               {"from": regulator})
        token = allowance_id(int(self.token.split()[1]))
        bulk.send([bulk.call(s.allowance.mint, t.address, token, len(t.units), sender=issuer)
                   for t in self.traders if t.side == Side.SELL])
        self.op.do("issue_money", by="regulator", payments=[
            {"account": n, "amount": 1_000} for n, t in zip(self.names, self.traders) if t.side == Side.BUY])
        self.op.do("list", regulator="regulator", exchange="exchange", token=self.token, lot=1, tick=money(TICK),
                   reference=money(REFERENCE * TICK), traders=self.names)
        self.instrument = int(s.market.instrumentCount())

    def _limits(self) -> tuple[int, int]:
        """Today's price limits in ticks (a call auction's clearing price becomes the reference)."""
        market = self.suite.market
        return limits(market.instrument(self.instrument), int(market.params()["bandBps"]), latest_timestamp())

    def _ref(self) -> str:
        self.orders += 1
        return f"q{self.orders}"

    def _price(self, t: Trader, unit: int, limits: tuple[int, int]) -> int | None:
        """A random price within the unit's bound and the day's limits (None if the limits leave none)."""
        low, high = limits
        if t.side == Side.BUY:
            return self.rng.randint(low, min(unit, high)) if unit >= low else None
        return self.rng.randint(max(unit, low), high) if unit <= high else None

    def realised(self) -> int:
        return (sum(v for t in self.traders if t.side == Side.BUY for v in t.surplus_units)
                - sum(c for t in self.traders if t.side == Side.SELL for c in t.surplus_units))

    def efficiency(self) -> float:
        return self.realised() / self.plan.max_surplus()

    # -- the continuous book -----------------------------------------------------------------------------

    def continuous(self, rounds: int, chance: float = 0.5) -> float:
        """``rounds`` rounds in which each trader with a unit left quotes with probability ``chance``: its
        resting quote is withdrawn (one batch), then it enters a one-unit order (the next batch)."""
        resting: dict[int, str] = {}  # trader -> the reference of its resting order
        owner: dict[int, int] = {}  # order id -> trader
        for _ in range(rounds):
            limits = self._limits()
            chosen = [i for i, t in enumerate(self.traders) if t.units and self.rng.random() < chance
                      and self._price(t, t.units[0], limits) is not None]
            self.rng.shuffle(chosen)
            withdrawn = [resting.pop(i) for i in chosen if i in resting]
            if withdrawn:
                self.op.do("cancel", orders=withdrawn)
            if not chosen:
                continue
            refs = [self._ref() for _ in chosen]
            receipts = self.op.do("place", token=self.token, orders=[
                {"ref": ref, "trader": self.names[i], "side": self.traders[i].side,
                 "price": money(self._price(self.traders[i], self.traders[i].units[0], limits) * TICK), "lots": 1,
                 "max_fee_bps": FEE_CAP_BPS} for ref, i in zip(refs, chosen)])
            for position in executed(receipts):
                i, placed = chosen[position], receipts[position].event("OrderPlaced")
                for fill in (e.fields for e in receipts[position].logs if e.name == "OrderFilled"):
                    maker = owner.pop(int(fill["orderId"]))
                    pair = (i, maker) if self.traders[i].side == Side.BUY else (maker, i)
                    self.trades.append((self.traders[pair[0]].units[0], self.traders[pair[1]].units[0],
                                        int(fill["price"]) // TICK))
                    self._traded(maker)
                    resting.pop(maker, None)
                if int(placed["filled"]):
                    self._traded(i)
                elif int(placed["rested"]):
                    resting[i] = refs[position]
                    owner[int(placed["orderId"])] = i
        if resting:
            self.op.do("cancel", orders=list(resting.values()))
        return self.efficiency()

    def _traded(self, i: int) -> None:
        t = self.traders[i]
        t.surplus_units.append(t.units.pop(0))

    # -- the call auction ----------------------------------------------------------------------------------

    def call(self, rounds: int) -> float:
        """``rounds`` call auctions; in each, every unit left is entered at a random price within its bound."""
        for _ in range(rounds):
            limits = self._limits()
            entries = [(i, unit, price, self._ref()) for i, t in enumerate(self.traders) for unit in t.units
                       if (price := self._price(t, unit, limits)) is not None]
            if not entries:
                break
            self.op.do("open_call", exchange="exchange", token=self.token)
            self.op.do("place", token=self.token, orders=[
                {"ref": ref, "trader": self.names[i], "side": self.traders[i].side, "price": money(price * TICK),
                 "lots": 1, "max_fee_bps": FEE_CAP_BPS} for i, _, price, ref in entries])
            self.op.do("call_auction", exchange="exchange", token=self.token)
            claimed = self.op.do("claim", by="exchange", orders=[ref for *_, ref in entries])
            by_id = {self.op.ref(ref): (i, unit) for i, unit, _, ref in entries}
            filled = [int(e.fields["orderId"]) for r in claimed for e in r.logs
                      if e.name == "OrderClaimed" and int(e.fields["lots"])]
            for order_id in filled:
                i, unit = by_id[order_id]
                t = self.traders[i]
                assert OrderKey.of(order_id).side == t.side
                t.units.remove(unit)
                t.surplus_units.append(unit)
            if not filled:
                break
        return self.efficiency()
