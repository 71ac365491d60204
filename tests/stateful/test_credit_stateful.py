"""Stateful test of CreditToken against a Python model.

Invariants after every step: balances, debts and total supply equal the model's (credit minted minus burned, a
penalty beyond the balance owed and collected from the next credit that arrives), every tier equals the tier the
thresholds give to the balance less what arrived by transfer today (a tier cannot be lent), and a frozen or revoked
account's credit changes only by penalty or by the regulator.
"""

from __future__ import annotations

from bisect import bisect_right

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market.suite import DEFAULT_TIER_THRESHOLDS
from tests.stateful.machine import STATUS_ACTIONS, ChainMachine, StatusModel, run
from tests.stateful.test_market_stateful import _stay_within_one_trading_day

REASON = b"STATEFUL".ljust(32, b"\0")
who = st.sampled_from(range(4))
amounts = st.integers(min_value=0, max_value=1_500)


class CreditMachine(ChainMachine):
    suite = regulator = rules_contract = None
    holders: list = []

    def __init__(self) -> None:
        super().__init__()
        _stay_within_one_trading_day()
        self.balance = {h: 0 for h in self.holders}
        self.owed = {h: 0 for h in self.holders}
        self.received = {h: 0 for h in self.holders}  # arrived by transfer today
        self.minted = self.burned = 0
        self.thresholds = list(DEFAULT_TIER_THRESHOLDS)
        self.transfers = False
        self.registry = StatusModel(self.holders)

    @rule(i=who, amount=amounts)
    def reward(self, i, amount):
        h = self.holders[i]
        error = ("Credit__ZeroAmount" if amount == 0
                 else None if self.registry.active(h) else "Registry__NotActive")
        self.expect(error, self.suite.credit.reward, h, amount, REASON, {"from": self.rules_contract})
        if error is None:
            self.minted += amount
            self._arrive(h, amount, by_transfer=False)

    @rule(i=who, amount=amounts)
    def penalize(self, i, amount):
        h = self.holders[i]
        error = "Credit__ZeroAmount" if amount == 0 else None
        tx = self.expect(error, self.suite.credit.penalize, h, amount, REASON, {"from": self.rules_contract})
        if error is None:
            burned = min(amount, self.balance[h])
            assert tx.return_value == burned
            self._leave(h, burned)
            self.burned += burned
            self.owed[h] += amount - burned

    @rule(i=who, amount=amounts)
    def regulator_burn(self, i, amount):
        h = self.holders[i]
        error = ("Credit__ZeroAmount" if amount == 0
                 else "Credit__InsufficientBalance" if amount > self.balance[h] else None)
        self.expect(error, self.suite.credit.regulatorBurn, h, amount, "stateful", {"from": self.regulator})
        if error is None:
            self._leave(h, amount)
            self.burned += amount

    @rule(a=who, b=who, share=st.integers(0, 110))
    def transfer(self, a, b, share):
        src, dst = self.holders[a], self.holders[b]
        amount = self.balance[src] * share // 100 if share <= 100 else self.balance[src] + 1
        error = ("Credit__TransfersDisabled" if not self.transfers
                 else "Registry__NotActive" if not (self.registry.active(src) and self.registry.active(dst))
                 else "ERC20InsufficientBalance" if amount > self.balance[src] else None)
        self.expect(error, self.suite.credit.transfer, dst, amount, {"from": src})
        if error is None:
            self._leave(src, amount)
            self._arrive(dst, amount, by_transfer=True)

    def _leave(self, h, amount):
        """Credit leaves: what arrived today goes first."""
        self.balance[h] -= amount
        self.received[h] = max(self.received[h] - amount, 0)

    def _arrive(self, h, amount, by_transfer):
        """Credit arrives: what is owed is collected (burned) first; a transfer's rest counts from tomorrow."""
        collected = min(self.owed[h], amount)
        self.owed[h] -= collected
        self.burned += collected
        self.balance[h] += amount - collected
        if by_transfer:
            self.received[h] += amount - collected

    @rule(enabled=st.booleans())
    def switch_transfers(self, enabled):
        self.suite.credit.setTransfersEnabled(enabled, {"from": self.regulator})
        self.transfers = enabled

    @rule(raw=st.lists(st.integers(1, 3_000), max_size=4, unique=True))
    def set_thresholds(self, raw):
        self.thresholds = sorted(raw)
        self.suite.credit.setTierThresholds(self.thresholds, {"from": self.regulator})

    @rule(i=who, action=STATUS_ACTIONS)
    def change_status(self, i, action):
        self.registry.step(self.suite.registry, self.regulator, self.holders[i], action)

    @invariant()
    def balances_supply_and_tiers(self):
        credit = self.suite.credit
        assert credit.totalSupply() == self.minted - self.burned == sum(self.balance.values())
        for h in self.holders:
            assert (credit.balanceOf(h), credit.owedOf(h)) == (self.balance[h], self.owed[h])
            assert credit.tierOf(h) == bisect_right(self.thresholds, self.balance[h] - self.received[h])


def test_credit_stateful(suite, regulator, issuer, alice, bob, carol, dave):
    run(CreditMachine, suite=suite, regulator=regulator, rules_contract=issuer, holders=[alice, bob, carol, dave])
