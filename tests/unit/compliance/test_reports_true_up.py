"""Enrolment with pre-allocation, reports and verification, finalisation with true-up."""

from __future__ import annotations

import pytest

from carbon_market.compliance import (
    DAY,
    ReportState,
    ReviewStatus,
    enterprise_year,
    entitlement,
    pre_allocation,
    year_totals,
)
from carbon_market.errors import reverts
from carbon_market.roles import Role, Status
from carbon_market.suite import onboarding
from tests.conftest import BENCHMARKS, CEMENT, DOC, POWER, STEEL, WHY, YEAR
from tests.unit.compliance.conftest import A26, A27, ALICE_BASE, BOB_BASE, past_deadline, verify



@pytest.fixture(scope="module", autouse=True)
def state(enrolled):
    """Every test of this module starts from this state."""


# ---------------------------------------------------------------- enrolment and pre-allocation


def test_enrolment_pre_allocates_share_of_benchmark_times_baseline(enrolled, alice, bob, erin):
    c, a = enrolled.compliance, enrolled.allowance
    expected_alice = pre_allocation(BENCHMARKS[POWER], ALICE_BASE, 7_000)
    assert expected_alice == 56_000
    assert a.balanceOf(alice, A26) == expected_alice
    assert a.balanceOf(bob, A26) == pre_allocation(BENCHMARKS[CEMENT], BOB_BASE, 7_000) == 29_750
    record = enterprise_year(c, YEAR, alice)
    assert record["state"] == ReportState.ENROLLED
    assert (record["baselineOutput"], record["allocated"]) == (ALICE_BASE, expected_alice)
    totals = year_totals(c, YEAR)
    assert (totals["enterprises"], totals["allocated"]) == (3, 56_000 + 29_750 + 11_200)
    assert list(c.roster(YEAR, 0, 10)) == [alice, bob, erin]
    assert list(c.roster(YEAR, 1, 1)) == [bob]
    assert list(c.roster(YEAR, 5, 10)) == []


@pytest.fixture(scope="module")
def steelworks(suite, regulator, newcomers):
    """A steel enterprise that is registered but not enrolled."""
    suite.registry.onboard(onboarding(newcomers[6], Role.ENTERPRISE, sector=STEEL), {"from": regulator})
    return newcomers[6]


def test_enrolment_event(enrolled, regulator, steelworks):
    tx = enrolled.compliance.enroll(YEAR, [steelworks], [10_000], {"from": regulator})
    ev = tx.events["PreAllocated"]
    assert (ev["enterprise"], ev["baselineOutput"], ev["preAllocation"], ev["debtDeducted"], ev["minted"]) == (
        steelworks, 10_000, 12_600, 0, 12_600)
    assert tx.events["Issued"]["issuer"] == enrolled.compliance


def test_enrolment_refusals(enrolled, regulator, alice, carol, rules, newcomers):
    """A sector without a benchmark, duplicates, batch shapes, closed years, the deadline."""
    c = enrolled.compliance
    with reverts("Compliance__AlreadyEnrolled", YEAR, alice):
        c.enroll(YEAR, [alice], [1], {"from": regulator})
    with reverts("Registry__MissingRole", carol, Role.ENTERPRISE):
        c.enroll(YEAR, [carol], [1], {"from": regulator})
    steelworks = newcomers[0]
    enrolled.registry.onboard(onboarding(steelworks, Role.ENTERPRISE, sector=4000), {"from": regulator})
    with reverts("Compliance__NoBenchmark", YEAR, 4000):
        c.enroll(YEAR, [steelworks], [1], {"from": regulator})
    with reverts("Compliance__BadBatch", 1, 2, 100):
        c.enroll(YEAR, [steelworks], [1, 2], {"from": regulator})
    with reverts("Compliance__BadBatch", 101, 101, 100):
        c.enroll(YEAR, [steelworks] * 101, [1] * 101, {"from": regulator})
    with reverts("Compliance__YearNotOpen", YEAR + 1):
        c.enroll(YEAR + 1, [steelworks], [1], {"from": regulator})
    past_deadline(rules)
    with reverts("Compliance__DeadlinePassed", YEAR, rules.deadline):
        c.enroll(YEAR, [steelworks], [1], {"from": regulator})


def test_frozen_enterprise_is_enrolled_with_its_allocation_held(enrolled, regulator, steelworks):
    """Issue 20: a frozen enterprise used to be refused, and reverted its whole batch; now its allocation waits."""
    enrolled.registry.freeze(steelworks, WHY, {"from": regulator})
    tx = enrolled.compliance.enroll(YEAR, [steelworks], [1_000], {"from": regulator})
    assert tx.events["AllocationHeld"]["enterprise"] == steelworks
    enrolled.registry.revoke(steelworks, WHY, {"from": regulator})
    with reverts("Compliance__AlreadyEnrolled", YEAR, steelworks):
        enrolled.compliance.enroll(YEAR, [steelworks], [1], {"from": regulator})




# ---------------------------------------------------------------- reports and verification


def test_report_versions_stay_on_chain(enrolled, regulator, verifier, alice):
    c = enrolled.compliance
    tx = c.submitReport(YEAR, 90_000, 110_000, DOC, {"from": alice})
    assert tx.events["ReportSubmitted"]["version"] == 0
    assert enterprise_year(c, YEAR, alice)["state"] == ReportState.SUBMITTED
    tx = c.reject(YEAR, alice, WHY, {"from": verifier})
    assert (tx.events["ReportRejected"]["version"], tx.events["ReportRejected"]["verifier"]) == (0, verifier)
    assert enterprise_year(c, YEAR, alice)["state"] == ReportState.REJECTED
    c.submitReport(YEAR, 88_000, 110_000, b"\x0f" * 32, {"from": alice})
    c.attest(YEAR, alice, {"from": verifier})
    c.finalize(YEAR, [alice], {"from": regulator})

    first, second = c.report(YEAR, alice, 0), c.report(YEAR, alice, 1)
    assert (first[0], first[1], first[3], first[5]) == (90_000, 110_000, verifier, ReviewStatus.REJECTED)
    assert first[7] == "0x" + WHY.hex()
    assert (second[0], second[5]) == (88_000, ReviewStatus.ATTESTED)
    record = enterprise_year(c, YEAR, alice)
    assert (record["state"], record["rejections"], record["reports"]) == (ReportState.FINALIZED, 1, 2)
    assert (record["verifiedEmissions"], record["verifiedOutput"], record["obligation"]) == (88_000, 110_000, 88_000)
    with reverts("Compliance__UnknownReport", YEAR, alice, 2):
        c.report(YEAR, alice, 2)


def test_report_refusals(enrolled, regulator, verifier, alice, carol, outsider):
    c = enrolled.compliance
    with reverts("Compliance__NotEnrolled", YEAR, carol):
        c.submitReport(YEAR, 1, 1, DOC, {"from": carol})
    with reverts("Compliance__MissingDocument"):
        c.submitReport(YEAR, 1, 1, b"\0" * 32, {"from": alice})
    with reverts("Compliance__InvalidState", YEAR, alice, ReportState.ENROLLED):
        c.attest(YEAR, alice, {"from": verifier})
    c.submitReport(YEAR, 1, 1, DOC, {"from": alice})
    with reverts("Compliance__InvalidState", YEAR, alice, ReportState.SUBMITTED):
        c.submitReport(YEAR, 1, 1, DOC, {"from": alice})
    with reverts("Compliance__InvalidState", YEAR, alice, ReportState.SUBMITTED):
        c.finalize(YEAR, [alice], {"from": regulator})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        c.attest(YEAR, alice, {"from": outsider})
    with reverts("Registry__MissingRole", carol, Role.VERIFIER):
        c.attest(YEAR, alice, {"from": carol})
    with reverts("Compliance__MissingDocument"):
        c.reject(YEAR, alice, b"\0" * 32, {"from": verifier})


def test_a_verifier_attests_many_reports_in_one_transaction(enrolled, verifier, alice, bob):
    """The verifier's multicall of attestations: each checked as if sent alone, each with its event."""
    c = enrolled.compliance
    for who in (alice, bob):
        c.submitReport(YEAR, 1_000, 1_000, DOC, {"from": who})
    tx = c.multicall([c.attest.encode_input(YEAR, who) for who in (alice, bob)], {"from": verifier})
    assert [e["enterprise"] for e in tx.events["ReportAttested"]] == [alice, bob]
    assert [enterprise_year(c, YEAR, who)["state"] for who in (alice, bob)] == [ReportState.ATTESTED] * 2


def test_no_self_verification(enrolled, regulator, alice):
    enrolled.registry.update(onboarding(alice, Role.ENTERPRISE | Role.VERIFIER, sector=POWER), {"from": regulator})
    enrolled.compliance.submitReport(YEAR, 1, 1, DOC, {"from": alice})
    with reverts("Compliance__SelfVerification", YEAR, alice):
        enrolled.compliance.attest(YEAR, alice, {"from": alice})




# ---------------------------------------------------------------- true-up


def test_true_up_mints_the_difference(enrolled, regulator, verifier, alice):
    c, a = enrolled.compliance, enrolled.allowance
    tx = verify(c, regulator, verifier, alice, 95_000, 120_000)
    final = entitlement(BENCHMARKS[POWER], 120_000)
    assert final == 96_000
    ev = tx.events["TrueUp"]
    assert (ev["entitlement"], ev["minted"], ev["clawedBack"], ev["debtAdded"]) == (final, final - 56_000, 0, 0)
    assert a.balanceOf(alice, A26) == final
    assert enterprise_year(c, YEAR, alice)["allocated"] == final


def test_true_up_claws_back_and_carries_the_rest_as_debt(enrolled, regulator, verifier, alice, bob):
    c, a = enrolled.compliance, enrolled.allowance
    a.safeTransferFrom(alice, bob, A26, 50_000, b"", {"from": alice})  # alice keeps 6,000 of 56,000
    tx = verify(c, regulator, verifier, alice, 30_000, 40_000)  # entitlement 32,000: 24,000 too many
    ev = tx.events["TrueUp"]
    assert (ev["entitlement"], ev["clawedBack"], ev["debtAdded"]) == (32_000, 6_000, 18_000)
    assert tx.events["ClawedBack"]["amount"] == 6_000
    assert a.balanceOf(alice, A26) == 0
    assert c.debtOf(alice) == 18_000
    record = enterprise_year(c, YEAR, alice)
    assert (record["allocated"], record["clawedBack"]) == (32_000, 6_000)
    assert year_totals(c, YEAR)["clawedBack"] == 6_000


def test_debt_is_deducted_from_the_next_allocation(enrolled, regulator, verifier, alice, bob, rules):
    c, a = enrolled.compliance, enrolled.allowance
    a.safeTransferFrom(alice, bob, A26, 56_000, b"", {"from": alice})
    verify(c, regulator, verifier, alice, 30_000, 40_000)  # 24,000 over-allocated, nothing to claw back
    assert c.debtOf(alice) == 24_000
    c.openYear(YEAR + 1, rules.replace(deadline=rules.deadline + 365 * DAY).as_tuple(), [POWER],
               [BENCHMARKS[POWER]], {"from": regulator})
    with reverts("Compliance__BaselineConflict", alice, 5, 40_000):
        c.enroll(YEAR + 1, [alice], [5], {"from": regulator})
    tx = c.enroll(YEAR + 1, [alice], [0], {"from": regulator})
    ev = tx.events["PreAllocated"]
    # 70% x 0.8 x 40,000 (the verified 2026 output) = 22,400, all of it paying debt
    assert (ev["baselineOutput"], ev["preAllocation"], ev["debtDeducted"], ev["minted"]) == (40_000, 22_400, 22_400, 0)
    assert c.debtOf(alice) == 1_600
    assert a.balanceOf(alice, A27) == 0


def test_accurate_report_rewarded_rejected_one_penalised(enrolled, regulator, verifier, alice, bob, rules):
    c, credit = enrolled.compliance, enrolled.credit
    verify(c, regulator, verifier, alice, 1, 1)
    assert credit.balanceOf(alice) == rules.reward_accurate
    c.submitReport(YEAR, 1, 1, DOC, {"from": bob})
    c.reject(YEAR, bob, WHY, {"from": verifier})
    c.submitReport(YEAR, 1, 1, DOC, {"from": bob})
    c.attest(YEAR, bob, {"from": verifier})
    tx = c.finalize(YEAR, [bob], {"from": regulator})
    assert tx.events["Penalized"]["burned"] == 0  # bob held no credit
    assert enterprise_year(c, YEAR, alice)["creditRewarded"] == rules.reward_accurate


