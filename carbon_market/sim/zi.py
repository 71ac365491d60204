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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from brownie import web3
from eth_utils import keccak, to_checksum_address

from carbon_market import bulk
from carbon_market.history import OrderKey
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, Phase, Side, limits
from carbon_market.ops.runner import codec_for
from carbon_market.roles import Role
from carbon_market.sim.chain import send_executed
from carbon_market.suite import MONEY_UNIT, Suite, appoint_exchange, onboarding
from carbon_market.year import latest_timestamp

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
        self.suite, self.rng, self.exchange, self.band_bps = suite, random.Random(seed), exchange, band_bps
        self.codec = codec_for(suite)
        traders = [(Side.BUY, units) for units in plan.buyers] + [(Side.SELL, units) for units in plan.sellers]
        market_number = int(suite.market.instrumentCount())  # fresh traders for each market of a suite
        self.traders = [Trader(to_checksum_address(keccak(f"zi trader {seed} {market_number} {i}".encode())[12:]),
                               side, list(units)) for i, (side, units) in enumerate(traders)]
        self.plan = plan
        #: (buyer's unit value, seller's unit cost, price) of every continuous trade, in ticks
        self.trades: list[tuple[int, int, int]] = []
        self._setup(regulator, issuer, market_number)

    def _setup(self, regulator: Any, issuer: Any, market_number: int) -> None:
        s, addresses = self.suite, [t.address for t in self.traders]
        web3.provider.make_batch_request([("anvil_impersonateAccount", [a]) for a in addresses]
                                         + [("anvil_setBalance", [a, hex(10**21)]) for a in addresses])
        s.registry.onboardBatch([onboarding(a, Role.ENTERPRISE) for a in addresses], {"from": regulator})
        appoint_exchange(s, regulator, self.exchange)
        params = list(s.market.params())
        if int(params[1]) != self.band_bps:
            params[1], params[2] = self.band_bps, max(int(params[2]), self.band_bps)
            s.market.setParams(params, {"from": regulator})
        token = allowance_id(2030 + market_number)
        tx = s.market.list(token, 1, TICK, REFERENCE * TICK, {"from": self.exchange})
        self.instrument = int(tx.events["InstrumentListed"]["instrument"])
        calls = []
        for t in self.traders:
            if t.side == Side.SELL:
                calls.append(bulk.call(s.allowance.mint, t.address, token, len(t.units), sender=issuer))
            else:
                calls.append(bulk.call(s.money.issue, t.address, 1_000 * MONEY_UNIT, sender=regulator))
            calls.append(bulk.call(s.allowance.setApprovalForAll, s.market.address, True, sender=t.address))
            calls.append(bulk.call(s.money.approve, s.market.address, 2**255, sender=t.address))
        bulk.send(calls)

    def _send(self, calls: list[bulk.Call]) -> list[list[Any]]:
        return [list(self.codec.decode_logs(web3, r["logs"])) for r in bulk.send(calls)]

    def _limits(self) -> tuple[int, int]:
        """Today's price limits in ticks (a call auction's clearing price becomes the reference)."""
        return limits(self.suite.market, self.instrument, latest_timestamp())

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
        market = self.suite.market
        resting: dict[int, int] = {}  # trader -> its resting order id
        owner: dict[int, int] = {}
        for _ in range(rounds):
            limits = self._limits()
            chosen = [i for i, t in enumerate(self.traders) if t.units and self.rng.random() < chance
                      and self._price(t, t.units[0], limits) is not None]
            self.rng.shuffle(chosen)
            withdrawn = [(i, resting.pop(i)) for i in chosen if i in resting]
            if withdrawn:
                self._send([bulk.call(market.cancel, oid, sender=self.traders[i].address) for i, oid in withdrawn])
            calls = [bulk.call(market.place, self.instrument, self.traders[i].side,
                               self._price(self.traders[i], self.traders[i].units[0], limits) * TICK, 1, False, 10,
                               FEE_CAP_BPS,
                               sender=self.traders[i].address) for i in chosen]
            for position, logs in send_executed(calls, self.codec) if calls else []:
                i = chosen[position]
                placed = next(log.fields for log in logs if log.name == "OrderPlaced")
                for log in logs:
                    if log.name == "OrderFilled":
                        maker = owner.pop(int(log.fields["orderId"]))
                        pair = (i, maker) if self.traders[i].side == Side.BUY else (maker, i)
                        self.trades.append((self.traders[pair[0]].units[0], self.traders[pair[1]].units[0],
                                            int(log.fields["price"]) // TICK))
                        self._traded(maker)
                        resting.pop(maker, None)
                if int(placed["filled"]):
                    self._traded(i)
                elif int(placed["rested"]):
                    resting[i] = int(placed["orderId"])
                    owner[int(placed["orderId"])] = i
        self._withdraw(resting)
        return self.efficiency()

    def _traded(self, i: int) -> None:
        t = self.traders[i]
        t.surplus_units.append(t.units.pop(0))

    def _withdraw(self, resting: dict[int, int]) -> None:
        if resting:
            self._send([bulk.call(self.suite.market.cancel, oid, sender=self.traders[i].address)
                        for i, oid in resting.items()])

    # -- the call auction ----------------------------------------------------------------------------------

    def call(self, rounds: int) -> float:
        """``rounds`` call auctions; in each, every unit left is entered at a random price within its bound."""
        market, exchange = self.suite.market, self.exchange
        for _ in range(rounds):
            limits = self._limits()
            entries = [(i, unit, price) for i, t in enumerate(self.traders) for unit in t.units
                       if (price := self._price(t, unit, limits)) is not None]
            if not entries:
                break
            market.openCall(self.instrument, {"from": exchange})
            placed = self._send([bulk.call(market.place, self.instrument, self.traders[i].side, price * TICK, 1,
                                           False, 0, FEE_CAP_BPS, sender=self.traders[i].address)
                                for i, _, price in entries])
            ids = [int(next(log.fields for log in logs if log.name == "OrderPlaced")["orderId"]) for logs in placed]
            market.closeCall(self.instrument, 1_000, {"from": exchange})
            while int(market.instrument(self.instrument)["phase"]) == Phase.CLEARING:
                market.advanceClearing(self.instrument, 1_000, {"from": exchange})
            by_owner: dict[int, list[int]] = defaultdict(list)
            for (i, _, _), oid in zip(entries, ids):
                by_owner[i].append(oid)
            unit_of = {oid: unit for (_, unit, _), oid in zip(entries, ids)}
            claimed = self._send([bulk.call(market.claim, oids, sender=exchange) for oids in by_owner.values()])
            executed = {int(log.fields["orderId"]) for logs in claimed for log in logs
                        if log.name == "OrderClaimed" and int(log.fields["lots"])}
            for oid in executed:
                t = self.traders[next(i for i, oids in by_owner.items() if oid in oids)]
                assert OrderKey.of(oid).side == t.side
                t.units.remove(unit_of[oid])
                t.surplus_units.append(unit_of[oid])
            if not executed:
                break
        return self.efficiency()
