"""Many compliance years on the real contracts, with enterprises that decide (:mod:`carbon_market.sim.planning`).

One :class:`Stage` per chain: the suite deployed once, the enterprises onboarded, approved and funded, and a
snapshot of that state; each run (a plan and a seed) starts from the snapshot, so that a study of many runs neither
redeploys nor lets the node's state grow. A run's year Y: the regulator opens it (the free share of the benchmarks)
and pre-allocates; a primary auction sells the auctioned share when the plan has one; the enterprises trade the
vintage in call auctions (up to :data:`CALLS` a year, each day's limits around the last price) or in days of
continuous trading; each then abates in view of what it holds and the price, reports, is verified and trued up,
surrenders (oldest vintages first, early, on time or late as it decides, short if it holds too little) and is settled.
Banking, debt, credit balances and tiers are the chain's, read back each year.

Every step is an operation of :mod:`carbon_market.ops.steps` sent by the bulk sender; every enterprise is an
address anvil lets us send from (impersonated). Development chains only: the clock is moved to the deadlines.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from brownie import web3

from carbon_market import bulk
from carbon_market import compliance as cy
from carbon_market.auctions import purchase_limit
from carbon_market.clock import next_session_open
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, Side, limits, params_with
from carbon_market.ops.node import Receipt
from carbon_market.ops.senders import Operator, executed, money
from carbon_market.ops.spec import KINDS, When, token
from carbon_market.roles import Role
from carbon_market.sim import planning as pl
from carbon_market.suite import MONEY_UNIT, deploy_suite
from carbon_market.year import ROUNDS, rules_args

LOT = 100  # tonnes per lot
TICK = MONEY_UNIT  # 1 tCNY per lot: 0.01 tCNY per tonne
#: call auctions a year at most (a call that clears inside the day's limits ends the year's trading), and the
#: price steps of an enterprise's schedule
CALLS, CALL_STEPS = 4, 3
#: the steps of clearing a call the closing transaction takes (the ``call_auction`` operation's default)
CLEARING_STEPS: int = KINDS["call_auction"]["steps"][1]
#: continuous trading: days, quoting rounds a day, the chance an enterprise quotes in a round
DAYS, ROUNDS_A_DAY, QUOTE_CHANCE = 3, 6, 0.5
#: money each enterprise starts with (tCNY): enough for any year's purchases
FUNDS = 10**9
#: the auction's windows (seconds)
COMMIT_FOR, REVEAL_FOR = 2 * cy.DAY, cy.DAY
#: the most one enterprise may buy in an auction, a share of its volume (California's 25%)
ENTERPRISE_LIMIT_BPS = 2_500
BID_SECRET = "PLANNING_BID_SECRET"  # unset: a development chain's bids use the known development secret
#: each year takes this much of the chain's time (open, trade, the deadlines at 60 and 90 days, settle): the supply
#: reserve's period, so that it is computed once a year and a containment tier's bound is a year's
YEAR_SPAN = 100 * cy.DAY
PROJECT = "planning-offsets"
#: the gas a block of the planning chain holds (the development chain's is 30 million): fewer, fuller blocks
#: (:func:`carbon_market.bulk.fuller_blocks`). 200 million took 3,000 enterprises over ten years in 412 s instead of
#: 582 s (100 million), and the node's memory to 18.4 GB instead of 13.7 GB on a chain that keeps its past states;
#: the planning chains keep only the last 100 (network-config.yaml): 394 s, 8.8 GB
BLOCK_GAS = 200_000_000


def per_tonne(tick: int) -> float:
    return tick * TICK / LOT / MONEY_UNIT


def tick_of(price: float) -> int:
    return max(int(round(price * LOT * MONEY_UNIT / TICK)), 1)


@dataclass
class YearOutcome:
    """What the chain says happened in one year."""

    year: int
    cap: int  # the full cap (free and auctioned)
    price: float  # volume-weighted price of the year's trades and auction sales (the close if none)
    close: float
    volume: int  # tonnes traded in the market
    emissions: dict[int, int] = field(default_factory=dict)  # verified, per enterprise
    abatement: dict[int, int] = field(default_factory=dict)
    outcome: dict[int, str] = field(default_factory=dict)
    spent: dict[int, int] = field(default_factory=dict)  # money spent net (trades, fees, auctions), tCNY
    fines: dict[int, float] = field(default_factory=dict)  # tCNY
    credit: dict[int, int] = field(default_factory=dict)
    bank: int = 0  # allowances of vintages up to the year held after settlement
    auction_price: float | None = None
    auction_sold: int = 0
    offsets: dict[int, int] = field(default_factory=dict)  # offsets bought (and surrendered first)
    containment_sold: int = 0
    withheld: int = 0  # allowances the supply reserve holds after the year's auction
    transactions: int = 0


class Stage:
    """The suite and the enterprises on one development chain, ready for runs."""

    def __init__(self, accounts: Any, population: list[pl.Firm]) -> None:
        self.population = population
        self.roles = dict(zip(("admin", "regulator", "verifier", "exchange", "developer"), accounts))
        self.addresses = [bulk.address_of(f"planning enterprise {f.index}") for f in population]
        self.names = [f"e{f.index}" for f in population]
        self.suite = deploy_suite(self.roles["admin"], self.roles["regulator"])
        bulk.act_for(self.addresses, gas_money=10**24)
        with bulk.fuller_blocks(BLOCK_GAS), bulk.lean_receipts():
            self._onboard()
        self._snapshot = web3.provider.make_request("evm_snapshot", [])["result"]

    def _onboard(self) -> None:
        """Onboard, fund and approve the enterprises."""
        population = self.population
        op = self.operator()
        op.do("onboard", by="regulator", participants=[
            {"account": "verifier", "roles": Role.VERIFIER}, {"account": "exchange", "roles": Role.EXCHANGE},
            {"account": "developer", "roles": Role.OFFSET_DEVELOPER},
            *({"account": n, "roles": Role.ENTERPRISE, "region": f.region, "sector": f.sector}
              for n, f in zip(self.names, population))])
        op.do("issue_money", by="regulator", payments=[{"account": n, "amount": FUNDS} for n in self.names])
        op.do("approve", traders=self.names)
        auction, money_token = self.suite.auction, self.suite.money
        bulk.send([bulk.call(money_token.approve, spender, 2**256 - 1, sender=a)
                   for a in self.addresses for spender in (auction.address, self.suite.reserve.address)])

    def operator(self) -> Operator:
        return Operator(self.suite, {**self.roles, **dict(zip(self.names, self.addresses))}, sender="bulk")

    def fresh(self) -> Operator:
        """Back to the staged state (a new snapshot replaces the one the revert used)."""
        web3.provider.make_request("evm_revert", [self._snapshot])
        self._snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
        return self.operator()


class Run:
    """One plan and one seed on a stage."""

    def __init__(self, stage: Stage, eco: pl.Economy, progress: Callable[[str], None] = lambda _: None) -> None:
        self.stage, self.eco, self.plan, self.progress = stage, eco, eco.plan, progress
        self.op = stage.fresh()
        self.node = self.op.run.node  # the chain's clock, read and moved as the operations move it
        self.suite, self.names, self.addresses = stage.suite, stage.names, stage.addresses
        self.rng = random.Random(eco.seed * 7919 + 1)
        # the order in which the enterprises' orders and bids reach the chain (a block runs them as sent): the seed's,
        # not their numbering, so that no enterprise comes first at every rationed price
        self.arrival = random.Random(eco.seed * 7919 + 2)
        self.orders = 0
        self.close_tick = tick_of(self.plan.reference_price)  # the market's last execution price
        # the last price paid for an allowance, in the market or at auction: what the next vintage is listed at (a
        # reference the auction left behind would hold the market's limits around a price nobody pays)
        self.paid_tick = self.close_tick
        self.last_price = self.plan.reference_price  # what the enterprises saw paid last (the year's price)
        self.money_held: list[int] | None = None  # each one's money as the last year ended (nothing moves it since)
        # a year's last operations (its late surrenders and its settlement), sent with the next year's opening, and
        # the year they close (its outcome, its first transaction and its money before), read once they are mined
        self.closing: list[tuple[str, dict[str, Any]]] = []
        self.unclosed: tuple[YearOutcome, int, list[int]] | None = None
        self.transactions = 0
        self.gas = 0  # gas used by the run's transactions (the years': their blocks', once they are run)
        self.rules = self._rules()
        self.origin = self.node.timestamp()
        if self.plan.offset_limit_bps:
            self.do("register_project", by="regulator", ref=PROJECT, developer="developer")
        if self.plan.supply_reserve or self.plan.containment_price:
            # the reserve's periods are the years: the supply reserve is counted once a year, and a containment
            # tier's bound is a year's (without a schedule every sale would fall in one period forever)
            cap = eco.cap(0)
            self.do("supply_rules", by="regulator", origin=str(self.origin), period=f"{YEAR_SPAN}s",
                    first_vintage=self.plan.first_year, vintages=self.plan.years, upper=int(cap * self.plan.msr_upper),
                    lower=int(cap * self.plan.msr_lower), release=int(cap * self.plan.msr_release))
        if self.plan.band_bps != 1_000 or not self.plan.credit:
            changes: dict[str, Any] = {"bandBps": self.plan.band_bps}
            if not self.plan.credit:
                changes["tierDiscountBps"] = [0, 0, 0, 0]
            # bulk, not brownie: after a revert the same transaction has the same hash, which brownie waits on forever
            self._sent(bulk.send([bulk.call(self.suite.market.setParams, params_with(self.suite.market, **changes),
                                            sender=stage.roles["regulator"])]))

    def _rules(self) -> cy.Rules:
        """The compliance year's rules under the plan: China's defaults, the plan's fine and offset limit, and no
        rewards or penalties in credit when the plan switches the incentives off."""
        base = cy.Rules(pre_allocation_bps=7_000, offset_limit_bps=self.plan.offset_limit_bps,
                        fine_per_tonne=round(self.plan.fine_per_tonne * MONEY_UNIT))
        if self.plan.credit:
            return base
        return replace(base, reward_early=0, reward_on_time=0, reward_accurate=0, penalty_late=0, penalty_shortfall=0,
                       penalty_rejected=0)

    def do(self, kind: str, **args: Any) -> list[Receipt]:
        return self._counted(self.op.do(kind, **args))

    def together(self, *operations: tuple[str, dict[str, Any]]) -> list[list[Receipt]]:
        """Independent operations sent together (:meth:`Operator.together`)."""
        return [self._counted(receipts) for receipts in self.op.together(*operations)]

    def in_turn(self, *operations: tuple[str, dict[str, Any]]) -> list[list[Receipt]]:
        """Operations sent together that run in the order listed (:meth:`Operator.in_turn`): one block where a
        block holds them, not one each (anvil hashes its whole state for every block)."""
        return [self._counted(receipts) for receipts in self.op.in_turn(*operations)]

    def _counted(self, receipts: list[Receipt]) -> list[Receipt]:
        self.transactions += len(receipts)
        self.gas += sum(r.gas_used for r in receipts)
        return receipts

    def _sent(self, receipts: list[dict[str, Any]]) -> None:
        """Count what the bulk sender sent directly (raw receipts)."""
        self.transactions += len(receipts)
        self.gas += sum(map(bulk.gas_used, receipts))

    def ref(self) -> str:
        self.orders += 1
        return f"o{self.orders}"

    # -- the years ---------------------------------------------------------------------------------------------

    def run(self) -> list[YearOutcome]:
        outcomes = []
        # receipts without their gas (anvil's receipts cost it the square of a block's size): the blocks' gas counted
        with bulk.fuller_blocks(BLOCK_GAS), bulk.lean_receipts() as mined:
            for t, year in enumerate(self.plan.calendar):
                self.progress(f"year {year} ({t + 1} of {self.plan.years})")
                outcomes.append(self.year(t, year, close=t + 1 == self.plan.years))
        self.gas += mined.gas
        return outcomes

    def year(self, t: int, year: int, *, close: bool = True) -> YearOutcome:
        """The year's outcome, the year settled. ``close=False``: its late surrenders and its settlement go with
        the next year's opening, in its block, and what they decide (outcomes, fines, credit, money spent, the
        bank) is filled in once that is mined (:meth:`_close`); but for the supply reserve's, whose count
        needs the year settled first."""
        eco = self.eco
        # the year's first transactions carry its time (no empty block for it), but for the supply reserve's count,
        # whose step reads the reserve's period from a view, which sees the latest block's time
        self.node.advance_to(self.origin + t * YEAR_SPAN, mine=self.plan.supply_reserve)
        if self.plan.supply_reserve:
            # the allowances in circulation once last year is settled and before this year's are issued (the
            # bank, as the EU counts it after each compliance deadline)
            self.do("compute_supply", by="exchange")
        now = self.node.timestamp()
        rules = cy.Rules(**{**self.rules.__dict__, "early_deadline": now + 60 * cy.DAY, "deadline": now + 90 * cy.DAY})
        free = 1 - self.plan.auction_share
        benchmarks = {s: round(self.plan.benchmark(s, t) * free * cy.BENCHMARK_SCALE) for s in pl.SECTORS}
        name = f"allowance {year}"
        # last year closed, the year opened, its enterprises enrolled and its vintage listed (at the last price paid;
        # the enterprises approved the market once, at the stage), in turn: one block
        opened = self.in_turn(
            *self.closing,
            ("open_year", {"by": "regulator", "year": year, "rules": rules_args(rules),
                           "benchmarks": {s: b / cy.BENCHMARK_SCALE for s, b in benchmarks.items()}}),
            # after the first year the contract takes the baseline from the previous year's verified output
            ("allocate", {"by": "regulator", "year": year, "enterprises": [
                {"enterprise": n, "baseline_output": 0 if t else eco.output[0][i]} for i, n in enumerate(self.names)]}),
            ("list", {"regulator": "regulator", "exchange": "exchange", "token": name, "lot": LOT, "tick": money(TICK),
                      "reference": money(self.paid_tick * TICK), "traders": self.names[:1]}))
        start_tx = self.transactions - sum(map(len, opened[len(self.closing):]))
        self._close(start_tx)
        self.instrument = self.op.run.instrument(token(name, self.op.context))
        money_before = self.money_held or self._money()
        out = YearOutcome(year, eco.cap(t), 0.0, 0.0, 0)
        out.offsets = self._offsets(t, year)
        situations = self._situations(t, year, benchmarks, out.offsets)
        if self.plan.auction_share > 0:
            self._auction(t, year, situations, out)
            situations = self._situations(t, year, benchmarks, out.offsets)
        if self.plan.containment_price > 0:
            self._containment(t, year, situations, out)
            situations = self._situations(t, year, benchmarks, out.offsets)
        trades = self._trade(t, year, situations)
        out.volume = sum(lots for _, lots in trades) * LOT
        out.close = per_tonne(self.close_tick)
        # the year's price: what the market's trades and the auction's sales paid, per tonne (the close if neither)
        paid = sum(per_tonne(tick) * lots * LOT for tick, lots in trades) + (out.auction_price or 0) * out.auction_sold
        sold = out.volume + out.auction_sold
        out.price = paid / sold if sold else out.close
        self.last_price = out.price
        # what each held when its situation was last read, and what it bought or sold since
        held = [sum(row) + bought for row, bought in zip(self.free, self.bought)]
        for i in range(len(self.names)):
            out.abatement[i] = pl.abatement(situations[i], held[i] + self.top_up[i] + out.offsets[i], out.price)
            out.emissions[i] = eco.emissions(t, i) - out.abatement[i]
        self._comply(t, year, out)
        self.unclosed = (out, start_tx, money_before)
        if close or self.plan.supply_reserve:
            self.in_turn(*self.closing)
            self._close()
        return out

    def _close(self, end_tx: int | None = None) -> None:
        """Read what the last year's settlement decided, once its closing operations are mined (its transactions
        end at ``end_tx``, the next year's first, or at the latest)."""
        self.closing = []
        if self.unclosed is None:
            return
        (out, start_tx, money_before), self.unclosed = self.unclosed, None
        money_after = self.money_held = self._money()
        records = bulk.read([(self.suite.compliance.enterpriseYear, out.year, a) for a in self.addresses])
        credit = bulk.read([(self.suite.credit.balanceOf, a) for a in self.addresses])
        for i, (record, points) in enumerate(zip(records, credit)):
            r = dict(zip(cy.ENTERPRISE_YEAR_FIELDS, record))
            out.outcome[i] = cy.Outcome(int(r["outcome"])).name.lower()
            out.fines[i] = int(r["fine"]) / MONEY_UNIT
            out.credit[i] = int(points)
            out.spent[i] = (money_before[i] - money_after[i]) / MONEY_UNIT
        out.transactions = (self.transactions if end_tx is None else end_tx) - start_tx

    # -- what each enterprise knows ------------------------------------------------------------------------------

    def _money(self) -> list[int]:
        return [int(x) for x in bulk.read([(self.suite.money.balanceOf, a) for a in self.addresses])]

    def _vintage_balances(self, year: int) -> list[list[int]]:
        """Each enterprise's balance of each vintage from the first year's to ``year``'s (one view each)."""
        ids = [allowance_id(v) for v in range(self.plan.first_year, year + 1)]
        rows = bulk.read([(self.suite.allowance.balanceOfBatch, [a] * len(ids), ids) for a in self.addresses])
        return [[int(b) for b in row] for row in rows]

    def _situations(self, t: int, year: int, benchmarks: dict[int, int], offsets: dict[int, int]) -> list[pl.Situation]:
        """Each enterprise's view before it trades: what it holds (its offsets too) plus the true-up it expects (its
        free allocation at this year's output less what it was pre-allocated and any debt still owed)."""
        eco = self.eco
        # what each holds of each vintage, kept for the trading that follows (what it may sell of this year's)
        self.free = self._vintage_balances(year)
        held = [sum(row) for row in self.free]
        debts = bulk.read([(self.suite.compliance.debtOf, a) for a in self.addresses])
        records = bulk.read([(self.suite.compliance.enterpriseYear, year, a) for a in self.addresses])
        tiers = bulk.read([(self.suite.credit.tierOf, a) for a in self.addresses])
        limit = int(self.suite.market.params()["lowestTierMaxLots"])
        # the lowest credit tier's orders are limited in size (a privilege credit buys): 0 is no limit
        self.max_lots = [limit if int(tier) == 0 and limit else 2**32 - 1 for tier in tiers]
        price = self.last_price
        self.top_up, out = [], []
        for i, (record, debt) in enumerate(zip(records, debts)):
            r = dict(zip(cy.ENTERPRISE_YEAR_FIELDS, record))
            free = benchmarks[eco.firms[i].sector] * eco.output[t][i] // cy.BENCHMARK_SCALE
            self.top_up.append(max(free - int(r["allocated"]) - int(debt), 0))
            value = self._point_value(i, t, price) if self.plan.credit else 0.0
            out.append(pl.situation(eco, t, i, held[i] + self.top_up[i] + offsets[i], price, value,
                                    self.rules.penalty_shortfall))
        return out

    def _point_value(self, i: int, t: int, price: float) -> float:
        need = self.eco.emissions(t, i) - self.eco.allocation(t, i)
        return pl.point_value(need, price) * (self.plan.years - t)

    # -- primary auction --------------------------------------------------------------------------------------

    def _auction(self, t: int, year: int, situations: list[pl.Situation], out: YearOutcome) -> None:
        """The regulator sells the auctioned share of the cap (at last year's output) in a sealed-bid auction; each
        enterprise bids its demand at steps from the reserve price up (:func:`planning.auction_bids`)."""
        eco = self.eco
        volume = int(sum(self.plan.benchmark(f.sector, t) * eco.output[max(t - 1, 0)][f.index] for f in eco.firms)
                     * self.plan.auction_share)
        ref = f"a{year}"
        offered = self.node.timestamp()
        self.do("offer_auction", by="regulator", ref=ref, vintage=year, volume=volume,
                reserve_price=money(round(self.plan.reserve_price * MONEY_UNIT)), tick=money(MONEY_UNIT // 100),
                commit_for=f"{COMMIT_FOR}s", reveal_for=f"{REVEAL_FOR}s", reference=None,
                cancel_below_minimum=False, enterprise_limit_bps=ENTERPRISE_LIMIT_BPS)
        # what is on offer once the supply reserve withheld or added: each bidder's limit is a share of it
        limit = purchase_limit(int(self.suite.auction.auction(self.op.ref(ref))["volume"]), ENTERPRISE_LIMIT_BPS)
        steps = [(i, bid) for i, s in enumerate(situations)
                 for bid in pl.auction_bids(s, self.plan.reserve_price, limit)]
        bids = [{"ref": f"{ref}b{k}", "bidder": self.names[i], "price": money(round(price * 100) * MONEY_UNIT // 100),
                 "quantity": quantity} for k, (i, (price, quantity)) in enumerate(steps)]
        self.arrival.shuffle(bids)  # reveal order: who gets a pro rata share's rounding
        # the windows' ends are the times of the reveals' and the clearing's blocks (no empty block for them)
        if bids:
            self.do("commit_bids", auction=ref, secret=BID_SECRET, bids=bids)
            self.node.advance_to(offered + COMMIT_FOR, mine=False)
            self.do("reveal_bids", auction=ref, secret=BID_SECRET, bids=bids)
            self.node.advance_to(offered + COMMIT_FOR + REVEAL_FOR, mine=False)
            # cleared once the reveal window closes, and the bids settled after it in its block
            self.in_turn(("clear_auction", {"by": "regulator", "auction": ref}),
                         ("claim_bids", {"by": "regulator", "bids": [b["ref"] for b in bids]}))
        else:
            self.node.advance_to(offered + COMMIT_FOR + REVEAL_FOR, mine=False)
            self.do("clear_auction", by="regulator", auction=ref)
        record = self.suite.auction.auction(self.op.ref(ref))
        out.auction_sold = int(record["sold"])
        out.auction_price = int(record["priceTick"]) / 100 if out.auction_sold else None
        if out.auction_price is not None:
            self.paid_tick = tick_of(out.auction_price)
        out.withheld = int(self.suite.reserve.supply()["reserve"])

    # -- offsets and the containment reserve -------------------------------------------------------------------

    def _offsets(self, t: int, year: int) -> dict[int, int]:
        """The offsets each enterprise buys (:func:`planning.offsets_bought`), issued to the developer (vintage of
        the year before) and sold to them at the offset price, outside the market."""
        expected = self.last_price
        wanted = {i: pl.offsets_bought(self.eco, t, i, expected) for i in range(len(self.names))}
        if not any(wanted.values()):
            return wanted
        s, developer = self.suite, self.stage.roles["developer"]
        self.do("issue_offsets", project=PROJECT, vintage=year - 1, amount=sum(wanted.values()),
                developer="developer", verifier="verifier")
        unit = self.op.run.token_id(token(f"offset {PROJECT} {year - 1}", self.op.context))
        price = round(self.plan.offset_price * MONEY_UNIT)
        calls = [c for i, q in wanted.items() if q for c in (
            bulk.call(s.allowance.safeTransferFrom, developer, self.addresses[i], unit, q, b"", sender=developer),
            bulk.call(s.money.transfer, developer.address, q * price, sender=self.addresses[i]))]
        self._sent(bulk.send(calls))
        return wanted

    def _containment(self, t: int, year: int, situations: list[pl.Situation], out: YearOutcome) -> None:
        """The regulator offers a tier of the containment reserve (``containment_share`` of the cap at
        ``containment_price``, referenced to this year's listing); once the reference reaches the trigger, each
        enterprise that wants allowances at that price buys, the tier's bound shared in proportion to the wants."""
        plan, trigger = self.plan, self.plan.containment_price
        volume = int(self.eco.cap(t) * plan.containment_share)
        self.do("containment", by="regulator", reference=f"allowance {year}", tiers=[
            {"trigger": money(round(trigger * MONEY_UNIT)), "per_period": volume, "volume": volume}])
        if per_tonne(self.close_tick) < trigger:
            return
        wants = {i: max(pl.want(s, trigger), 0) for i, s in enumerate(situations)}
        total = sum(wants.values())
        share = min(volume / total, 1.0) if total else 0.0
        quantities = {i: int(w * share) for i, w in wants.items() if int(w * share)}
        if quantities:
            self.do("reserve_sale", tier=0, vintage=year,
                    purchases=[{"buyer": self.names[i], "quantity": q} for i, q in quantities.items()])
            out.containment_sold += sum(quantities.values())

    # -- trading ----------------------------------------------------------------------------------------------

    def _trade(self, t: int, year: int, situations: list[pl.Situation]) -> list[tuple[int, int]]:
        """The year's trades as (tick, lots)."""
        self.bought = [0] * len(self.names)  # since self.free was read, by the last _situations
        if self.plan.trading == "call":
            return self._calls(year, situations)
        return self._continuous(year, situations)

    def _next_day(self) -> None:
        """To the opening of the next trading day's session, the time of the day's first transaction."""
        self.node.advance_to(next_session_open(self.node.timestamp()), mine=False)

    def _limits(self) -> tuple[int, int]:
        market = self.suite.market
        instrument, params = bulk.read([(market.instrument, self.instrument), (market.params,)])
        return limits(instrument, int(params["bandBps"]), self.node.timestamp())

    def _sellable(self, i: int) -> int:
        """Lots of the current vintage ``i`` may still sell."""
        return max(self.free[i][-1] + self.bought[i], 0) // LOT

    def _calls(self, year: int, situations: list[pl.Situation]) -> list[tuple[int, int]]:
        """Up to :data:`CALLS` call auctions on successive days, each enterprise entering its schedule at today's
        limits; trading ends once a call clears inside the limits (the price found) or trades nothing."""
        trades = []
        start = [s.holdings for s in situations]
        name = f"allowance {year}"
        for day in range(CALLS):
            if day:
                self._next_day()
            low, high = self._limits()
            entries = [(i, side, tick, lots, self.ref()) for i, s in enumerate(situations)
                       for side, tick, lots in self._schedule(i, s, low, high)]
            self.arrival.shuffle(entries)  # time priority at the rationed price
            if {side for _, side, *_ in entries} != {Side.BUY, Side.SELL}:
                break  # one side only: nothing can trade
            # the exchange opens the call and the enterprises' orders enter it, in the block that opens it
            opening = (("open_call", {"exchange": "exchange", "token": name}), ("place", {"token": name, "orders": [
                {"ref": ref, "trader": self.names[i], "side": side, "price": money(tick * TICK), "lots": lots,
                 "max_fee_bps": FEE_CAP_BPS} for i, side, tick, lots, ref in entries], "in_call": True}))
            closing = ("call_auction", {"exchange": "exchange", "token": name})
            claiming = ("claim", {"by": "exchange", "orders": [ref for *_, ref in entries]})
            if len(entries) + CALL_STEPS <= CLEARING_STEPS:
                # the closing transaction clears the call (a step a price, at most CALL_STEPS of them, and one an
                # order at the rationed price): the round is one block, opened, entered, cleared and claimed
                _, _, cleared, claimed = self.in_turn(*opening, closing, claiming)
            else:
                self.in_turn(*opening)
                cleared, claimed = self.do(closing[0], **closing[1]), self.do(claiming[0], **claiming[1])
            event = next(e for r in cleared for e in r.events("CallCleared"))
            tick, volume = int(event["priceTick"]), int(event["volume"])
            if volume:
                trades.append((tick, volume))
                self.close_tick = self.paid_tick = tick
            owners = {self.op.ref(ref): (i, side) for i, side, _, _, ref in entries}
            for claim in (e for r in claimed for e in r.events("OrderClaimed")):
                who, side = owners[int(claim["orderId"])]
                lots = int(claim["lots"])
                self.bought[who] += lots * LOT if side == Side.BUY else -lots * LOT
            situations[:] = [_held(s, base + self.bought[i]) for i, (s, base) in enumerate(zip(situations, start))]
            if not volume or low < tick < high:
                break
        return trades

    def _schedule(self, i: int, s: pl.Situation, low: int, high: int) -> list[tuple[Side, int, int]]:
        """``i``'s call orders: its demand schedule at :data:`CALL_STEPS` prices within today's limits, on the side
        its reservation price puts it (an owner takes one side of a call)."""
        grid = [low + (high - low) * k // (CALL_STEPS - 1) for k in range(CALL_STEPS)]
        wants = [pl.want(s, per_tonne(tick)) // LOT for tick in grid]
        orders = []
        if wants[0] > 0:  # a buyer at the lowest price: buy orders whose cumulative quantity follows demand
            for k in range(CALL_STEPS - 1, -1, -1):
                above = max(wants[k + 1], 0) if k + 1 < CALL_STEPS else 0
                lots = min(max(wants[k], 0) - above, self.max_lots[i])
                if lots > 0:
                    orders.append((Side.BUY, grid[k], lots))
        elif wants[-1] < 0:  # a seller at the highest price
            sold, cap = 0, self._sellable(i)
            for k in range(CALL_STEPS):
                lots = min(min(-wants[k], cap) - sold, self.max_lots[i])
                if lots > 0:
                    orders.append((Side.SELL, grid[k], lots))
                    sold += lots
        return orders

    def _continuous(self, year: int, situations: list[pl.Situation]) -> list[tuple[int, int]]:
        """Days of :data:`ROUNDS_A_DAY` rounds: in each, an enterprise quotes with probability :data:`QUOTE_CHANCE`
        (its resting order withdrawn first) at a random price between today's limit and its reservation price, for
        what it wants at that price (Gode and Sunder's budget-constrained zero-intelligence trader)."""
        name, trades = f"allowance {year}", []
        resting: dict[int, str] = {}
        first = self.orders + 1  # the year's orders are numbered from here (earlier years' were claimed then)
        owner: dict[int, int] = {}
        for day in range(DAYS):
            if day:
                self._next_day()
            low, high = self._limits()
            for _ in range(ROUNDS_A_DAY):
                chosen = [i for i in range(len(situations)) if self.rng.random() < QUOTE_CHANCE]
                self.rng.shuffle(chosen)
                withdrawn = [resting.pop(i) for i in chosen if i in resting]
                quotes = []
                for i in chosen:
                    s = _held(situations[i], situations[i].holdings + self.bought[i])
                    quote = self._quote(i, s, low, high)
                    if quote:
                        quotes.append((i, quote))
                refs = [self.ref() for _ in quotes]
                # the round's withdrawals and quotes arrive together, in one block: a trader's own cancel comes
                # before its new order (its nonces), other traders' in the order the node takes them
                operations: list[tuple[str, dict[str, Any]]] = [("cancel", {"orders": withdrawn})] if withdrawn else []
                if quotes:
                    operations.append(("place", {"token": name, "orders": [
                        {"ref": ref, "trader": self.names[i], "side": side, "price": money(tick * TICK), "lots": lots,
                         "max_fee_bps": FEE_CAP_BPS} for ref, (i, (side, tick, lots)) in zip(refs, quotes)]}))
                if not operations:
                    continue
                receipts = self.together(*operations)[-1] if quotes else []
                for k in executed(receipts):
                    i, (side, _, _) = quotes[k]
                    placed = receipts[k].event("OrderPlaced")
                    filled, rested = int(placed["filled"]), int(placed["rested"])
                    self.bought[i] += filled * LOT if side == Side.BUY else -filled * LOT
                    if rested:
                        resting[i] = refs[k]
                        owner[int(placed["orderId"])] = i
                    for fill in receipts[k].events("OrderFilled"):
                        maker, lots, tick = owner[int(fill["orderId"])], int(fill["lots"]), int(fill["price"]) // TICK
                        self.bought[maker] += -lots * LOT if side == Side.BUY else lots * LOT
                        trades.append((tick, lots))
                        self.close_tick = self.paid_tick = tick
        if resting:
            self.do("cancel", orders=list(resting.values()))
        refs = [f"o{k}" for k in range(first, self.orders + 1)]
        self.do("claim", by="exchange", orders=refs)
        for i, s in enumerate(situations):
            situations[i] = _held(s, s.holdings + self.bought[i])
        return trades

    def _quote(self, i: int, s: pl.Situation, low: int, high: int) -> tuple[Side, int, int] | None:
        if pl.want(s, per_tonne(low)) >= LOT:
            top = min(high, tick_of(pl.reservation(s, per_tonne(low), per_tonne(high))))
            tick = self.rng.randint(low, max(top, low))
            lots = min(pl.want(s, per_tonne(tick)) // LOT, self.max_lots[i])
            return (Side.BUY, tick, lots) if lots > 0 else None
        if pl.want(s, per_tonne(high)) <= -LOT:
            bottom = max(low, tick_of(pl.reservation(s, per_tonne(low), per_tonne(high))))
            tick = self.rng.randint(min(bottom, high), high)
            lots = min(-pl.want(s, per_tonne(tick)) // LOT, self._sellable(i), self.max_lots[i])
            return (Side.SELL, tick, lots) if lots > 0 else None
        return None

    # -- compliance ---------------------------------------------------------------------------------------------

    def _comply(self, t: int, year: int, out: YearOutcome) -> None:
        """Report, verify, true up; surrender oldest vintages first on each one's timing; settle."""
        eco = self.eco
        names = self.names
        # the reports, their attestation and the true-up, in turn (one block where a block holds them)
        reports = [{"enterprise": n, "emissions": out.emissions[i], "output": eco.output[t][i]}
                   for i, n in enumerate(names)]
        self.in_turn(("report", {"year": year, "reports": reports}),
                     ("attest", {"year": year, "verifier": "verifier", "enterprises": names}),
                     ("true_up", {"by": "regulator", "year": year, "enterprises": names}))
        balances = self._vintage_balances(year)
        price = out.price
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i, n in enumerate(names):
            value = self._point_value(i, t, price) if self.plan.credit else 0.0
            stake = (self.rules.reward_on_time + self.rules.penalty_late) * value
            early_bonus = (self.rules.reward_early - self.rules.reward_on_time) * value
            when = pl.timing(eco, t, i, stake, early_bonus)
            due = out.emissions[i]
            offsets = min(out.offsets.get(i, 0), due)
            if offsets:
                rows[when].append({"enterprise": n, "token": f"offset {PROJECT} {year - 1}", "amount": offsets})
                due -= offsets
            for k, held in enumerate(balances[i]):
                amount = min(held, due)
                if amount:
                    rows[when].append({"enterprise": n, "token": f"allowance {self.plan.first_year + k}",
                                       "amount": amount})
                    due -= amount
        # the bank once the year is settled: what they held after the true-up less the allowances they surrender
        out.bank = sum(map(sum, balances)) - sum(row["amount"] for batch in rows.values() for row in batch
                                                 if row["token"].startswith("allowance"))
        settling = {"by": "exchange", "year": year, "batch": cy.MAX_SETTLE_BATCH}
        for behaviours, deadline in ROUNDS:
            batch = [row for b in behaviours for row in rows.get(b, [])]
            if deadline is not None:
                if batch:
                    self.do("surrender", year=year, surrenders=batch)
                # past the deadline: the next transactions' block carries the time (no empty block for it)
                self.node.advance_to(self.op.run.moment(When(deadline=deadline, year=year)), mine=False)
            else:
                # the late surrenders and the settlement after them, sent with the next year's opening (the
                # settlement sends its first batch whatever the phase a view sees)
                late = [("surrender", {"year": year, "surrenders": batch})] if batch else []
                self.closing = [*late, ("settle", settling)]


def _held(s: pl.Situation, holdings: int) -> pl.Situation:
    return replace(s, holdings=holdings)

