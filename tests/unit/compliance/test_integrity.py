"""Smaller integrity defects of the compliance year and the offset registry (issue 20, item 9), each shown by a
test that failed before its fix:
- one frozen enterprise reverted a whole enrolment batch (its allocation is now held for it);
- the year's `clawedBack` counted held units that were never minted, disagreeing with the allowance's totals;
- the offset registry issued to a developer whose offset-developer role had been removed."""

from __future__ import annotations

import pytest

from carbon_market.compliance import enterprise_year, year_totals
from carbon_market.errors import reverts
from carbon_market.ids import offset_id
from carbon_market.roles import Role, Status
from carbon_market.suite import onboarding
from tests.conftest import DOC, WHY, YEAR
from tests.unit.compliance.conftest import A26, ALICE_BASE, BOB_BASE, ERIN_BASE

#: Erin's pre-allocation: 70% x 0.8 t/MWh x 20,000 MWh
ERIN_PRE = 11_200


@pytest.fixture(scope="module", autouse=True)
def state(year_open):
    """The year is open; nobody is enrolled."""


def test_a_frozen_enterprise_does_not_revert_an_enrolment_batch(year_open, regulator, alice, bob, erin):
    c, registry = year_open.compliance, year_open.registry
    registry.freeze(erin, WHY, {"from": regulator})
    tx = c.enroll(YEAR, [alice, erin, bob], [ALICE_BASE, ERIN_BASE, BOB_BASE], {"from": regulator})
    assert [e["enterprise"] for e in tx.events["PreAllocated"]] == [alice, erin, bob]
    held = tx.events["AllocationHeld"]
    assert (held["enterprise"], held["amount"]) == (erin, ERIN_PRE)
    assert c.heldAllocation(YEAR, erin) == ERIN_PRE
    assert year_open.allowance.balanceOf(erin, A26) == 0
    registry.unfreeze(erin, WHY, {"from": regulator})
    c.claimAllocation(YEAR, {"from": erin})
    assert year_open.allowance.balanceOf(erin, A26) == ERIN_PRE


def test_a_revoked_or_unregistered_account_is_still_refused(year_open, regulator, alice, erin, carol, outsider):
    c, registry = year_open.compliance, year_open.registry
    registry.revoke(erin, WHY, {"from": regulator})
    with reverts("Registry__NotActive", erin, Status.REVOKED):
        c.enroll(YEAR, [alice, erin], [ALICE_BASE, ERIN_BASE], {"from": regulator})
    with reverts("Registry__MissingRole", carol, Role.ENTERPRISE):
        c.enroll(YEAR, [carol], [1], {"from": regulator})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        c.enroll(YEAR, [outsider], [1], {"from": regulator})


def test_held_units_taken_back_are_not_counted_as_clawed_back(year_open, regulator, verifier, erin):
    """Erin's pre-allocation is held (frozen at enrolment); her true-up takes 3,200 back from what is held:
    nothing was minted, so nothing was clawed back, and the year's totals agree with the allowance's."""
    c, registry = year_open.compliance, year_open.registry
    registry.freeze(erin, WHY, {"from": regulator})
    c.enroll(YEAR, [erin], [ERIN_BASE], {"from": regulator})
    registry.unfreeze(erin, WHY, {"from": regulator})
    c.submitReport(YEAR, 9_000, 10_000, DOC, {"from": erin})  # entitlement 0.8 x 10,000 = 8,000
    c.attest(YEAR, erin, {"from": verifier})
    tx = c.finalize(YEAR, [erin], {"from": regulator})
    assert tx.events["TrueUp"]["clawedBack"] == 0
    reduced = tx.events["HeldAllocationReduced"]
    assert (reduced["enterprise"], reduced["amount"]) == (erin, ERIN_PRE - 8_000)
    assert c.heldAllocation(YEAR, erin) == 8_000
    assert enterprise_year(c, YEAR, erin)["clawedBack"] == 0
    assert year_totals(c, YEAR)["clawedBack"] == year_open.allowance.totals(A26)["clawedBack"] == 0
    assert year_totals(c, YEAR)["allocated"] == 8_000


def test_offsets_are_not_issued_to_a_developer_who_lost_the_role(year_open, offsets, regulator, verifier, dave):
    offsets.registerProject(dave, DOC, {"from": regulator})
    offsets.requestIssuance(1, 2025, 5_000, DOC, {"from": dave})
    year_open.registry.update(onboarding(dave, Role.INVESTOR), {"from": regulator})
    with reverts("Registry__MissingRole", dave, Role.OFFSET_DEVELOPER):
        offsets.attestIssuance(0, {"from": verifier})
    with reverts("Registry__MissingRole", dave, Role.OFFSET_DEVELOPER):
        offsets.requestIssuance(1, 2025, 1_000, DOC, {"from": dave})
    assert year_open.allowance.totals(offset_id(1, 2025))["minted"] == 0
