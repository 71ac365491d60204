"""System-wide stateful test: the registry, the allowance, the settlement token, the credit token, compliance and
the market together, driven by random operations of random actors — the regulator, the issuer, the exchange, the
verifier, two enterprises, an investor and an outsider who was never registered — while the regulator freezes,
unfreezes and revokes them.

Every privileged operation is tried by every kind of actor: it succeeds exactly when the actor holds the authority,
and is refused with the named error otherwise. Invariants after every step:
- the allowance's supply of each id is the model's mints less its burns, and the contract's own counters agree;
- the holdings of every account that can hold units (the actors, the market, the desk, compliance) add up to the
  supply: nothing leaves for an address nobody knows of;
- the settlement token is conserved: every balance adds up to what was issued, fees included;
- every credit balance is the model's (rewards, penalties, forfeits, the regulator's own mints);
- a frozen or revoked account's units and money change only in steps the regulator's side takes;
- escrow is always backed: the market holds exactly what its open orders and its accrued fees stand for (claw-back
  and invalidation of escrow are refused; a revoked owner's orders are recovered by the regulator);
- no level outside today's limits hides the book: the best prices shown can trade, and the book is not crossed;
- no position above its limit: the investor's balance, open orders and escrowed proposals stay within the limit,
  less only what it was given (mints, transfers to it).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market import bulk
from carbon_market.compliance import Rules, entitlement
from carbon_market.history import OrderKey
from carbon_market.market import FEE_CAP_BPS, Side, fee_per_lot, limits
from carbon_market.roles import Role, Status
from carbon_market.suite import MONEY_UNIT
from carbon_market.clock import latest_timestamp, sleep_until
from tests.conftest import ALLOWANCE_2026, BENCHMARKS, CEMENT, DOC, OFFSET_7_2025, POWER, WHY, YEAR
from tests.stateful.test_market_stateful import _stay_within_one_trading_day
from tests.stateful.machine import SETTINGS, STATUS_ACTIONS, ChainMachine, StatusModel, run, share_of
from tests.unit.market.conftest import CREDIT, INSTRUMENT, market  # noqa: F401 (the fixture)


def today(market) -> tuple[int, int]:
    """Today's price limits of the instrument, in ticks."""
    return limits(market.instrument(INSTRUMENT), int(market.params()["bandBps"]), latest_timestamp())


IDS = (ALLOWANCE_2026, OFFSET_7_2025)
BASELINE = 1_000
#: Carol the investor may hold at most this many 2026 allowances (units; one unit per lot)
POSITION_LIMIT = 60
#: what each privileged operation needs: the actor that holds the authority
AUTHORITY = {"mint": "issuer", "surrender_for": "issuer", "claw_back": "issuer", "reward": "issuer",
             "issue_money": "regulator", "regulator_mint": "regulator", "pause": "regulator",
             "set_benchmark": "regulator", "fee_recipient": "exchange"}
OPERATIONS = st.sampled_from(sorted(AUTHORITY))
ACTORS = st.sampled_from(["regulator", "issuer", "exchange", "verifier", "alice", "bob", "carol", "outsider"])
TRADERS = st.sampled_from(["alice", "bob", "carol", "outsider"])
ENTERPRISES = st.sampled_from(["alice", "bob"])
SHARES = st.integers(min_value=1, max_value=120)
PICKS = st.integers(min_value=0, max_value=10**6)
#: most calls come from the account that should make them; one in four from anybody
ONE_IN_FOUR = st.integers(min_value=0, max_value=3).map(lambda n: n == 0)
#: the regulator's side: its own account and the system account it gave the issuer roles to
REGULATOR_SIDE = {"regulator", "issuer"}
#: where the state-changing actors run out of rules to break: fewer, longer examples
LONG = settings(SETTINGS, max_examples=40, stateful_step_count=50)


class SystemMachine(ChainMachine):
    suite = None
    people: dict = {}
    others: list = []
    rules_: Rules = None

    def __init__(self) -> None:
        super().__init__()
        s = self.suite
        self.addr = {name: p.address for name, p in self.people.items()}
        self.name = {a: n for n, a in self.addr.items()}
        self.holders = [*self.addr.values(), *(o.address for o in self.others), s.market.address, s.desk.address,
                        s.compliance.address]
        self.orders: list[tuple[int, str]] = []
        _stay_within_one_trading_day()
        self.status = StatusModel([a for n, a in self.addr.items() if n != "outsider"])
        self.status.status[self.addr["outsider"]] = Status.NONE
        self.paused = False
        self.past_deadline = False
        self.supply = {i: int(s.allowance.totalSupply(i)) for i in IDS}
        self.money_supply = int(s.money.totalSupply())
        self.credit = dict(zip(self.addr.values(), bulk.read([(s.credit.balanceOf, a) for a in self.addr.values()])))
        self.owed = dict.fromkeys(self.addr.values(), 0)
        self.year = {e: {"state": "enrolled", "rejections": 0, "allocated": int(s.compliance.enterpriseYear(
            YEAR, self.addr[e])["allocated"]), "emissions": 0, "output": 0, "surrendered": 0, "completed": None,
            "reported_late": False, "finalized_late": False}
            for e in ("alice", "bob")}
        self.sector = {"alice": POWER, "bob": CEMENT}
        self.frozen_holdings = {}
        self.actor = None
        #: units Carol (the investor) received other than by buying: they may lift her position past the limit
        self.given_to_carol = 0

    # ------------------------------------------------------------ helpers

    def _who(self, name: str):
        return self.people[name]

    def _active(self, name: str) -> bool:
        return self.status.active(self.addr[name])

    def _units(self, name: str, token: int = ALLOWANCE_2026) -> int:
        return int(self.suite.allowance.balanceOf(self.addr[name], token))

    def _tx(self, name: str) -> dict:
        self.actor = name
        return {"from": self._who(name)}

    def _reward(self, name: str, amount: int) -> None:
        if amount and self._active(name):
            self._credit_arrives(self.addr[name], amount)

    def _penalize(self, name: str, amount: int) -> None:
        a = self.addr[name]
        burned = min(amount, self.credit[a])
        self.credit[a] -= burned
        self.owed[a] += amount - burned  # collected from the next credit that arrives

    def _credit_arrives(self, account: str, amount: int) -> None:
        collected = min(self.owed[account], amount)
        self.owed[account] -= collected
        self.credit[account] += amount - collected

    def _access_error(self, actor: str, needs: str, admin: bool) -> str | None:
        """The error a privileged call of `actor` gets when it needs the account `needs` holds."""
        if actor == needs:
            return None if self._active(actor) else "Registry__NotActive"
        if admin:  # DEFAULT_ADMIN_ROLE: an active regulator of the registry
            return "Registry__NotActive" if not self._active(actor) else "Registry__MissingRole"
        return "AccessControlUnauthorizedAccount"

    # ------------------------------------------------------------ authority

    @rule(op=OPERATIONS, actor=ACTORS, intruder=ONE_IN_FOUR)
    def privileged(self, op: str, actor: str, intruder: bool) -> None:
        """Each privileged operation by anyone: it goes through exactly for the account that holds its authority."""
        actor = AUTHORITY[op] if not intruder else actor
        s, carol, alice, bob = self.suite, self.addr["carol"], self.addr["alice"], self.addr["bob"]
        admin = op in ("pause", "set_benchmark") or (op == "regulator_mint")
        error = self._access_error(actor, AUTHORITY[op], admin)
        tx = self._tx(actor)
        if op == "mint":
            error = error or (None if self._active("carol") else "Registry__NotActive")
            self.expect(error, s.allowance.mint, carol, ALLOWANCE_2026, 7, tx)
            if error is None:
                self.supply[ALLOWANCE_2026] += 7
                self.given_to_carol += 7
        elif op == "surrender_for":
            if error is None and not self._active("alice"):
                error = "Registry__NotActive"
            if error is None and self._units("alice") < 1:
                error = "Allowance__InsufficientBalance"
            self.expect(error, s.allowance.surrender, alice, ALLOWANCE_2026, 1, tx)
            if error is None:
                self.supply[ALLOWANCE_2026] -= 1
        elif op == "claw_back":
            if error is None and self._units("bob") < 1:
                error = "Allowance__InsufficientBalance"
            self.expect(error, s.allowance.clawBack, bob, ALLOWANCE_2026, 1, WHY, tx)
            if error is None:
                self.supply[ALLOWANCE_2026] -= 1
        elif op == "reward":
            error = error or (None if self._active("carol") else "Registry__NotActive")
            self.expect(error, s.credit.reward, carol, 3, CREDIT, tx)
            if error is None:
                self._credit_arrives(carol, 3)
        elif op == "regulator_mint":
            error = error or (None if self._active("carol") else "Registry__NotActive")
            self.expect(error, s.credit.regulatorMint, carol, 2, "good conduct", tx)
            if error is None:
                self._credit_arrives(carol, 2)
        elif op == "issue_money":
            error = error or (None if self._active("carol") else "Registry__NotActive")
            self.expect(error, s.money.issue, carol, 5 * MONEY_UNIT, tx)
            if error is None:
                self.money_supply += 5 * MONEY_UNIT
        elif op == "pause":
            self.expect(error, s.market.setPaused, not self.paused, tx)
            if error is None:
                self.paused = not self.paused
        elif op == "set_benchmark":
            if error is None and self.past_deadline:
                error = "Compliance__DeadlinePassed"
            self.expect(error, s.compliance.setBenchmarks, YEAR, [POWER], [BENCHMARKS[POWER]], tx)
        elif op == "fee_recipient":  # the exchange, or else the regulator (who replaces a recipient)
            error = (self._access_error(actor, "exchange", False) if actor == "exchange"
                     else self._access_error(actor, "regulator", True))
            if error is None and not self._active("exchange"):
                error = "Registry__NotActive"
            self.expect(error, s.market.setFeeRecipient, self.addr["exchange"], tx)

    @rule(actor=ACTORS, subject=ACTORS, action=STATUS_ACTIONS, intruder=ONE_IN_FOUR)
    def status_change(self, actor: str, subject: str, action: str, intruder: bool) -> None:
        """Freeze, unfreeze or revoke anyone (never the regulator): only the regulator may."""
        actor = "regulator" if not intruder else actor
        if subject == "regulator":
            return
        account = self.addr[subject]
        self.actor = actor
        if subject == "outsider":
            error = "Registry__NotRegistered"
        elif actor != "regulator" or not self._active("regulator"):
            error = "Registry__Unauthorized"
        else:
            error = self.status.change_error(account, action)
        self.expect(error, getattr(self.suite.registry, action), account, WHY, {"from": self._who(actor)})
        if error is None:
            self.status.apply(account, action)

    # ------------------------------------------------------------ holdings

    @rule(frm=TRADERS, to=TRADERS, share=SHARES, token=st.sampled_from(IDS))
    def transfer(self, frm: str, to: str, share: int, token: int) -> None:
        """Units move only between active participants, and only what the sender holds."""
        balance = self._units(frm, token)
        amount = max(share_of(balance, share), 1)
        if not self._active(frm) or not self._active(to):
            error = "Registry__NotActive"
        elif amount > balance:
            error = "ERC1155InsufficientBalance"
        else:
            error = None
        allowance = self.suite.allowance
        self.expect(error, allowance.safeTransferFrom, self.addr[frm], self.addr[to], token, amount, b"",
                    self._tx(frm))
        if error is None and token == ALLOWANCE_2026 and to == "carol" and frm != "carol":
            self.given_to_carol += amount  # a gift, not a purchase: the limit binds what she buys

    @rule(frm=TRADERS, to=TRADERS, share=SHARES)
    def pay(self, frm: str, to: str, share: int) -> None:
        """Money moves only between active participants."""
        money = self.suite.money
        balance = int(money.balanceOf(self.addr[frm]))
        amount = max(share_of(balance, share), 1)
        if not self._active(frm) or not self._active(to):
            error = "Registry__NotActive"
        elif amount > balance:
            error = "ERC20InsufficientBalance"
        else:
            error = None
        self.expect(error, money.transfer, self.addr[to], amount, self._tx(frm))

    # ------------------------------------------------------------ compliance

    @rule(who=ACTORS, enterprise=ENTERPRISES, intruder=ONE_IN_FOUR, emissions=st.sampled_from([0, 500, 800, 1_200]),
          output=st.sampled_from([500, 1_000, 1_500]))
    def report(self, who: str, enterprise: str, intruder: bool, emissions: int, output: int) -> None:
        """An enterprise reports its own emissions; anyone else is not enrolled."""
        who = enterprise if not intruder else who
        y = self.year.get(who)
        if y is None:
            error = "Compliance__NotEnrolled"
        elif y["state"] == "settled":
            error = "Compliance__AlreadySettled"
        elif y["state"] not in ("enrolled", "rejected"):
            error = "Compliance__InvalidState"
        elif not self._active(who):
            error = "Registry__NotActive"
        else:
            error = None
        self.expect(error, self.suite.compliance.submitReport, YEAR, emissions, output, DOC, self._tx(who))
        if error is None:
            y["state"], y["emissions"], y["output"] = "submitted", emissions, output
            y["reported_late"] = self.past_deadline

    @rule(who=ACTORS, intruder=ONE_IN_FOUR, enterprise=ENTERPRISES, reject=ONE_IN_FOUR)
    def review(self, who: str, intruder: bool, enterprise: str, reject: bool) -> None:
        attest = not reject
        who = "verifier" if not intruder else who
        y = self.year[enterprise]
        if not self._active(who):
            error = "Registry__NotActive"
        elif who != "verifier":
            error = "Registry__MissingRole"
        elif y["state"] == "settled":
            error = "Compliance__AlreadySettled"
        elif y["state"] != "submitted":
            error = "Compliance__InvalidState"
        else:
            error = None
        c, tx = self.suite.compliance, self._tx(who)
        if attest:
            self.expect(error, c.attest, YEAR, self.addr[enterprise], tx)
        else:
            self.expect(error, c.reject, YEAR, self.addr[enterprise], WHY, tx)
        if error is None:
            y["state"] = "attested" if attest else "rejected"
            y["rejections"] += not attest

    @rule(who=ACTORS, intruder=ONE_IN_FOUR, enterprise=ENTERPRISES)
    def finalize(self, who: str, intruder: bool, enterprise: str) -> None:
        who = "regulator" if not intruder else who
        y, c = self.year[enterprise], self.suite.compliance
        error = self._access_error(who, "regulator", admin=True)
        if error is None and y["state"] == "settled":
            error = "Compliance__AlreadySettled"
        elif error is None and y["state"] != "attested":
            error = "Compliance__InvalidState"
        account = self.addr[enterprise]
        held, balance = int(c.heldAllocation(YEAR, account)), self._units(enterprise)
        self.expect(error, c.finalize, YEAR, [account], self._tx(who))
        if error is not None:
            return
        y["state"] = "finalized"
        y["finalized_late"] = self.past_deadline
        if y["emissions"] == 0:  # complete when the enterprise reported, however late the finalisation
            y["completed"] = "late" if y["reported_late"] else "early"
        final = entitlement(BENCHMARKS[self.sector[enterprise]], y["output"])
        if final > y["allocated"]:
            if self._active(enterprise):  # an inactive enterprise's top-up is held, not minted
                self.supply[ALLOWANCE_2026] += final - y["allocated"]
        elif final < y["allocated"]:
            rest = y["allocated"] - final - min(held, y["allocated"] - final)
            self.supply[ALLOWANCE_2026] -= min(balance, rest)
        y["allocated"] = final
        if y["rejections"] == 0:
            self._reward(enterprise, self.rules_.reward_accurate)
        else:
            self._penalize(enterprise, self.rules_.penalty_rejected)

    @rule(enterprise=ENTERPRISES, share=SHARES)
    def surrender(self, enterprise: str, share: int) -> None:
        y = self.year[enterprise]
        remaining = y["emissions"] - y["surrendered"]
        balance = self._units(enterprise)
        amount = max(share_of(min(balance, remaining), share), 1)
        if y["state"] == "settled":
            error = "Compliance__AlreadySettled"
        elif y["state"] != "finalized":
            error = "Compliance__InvalidState"
        elif amount > remaining:
            error = "Compliance__ExceedsObligation"
        elif not self._active(enterprise):
            error = "Registry__NotActive"
        elif amount > balance:
            error = "Allowance__InsufficientBalance"
        else:
            error = None
        self.expect(error, self.suite.compliance.surrender, YEAR, ALLOWANCE_2026, amount, self._tx(enterprise))
        if error is None:
            y["surrendered"] += amount
            self.supply[ALLOWANCE_2026] -= amount
            if y["surrendered"] == y["emissions"]:
                # late only by the enterprise's own doing: finalised in time, or reported after the deadline
                own = not y["finalized_late"] or y["reported_late"]
                y["completed"] = "early" if not self.past_deadline else "late" if own else "on_time"

    @rule(enterprise=ENTERPRISES, reject=ONE_IN_FOUR, emissions=st.sampled_from([0, 500, 800, 1_200]),
          output=st.sampled_from([500, 1_000, 1_500]), share=SHARES)
    def progress(self, enterprise: str, reject: bool, emissions: int, output: int, share: int) -> None:
        """The next step of an enterprise's year, by whoever should take it: report, review, finalise, surrender,
        then the deadline passes and the year is settled."""
        state = self.year[enterprise]["state"]
        if state in ("enrolled", "rejected"):
            self.report("regulator", enterprise, False, emissions, output)
        elif state == "submitted":
            self.review("verifier", False, enterprise, reject)
        elif state == "attested":
            self.finalize("regulator", False, enterprise)
        elif state == "finalized" and self.year[enterprise]["surrendered"] < self.year[enterprise]["emissions"]:
            self.surrender(enterprise, min(share, 100))
        elif not self.past_deadline:
            self.pass_the_deadline()
        else:
            self.settle(enterprise)

    @rule(enterprise=ENTERPRISES)
    def claim_held(self, enterprise: str) -> None:
        c = self.suite.compliance
        held = int(c.heldAllocation(YEAR, self.addr[enterprise]))
        error = "Compliance__NothingToClaim" if held == 0 else (
            None if self._active(enterprise) else "Registry__NotActive")
        self.expect(error, c.claimAllocation, YEAR, self._tx(enterprise))
        if error is None:
            self.supply[ALLOWANCE_2026] += held

    @rule()
    def pass_the_deadline(self) -> None:
        """Once per example: the surrender deadline passes (a weekday noon in China, so no market day rolls)."""
        if self.past_deadline:
            return
        self.actor = None
        target = self.rules_.deadline + 3_600
        sleep_until(target + (12 * 3_600 - (target + 8 * 3_600) % 86_400) % 86_400)
        self.past_deadline = True

    @rule(who=ACTORS)
    def settle(self, who: str) -> None:
        pending = [e for e in ("alice", "bob") if self.year[e]["state"] != "settled"]  # roster order
        # the example never passes the grace window: only the regulator settles an enterprise whose report awaits
        # the verifier or the regulator, and anyone else's batch stops before it
        if who != "regulator":
            awaiting = [e for e in pending if self.year[e]["state"] in ("submitted", "attested")]
            pending = pending[:pending.index(awaiting[0])] if awaiting else pending
        if not self.past_deadline:
            error = "Compliance__DeadlineNotPassed"
        elif not pending and all(self.year[e]["state"] == "settled" for e in self.year):
            error = "Compliance__NothingToSettle"
        elif not pending:
            error = "Compliance__AwaitingFinalization"
        else:
            error = None
        self.expect(error, self.suite.compliance.settle, YEAR, 2, self._tx(who))
        if error is not None:
            return
        r = self.rules_
        for e in pending:
            y = self.year[e]
            if y["state"] != "finalized" or y["surrendered"] < y["emissions"]:
                self._penalize(e, r.penalty_shortfall)
            elif y["completed"] == "late":
                self._penalize(e, r.penalty_late)
            elif y["completed"] == "on_time":
                self._reward(e, r.reward_on_time)
            else:
                self._reward(e, r.reward_early)
            y["state"] = "settled"

    # ------------------------------------------------------------ market

    @rule(who=TRADERS, sell=st.booleans(), offset=st.integers(min_value=-700, max_value=700),
          lots=st.integers(min_value=1, max_value=5))
    def place(self, who: str, sell: bool, offset: int, lots: int) -> None:
        s = self.suite
        low, high = today(s.market)
        tick = (low + high) // 2 + offset
        if self.paused:
            error = "Market__Paused"
        elif not low <= tick <= high:
            error = "Market__PriceOutOfBand"
        elif not self._active(who):
            error = "Registry__NotActive"
        elif sell and self._units(who) < lots:
            error = "ERC1155InsufficientBalance"
        else:
            error = None
        side = Side.SELL if sell else Side.BUY
        if error is None and not sell and int(s.money.balanceOf(self.addr[who])) < 2 * lots * tick * 10_000:
            return  # a buy escrows price and fee: with less money than twice the price, leave it
        if error is None and not sell and who == "carol" and self._position("carol") + lots > POSITION_LIMIT:
            error = "Market__PositionLimit"
        tx = self.expect(error, s.market.place, INSTRUMENT, side, tick * 10_000, lots, False, 100, FEE_CAP_BPS, self._tx(who))
        if tx is not None and "OrderPlaced" in tx.events:
            self.orders.append((int(tx.events["OrderPlaced"]["orderId"]), self.addr[who]))

    @rule(who=TRADERS, pick=PICKS)
    def cancel(self, who: str, pick: int) -> None:
        """The owner of a resting order cancels it (and is paid its fills); anyone else is refused."""
        s = self.suite
        if not self.orders:
            return
        order_id, owner = self.orders[pick % len(self.orders)]
        if int(s.market.order(order_id)["remaining"]) == 0:
            return
        if owner != self.addr[who]:
            error = "Market__NotOwner"
        elif not self._active(who):
            error = "Registry__NotActive"
        else:
            error = None
        self.expect(error, s.market.cancel, order_id, self._tx(who))

    @rule(pick=PICKS, intruder=ONE_IN_FOUR)
    def recover(self, pick: int, intruder: bool) -> None:
        """The regulator recovers an order to the issuer's system account: only a revoked owner's, and only the
        regulator may."""
        s = self.suite
        if not self.orders:
            return
        order_id, owner = self.orders[pick % len(self.orders)]
        if int(str(s.market.order(order_id)["owner"]), 16) == 0:
            return
        actor = "exchange" if intruder else "regulator"
        if actor != "regulator":
            error = self._access_error(actor, "regulator", admin=True)
        elif not self._active("issuer"):
            error = "Registry__NotActive"
        elif self.status.status[owner] != Status.REVOKED:
            error = "Market__OwnerNotRevoked"
        else:
            error = None
        self.expect(error, s.market.recoverOrders, [order_id], self.addr["issuer"], self._tx(actor))

    @rule(escrow=st.sampled_from(["market", "desk"]), invalidate=st.booleans())
    def burn_escrow(self, escrow: str, invalidate: bool) -> None:
        """Nobody burns what backs orders and proposals: claw-back and invalidation of escrow are refused."""
        s = self.suite
        holder = getattr(s, escrow)
        actor = "regulator" if invalidate else "issuer"
        error = "Allowance__EscrowHolder" if self._active(actor) else "Registry__NotActive"
        if invalidate:
            self.expect(error, s.allowance.invalidate, holder, ALLOWANCE_2026, 1, WHY, self._tx(actor))
        else:
            self.expect(error, s.allowance.clawBack, holder, ALLOWANCE_2026, 1, WHY, self._tx(actor))

    # ------------------------------------------------------------ invariants

    @invariant()
    def escrow_is_backed(self) -> None:
        """The market holds exactly what its open orders and accrued fees stand for: every sell's resting units
        and every buy's unclaimed units; every buy's escrow (price and fee per resting lot, the fee of its
        unclaimed fills) and every sell's unclaimed proceeds."""
        s, market = self.suite, self.suite.market
        ids = [oid for oid, _ in self.orders]
        orders = bulk.read([(market.order, oid) for oid in ids])
        units = money = 0
        for oid, (owner, remaining, filled, fee_bps, _) in zip(ids, orders):
            if int(str(owner), 16) == 0:
                continue
            key = OrderKey.of(oid)
            p = key.tick * 10_000
            if key.side == Side.SELL:
                units, money = units + remaining, money + filled * p
            else:
                units, money = units + filled, money + remaining * (p + fee_per_lot(p, fee_bps)) + filled * fee_per_lot(
                    p, fee_bps)
        held_units, held_money, fees = bulk.read([(s.allowance.balanceOf, market, ALLOWANCE_2026),
                                                  (s.money.balanceOf, market), (market.feesAccrued,)])
        assert (held_units, held_money) == (units, money + fees)

    def _position(self, name: str) -> int:
        """An investor's position: its balance, its open orders' lots and what it escrows in block proposals."""
        s, a = self.suite, self.addr[name]
        balance, open_lots, escrowed = bulk.read([(s.allowance.balanceOf, a, ALLOWANCE_2026),
                                                  (s.market.openBuyLots, a, INSTRUMENT),
                                                  (s.desk.escrowedLots, a, INSTRUMENT)])
        return balance + open_lots + escrowed

    @invariant()
    def no_position_above_its_limit(self) -> None:
        """No sequence of trades lifts the investor past its limit: only what it was given can."""
        assert self._position("carol") <= POSITION_LIMIT + self.given_to_carol

    @invariant()
    def no_untradable_level_hides_the_book(self) -> None:
        """The best prices shown are inside today's limits, and the book they show is not crossed."""
        low, high = today(self.suite.market)
        bid, ask = (int(t) for t in self.suite.market.bestTicks(INSTRUMENT))
        assert all(low <= t <= high for t in (bid, ask) if t)
        assert bid == 0 or ask == 0 or bid < ask

    @invariant()
    def supply_is_minted_less_burned(self) -> None:
        a = self.suite.allowance
        for token in IDS:
            t = a.totals(token)
            assert int(a.totalSupply(token)) == self.supply[token] == int(t[0]) - sum(int(x) for x in t[1:5])

    @invariant()
    def holdings_add_up_to_the_supply(self) -> None:
        a = self.suite.allowance
        for token in IDS:
            held = bulk.read([(a.balanceOf, h, token) for h in self.holders])
            assert sum(held) == self.supply[token]

    @invariant()
    def money_is_conserved(self) -> None:
        m = self.suite.money
        assert sum(bulk.read([(m.balanceOf, h) for h in self.holders])) == self.money_supply == int(m.totalSupply())

    @invariant()
    def credit_is_the_models(self) -> None:
        c = self.suite.credit
        got = bulk.read([(c.balanceOf, a) for a in self.addr.values()] + [(c.owedOf, a) for a in self.addr.values()])
        n = len(self.addr)
        assert dict(zip(self.addr.values(), got[:n])) == self.credit
        assert dict(zip(self.addr.values(), got[n:])) == self.owed

    @invariant()
    def frozen_holdings_stay_put(self) -> None:
        a, m = self.suite.allowance, self.suite.money
        now = {}
        for name, account in self.addr.items():
            if self.status.status[account] in (Status.FROZEN, Status.REVOKED):
                now[account] = tuple(bulk.read([(a.balanceOf, account, t) for t in IDS] + [(m.balanceOf, account)]))
        for account, holdings in now.items():
            before = self.frozen_holdings.get(account)
            if before is not None and self.actor not in REGULATOR_SIDE:
                assert holdings == before, f"{self.name[account]} is not active, yet its holdings changed"
        self.frozen_holdings = now


def test_system_stateful(market, year_open, regulator, issuer, exchange, verifier, alice, bob, carol,  # noqa: F811
                         dave, outsider, rules):
    """Alice (power) and Bob (cement) enrolled in 2026 with a baseline of 1,000; the market lists 2026 allowances."""
    suite = year_open
    suite.compliance.enroll(YEAR, [alice, bob], [BASELINE, BASELINE], {"from": regulator})
    for who in (alice, bob, carol):
        suite.money.issue(who, 1_000 * MONEY_UNIT, {"from": regulator})
    people = {"regulator": regulator, "issuer": issuer, "exchange": exchange, "verifier": verifier,
              "alice": alice, "bob": bob, "carol": carol, "outsider": outsider}
    assert int(suite.registry.rolesOf(alice)) & Role.ENTERPRISE
    suite.market.setPositionLimit(INSTRUMENT, POSITION_LIMIT, {"from": regulator})
    run(SystemMachine, run_settings=LONG, suite=suite, people=people, others=[dave], rules_=rules)
