"""Market quality with budget-constrained zero-intelligence traders (Gode and Sunder, 1993) on generated supply
and demand schedules (40 buyers and 40 sellers of 8 units each, values and costs uniform in 55..145 ticks, the
market's default +/-10% limits around a reference of 100), with a fixed seed: the continuous book realises at
least 97% of the surplus, the call auction at least 99%. Every order goes through the real market; the traders
know nothing but their own unit's value or cost."""

from __future__ import annotations

import pytest

from carbon_market.sim.zi import ZIMarket, schedules

SEED = 1993


@pytest.fixture
def market(suite, regulator, issuer, exchange):
    def make(seed: int = SEED) -> ZIMarket:
        return ZIMarket(suite, regulator, issuer, exchange, schedules(seed), seed)
    return make


def test_the_schedules_leave_gains_from_trade(market):
    plan = schedules(SEED)
    assert plan.max_surplus() > 5_000
    assert len(plan.buyers) == len(plan.sellers) == 40


def test_zero_intelligence_traders_reach_97_percent_in_the_continuous_book(market):
    zi = market()
    efficiency = zi.continuous(rounds=150)
    print(f"continuous book: {zi.realised()} of {zi.plan.max_surplus()} ticks of surplus, {efficiency:.2%}")
    assert efficiency >= 0.97
    assert len(zi.trades) >= 150
    assert all(cost <= price <= value for value, cost, price in zi.trades)  # nobody traded at a loss


def test_zero_intelligence_traders_reach_99_percent_in_the_call_auction(market):
    zi = market()
    efficiency = zi.call(rounds=8)
    print(f"call auction: {zi.realised()} of {zi.plan.max_surplus()} ticks of surplus, {efficiency:.2%}")
    assert efficiency >= 0.99
