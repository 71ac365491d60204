"""A simulated compliance year on the real contracts: the population of :mod:`carbon_market.sim.model` is
onboarded, enrolled and pre-allocated; it trades allowances through the market (an opening call auction and/or
days of continuous trading by budget-constrained zero-intelligence traders); each enterprise then abates what it
did not buy, reports, is verified and trued up, surrenders on its own schedule and is settled.

Every enterprise is an address anvil lets us send from (impersonated); every batch of transactions goes through
:mod:`carbon_market.bulk` (JSON-RPC batches, receipts checked together) and every outcome is read back from the
receipts' events or the chain. Development chains only: the clock is moved to the deadlines.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from brownie import web3
from eth_utils import keccak, to_checksum_address

from carbon_market import bulk
from carbon_market import compliance as cy
from carbon_market.history import OrderKey
from carbon_market.ids import allowance_id, offset_id
from carbon_market.market import FEE_CAP_BPS, Phase, Side, limits
from carbon_market.ops.node import Codec
from carbon_market.ops.runner import codec_for
from carbon_market.roles import Role
from carbon_market.sim.model import Enterprise, Population, lot_values
from carbon_market.suite import MONEY_UNIT, Suite, appoint_exchange, deploy_suite, onboarding
from carbon_market.year import DOCUMENT, latest_timestamp, sleep_until, surrender_rounds

YEAR = 2026
LOT = 100  # tonnes per lot
TICK = MONEY_UNIT  # 1 tCNY per lot: 0.01 tCNY per tonne
#: the continuous session: trading days, quoting rounds a day, the chance an enterprise quotes in a round, and
#: the most lots one order carries
DAYS, ROUNDS, QUOTE_CHANCE, MAX_LOTS = 6, 16, 0.5, 25
#: price steps of an enterprise's schedule in the call auction
CALL_STEPS = 8
ENROLL_GAS = 9_500_000


def send_executed(calls: Sequence[bulk.Call], codec: Codec) -> list[tuple[int, list[Any]]]:
    """Send the calls; (index of the call, its decoded events) in the order the chain executed them, which
    between senders need not be the order they were sent in."""
    receipts = bulk.send(calls)
    order = sorted(range(len(receipts)),
                   key=lambda i: (int(receipts[i]["blockNumber"], 16), int(receipts[i]["transactionIndex"], 16)))
    return [(i, list(codec.decode_logs(web3, receipts[i]["logs"]))) for i in order]


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
        self.admin, self.regulator, self.verifier, self.exchange, self.developer = (accounts[i] for i in range(5))
        self.firms = population.enterprises
        self.addresses = [to_checksum_address(keccak(f"sim enterprise {seed} {e.index}".encode())[12:])
                          for e in self.firms]
        self.index = {a.lower(): i for i, a in enumerate(self.addresses)}
        self._suite: Suite | None = None
        self._codec: Codec | None = None
        self.instrument = 0
        self.held: dict[int, int] = defaultdict(int)  # net tonnes bought so far
        self.resting: dict[int, tuple[int, Side, int]] = {}  # enterprise -> (order id, side, lots still resting)
        self.owner: dict[int, int] = {}  # order id -> enterprise
        self.to_claim: dict[int, set[int]] = defaultdict(set)
        self.out = Outcome()

    # -- plumbing --------------------------------------------------------------------------------------------

    @property
    def suite(self) -> Suite:
        """The suite the year runs on (deployed by :meth:`deploy`)."""
        if self._suite is None:
            raise RuntimeError("the simulated year has no suite yet: deploy first")
        return self._suite

    @property
    def codec(self) -> Codec:
        """The event and error codec of the suite."""
        if self._codec is None:
            raise RuntimeError("the simulated year has no suite yet: deploy first")
        return self._codec

    def send(self, calls: Sequence[bulk.Call], gas: int = bulk.DEFAULT_GAS) -> list[list[Any]]:
        """Send the calls; each one's decoded events."""
        receipts = bulk.send(calls, gas=gas)
        self.out.transactions += len(calls)
        return [list(self.codec.decode_logs(web3, r["logs"])) for r in receipts]

    def send_executed(self, calls: Sequence[bulk.Call]) -> list[tuple[int, list[Any]]]:
        self.out.transactions += len(calls)
        return send_executed(calls, self.codec)

    def call(self, method: Any, *args: Any, sender: Any) -> bulk.Call:
        return bulk.call(method, *args, sender=sender)

    # -- set-up ----------------------------------------------------------------------------------------------

    def setup(self) -> None:
        s = self._suite = deploy_suite(self.admin, self.regulator)
        self._codec = codec_for(s)
        web3.provider.make_batch_request([("anvil_impersonateAccount", [a]) for a in self.addresses]
                                         + [("anvil_setBalance", [a, hex(10**21)]) for a in self.addresses])
        r = self.regulator
        people = [onboarding(self.verifier, Role.VERIFIER), onboarding(self.exchange, Role.EXCHANGE),
                  onboarding(self.developer, Role.OFFSET_DEVELOPER)]
        people += [onboarding(a, Role.ENTERPRISE, region=e.region, sector=e.sector)
                   for a, e in zip(self.addresses, self.firms)]
        self.send([self.call(s.registry.onboardBatch, list(group), sender=r) for group in cy.chunks(people, 100)],
                  gas=15_000_000)
        policy = self.population.policy
        now = latest_timestamp()
        rules = cy.Rules(pre_allocation_bps=policy.pre_allocation_bps, offset_limit_bps=policy.offset_limit_bps,
                         early_deadline=now + 60 * cy.DAY, deadline=now + 90 * cy.DAY,
                         fine_per_tonne=round(policy.fine_per_tonne * MONEY_UNIT))
        self.rules = rules
        cy.open_year(s.compliance, r, YEAR, rules, self.population.benchmarks)
        self.send([self.call(s.compliance.enroll, YEAR, [self.addresses[e.index] for e in group],
                             [e.output for e in group], sender=r) for group in cy.chunks(self.firms, cy.ENROLL_BATCH)],
                  gas=ENROLL_GAS)
        budget = {e.index: (max(self.population.need(e), 0) * 3 * policy.reference_price + 2_000_000)
                  for e in self.firms}
        self.send([self.call(s.money.issue, self.addresses[i], round(b) * MONEY_UNIT, sender=r)
                   for i, b in budget.items()])
        self._offsets()
        appoint_exchange(s, r, self.exchange)
        if policy.band_bps != 1_000:
            params = list(s.market.params())
            params[1] = policy.band_bps
            s.market.setParams(params, {"from": r})
        tx = s.market.list(allowance_id(YEAR), LOT, TICK, round(policy.reference_price * LOT) * TICK,
                           {"from": self.exchange})
        self.instrument = int(tx.events["InstrumentListed"]["instrument"])
        self.send([self.call(method, *args, sender=a) for a in self.addresses for method, args in (
            (s.allowance.setApprovalForAll, (s.market.address, True)), (s.money.approve, (s.market.address, 2**255)))])

    def _offsets(self) -> None:
        """The offsets each enterprise buys (model), issued to the developer and sold at the offset price."""
        offsets = {i: t for i, t in self.population.offsets.items() if t > 0}
        if not offsets:
            return
        s, dev = self.suite, self.developer
        s.offsets.registerProject(dev, DOCUMENT, {"from": self.regulator})
        s.offsets.requestIssuance(1, YEAR - 1, sum(offsets.values()), DOCUMENT, {"from": dev})
        s.offsets.attestIssuance(0, {"from": self.verifier})
        token, price = offset_id(1, YEAR - 1), self.population.policy.offset_price
        calls = []
        for i, tonnes in offsets.items():
            calls.append(self.call(s.allowance.safeTransferFrom, dev, self.addresses[i], token, tonnes, b"",
                                   sender=dev))
            calls.append(self.call(s.money.transfer, dev.address, round(tonnes * price * MONEY_UNIT),
                                   sender=self.addresses[i]))
        self.send(calls)

    # -- trading ---------------------------------------------------------------------------------------------

    def limits(self) -> tuple[int, int]:
        """Today's price limits in ticks (the reference rolls to the last price on a new day)."""
        return limits(self.suite.market, self.instrument, latest_timestamp())

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
        s, low, high = self.suite, *self.limits()
        self.send([self.call(s.market.openCall, self.instrument, sender=self.exchange)])
        calls, owners = [], []
        for e in self.firms:
            for side, tick, lots in self._schedule(e, low, high):
                calls.append(self.call(s.market.place, self.instrument, side, tick * TICK, lots, False, 0, FEE_CAP_BPS,
                                       sender=self.addresses[e.index]))
                owners.append(e.index)
        placed = self.send(calls)
        self.out.orders += len(calls)
        ids = [self._placed(logs)[0] for logs in placed]
        self.owner.update(zip(ids, owners))
        s.market.closeCall(self.instrument, 1_000, {"from": self.exchange})
        while int(s.market.instrument(self.instrument)["phase"]) == Phase.CLEARING:
            s.market.advanceClearing(self.instrument, 1_000, {"from": self.exchange})
        by_owner: dict[int, list[int]] = defaultdict(list)
        for order_id, owner in zip(ids, owners):
            by_owner[owner].append(order_id)
        claimed = self.send([self.call(s.market.claim, orders, sender=self.exchange) for orders in by_owner.values()])
        tick = int(s.market.instrument(self.instrument)["lastTick"])
        buys: dict[int, int] = defaultdict(int)
        sells: dict[int, int] = defaultdict(int)
        for logs in claimed:
            for log in logs:
                if log.name == "OrderClaimed" and int(log.fields["lots"]):
                    who = self.owner[int(log.fields["orderId"])]
                    side = OrderKey.of(int(log.fields["orderId"])).side
                    lots = int(log.fields["lots"])
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
        market = self.suite.market
        for _ in range(ROUNDS):
            chosen = [e for e in self.firms if self.rng.random() < QUOTE_CHANCE]
            self.rng.shuffle(chosen)
            withdrawn = [(e.index, self.resting.pop(e.index)) for e in chosen if e.index in self.resting]
            for who, order in withdrawn:
                self.to_claim[who].discard(order[0])  # a cancellation pays out the order's fills
            if withdrawn:
                self.send([self.call(market.cancel, order[0], sender=self.addresses[who]) for who, order in withdrawn])
            quotes = [(e.index, q) for e in chosen if (q := self._quote(e, low, high)) is not None]
            if quotes:
                self._continuous_round(day, [
                    self.call(market.place, self.instrument, side, tick * TICK, lots, False, 100, FEE_CAP_BPS,
                              sender=self.addresses[who]) for who, (side, tick, lots) in quotes], quotes)
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

    def _continuous_round(self, day: int, calls: list[bulk.Call], quotes: list[tuple[int, Any]]) -> None:
        for i, logs in self.send_executed(calls):
            who, quote = quotes[i]
            self.out.orders += 1
            order_id, filled, rested = self._placed(logs)
            side = quote[0]
            self.held[who] += filled * LOT if side == Side.BUY else -filled * LOT
            if rested:
                self.resting[who] = (order_id, side, rested)
                self.owner[order_id] = who
            for log in logs:
                if log.name == "OrderFilled":
                    maker = self.owner[int(log.fields["orderId"])]
                    lots, tick = int(log.fields["lots"]), int(log.fields["price"]) // TICK
                    self.held[maker] += -lots * LOT if side == Side.BUY else lots * LOT
                    buyer, seller = (who, maker) if side == Side.BUY else (maker, who)
                    self.out.trades.append(Trade(day, "continuous", tick, lots, buyer, seller))
                    self.to_claim[maker].add(int(log.fields["orderId"]))
                    self._maker_filled(maker, int(log.fields["orderId"]), lots)

    def _maker_filled(self, maker: int, order_id: int, lots: int) -> None:
        resting = self.resting.get(maker)
        if resting is not None and resting[0] == order_id:
            left = resting[2] - lots
            if left:
                self.resting[maker] = (order_id, resting[1], left)
            else:
                del self.resting[maker]

    def _placed(self, logs: list[Any]) -> tuple[int, int, int]:
        e = next(log.fields for log in logs if log.name == "OrderPlaced")
        return int(e["orderId"]), int(e["filled"]), int(e["rested"])

    def _claim_day(self) -> None:
        calls = [self.call(self.suite.market.claim, sorted(ids), sender=self.exchange)
                 for ids in self.to_claim.values() if ids]
        self.to_claim.clear()
        if calls:
            self.send(calls)

    def close_book(self) -> None:
        """Withdraw every resting order at the end of the session (escrow returns to its owner)."""
        calls = [self.call(self.suite.market.cancel, order_id, sender=self.addresses[who])
                 for who, (order_id, _, _) in self.resting.items()]
        for who, (order_id, _, _) in self.resting.items():
            self.to_claim[who].discard(order_id)
        self.resting.clear()
        if calls:
            self.send(calls)
        self._claim_day()

    def next_day(self) -> None:
        sleep_until(latest_timestamp() + cy.DAY)

    # -- the rest of the year ------------------------------------------------------------------------------

    def comply(self) -> None:
        """Abate what was not bought, report, verify, true up, surrender on each one's schedule, settle."""
        s, pop, out = self.suite, self.population, self.out
        for e in self.firms:
            out.bought[e.index] = self.held[e.index]
            out.abatement[e.index] = min(max(pop.need(e) - self.held[e.index], 0), e.max_abatement)
            out.emissions[e.index] = e.emissions - out.abatement[e.index]
        self.send([self.call(s.compliance.submitReport, YEAR, out.emissions[e.index], e.output, DOCUMENT,
                             sender=self.addresses[e.index]) for e in self.firms])
        self.send([self.call(s.compliance.attest, YEAR, a, sender=self.verifier) for a in self.addresses])
        self.send([self.call(s.compliance.finalize, YEAR, list(group), sender=self.regulator)
                   for group in cy.chunks(self.addresses, cy.MAX_BATCH)], gas=15_000_000)
        for behaviours, until in surrender_rounds(self.rules):
            self._surrender([e for e in self.firms if e.behaviour in behaviours])
            if until is not None:
                sleep_until(until)
        cy.settle_all(s.compliance, self.exchange, YEAR)
        records = bulk.read([(s.compliance.enterpriseYear, YEAR, a) for a in self.addresses])
        credit = bulk.read([(s.credit.balanceOf, a) for a in self.addresses])
        for e, record, points in zip(self.firms, records, credit):
            r = dict(zip(cy.ENTERPRISE_YEAR_FIELDS, record))
            out.outcomes[e.index] = cy.Outcome(int(r["outcome"])).name.lower()
            out.fines[e.index] = int(r["fine"])
            out.credit[e.index] = int(points)

    def _surrender(self, firms: list[Enterprise]) -> None:
        s, calls = self.suite, []
        units = bulk.read([(s.allowance.balanceOf, self.addresses[e.index], allowance_id(YEAR)) for e in firms])
        for e, held in zip(firms, units):
            due = self.out.emissions[e.index]
            offsets = min(self.population.offsets.get(e.index, 0), due)
            if offsets:
                calls.append(self.call(s.compliance.surrender, YEAR, offset_id(1, YEAR - 1), offsets,
                                       sender=self.addresses[e.index]))
            allowances = min(due - offsets, int(held))
            if allowances:
                calls.append(self.call(s.compliance.surrender, YEAR, allowance_id(YEAR), allowances,
                                       sender=self.addresses[e.index]))
        if calls:
            self.send(calls)


def run(population: Population, accounts: Any, *, seed: int = 1,
        progress: Callable[[str], None] = lambda _: None) -> tuple[Sim, Outcome]:
    """The whole year on the connected development chain."""
    sim = Sim(population, accounts, seed)
    progress(f"deploying and onboarding {len(population.enterprises)} enterprises")
    sim.setup()
    policy, day = population.policy, 0
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
