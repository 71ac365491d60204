"""Compliance at its edges: an on-time (not early) surrender, a zero-emission report, a true-up with nothing to
do, debt against an allocation too small or too large to pay it, figures past 64 bits (refused at enrolment,
saturated at settlement), and a peer that fails for a reason other than an inactive enterprise."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.compliance import Outcome, default_rules, enterprise_year
from carbon_market.errors import reverts
from carbon_market.roles import Role
from carbon_market.suite import onboarding
from tests.conftest import CEMENT, DOC, POWER, YEAR
from tests.unit.compliance.conftest import A25, A26, past_deadline, verify

U64 = 2**64 - 1


@pytest.fixture(scope="module", autouse=True)
def start(enrolled):
    """Alice, Bob and Erin enrolled in 2026 (see conftest)."""


def _settled(tx, enterprise):
    return next(e for e in tx.events["EnterpriseSettled"] if e["enterprise"] == enterprise)


def test_a_surrender_between_the_two_deadlines_is_on_time(enrolled, regulator, verifier, issuer, alice, rules):
    c = enrolled.compliance
    verify(c, regulator, verifier, alice, 90_000, 100_000)  # entitlement 80,000
    enrolled.allowance.mint(alice, A25, 10_000, {"from": issuer})
    chain.sleep(rules.early_deadline - chain[-1].timestamp + 1)
    chain.mine()
    c.surrender(YEAR, A26, 80_000, {"from": alice})
    c.surrender(YEAR, A25, 10_000, {"from": alice})
    past_deadline(rules)
    tx = c.settle(YEAR, 10, {"from": regulator})
    settled = _settled(tx, alice)
    assert (settled["outcome"], settled["creditRewarded"]) == (Outcome.ON_TIME, rules.reward_on_time)


def test_a_report_of_zero_emissions_is_complete_when_submitted(enrolled, regulator, verifier, bob):
    """Issue 20: complete when the enterprise reported zero (its own act), not when the regulator finalised."""
    c = enrolled.compliance
    reported = c.submitReport(YEAR, 0, 50_000, DOC, {"from": bob})
    c.attest(YEAR, bob, {"from": verifier})
    chain.sleep(3_600)
    c.finalize(YEAR, [bob], {"from": regulator})
    assert enterprise_year(c, YEAR, bob)["completedAt"] == reported.timestamp


def test_a_true_up_with_nothing_to_adjust(enrolled, regulator, verifier, erin):
    """Erin's pre-allocation (70% of 0.8 x 20,000 MWh) is exactly 0.8 x 14,000 MWh: nothing minted or taken."""
    tx = verify(enrolled.compliance, regulator, verifier, erin, 10_000, 14_000)
    up = tx.events["TrueUp"]
    assert (up["entitlement"], up["minted"], up["clawedBack"], up["debtAdded"]) == (11_200, 0, 0, 0)
    assert "Issued" not in tx.events and "ClawedBack" not in tx.events


@pytest.fixture
def next_year(enrolled, regulator, erin, rules):
    """2026 settled with erin unverified (her assessment, 16,000 t, carried as debt); 2027 open."""
    c = enrolled.compliance
    past_deadline(rules)
    c.settle(YEAR, 10, {"from": regulator})
    assert c.debtOf(erin) == 16_000
    later = default_rules(chain[-1].timestamp)
    c.openYear(YEAR + 1, later.as_tuple(), [POWER, CEMENT], [800_000, 850_000], {"from": regulator})
    return c


def test_debt_is_paid_from_an_allocation_larger_than_it(next_year, regulator, erin):
    tx = next_year.enroll(YEAR + 1, [erin], [100_000], {"from": regulator})  # 56,000 allocated
    pre = tx.events["PreAllocated"]
    assert (pre["preAllocation"], pre["debtDeducted"], pre["minted"]) == (56_000, 16_000, 40_000)
    assert next_year.debtOf(erin) == 0


def test_debt_larger_than_the_allocation_is_paid_in_part(next_year, regulator, erin):
    tx = next_year.enroll(YEAR + 1, [erin], [10_000], {"from": regulator})  # 5,600 allocated
    assert (tx.events["PreAllocated"]["debtDeducted"], tx.events["PreAllocated"]["minted"]) == (5_600, 0)
    assert next_year.debtOf(erin) == 10_400


def test_no_allocation_pays_no_debt(next_year, regulator, erin):
    tx = next_year.enroll(YEAR + 1, [erin], [0], {"from": regulator})
    assert (tx.events["PreAllocated"]["preAllocation"], tx.events["PreAllocated"]["debtDeducted"]) == (0, 0)
    assert "DebtChanged" not in tx.events
    assert next_year.debtOf(erin) == 16_000


def test_an_allocation_past_64_bits_is_refused(year_open, regulator, newcomers):
    c = year_open.compliance
    year_open.registry.onboard(onboarding(newcomers[7], Role.ENTERPRISE, sector=99), {"from": regulator})
    c.setBenchmarks(YEAR, [99], [U64], {"from": regulator})
    expected = U64 * U64 * 7_000 // (10**6 * 10**4)
    with reverts("Compliance__Overflow", expected):
        c.enroll(YEAR, [newcomers[7]], [U64], {"from": regulator})


def test_an_assessment_past_64_bits_saturates_instead_of_stopping_settlement(suite, regulator, newcomers, alice):
    """No pre-allocation, the largest benchmark and baseline: unverified, the assessment (2^128 / 10^6 t) is
    carried as the largest debt and shortfall there are, and settlement goes on."""
    c = suite.compliance
    giant = newcomers[8]
    suite.registry.onboard(onboarding(giant, Role.ENTERPRISE, sector=99), {"from": regulator})
    rules = default_rules(chain[-1].timestamp).replace(pre_allocation_bps=0)
    c.openYear(YEAR + 2, rules.as_tuple(), [99], [U64], {"from": regulator})
    c.enroll(YEAR + 2, [giant], [U64], {"from": regulator})
    past_deadline(rules)
    tx = c.settle(YEAR + 2, 1, {"from": alice})
    settled = _settled(tx, giant)
    assert (settled["outcome"], settled["shortfall"]) == (Outcome.UNVERIFIED, U64)
    assert c.debtOf(giant) == U64
    assert c.yearTotals(YEAR + 2)["shortfall"] == U64


def test_a_credit_token_that_refuses_compliance_stops_finalisation(enrolled, suite, regulator, verifier, alice):
    """A reward that fails for a reason other than an inactive enterprise is not forfeited: the batch reverts
    with the credit token's own error (here: compliance no longer holds the rules role)."""
    role = suite.credit.RULES_ROLE()
    suite.credit.revokeRole(role, suite.compliance, {"from": regulator})
    c = enrolled.compliance
    c.submitReport(YEAR, 90_000, 100_000, DOC, {"from": alice})
    c.attest(YEAR, alice, {"from": verifier})
    with reverts("AccessControlUnauthorizedAccount", suite.compliance, role):
        c.finalize(YEAR, [alice], {"from": regulator})


def test_an_allowance_that_refuses_compliance_stops_enrolment(year_open, suite, regulator, newcomers):
    """Likewise a pre-allocation that fails for a reason other than an inactive enterprise."""
    suite.registry.onboard(onboarding(newcomers[9], Role.ENTERPRISE, sector=POWER), {"from": regulator})
    role = suite.allowance.ISSUER_ROLE()
    suite.allowance.revokeRole(role, suite.compliance, {"from": regulator})
    with reverts("AccessControlUnauthorizedAccount", suite.compliance, role):
        year_open.compliance.enroll(YEAR, [newcomers[9]], [100_000], {"from": regulator})
