"""Stateful test of CarbonAllowance against a Python model.

Invariants after every step: every balance equals the model's; per id, minted / surrendered / retired /
invalidated and clawed back equal the model's and supply equals minted minus everything burned and the sum of balances;
frozen or revoked holders' balances change only by the regulator's invalidation.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market.ids import allowance_id, offset_id
from tests.stateful.machine import STATUS_ACTIONS, ChainMachine, StatusModel, run, share_of

IDS = [allowance_id(2026), allowance_id(2027), offset_id(7, 2025)]
START = 500  # units of every id that every holder has when an example starts
amounts = st.integers(min_value=0, max_value=400)
#: a share of the holder's balance in percent; above 100 asks for more than it holds
shares = st.integers(min_value=0, max_value=115)



class AllowanceMachine(ChainMachine):
    suite = regulator = issuer = None
    holders: list = []

    def __init__(self) -> None:
        super().__init__()
        self.balances: Counter = Counter({(h, t): START for h in self.holders for t in IDS})
        self.minted: Counter = Counter({t: START * len(self.holders) for t in IDS})
        self.burned = {kind: Counter() for kind in ("surrendered", "retired", "invalidated", "clawed_back")}
        self.registry = StatusModel(self.holders)
        self.frozen_moves_by_regulator: Counter = Counter()

    # ------------------------------------------------------------ rules

    @rule(to=st.sampled_from(range(4)), token=st.sampled_from(IDS), amount=amounts)
    def mint(self, to, token, amount):
        holder = self.holders[to]
        error = ("Registry__NotActive" if not self.registry.active(holder)
                 else "Allowance__InvalidAmount" if amount == 0 else None)
        self.expect(error, self.suite.allowance.mint, holder, token, amount, {"from": self.issuer})
        if error is None:
            self.balances[holder, token] += amount
            self.minted[token] += amount

    @rule(src=st.sampled_from(range(4)), dst=st.sampled_from(range(4)), token=st.sampled_from(IDS),
          share=shares)
    def transfer(self, src, dst, token, share):
        a, b = self.holders[src], self.holders[dst]
        amount = share_of(self.balances[a, token], share)
        error = ("Registry__NotActive" if not (self.registry.active(a) and self.registry.active(b))
                 else "ERC1155InsufficientBalance" if self.balances[a, token] < amount else None)
        self.expect(error, self.suite.allowance.safeTransferFrom, a, b, token, amount, b"", {"from": a})
        if error is None:
            self.balances[a, token] -= amount
            self.balances[b, token] += amount

    def _burn_error(self, holder, token, amount, needs_active: bool) -> str | None:
        if needs_active and not self.registry.active(holder):
            return "Registry__NotActive"
        if amount == 0:
            return "Allowance__InvalidAmount"
        if self.balances[holder, token] < amount:
            return "Allowance__InsufficientBalance"
        return None

    def _burned(self, kind, holder, token, amount):
        self.balances[holder, token] -= amount
        self.burned[kind][token] += amount

    @rule(who=st.sampled_from(range(4)), token=st.sampled_from(IDS), share=shares)
    def surrender(self, who, token, share):
        holder = self.holders[who]
        amount = share_of(self.balances[holder, token], share)
        error = self._burn_error(holder, token, amount, needs_active=True)
        self.expect(error, self.suite.allowance.surrender, holder, token, amount, {"from": self.issuer})
        if error is None:
            self._burned("surrendered", holder, token, amount)

    @rule(who=st.sampled_from(range(4)), token=st.sampled_from(IDS), share=shares)
    def retire(self, who, token, share):
        holder = self.holders[who]
        amount = share_of(self.balances[holder, token], share)
        error = self._burn_error(holder, token, amount, needs_active=True)
        self.expect(error, self.suite.allowance.retire, token, amount, holder, "stateful", {"from": holder})
        if error is None:
            self._burned("retired", holder, token, amount)

    @rule(who=st.sampled_from(range(4)), token=st.sampled_from(IDS), share=shares)
    def invalidate(self, who, token, share):
        holder = self.holders[who]
        amount = share_of(self.balances[holder, token], share)
        error = self._burn_error(holder, token, amount, needs_active=False)
        self.expect(error, self.suite.allowance.invalidate, holder, token, amount, b"\0" * 32,
                    {"from": self.regulator})
        if error is None:
            self._burned("invalidated", holder, token, amount)

    @rule(who=st.sampled_from(range(4)), token=st.sampled_from(IDS), share=shares)
    def claw_back(self, who, token, share):
        holder = self.holders[who]
        amount = share_of(self.balances[holder, token], share)
        error = self._burn_error(holder, token, amount, needs_active=False)
        self.expect(error, self.suite.allowance.clawBack, holder, token, amount, b"\0" * 32,
                    {"from": self.issuer})
        if error is None:
            self._burned("clawed_back", holder, token, amount)

    @rule(who=st.sampled_from(range(4)), action=STATUS_ACTIONS)
    def change_status(self, who, action):
        self.registry.step(self.suite.registry, self.regulator, self.holders[who], action)

    # ------------------------------------------------------------ invariants

    @invariant()
    def balances_match(self):
        pairs = [(h, t) for h in self.holders for t in IDS]
        on_chain = self.suite.allowance.balanceOfBatch([h for h, _ in pairs], [t for _, t in pairs])
        assert list(on_chain) == [self.balances[p] for p in pairs]

    @invariant()
    def supply_per_id(self):
        a = self.suite.allowance
        for token in IDS:
            minted, *burns = a.totals(token)
            burned = [self.burned[k][token] for k in ("surrendered", "retired", "invalidated", "clawed_back")]
            assert [minted, *burns] == [self.minted[token], *burned]
            supply = a.totalSupply(token)
            assert supply == minted - sum(burned)
            assert supply == sum(self.balances[h, token] for h in self.holders)


def test_allowance_stateful(suite, regulator, issuer, alice, bob, carol, dave):
    holders = [alice, bob, carol, dave]
    for token in IDS:
        suite.allowance.mintBatch(holders, token, [START] * 4, {"from": issuer})
    run(AllowanceMachine, suite=suite, regulator=regulator, issuer=issuer, holders=[alice, bob, carol, dave])
