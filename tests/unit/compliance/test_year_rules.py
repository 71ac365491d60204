"""Opening a compliance year: rules, benchmarks, who may set them."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.compliance import Phase, Rules, year_totals
from carbon_market.errors import reverts
from carbon_market.roles import Role
from tests.conftest import BENCHMARKS, CEMENT, POWER, YEAR
from tests.unit.compliance.conftest import past_deadline

FRESH = 2030  # a year the module's state does not open


@pytest.fixture(scope="module", autouse=True)
def state(year_open):
    """Every test of this module starts from this state."""


# ---------------------------------------------------------------- opening a year


def test_open_year_stores_rules_and_benchmarks(year_open, rules):
    c = year_open.compliance
    assert Rules.from_chain(c.rules(YEAR)) == rules
    assert c.benchmark(YEAR, POWER) == BENCHMARKS[POWER]
    assert c.phase(YEAR) == Phase.OPEN
    assert c.phase(YEAR + 1) == Phase.NONE
    assert year_totals(c, YEAR)["openedAt"] > 0


def test_open_year_emits_rules_and_benchmarks(compliance, regulator, rules):
    tx = compliance.openYear(FRESH, rules.as_tuple(), [POWER], [900_000], {"from": regulator})
    assert tx.events["YearOpened"]["year"] == FRESH
    assert list(tx.events["YearOpened"]["rules"]) == list(rules.as_tuple())
    ev = tx.events["BenchmarkChanged"]
    assert (ev["sector"], ev["oldBenchmark"], ev["newBenchmark"]) == (POWER, 0, 900_000)


def test_open_year_twice_or_out_of_range(year_open, regulator, rules):
    c = year_open.compliance
    with reverts("Compliance__YearAlreadyOpen", YEAR):
        c.openYear(YEAR, rules.as_tuple(), [], [], {"from": regulator})
    with reverts("Compliance__InvalidYear", 1999):
        c.openYear(1999, rules.as_tuple(), [], [], {"from": regulator})


@pytest.mark.parametrize("field,value", [
    ("pre_allocation_bps", 10_001), ("offset_limit_bps", 10_001), ("reward_early", 1_000_001),
    ("penalty_shortfall", 1_000_001), ("penalty_rejected", 1_000_001),
])
def test_rules_out_of_range(compliance, regulator, rules, field, value):
    name = {"pre_allocation_bps": "preAllocationBps", "offset_limit_bps": "offsetLimitBps",
            "reward_early": "rewardEarly", "penalty_shortfall": "penaltyShortfall",
            "penalty_rejected": "penaltyRejected"}[field]
    with reverts("Compliance__InvalidRules", name, value):
        compliance.openYear(FRESH, rules.replace(**{field: value}).as_tuple(), [], [], {"from": regulator})


def test_deadlines_must_be_ordered_and_future(compliance, regulator, rules):
    past = chain.time() - 10
    with reverts("Compliance__InvalidRules", "deadline", past):
        compliance.openYear(FRESH, rules.replace(deadline=past, early_deadline=past).as_tuple(), [], [],
                            {"from": regulator})
    late_early = rules.deadline + 1
    with reverts("Compliance__InvalidRules", "earlyDeadline", late_early):
        compliance.openYear(FRESH, rules.replace(early_deadline=late_early).as_tuple(), [], [], {"from": regulator})


def test_zero_benchmark_and_bad_sector_batch(year_open, regulator):
    c = year_open.compliance
    with reverts("Compliance__InvalidRules", "benchmark", 0):
        c.setBenchmarks(YEAR, [POWER], [0], {"from": regulator})
    with reverts("Compliance__BadBatch", 2, 1, 64):
        c.setBenchmarks(YEAR, [POWER, CEMENT], [1], {"from": regulator})


def test_rule_change_emits_old_and_new(year_open, regulator, rules):
    c = year_open.compliance
    new = rules.replace(offset_limit_bps=800)
    tx = c.setRules(YEAR, new.as_tuple(), {"from": regulator})
    ev = tx.events["RulesChanged"]
    assert list(ev["oldRules"]) == list(rules.as_tuple()) and list(ev["newRules"]) == list(new.as_tuple())
    tx = c.setBenchmarks(YEAR, [POWER], [850_000], {"from": regulator})
    assert tx.events["BenchmarkChanged"]["oldBenchmark"] == BENCHMARKS[POWER]


def test_no_rule_change_after_deadline(year_open, regulator, rules):
    past_deadline(rules)
    c = year_open.compliance
    with reverts("Compliance__DeadlinePassed", YEAR, rules.deadline):
        c.setRules(YEAR, rules.as_tuple(), {"from": regulator})
    with reverts("Compliance__DeadlinePassed", YEAR, rules.deadline):
        c.setBenchmarks(YEAR, [POWER], [1], {"from": regulator})
    with reverts("Compliance__YearNotOpen", YEAR + 1):
        c.setRules(YEAR + 1, rules.as_tuple(), {"from": regulator})


def test_only_regulator_sets_policy(year_open, alice, verifier, rules):
    c = year_open.compliance
    for caller in (alice, verifier):
        with reverts("Registry__MissingRole", caller, Role.REGULATOR):
            c.setRules(YEAR, rules.as_tuple(), {"from": caller})
        with reverts("Registry__MissingRole", caller, Role.REGULATOR):
            c.enroll(YEAR, [caller], [1], {"from": caller})


