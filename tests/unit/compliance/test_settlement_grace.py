"""Settlement cannot ambush an enterprise the regulator has not finalised (issue 20, item 6).

Before: anyone settled at the deadline + 1 s, and an enterprise whose report was attested on time but not yet
finalised was settled as unverified (full shortfall, debt, fine, penalty), irreversibly; and a finalisation after
the deadline marked even a zero-emission enterprise late. Now a grace window (a year rule, 7 days by default)
leaves such an enterprise to the regulator, and lateness is judged by the enterprise's own actions."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.compliance import Outcome, enterprise_year
from carbon_market.errors import reverts
from carbon_market.clock import sleep_until
from tests.conftest import DOC, YEAR
from tests.unit.compliance.conftest import A26, past_deadline, verify

GRACE = 7 * 86_400


@pytest.fixture(scope="module", autouse=True)
def state(enrolled, regulator, verifier, alice, bob, erin):
    """Alice and Bob verified and surrendered in full; Erin's report (10,000 t, output 20,000) attested on time,
    not finalised."""
    c = enrolled.compliance
    verify(c, regulator, verifier, alice, 90_000, 100_000)
    verify(c, regulator, verifier, bob, 40_000, 50_000)
    c.surrender(YEAR, A26, 80_000, {"from": alice})
    c.submitReport(YEAR, 10_000, 20_000, DOC, {"from": erin})
    c.attest(YEAR, erin, {"from": verifier})


def test_an_attested_enterprise_is_not_settled_by_anyone_in_the_grace_window(enrolled, rules, regulator, carol,
                                                                              erin):
    c = enrolled.compliance
    past_deadline(rules)
    tx = c.settle(YEAR, 10, {"from": carol})
    assert [e["enterprise"] for e in tx.events["EnterpriseSettled"]] == [c.roster(YEAR, 0, 2)[0],
                                                                        c.roster(YEAR, 0, 2)[1]]
    with reverts("Compliance__AwaitingFinalization", YEAR, erin, rules.deadline + GRACE):
        c.settle(YEAR, 10, {"from": carol})
    assert enterprise_year(c, YEAR, erin)["outcome"] == Outcome.PENDING


def test_finalised_late_and_surrendered_before_settlement_is_on_time(enrolled, rules, regulator, carol, erin):
    """The regulator finalises in the grace window; Erin surrenders at once; settlement finds her on time."""
    c = enrolled.compliance
    past_deadline(rules)
    c.finalize(YEAR, [erin], {"from": regulator})
    c.surrender(YEAR, A26, 10_000, {"from": erin})
    c.settle(YEAR, 10, {"from": carol})
    assert enterprise_year(c, YEAR, erin)["outcome"] == Outcome.ON_TIME


def test_the_regulator_may_settle_an_attested_enterprise_in_the_grace_window(enrolled, rules, regulator, erin):
    c = enrolled.compliance
    past_deadline(rules)
    c.settle(YEAR, 10, {"from": regulator})
    assert enterprise_year(c, YEAR, erin)["outcome"] == Outcome.UNVERIFIED


def test_after_the_grace_window_anyone_settles_it(enrolled, rules, carol, erin):
    c = enrolled.compliance
    sleep_until(rules.deadline + GRACE + 1)
    c.settle(YEAR, 10, {"from": carol})
    assert enterprise_year(c, YEAR, erin)["outcome"] == Outcome.UNVERIFIED


def test_a_zero_emission_report_finalised_after_the_deadline_is_not_late(enrolled, rules, regulator, verifier,
                                                                         carol, newcomers):
    """Completion is when the enterprise reported zero, not when the regulator got round to finalising."""
    from carbon_market.roles import Role
    from carbon_market.suite import onboarding
    from tests.conftest import POWER

    c, quiet = enrolled.compliance, newcomers[6]
    enrolled.registry.onboard(onboarding(quiet, Role.ENTERPRISE, sector=POWER), {"from": regulator})
    c.enroll(YEAR, [quiet], [1_000], {"from": regulator})
    reported = c.submitReport(YEAR, 0, 0, DOC, {"from": quiet})
    c.attest(YEAR, quiet, {"from": verifier})
    past_deadline(rules)
    c.finalize(YEAR, [quiet], {"from": regulator})
    assert enterprise_year(c, YEAR, quiet)["completedAt"] == reported.timestamp
    sleep_until(rules.deadline + GRACE + 1)
    while c.yearTotals(YEAR)[2] < c.yearTotals(YEAR)[1]:
        c.settle(YEAR, 10, {"from": carol})
    assert enterprise_year(c, YEAR, quiet)["outcome"] == Outcome.EARLY


def test_finalised_in_time_and_surrendered_after_the_deadline_is_late(enrolled, rules, carol, bob):
    """Lateness of the enterprise's own making is still late."""
    c = enrolled.compliance
    past_deadline(rules)
    chain.sleep(60)
    c.surrender(YEAR, A26, 40_000, {"from": bob})
    c.settle(YEAR, 2, {"from": carol})
    assert enterprise_year(c, YEAR, bob)["outcome"] == Outcome.LATE


def test_the_grace_is_a_year_rule(enrolled, rules, regulator, carol, erin):
    c = enrolled.compliance
    c.setRules(YEAR, rules.replace(settlement_grace=0).as_tuple(), {"from": regulator})
    past_deadline(rules)
    c.settle(YEAR, 10, {"from": carol})
    assert enterprise_year(c, YEAR, erin)["outcome"] == Outcome.UNVERIFIED
