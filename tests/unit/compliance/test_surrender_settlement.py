"""Surrender and settlement."""

from __future__ import annotations

import pytest

from carbon_market.compliance import Outcome, Phase, ReportState, enterprise_year, entitlement, year_totals
from carbon_market.errors import reverts
from carbon_market.roles import Role, Status
from carbon_market.clock import sleep_until
from tests.conftest import BENCHMARKS, DOC, POWER, WHY, YEAR
from tests.unit.compliance.conftest import A25, A26, A27, ERIN_BASE, OFFSET, past_deadline



@pytest.fixture(scope="module", autouse=True)
def state(verified):
    """Every test of this module starts from this state."""


# ---------------------------------------------------------------- surrender


def test_surrender_burns_and_counts(verified, alice):
    c, a = verified.compliance, verified.allowance
    tx = c.surrender(YEAR, A26, 80_000, {"from": alice})
    ev = tx.events["UnitsSurrendered"]
    assert (ev["id"], ev["amount"], ev["late"]) == (A26, 80_000, False)
    assert tx.events["Surrendered"]["operator"] == c
    c.surrender(YEAR, A25, 5_000, {"from": alice})  # banked allowances of an earlier vintage
    c.surrender(YEAR, OFFSET, 4_500, {"from": alice})  # 5% of 90,000
    record = enterprise_year(c, YEAR, alice)
    assert (record["allowancesSurrendered"], record["offsetsSurrendered"]) == (85_000, 4_500)
    assert record["completedAt"] == 0  # 500 t still owed
    tx = c.surrender(YEAR, A25, 500, {"from": alice})
    assert enterprise_year(c, YEAR, alice)["completedAt"] == tx.timestamp
    assert a.totals(A26)[1] == 80_000
    assert a.totals(A25)[1] == 5_500
    totals = year_totals(c, YEAR)
    assert (totals["allowancesSurrendered"], totals["offsetsSurrendered"]) == (85_500, 4_500)


def test_surrender_refusals(verified, alice, bob, carol):
    c = verified.compliance
    with reverts("Compliance__IneligibleUnit", YEAR, A27):
        c.surrender(YEAR, A27, 1, {"from": alice})
    with reverts("Compliance__IneligibleUnit", YEAR, 12345):
        c.surrender(YEAR, 12345, 1, {"from": alice})
    with reverts("Compliance__ExceedsObligation", YEAR, alice, 90_000, 90_001):
        c.surrender(YEAR, A26, 90_001, {"from": alice})
    with reverts("Compliance__ExceedsObligation", YEAR, alice, 90_000, 0):
        c.surrender(YEAR, A26, 0, {"from": alice})
    with reverts("Compliance__OffsetLimitExceeded", YEAR, alice, 4_500, 4_501):
        c.surrender(YEAR, OFFSET, 4_501, {"from": alice})
    with reverts("Compliance__NotEnrolled", YEAR, carol):
        c.surrender(YEAR, A26, 1, {"from": carol})
    with reverts("Allowance__InsufficientBalance", bob, A25, 0, 1):
        c.surrender(YEAR, A25, 1, {"from": bob})
    assert c.offsetLimit(YEAR, alice) == 4_500


def test_surrender_needs_a_finalised_report(verified, erin):
    with reverts("Compliance__InvalidState", YEAR, erin, ReportState.ENROLLED):
        verified.compliance.surrender(YEAR, A26, 1, {"from": erin})
    assert verified.compliance.offsetLimit(YEAR, erin) == 0


def test_frozen_enterprise_cannot_surrender(verified, regulator, alice):
    verified.registry.freeze(alice, WHY, {"from": regulator})
    with reverts("Registry__NotActive", alice, Status.FROZEN):
        verified.compliance.surrender(YEAR, A26, 1, {"from": alice})




# ---------------------------------------------------------------- settlement


def test_settlement_waits_for_the_deadline(verified, outsider, rules):
    with reverts("Compliance__DeadlineNotPassed", YEAR, rules.deadline):
        verified.compliance.settle(YEAR, 10, {"from": outsider})


def test_settlement_outcomes(verified, alice, bob, outsider, rules):
    c, credit = verified.compliance, verified.credit
    c.surrender(YEAR, A26, 80_000, {"from": alice})
    c.surrender(YEAR, A25, 5_000, {"from": alice})
    c.surrender(YEAR, OFFSET, 4_500, {"from": alice})
    c.surrender(YEAR, A25, 500, {"from": alice})  # complete before the early deadline
    c.surrender(YEAR, A26, 30_000, {"from": bob})  # 10,000 t short
    past_deadline(rules)
    assert c.phase(YEAR) == Phase.SETTLING
    tx = c.settle(YEAR, 1, {"from": outsider})  # anyone may advance settlement
    assert tx.return_value == 1
    assert tx.events["SettlementAdvanced"]["to"] == 1
    assert enterprise_year(c, YEAR, alice)["outcome"] == Outcome.EARLY
    assert enterprise_year(c, YEAR, bob)["outcome"] == Outcome.PENDING
    tx = c.settle(YEAR, 1, {"from": outsider})
    assert tx.return_value == 1
    ev = tx.events["EnterpriseSettled"]
    assert (ev["outcome"], ev["shortfall"], ev["fine"]) == (Outcome.SHORT, 10_000, 10_000 * rules.fine_per_tonne)
    bob_year = enterprise_year(c, YEAR, bob)
    assert (bob_year["shortfall"], bob_year["fine"]) == (10_000, 10_000 * rules.fine_per_tonne)
    assert c.debtOf(bob) == 10_000
    assert credit.balanceOf(alice) == rules.reward_accurate + rules.reward_early
    assert c.phase(YEAR) == Phase.SETTLING
    c.settle(YEAR, 10, {"from": outsider})
    assert c.phase(YEAR) == Phase.SETTLED
    with reverts("Compliance__NothingToSettle", YEAR):
        c.settle(YEAR, 10, {"from": outsider})
    with reverts("Compliance__AlreadySettled", YEAR, bob):
        c.surrender(YEAR, A26, 1, {"from": bob})
    totals = year_totals(c, YEAR)
    assert totals["outcomes"][Outcome.EARLY] == totals["outcomes"][Outcome.SHORT] == 1
    assert totals["outcomes"][Outcome.UNVERIFIED] == 1
    assert (totals["shortfall"], totals["fines"]) == (26_000, 26_000 * rules.fine_per_tonne)
    assert totals["creditRewarded"] == rules.reward_early


def test_late_surrender_is_recorded_and_penalised(verified, alice, bob, outsider, rules):
    c = verified.compliance
    c.surrender(YEAR, A26, 40_000, {"from": bob})
    past_deadline(rules)
    with reverts("Compliance__ExceedsObligation", YEAR, bob, 0, 1):
        c.surrender(YEAR, A26, 1, {"from": bob})
    c.surrender(YEAR, A26, 80_000, {"from": alice})
    tx = c.surrender(YEAR, A25, 10_000, {"from": alice})
    assert tx.events["UnitsSurrendered"]["late"] is True
    c.settle(YEAR, 10, {"from": outsider})
    assert enterprise_year(c, YEAR, alice)["outcome"] == Outcome.LATE
    assert enterprise_year(c, YEAR, alice)["creditBurned"] == rules.reward_accurate  # 10 held, 20 asked
    assert enterprise_year(c, YEAR, bob)["outcome"] == Outcome.EARLY


def test_unverified_enterprise_is_assessed_at_benchmark(verified, outsider, erin, rules):
    past_deadline(rules)
    c = verified.compliance
    tx = c.settle(YEAR, 200, {"from": outsider})
    assert len(tx.events["EnterpriseSettled"]) == 3
    record = enterprise_year(c, YEAR, erin)
    assert record["outcome"] == Outcome.UNVERIFIED
    assert record["obligation"] == record["shortfall"] == entitlement(BENCHMARKS[POWER], ERIN_BASE) == 16_000
    assert c.debtOf(erin) == 16_000
    assert record["creditBurned"] == 0  # erin held no credit


def test_frozen_enterprise_forfeits_its_reward(verified, regulator, alice, outsider, rules):
    c = verified.compliance
    c.surrender(YEAR, A26, 80_000, {"from": alice})
    c.surrender(YEAR, A25, 10_000, {"from": alice})
    verified.registry.freeze(alice, WHY, {"from": regulator})
    past_deadline(rules)
    tx = c.settle(YEAR, 1, {"from": outsider})
    ev = tx.events["RewardForfeited"]
    assert (ev["enterprise"], ev["amount"]) == (alice, rules.reward_early)
    assert enterprise_year(c, YEAR, alice)["creditRewarded"] == rules.reward_accurate


def test_settle_batch_bounds(verified, outsider, rules):
    past_deadline(rules)
    for count in (0, 201):
        with reverts("Compliance__BadBatch", count, 0, 200):
            verified.compliance.settle(YEAR, count, {"from": outsider})
    with reverts("Compliance__YearNotOpen", YEAR + 1):
        verified.compliance.settle(YEAR + 1, 1, {"from": outsider})


def test_settled_year_refuses_reports(verified, verifier, erin, outsider, rules):
    c = verified.compliance
    c.submitReport(YEAR, 1, 1, DOC, {"from": erin})
    sleep_until(rules.deadline + rules.settlement_grace + 1)  # past the window that leaves Erin to the regulator
    c.settle(YEAR, 10, {"from": outsider})
    with reverts("Compliance__AlreadySettled", YEAR, erin):
        c.attest(YEAR, erin, {"from": verifier})


# ---------------------------------------------------------------- several in one transaction (multicall)


def test_an_enterprise_surrenders_several_vintages_in_one_transaction(verified, alice):
    """Oldest vintages first and offsets, in one transaction of the enterprise's own: each surrender is checked
    and counted as if sent alone."""
    c = verified.compliance
    calls = [c.surrender.encode_input(YEAR, OFFSET, 4_500), c.surrender.encode_input(YEAR, A25, 10_000),
             c.surrender.encode_input(YEAR, A26, 75_500)]
    tx = c.multicall(calls, {"from": alice})
    assert [(e["id"], e["amount"]) for e in tx.events["UnitsSurrendered"]] == \
        [(OFFSET, 4_500), (A25, 10_000), (A26, 75_500)]
    record = enterprise_year(c, YEAR, alice)
    assert (record["allowancesSurrendered"], record["offsetsSurrendered"]) == (85_500, 4_500)
    assert record["completedAt"] == tx.timestamp


def test_a_multicall_is_all_or_nothing_and_names_the_failing_rule(verified, alice):
    c, a = verified.compliance, verified.allowance
    before = a.balanceOf(alice, A25)
    calls = [c.surrender.encode_input(YEAR, A25, 1_000), c.surrender.encode_input(YEAR, A27, 1_000)]
    with reverts("Compliance__IneligibleUnit", YEAR, A27):
        c.multicall(calls, {"from": alice})
    assert a.balanceOf(alice, A25) == before
    assert enterprise_year(c, YEAR, alice)["allowancesSurrendered"] == 0


def test_a_multicall_acts_only_as_its_sender(verified, alice, bob):
    """Every call of a multicall runs as its sender, with the sender's roles: an enterprise cannot attest."""
    c = verified.compliance
    with reverts("Registry__MissingRole", bob, Role.VERIFIER):
        c.multicall([c.attest.encode_input(YEAR, alice)], {"from": bob})
