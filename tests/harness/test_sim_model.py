"""The simulation's economics, without a chain: the equilibrium clears the market and minimises the cost of
abatement, efficiency reads 1 at least cost and 0 without trade, lot values respect each enterprise's cost curve,
offsets bring the price down to their own, and the population is the same for a seed whatever the policy."""

from __future__ import annotations

import random

import pytest

from carbon_market.sim.model import Policy, efficiency, equilibrium, generate, lot_values, realised_cost


@pytest.fixture(scope="module")
def population():
    return generate(60, Policy(), seed=7)


def test_the_equilibrium_price_clears_the_market(population):
    theory = equilibrium(population)
    assert theory.price > 0
    chosen = sum(e.abatement_at(theory.price) for e in population.enterprises)
    assert chosen == pytest.approx(theory.required, abs=1)


def test_the_equilibrium_is_the_least_cost_allocation(population):
    theory = equilibrium(population)
    firms = population.enterprises
    rng = random.Random(1)
    for _ in range(50):  # move abatement between two enterprises: never cheaper
        a, b = rng.sample(firms, 2)
        shift = rng.uniform(-1, 1) * min(theory.abatement[a.index], theory.abatement[b.index], 500)
        moved = {**theory.abatement, a.index: theory.abatement[a.index] + shift,
                 b.index: theory.abatement[b.index] - shift}
        if all(0 <= moved[e.index] <= e.max_abatement for e in (a, b)):
            assert sum(e.cost(moved[e.index]) for e in firms) >= theory.least_cost - 1e-6


def test_efficiency_is_one_at_least_cost_and_zero_without_trade(population):
    theory = equilibrium(population)
    bought_at_equilibrium = {e.index: round(population.need(e) - theory.abatement[e.index])
                             for e in population.enterprises}
    cost, _ = realised_cost(population, bought_at_equilibrium)
    assert efficiency(theory, cost) == pytest.approx(1, abs=1e-4)
    no_trade, _ = realised_cost(population, {})
    assert efficiency(theory, no_trade) == pytest.approx(0, abs=1e-9)


def test_tighter_benchmarks_raise_the_price():
    prices = [equilibrium(generate(60, Policy(tightness=t), seed=7)).price for t in (0.04, 0.06, 0.08)]
    assert prices == sorted(prices) and prices[0] < prices[-1]


def test_the_population_is_the_same_for_a_seed_whatever_the_policy():
    a, b = generate(30, Policy(), seed=3), generate(30, Policy(tightness=0.1, trading="call"), seed=3)
    assert [(e.output, e.intensity, e.mac_slope) for e in a.enterprises] == [
        (e.output, e.intensity, e.mac_slope) for e in b.enterprises]
    assert generate(30, Policy(), seed=4).enterprises != a.enterprises


def test_offsets_bring_the_price_down_to_theirs_and_stay_within_limits():
    cheap = generate(60, Policy(offset_limit_bps=500, offset_price=35), seed=7)
    theory = equilibrium(cheap)
    assert theory.price == pytest.approx(35, abs=0.01)  # offsets used just until the price meets theirs
    assert all(cheap.offsets[e.index] <= cheap.offset_limit(e) for e in cheap.enterprises)
    dear = generate(60, Policy(offset_limit_bps=500, offset_price=500), seed=7)
    assert equilibrium(dear).offsets == 0 and equilibrium(dear).price == pytest.approx(equilibrium(
        generate(60, Policy(), seed=7)).price)


def test_lot_values_follow_the_cost_curve(population):
    e = max(population.enterprises, key=population.need)
    need = population.need(e)
    buy = lot_values(e, need, 100, "buy", 1_000)
    assert buy == sorted(buy, reverse=True) and len(buy) == -(-need // 100)  # stops once covered
    assert buy[0] == pytest.approx(e.mac_slope * (need - 50), rel=1e-9)
    sell = lot_values(e, need, 100, "sell", 1_000)
    assert sell == sorted(sell) and (need + 100 * len(sell)) <= e.max_abatement
    surplus = lot_values(e, -250, 100, "sell", 3)
    assert surplus[:2] == [0.0, 0.0] and surplus[2] > 0  # a surplus sells for nothing until it is gone


def test_an_unknown_trading_mode_is_refused():
    with pytest.raises(ValueError, match="trading must be call, continuous or call"):
        Policy(trading="dark pool")
