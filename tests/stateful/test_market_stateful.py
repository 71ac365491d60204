"""Stateful test of the market (one instrument) against the Python model in `book_model`: continuous placements
with random matching bounds, immediate-or-cancel and self-matching; cancellations and claims by anyone; call
auctions opened, filled, closed and cleared in random chunks; pause, freezing and fee withdrawal.

Every placement's fills, suspensions and resting quantity must be the model's. Invariants after every step:
the market holds exactly the open orders' escrow plus their unclaimed proceeds plus the accrued fees, for money
and allowances; the book is never crossed and its best prices are the model's; every order is the model's; every
participant's balances are the model's, so money and allowances are conserved and the fees reach the fee
recipient exactly; the book rebuilt from the run's events alone is the model's."""

from __future__ import annotations

from brownie import chain
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market import bulk
from carbon_market.trace import rebuild_book
from carbon_market.market import FEE_CAP_BPS, Phase, Side, params_with
from tests.conftest import ALLOWANCE_2026
from tests.stateful.book_model import BookModel, Placement
from tests.stateful.machine import SETTINGS, ChainMachine, StatusModel, run
from tests.unit.market.conftest import INSTRUMENT, REFERENCE, market  # noqa: F401 (the fixture)

TICK_SIZE = 10_000
FEE_BPS = 20  # every trader stays in credit tier 0
traders = st.sampled_from(range(3))
#: ticks around the 6,000 reference, so that orders cross; 5,000 and 7,000 are outside the +/-10% limits
ticks = st.sampled_from([*range(5_994, 6_007), 5_000, 7_000])
picks = st.integers(min_value=0, max_value=10**6)
CST_DAY, CST_OFFSET = 86_400, 8 * 3_600
#: a book needs longer runs than a token to reach its interesting states (hypothesis draws ~1/3 of the maximum)
LONGER = settings(SETTINGS, max_examples=30, stateful_step_count=60)
#: one buyer and one seller set the reference, so that calls move it and leave levels outside the new limits
CALL_MIN_TRADERS = 1


class MarketMachine(ChainMachine):
    suite = regulator = exchange = None
    people: list = []

    def __init__(self) -> None:
        super().__init__()
        _stay_within_one_trading_day()
        self.start_block = chain.height + 1
        self.traders = [p.address for p in self.people]
        self.accounts = {p.address: p for p in self.people}
        self.model = BookModel(TICK_SIZE, 1, REFERENCE // TICK_SIZE, 1_000, CALL_MIN_TRADERS)
        self.status = StatusModel(self.traders)
        self.paused = False
        money, allowance, m = self.suite.money, self.suite.allowance, self.suite.market
        watched = [*self.traders, self.exchange.address]
        got = bulk.read([(money.balanceOf, a) for a in watched] + [(allowance.balanceOf, a, ALLOWANCE_2026)
                                                                    for a in watched])
        self.money = dict(zip(watched, got[:len(watched)]))
        self.units = dict(zip(watched, got[len(watched):]))
        self.total = (sum(self.money.values()), sum(self.units.values()))  # the market holds nothing yet

    # ------------------------------------------------------------ helpers

    def _move(self, who: str, money: int, units: int) -> None:
        self.money[who] += money
        self.units[who] += units

    def _pick(self, pick: int, owner: str | None = None) -> int | None:
        ids = sorted(i for i, o in self.model.orders.items() if owner is None or o.owner == owner)
        return ids[pick % len(ids)] if ids else None

    def _place_error(self, who: str, side: Side, tick: int) -> str | None:
        low, high = self.model.limits()
        if self.paused:
            return "Market__Paused"
        if not low <= tick <= high:
            return "Market__PriceOutOfBand"
        if not self.status.active(who):
            return "Registry__NotActive"
        if self.model.phase == Phase.CLEARING:
            return "Market__WrongPhase"
        return None

    # ------------------------------------------------------------ trading

    @rule(t=traders, side=st.sampled_from(Side), tick=ticks, lots=st.integers(1, 30),
          ioc=st.sampled_from([False, False, True]), max_fills=st.integers(1, 6))
    def place(self, t, side, tick, lots, ioc, max_fills):
        who = self.traders[t]
        error = self._place_error(who, side, tick)
        trial = self.model.snapshot()
        if trial.phase == Phase.CALL:
            # in a call a bound means nothing: most placements send none, one in six sends one and is refused
            max_fills = 0 if max_fills > 1 else max_fills
        if error is None and trial.phase == Phase.CALL:
            if ioc or max_fills:
                error = "Market__CallOrderFlags"
            elif trial.call_side(who) not in (None, side):
                error = "Market__CallSelfTrade"
            moves = trial.taker_moves(side, tick, _rests(lots), FEE_BPS)
            out = None
        elif error is None:
            out = trial.place(None, who, side, tick, lots, ioc, max_fills, FEE_BPS, self.status.active)
            moves = trial.taker_moves(side, tick, out, FEE_BPS)
        if error is None and self.units[who] + moves[1] < 0:
            error = "ERC1155InsufficientBalance"
        args = (INSTRUMENT, side, tick * TICK_SIZE, lots, ioc, max_fills, FEE_CAP_BPS, {"from": self.accounts[who]})
        tx = self.expect(error, self.suite.market.place, *args)
        if error is not None:
            return
        event = tx.events["OrderPlaced"]
        oid = int(event["orderId"])
        if out is None:
            trial.enter_call(oid, who, side, tick, lots, FEE_BPS)
        else:
            assert (event["filled"], event["rested"]) == (out.filled, out.rested)
            filled = [(int(e["orderId"]), int(e["price"]) // TICK_SIZE, int(e["lots"]))
                      for e in tx.events["OrderFilled"]] if "OrderFilled" in tx.events else []
            assert filled == out.fills
            suspended = [int(e["orderId"]) for e in tx.events["OrderSuspended"]] \
                if "OrderSuspended" in tx.events else []
            assert suspended == out.suspended
            assert (oid != 0) == (out.rested != 0)
            if out.rested:
                trial.rest(oid, who, side, tick, out.rested, FEE_BPS)
        self.model = trial
        self._move(who, *moves)

    @rule(t=traders, side=st.sampled_from(Side), lots=st.integers(1, 40), deeper=st.integers(0, 2),
          max_fills=st.integers(1, 8))
    def take(self, t, side, lots, deeper, max_fills):
        """An order that crosses: priced ``deeper`` ticks through the best opposite price (at the reference if
        that side is empty, or during a call), from a trader other than the first in that price's queue (``place``
        draws self-matches)."""
        best = self.model.best(Side(1 - side)) if self.model.phase == Phase.CONTINUOUS else 0
        if best and self.model.head(Side(1 - side), best) == self.traders[t]:
            t = (t + 1) % len(self.traders)
        tick = (best or self.model.reference) + (deeper if side == Side.BUY else -deeper)
        self.place(t, side, tick, lots, False, max_fills)

    @rule(t=traders, pick=picks, own=st.booleans())
    def cancel(self, t, pick, own):
        who = self.traders[t]
        oid = self._pick(pick, who if own else None)
        if oid is None:
            return
        o = self.model.orders[oid]
        auction = self.model.auctions.get(o.call_round)
        if o.owner != who:
            error = "Market__NotOwner"
        elif o.call_round and not auction.cleared and self.model.phase == Phase.CLEARING \
                and o.call_round == self.model.round:
            error = "Market__WrongPhase"
        else:
            error = None if self.status.active(who) else "Registry__NotActive"
        self.expect(error, self.suite.market.cancel, oid, {"from": self.accounts[who]})
        if error is None:
            if o.call_round and auction.cleared:
                _, money, units, _ = self.model.claim(oid)
            else:
                money, units = self.model.cancel(oid)
            self._move(who, money, units)

    @rule(t=traders, u=traders, picks_=st.lists(picks, min_size=1, max_size=3),
          more=st.lists(picks, min_size=0, max_size=2))
    def claim(self, t, u, picks_, more):
        """The exchange claims, on the owners' behalf, up to three orders of one owner followed by up to two of
        another: each owner is paid its own orders' fills."""
        ids = [self._pick(p, self.traders[t]) for p in picks_] + [self._pick(p, self.traders[u]) for p in more]
        ids = list(dict.fromkeys(i for i in ids if i is not None))
        if not ids:
            return
        self.expect(self._claim_error(ids), self.suite.market.claim, ids, {"from": self.exchange})
        if self._claim_error(ids) is None:
            for i in ids:
                owner = self.model.orders[i].owner
                _, money, units, _ = self.model.claim(i)
                self._move(owner, money, units)

    def _claim_error(self, ids: list[int]) -> str | None:
        """The first error a claim of ``ids`` meets, in the contract's order: an order is claimed (an uncleared
        call order refuses), and each owner is paid when the next order is another owner's, or at the end (an owner
        no longer active cannot receive)."""
        owner, due = None, False
        for i in ids:
            o = self.model.orders[i]
            if o.owner != owner:
                if due and not self.status.active(owner):
                    return "Registry__NotActive"
                owner, due = o.owner, False
            if o.call_round and not self.model.auctions[o.call_round].cleared:
                return "Market__NotCleared"
            _, money, units, _ = self.model.payout(i)
            due = due or bool(money or units)
        return "Registry__NotActive" if due and not self.status.active(owner) else None

    # ------------------------------------------------------------ call auctions

    @rule(steps=st.integers(1, 8), force=st.integers(0, 3))
    def call_auction(self, steps, force):
        """The next step of the call cycle: the exchange opens a call, or closes it and clears up to ``steps``
        steps; while it clears, anyone advances it (pausing stops opening and closing, not clearing). A call with
        orders on one side only is closed once in four tries, so that most auctions have something to cross."""
        market, phase = self.suite.market, self.model.phase
        if phase == Phase.CLEARING:
            market.advanceClearing(INSTRUMENT, steps, {"from": self.people[0]})
            self._cleared_yet()
            return
        error = "Market__Paused" if self.paused else None
        if phase == Phase.CONTINUOUS:
            self.expect(error, market.openCall, INSTRUMENT, {"from": self.exchange})
            if error is None:
                self.model.phase = Phase.CALL
            return
        sides = {self.model.orders[i].side for i in self.model.auctions[self.model.round].orders}
        if len(sides) < 2 and force:
            return
        self.expect(error, market.closeCall, INSTRUMENT, steps, {"from": self.exchange})
        if error is None:
            self.model.phase = Phase.CLEARING
            self._cleared_yet()

    def _cleared_yet(self) -> None:
        """How many steps clearing takes is the contract's business; once it is done, its result is the model's."""
        market = self.suite.market
        if market.instrument(INSTRUMENT)[6] == Phase.CLEARING:
            return
        round_ = self.model.round
        tick, volume = self.model.clear()
        cleared = market.auction(INSTRUMENT, round_)
        assert int(cleared[2]) == volume
        if volume:
            assert int(cleared[3]) == tick
        # the clearing price is the new reference if enough distinct buyers and sellers took part
        assert market.instrument(INSTRUMENT)["referenceTick"] == self.model.reference

    # ------------------------------------------------------------ supervision

    @rule(t=traders, action=st.sampled_from(["pause", "resume", "resume", "freeze", "unfreeze", "withdraw"]))
    def supervise(self, t, action):
        """The regulator pauses or resumes the market, freezes or unfreezes a trader; the exchange takes its fees."""
        if action in ("pause", "resume"):
            self.paused = action == "pause"
            self.suite.market.setPaused(self.paused, {"from": self.regulator})
        elif action == "withdraw":
            self.suite.market.withdrawFees({"from": self.exchange})
            self._move(self.exchange.address, self.model.fees, 0)
            self.model.fees = 0
        else:
            self.status.step(self.suite.registry, self.regulator, self.traders[t], action)

    # ------------------------------------------------------------ invariants

    @invariant()
    def market_matches_the_model(self):
        """All of it read in one batch at one block: holdings, fees, best prices, balances, touched orders."""
        m, money, allowance = self.suite.market, self.suite.money, self.suite.allowance
        watched = list(self.money)
        touched = sorted(self.model.touched)
        views = [(money.balanceOf, m), (allowance.balanceOf, m, ALLOWANCE_2026), (m.feesAccrued,),
                 (m.bestTicks, INSTRUMENT)]
        views += [(money.balanceOf, w) for w in watched] + [(allowance.balanceOf, w, ALLOWANCE_2026) for w in watched]
        views += [(m.order, oid) for oid in touched]
        got = bulk.read(views)
        held_money, held_units, fees, (bid, ask) = got[:4]
        n = len(watched)
        balances, orders = got[4:4 + 2 * n], got[4 + 2 * n:]

        # the market holds exactly the open orders' escrow and unclaimed proceeds, and the accrued fees
        assert (held_money, held_units) == self.model.holdings()
        assert fees == self.model.fees
        # the book is never crossed, and its best prices are the model's
        assert (bid, ask) == (self.model.tradable_best(Side.BUY), self.model.tradable_best(Side.SELL))
        assert bid == 0 or ask == 0 or bid < ask
        # no crossed-but-untradable book: a level that can trade is never hidden behind one that cannot
        low, high = self.model.limits()
        assert all(low <= t <= high for t in (bid, ask) if t)
        # every balance is the model's: money and allowances are conserved, fees reach the recipient exactly
        assert list(balances) == [self.money[w] for w in watched] + [self.units[w] for w in watched]
        assert (sum(self.money.values()) + held_money, sum(self.units.values()) + held_units) == self.total
        # the orders this step changed are the model's (all of them are compared when an example ends)
        for oid, order in zip(touched, orders):
            self._compare_order(oid, order)
        self.model.touched.clear()

    @invariant()
    def events_rebuild_the_book(self):
        """The book rebuilt from the run's events alone, without reading the market's storage, is the model's."""
        rebuilt = rebuild_book(self.suite.market, INSTRUMENT, self.start_block)
        assert {oid: (o.owner, o.remaining, o.filled, o.suspended) for oid, o in rebuilt.orders.items()} == {
            oid: (o.owner, o.remaining, o.filled, o.suspended) for oid, o in self.model.orders.items()}
        assert (rebuilt.best(Side.BUY), rebuilt.best(Side.SELL)) == (self.model.best(Side.BUY),
                                                                     self.model.best(Side.SELL))

    def teardown(self):
        ids = sorted(self.model.orders)
        for oid, order in zip(ids, bulk.read([(self.suite.market.order, oid) for oid in ids])):
            self._compare_order(oid, order)

    def _compare_order(self, oid: int, order) -> None:
        owner, remaining, filled, fee_bps, flags = order
        o = self.model.orders.get(oid)
        if o is None:  # claimed or cancelled: deleted
            assert (owner, remaining, filled) == ("0x" + "0" * 40, 0, 0)
            return
        assert (owner, remaining, filled, fee_bps, flags & 1) == (o.owner, o.remaining, o.filled, FEE_BPS,
                                                                   int(o.suspended))


def _rests(lots: int) -> Placement:
    """A call order: nothing fills on entry, everything rests."""
    return Placement(rested=lots)


def _stay_within_one_trading_day() -> None:
    """Move the chain past the next China Standard Time midnight if it is less than an hour away, so that no
    reference price rolls during an example (the model's reference changes only by call auctions)."""
    now = chain[-1].timestamp
    to_midnight = CST_DAY - (now + CST_OFFSET) % CST_DAY
    if to_midnight < 3_600:
        chain.sleep(to_midnight + 60)
        chain.mine()


def test_market_stateful(market, funded, regulator, exchange, alice, bob, carol):  # noqa: F811
    market.setParams(params_with(market, callMinTraders=CALL_MIN_TRADERS), {"from": regulator})
    run(MarketMachine, run_settings=LONGER, suite=funded, regulator=regulator, exchange=exchange,
        people=[alice, bob, carol])
