"""Stateful test of SettlementToken against a Python model: issuance, transfers, spending by approved
spenders, redemption and status changes. Invariants after every step: balances, supply and allowances equal
the model's, so money is conserved and a frozen or revoked account's balance never moves."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market.suite import MONEY_UNIT
from tests.stateful.machine import STATUS_ACTIONS, ChainMachine, StatusModel, run, share_of

who = st.sampled_from(range(4))
shares = st.integers(min_value=0, max_value=110)
START = 1_000 * MONEY_UNIT



class MoneyMachine(ChainMachine):
    suite = regulator = None
    holders: list = []

    def __init__(self) -> None:
        super().__init__()
        self.balance = {h: START for h in self.holders}
        self.balance[self.regulator] = 0
        self.allowance: dict = {}
        self.registry = StatusModel(self.holders)

    def _active(self, *accounts) -> bool:
        return all(a == self.regulator or self.registry.active(a) for a in accounts)

    @rule(i=who, amount=st.integers(0, 10**12))
    def issue(self, i, amount):
        h = self.holders[i]
        error = ("Settlement__ZeroAmount" if amount == 0
                 else None if self._active(h) else "Registry__NotActive")
        self.expect(error, self.suite.money.issue, h, amount, {"from": self.regulator})
        if error is None:
            self.balance[h] += amount

    @rule(a=who, b=who, share=shares)
    def transfer(self, a, b, share):
        src, dst = self.holders[a], self.holders[b]
        amount = share_of(self.balance[src], share)
        error = ("Registry__NotActive" if not self._active(src, dst)
                 else "ERC20InsufficientBalance" if amount > self.balance[src] else None)
        self.expect(error, self.suite.money.transfer, dst, amount, {"from": src})
        if error is None:
            self.balance[src] -= amount
            self.balance[dst] += amount

    @rule(owner=who, spender=who, amount=st.integers(0, 10**10))
    def approve(self, owner, spender, amount):
        o, s = self.holders[owner], self.holders[spender]
        error = None if self._active(o) and (amount == 0 or self._active(s)) else "Registry__NotActive"
        self.expect(error, self.suite.money.approve, s, amount, {"from": o})
        if error is None:
            self.allowance[o, s] = amount

    @rule(owner=who, spender=who, to=who, share=shares)
    def transfer_from(self, owner, spender, to, share):
        o, s, t = self.holders[owner], self.holders[spender], self.holders[to]
        amount = share_of(min(self.balance[o], self.allowance.get((o, s), 0)), share)
        # OpenZeppelin's transferFrom spends the allowance before the transfer asks the registry
        error = ("ERC20InsufficientAllowance" if amount > self.allowance.get((o, s), 0)
                 else "Registry__NotActive" if not self._active(o, s, t)
                 else "ERC20InsufficientBalance" if amount > self.balance[o] else None)
        self.expect(error, self.suite.money.transferFrom, o, t, amount, {"from": s})
        if error is None:
            self.allowance[o, s] = self.allowance.get((o, s), 0) - amount
            self.balance[o] -= amount
            self.balance[t] += amount

    @rule(i=who, share=shares)
    def pay_in_and_redeem(self, i, share):
        """A holder pays money back to the issuer, who redeems it."""
        h = self.holders[i]
        amount = share_of(self.balance[h], share)
        if amount == 0 or amount > self.balance[h] or not self._active(h):
            return
        self.suite.money.transfer(self.regulator, amount, {"from": h})
        self.suite.money.redeem(amount, {"from": self.regulator})
        self.balance[h] -= amount

    @rule(i=who, action=STATUS_ACTIONS)
    def change_status(self, i, action):
        self.registry.step(self.suite.registry, self.regulator, self.holders[i], action)

    @invariant()
    def balances_supply_allowances(self):
        money = self.suite.money
        assert money.totalSupply() == sum(self.balance.values())
        for h in [*self.holders, self.regulator]:
            assert money.balanceOf(h) == self.balance[h]
        for (o, s), amount in self.allowance.items():
            assert money.allowance(o, s) == amount


def test_settlement_stateful(suite, regulator, alice, bob, carol, dave):
    holders = [alice, bob, carol, dave]
    for h in holders:
        suite.money.issue(h, START, {"from": regulator})
    run(MoneyMachine, suite=suite, regulator=regulator, holders=holders)
