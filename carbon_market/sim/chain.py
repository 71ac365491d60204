"""A simulated compliance year on the real contracts: the population of :mod:`carbon_market.sim.model` is
onboarded, enrolled and pre-allocated; it trades allowances through the market (an opening call auction and/or
days of continuous trading by budget-constrained zero-intelligence traders); each enterprise then abates what it
did not buy, reports, is verified and trued up, surrenders on its own schedule and is settled.

Every step is an operation of :mod:`carbon_market.ops.steps` sent by the bulk sender (JSON-RPC batches, receipts
checked together); what the enterprises decide is this module's. Every enterprise is an address anvil lets us send
from (impersonated), named ``e<index>``; every outcome is read back from the receipts' events or the chain.
Development chains only: the clock is moved to the deadlines.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carbon_market import bulk
from carbon_market import compliance as cy
from carbon_market.clock import latest_timestamp, next_session
from carbon_market.codec import Event
from carbon_market.history import OrderKey
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, Side, limits, params_with
from carbon_market.ops.node import Receipt
from carbon_market.ops.senders import Operator, executed, money
from carbon_market.ops.spec import token
from carbon_market.roles import Role
from carbon_market.sim.model import Enterprise, Population, lot_values
from carbon_market.suite import MONEY_UNIT, Suite, deploy_suite
from carbon_market.year import Firm, YearRun, open_and_enrol, surrender_and_settle, verify

YEAR = 2026
TOKEN = f"allowance {YEAR}"
PROJECT = "sim-project"
LOT = 100  # tonnes per lot
TICK = MONEY_UNIT  # 1 tCNY per lot: 0.01 tCNY per tonne
#: the continuous session: trading days, quoting rounds a day, the chance an enterprise quotes in a round, and
#: the most lots one order carries
DAYS, ROUNDS, QUOTE_CHANCE, MAX_LOTS = 6, 16, 0.5, 25
#: price steps of an enterprise's schedule in the call auction
CALL_STEPS = 8


def per_tonne(tick: int) -> float:
    """A price in ticks (tCNY per lot) as tCNY per tonne."""
    return tick * TICK / LOT / MONEY_UNIT


@dataclass(frozen=True)
class Trade:
    day: int
    kind: str  # "call" or "continuous"
    tick: int
    lots: int
    buyer: int  # enterprise index
    seller: int


@dataclass
class Outcome:
    """What the chain says happened."""

    trades: list[Trade] = field(default_factory=list)
    bought: dict[int, int] = field(default_factory=dict)  # enterprise -> net tonnes bought
    abatement: dict[int, int] = field(default_factory=dict)
    emissions: dict[int, int] = field(default_factory=dict)  # verified
    outcomes: dict[int, str] = field(default_factory=dict)
    credit: dict[int, int] = field(default_factory=dict)
    fines: dict[int, int] = field(default_factory=dict)  # money units
    bands: list[tuple[int, int, int]] = field(default_factory=list)  # (day, low tick, high tick)
    orders: int = 0
    transactions: int = 0


class Sim:
    """One run: the suite, the people, the enterprises' addresses and positions."""

    def __init__(self, population: Population, accounts: Any, seed: int) -> None:
        self.population, self.rng = population, random.Random(seed)
        self.roles = dict(zip(("admin", "regulator", "verifier", "exchange", "developer"), accounts))
        self.firms = population.enterprises
        self.addresses = [bulk.address_of(f"sim enterprise {seed} {e.index}") for e in self.firms]
        self.names = [f"e{e.index}" for e in self.firms]
        self._op: Operator | None = None
        self.orders = 0  # references handed out
        self.instrument = 0
        self.held: dict[int, int] = defaultdict(int)  # net tonnes bought so far
        self.resting: dict[int, tuple[str, Side, int]] = {}  # enterprise -> (order ref, side, lots still resting)
        self.owner: dict[int, int] = {}  # order id -> enterprise
        self.to_claim: dict[int, dict[int, str]] = defaultdict(dict)  # maker -> order id -> ref
        self.out = Outcome()

    @property
    def op(self) -> Operator:
        """The operations of the suite the year runs on (made by :meth:`setup`)."""
        if self._op is None:
            raise RuntimeError("the simulated year has no suite yet: set it up first")
        return self._op

    @property
    def suite(self) -> Suite:
        return self.op.suite

    def do(self, kind: str, **args: Any) -> list[Receipt]:
        receipts = self.op.do(kind, **args)
        self.out.transactions += len(receipts)
        return receipts

    def ref(self) -> str:
        self.orders += 1
        return f"o{self.orders}"

    # -- set-up ----------------------------------------------------------------------------------------------

    def setup(self) -> None:
        s = deploy_suite(self.roles["admin"], self.roles["regulator"])
        bulk.act_for(self.addresses)
        self._op = Operator(s, {**self.roles, **dict(zip(self.names, self.addresses))}, sender="bulk")
        self.do("onboard", by="regulator", participants=[
            {"account": "verifier", "roles": Role.VERIFIER}, {"account": "exchange", "roles": Role.EXCHANGE},
            {"account": "developer", "roles": Role.OFFSET_DEVELOPER},
            *({"account": n, "roles": Role.ENTERPRISE, "region": e.region, "sector": e.sector}
              for n, e in zip(self.names, self.firms))])
        policy = self.population.policy
        now = latest_timestamp()
        self.rules = cy.Rules(pre_allocation_bps=policy.pre_allocation_bps, offset_limit_bps=policy.offset_limit_bps,
                              early_deadline=now + 60 * cy.DAY, deadline=now + 90 * cy.DAY,
                              fine_per_tonne=round(policy.fine_per_tonne * MONEY_UNIT))
        opened = YearRun()
        open_and_enrol(self.op, opened, regulator="regulator", year=YEAR, rules=self.rules,
                       benchmarks=self.population.benchmarks,
                       firms=[Firm(n, e.sector, e.output, 0, 0) for n, e in zip(self.names, self.firms)])
        self.out.transactions += sum(len(receipts) for receipts in opened.steps.values())
        self.do("issue_money", by="regulator", payments=[
            {"account": n, "amount": round(max(self.population.need(e), 0) * 3 * policy.reference_price + 2_000_000)}
            for n, e in zip(self.names, self.firms)])
        self._offsets()
        if policy.band_bps != 1_000:
            s.market.setParams(params_with(s.market, bandBps=policy.band_bps), {"from": self.roles["regulator"]})
        self.do("list", regulator="regulator", exchange="exchange", token=TOKEN, lot=LOT, tick=money(TICK),
                reference=money(round(policy.reference_price * LOT) * TICK), traders=self.names)
        self.instrument = self.op.run.instrument(token(TOKEN, self.op.context))

    def _offsets(self) -> None:
        """The offsets each enterprise buys (model), issued to the developer and sold at the offset price."""
        offsets = {i: t for i, t in self.population.offsets.items() if t > 0}
        if not offsets:
            return
        s, dev = self.suite, self.roles["developer"]
        self.do("register_project", by="regulator", ref=PROJECT, developer="developer")
        self.do("issue_offsets", project=PROJECT, vintage=YEAR - 1, amount=sum(offsets.values()),
                developer="developer", verifier="verifier")
        token, price = self.offset_token_id(), self.population.policy.offset_price
        calls = []
        for i, tonnes in offsets.items():  # bilateral sales, outside the market
            calls.append(bulk.call(s.allowance.safeTransferFrom, dev, self.addresses[i], token, tonnes, b"",
                                   sender=dev))
            calls.append(bulk.call(s.money.transfer, dev.address, round(tonnes * price * MONEY_UNIT),
                                   sender=self.addresses[i]))
        bulk.send(calls)
        self.out.transactions += len(calls)

    def offset_token_id(self) -> int:
        return self.op.run.token_id(token(f"offset {PROJECT} {YEAR - 1}", self.op.context))

    # -- trading ---------------------------------------------------------------------------------------------

    def limits(self) -> tuple[int, int]:
        """Today's price limits in ticks (the reference rolls to the last price on a new day)."""
        market = self.suite.market
        return limits(market.instrument(self.instrument), int(market.params()["bandBps"]), latest_timestamp())

    def position(self, e: Enterprise) -> int:
        """Tonnes still to abate or buy, counting a resting order as if it filled (budget constraint)."""
        resting = self.resting.get(e.index)
        pending = 0 if resting is None else (resting[2] * LOT if resting[1] == Side.BUY else -resting[2] * LOT)
        return self.population.need(e) - self.held[e.index] - pending

    def can_sell(self, e: Enterprise) -> int:
        """Lots ``e`` holds free to sell (its pre-allocation plus what it bought, less what it sold or escrowed)."""
        resting = self.resting.get(e.index)
        escrowed = resting[2] * LOT if resting and resting[1] == Side.SELL else 0
        return (self.population.pre_allocation(e) + self.held[e.index] - escrowed) // LOT

    def values(self, e: Enterprise, side: Side, count: int) -> list[float]:
        return lot_values(e, self.position(e), LOT, "buy" if side == Side.BUY else "sell", count)

    def call_auction(self, day: int) -> None:
        """Every enterprise enters its whole schedule in up to :data:`CALL_STEPS` price steps; one price clears."""
        low, high = self.limits()
        self.do("open_call", exchange="exchange", token=TOKEN)
        orders, owners = [], {}
        for e in self.firms:
            for side, tick, lots in self._schedule(e, low, high):
                ref = self.ref()
                orders.append({"ref": ref, "trader": self.names[e.index], "side": side, "price": money(tick * TICK),
                               "lots": lots, "max_fee_bps": FEE_CAP_BPS})
                owners[ref] = e.index
        if orders:
            self.do("place", token=TOKEN, orders=orders)
        self.out.orders += len(orders)
        self.owner.update({self.op.ref(ref): who for ref, who in owners.items()})
        self.do("call_auction", exchange="exchange", token=TOKEN)
        claimed = self.do("claim", by="exchange", orders=list(owners)) if owners else []
        tick = int(self.suite.market.instrument(self.instrument)["lastTick"])
        buys: dict[int, int] = defaultdict(int)
        sells: dict[int, int] = defaultdict(int)
        for event in _events(claimed, "OrderClaimed"):
            lots = int(event.fields["lots"])
            if lots:
                who = self.owner[int(event.fields["orderId"])]
                side = OrderKey.of(int(event.fields["orderId"])).side
                (buys if side == Side.BUY else sells)[who] += lots
                self.held[who] += lots * LOT if side == Side.BUY else -lots * LOT
        self._match_call(day, tick, buys, sells)
        self.out.bands.append((day, low, high))

    def _match_call(self, day: int, tick: int, buys: dict[int, int], sells: dict[int, int]) -> None:
        """Record the call's executions as trades (buyers and sellers paired in order; the price is one)."""
        sellers = [[who, lots] for who, lots in sells.items()]
        for buyer, lots in buys.items():
            while lots:
                seller = sellers[0]
                take = min(lots, seller[1])
                self.out.trades.append(Trade(day, "call", tick, take, buyer, seller[0]))
                lots -= take
                seller[1] -= take
                if not seller[1]:
                    sellers.pop(0)

    def _schedule(self, e: Enterprise, low: int, high: int) -> list[tuple[Side, int, int]]:
        """``e``'s call orders: buy lots at no more than they are worth, or sell lots at no less than they cost,
        grouped into price steps, within today's limits. An owner takes one side of a call (the market refuses the
        other): the side where its first lot gains the most against the middle of today's limits."""
        orders = []
        buy = [v for v in self.values(e, Side.BUY, 10_000) if v * LOT >= low]
        sell = [w for w in self.values(e, Side.SELL, self.can_sell(e)) if w * LOT <= high]
        middle = (low + high) / 2
        buy_gain = buy[0] * LOT - middle if buy else float("-inf")
        sell_gain = middle - sell[0] * LOT if sell else float("-inf")
        chosen = (Side.BUY, buy) if buy_gain >= sell_gain else (Side.SELL, sell)
        for side, values in (chosen,):
            step = max(-(-len(values) // CALL_STEPS), 1)
            for start in range(0, len(values), step):
                group = values[start:start + step]
                worst = min(group) if side == Side.BUY else max(group)
                tick = int(worst * LOT) if side == Side.BUY else -int(-worst * LOT)  # round inward
                orders.append((side, min(max(tick, low), high), len(group)))
        return orders

    def continuous(self, day: int) -> None:
        """One trading day of :data:`ROUNDS` rounds. In each, every enterprise quotes with probability
        :data:`QUOTE_CHANCE`: its resting order is withdrawn first (one batch), then it enters a new one (the next
        batch) for up to :data:`MAX_LOTS` lots at a random price between today's limit and what the last of those
        lots is worth to it (Gode and Sunder's budget-constrained zero-intelligence trader)."""
        low, high = self.limits()
        self.out.bands.append((day, low, high))
        for _ in range(ROUNDS):
            chosen = [e for e in self.firms if self.rng.random() < QUOTE_CHANCE]
            self.rng.shuffle(chosen)
            withdrawn = [(e.index, self.resting.pop(e.index)) for e in chosen if e.index in self.resting]
            for who, (ref, _, _) in withdrawn:
                self.to_claim[who].pop(self.op.ref(ref), None)  # a cancellation pays out the order's fills
            if withdrawn:
                self.do("cancel", orders=[ref for _, (ref, _, _) in withdrawn])
            quotes = [(e.index, q) for e in chosen if (q := self._quote(e, low, high)) is not None]
            if quotes:
                self._continuous_round(day, quotes)
        self._claim_day()

    def _quote(self, e: Enterprise, low: int, high: int) -> tuple[Side, int, int] | None:
        options = []
        buy = self.values(e, Side.BUY, MAX_LOTS)
        sell = self.values(e, Side.SELL, min(MAX_LOTS, self.can_sell(e)))
        if buy and buy[0] * LOT >= low:
            options.append(Side.BUY)
        if sell and sell[0] * LOT <= high:
            options.append(Side.SELL)
        if not options:
            return None
        side = self.rng.choice(options)
        values = buy if side == Side.BUY else sell
        if side == Side.BUY:
            lots = max(k for k in range(1, len(values) + 1) if values[k - 1] * LOT >= low)
            lots = self.rng.randint(1, lots)
            return side, self.rng.randint(low, min(int(values[lots - 1] * LOT), high)), lots
        lots = max(k for k in range(1, len(values) + 1) if values[k - 1] * LOT <= high)
        lots = self.rng.randint(1, lots)
        return side, self.rng.randint(max(-int(-values[lots - 1] * LOT), low), high), lots

    def _continuous_round(self, day: int, quotes: list[tuple[int, tuple[Side, int, int]]]) -> None:
        refs = [self.ref() for _ in quotes]
        receipts = self.do("place", token=TOKEN, orders=[
            {"ref": ref, "trader": self.names[who], "side": side, "price": money(tick * TICK), "lots": lots,
             "max_fee_bps": FEE_CAP_BPS} for ref, (who, (side, tick, lots)) in zip(refs, quotes)])
        for i in executed(receipts):  # fills went to whichever order the chain executed first
            who, (side, _, _) = quotes[i]
            self.out.orders += 1
            placed = receipts[i].event("OrderPlaced")
            order_id, filled, rested = int(placed["orderId"]), int(placed["filled"]), int(placed["rested"])
            self.held[who] += filled * LOT if side == Side.BUY else -filled * LOT
            if rested:
                self.resting[who] = (refs[i], side, rested)
                self.owner[order_id] = who
            for fill in (e.fields for e in receipts[i].logs if e.name == "OrderFilled"):
                maker, maker_id = self.owner[int(fill["orderId"])], int(fill["orderId"])
                lots, tick = int(fill["lots"]), int(fill["price"]) // TICK
                self.held[maker] += -lots * LOT if side == Side.BUY else lots * LOT
                buyer, seller = (who, maker) if side == Side.BUY else (maker, who)
                self.out.trades.append(Trade(day, "continuous", tick, lots, buyer, seller))
                self.to_claim[maker][maker_id] = self._ref_of(maker, maker_id)
                self._maker_filled(maker, maker_id, lots)

    def _ref_of(self, maker: int, order_id: int) -> str:
        resting = self.resting.get(maker)
        if resting is not None and self.op.ref(resting[0]) == order_id:
            return resting[0]
        return self.to_claim[maker][order_id]

    def _maker_filled(self, maker: int, order_id: int, lots: int) -> None:
        resting = self.resting.get(maker)
        if resting is not None and self.op.ref(resting[0]) == order_id:
            left = resting[2] - lots
            if left:
                self.resting[maker] = (resting[0], resting[1], left)
            else:
                del self.resting[maker]

    def _claim_day(self) -> None:
        refs = [ref for orders in self.to_claim.values() for ref in orders.values()]
        self.to_claim.clear()
        if refs:
            self.do("claim", by="exchange", orders=refs)

    def close_book(self) -> None:
        """Withdraw every resting order at the end of the session (escrow returns to its owner)."""
        refs = [ref for ref, _, _ in self.resting.values()]
        for who, (ref, _, _) in self.resting.items():
            self.to_claim[who].pop(self.op.ref(ref), None)
        self.resting.clear()
        if refs:
            self.do("cancel", orders=refs)
        self._claim_day()

    def next_day(self) -> None:
        next_session()

    # -- the rest of the year ------------------------------------------------------------------------------

    def comply(self) -> None:
        """Abate what was not bought, report, verify, true up, surrender on each one's schedule (offsets first,
        then the allowances it holds, up to its emissions), settle."""
        s, pop, out = self.suite, self.population, self.out
        for e in self.firms:
            out.bought[e.index] = self.held[e.index]
            out.abatement[e.index] = min(max(pop.need(e) - self.held[e.index], 0), e.max_abatement)
            out.emissions[e.index] = e.emissions - out.abatement[e.index]
        run = YearRun()
        verify(self.op, run, regulator="regulator", verifier="verifier", year=YEAR, firms=[
            Firm(self.names[e.index], e.sector, e.output, out.emissions[e.index], e.output, e.behaviour)
            for e in self.firms])
        held = bulk.read([(s.allowance.balanceOf, a, allowance_id(YEAR)) for a in self.addresses])  # trued up
        offset_token = f"offset {PROJECT} {YEAR - 1}"
        firms = []
        for e, units in zip(self.firms, held):
            offsets = min(pop.offsets.get(e.index, 0), out.emissions[e.index])
            firms.append(Firm(self.names[e.index], e.sector, e.output, out.emissions[e.index], e.output, e.behaviour,
                              offsets=offsets, offset_token=offset_token if offsets else "",
                              allowances=min(out.emissions[e.index] - offsets, int(units))))
        surrender_and_settle(self.op, run, keeper="exchange", year=YEAR, firms=firms)
        self.out.transactions += sum(len(receipts) for receipts in run.steps.values())
        records = bulk.read([(s.compliance.enterpriseYear, YEAR, a) for a in self.addresses])
        credit = bulk.read([(s.credit.balanceOf, a) for a in self.addresses])
        for e, record, points in zip(self.firms, records, credit):
            r = dict(zip(cy.ENTERPRISE_YEAR_FIELDS, record))
            out.outcomes[e.index] = cy.Outcome(int(r["outcome"])).name.lower()
            out.fines[e.index] = int(r["fine"])
            out.credit[e.index] = int(points)


def _events(receipts: list[Receipt], name: str) -> list[Event]:
    return [e for r in receipts for e in r.logs if e.name == name]


def run(population: Population, accounts: Any, *, seed: int = 1,
        progress: Callable[[str], None] = lambda _: None) -> tuple[Sim, Outcome]:
    """The whole year on the connected development chain."""
    sim = Sim(population, accounts, seed)
    progress(f"deploying and onboarding {len(population.enterprises)} enterprises")
    sim.setup()
    policy, day = population.policy, 0
    next_session()  # trading begins at a session's opening, whatever the hour the chain's clock began
    if "call" in policy.trading:
        progress("opening call auction")
        sim.call_auction(day)
    if "continuous" in policy.trading:
        for _ in range(DAYS):
            day += 1
            sim.next_day()
            progress(f"continuous trading, day {day} of {DAYS}")
            sim.continuous(day)
        sim.close_book()
    progress("abatement, reports, verification, true-up, surrender, settlement")
    sim.comply()
    return sim, sim.out
