"""Unit tests of OffsetRegistry: projects, issuance claims, verification and minting of offsets."""

from __future__ import annotations

import pytest

from carbon_market.errors import reverts
from carbon_market.ids import offset_id
from carbon_market.roles import Role, Status
from carbon_market.suite import onboarding
from tests.conftest import DOC, WHY

PENDING, ISSUED, REJECTED = 1, 2, 3


@pytest.fixture(scope="module", autouse=True)
def project(offsets, regulator, dave):
    """Project 1, owned by Dave, with one pending claim (id 0) of 5,000 t of vintage 2025."""
    offsets.registerProject(dave, DOC, {"from": regulator})
    offsets.requestIssuance(1, 2025, 5_000, DOC, {"from": dave})
    return 1


def test_register_project(offsets, regulator, dave):
    tx = offsets.registerProject(dave, WHY, {"from": regulator})
    assert tx.return_value == 2 and offsets.projectCount() == 2
    assert tx.events["ProjectRegistered"]["developer"] == dave
    developer, _, active, issued, metadata = offsets.project(2)
    assert (developer, active, issued, metadata) == (dave, True, 0, "0x" + WHY.hex())


def test_register_project_refusals(offsets, regulator, alice, dave):
    with reverts("Registry__MissingRole", alice, Role.OFFSET_DEVELOPER):
        offsets.registerProject(alice, DOC, {"from": regulator})
    with reverts("Offset__MissingDocument"):
        offsets.registerProject(dave, b"\0" * 32, {"from": regulator})
    with reverts("Registry__MissingRole", dave, Role.REGULATOR):
        offsets.registerProject(dave, DOC, {"from": dave})
    with reverts("Offset__UnknownProject", 9):
        offsets.project(9)


def test_attested_claim_issues_offsets_to_the_developer(offsets, allowance, verifier, dave):
    tx = offsets.attestIssuance(0, {"from": verifier})
    token = offset_id(1, 2025)
    assert allowance.balanceOf(dave, token) == 5_000
    ev = tx.events["OffsetsIssued"]
    assert (ev["claimId"], ev["project"], ev["id"], ev["amount"], ev["verifier"]) == (0, 1, token, 5_000, verifier)
    assert offsets.project(1)[3] == 5_000
    claim = offsets.claim(0)
    assert (claim[0], claim[1], claim[2], claim[4], claim[5]) == (1, 2025, 5_000, ISSUED, verifier)
    with reverts("Offset__ClaimNotPending", 0, ISSUED):
        offsets.attestIssuance(0, {"from": verifier})


def test_rejected_claim_issues_nothing(offsets, allowance, verifier, dave):
    tx = offsets.rejectIssuance(0, WHY, {"from": verifier})
    assert tx.events["IssuanceRejected"]["reasonHash"] == "0x" + WHY.hex()
    assert offsets.claim(0)[4] == REJECTED
    assert allowance.balanceOf(dave, offset_id(1, 2025)) == 0
    with reverts("Offset__ClaimNotPending", 0, REJECTED):
        offsets.attestIssuance(0, {"from": verifier})


def test_claim_refusals(offsets, regulator, dave, bob):
    with reverts("Offset__NotDeveloper", 1, bob):
        offsets.requestIssuance(1, 2025, 1, DOC, {"from": bob})
    with reverts("Offset__UnknownProject", 2):
        offsets.requestIssuance(2, 2025, 1, DOC, {"from": dave})
    with reverts("Offset__InvalidAmount", 0):
        offsets.requestIssuance(1, 2025, 0, DOC, {"from": dave})
    with reverts("Offset__InvalidAmount", 2**64):
        offsets.requestIssuance(1, 2025, 2**64, DOC, {"from": dave})
    with reverts("Offset__MissingDocument"):
        offsets.requestIssuance(1, 2025, 1, b"\0" * 32, {"from": dave})
    with reverts("Allowance__InvalidVintage", 1999):
        offsets.requestIssuance(1, 1999, 1, DOC, {"from": dave})
    with reverts("Offset__UnknownClaim", 1):
        offsets.claim(1)
    offsets.setProjectActive(1, False, WHY, {"from": regulator})
    with reverts("Offset__ProjectInactive", 1):
        offsets.requestIssuance(1, 2025, 1, DOC, {"from": dave})


def test_suspended_project_cannot_have_claims_attested(offsets, regulator, verifier):
    tx = offsets.setProjectActive(1, False, WHY, {"from": regulator})
    assert tx.events["ProjectStatusChanged"]["active"] is False
    with reverts("Offset__ProjectInactive", 1):
        offsets.attestIssuance(0, {"from": verifier})


def test_review_refusals(offsets, suite, regulator, verifier, dave, carol):
    with reverts("Registry__MissingRole", carol, Role.VERIFIER):
        offsets.attestIssuance(0, {"from": carol})
    with reverts("Offset__UnknownClaim", 5):
        offsets.attestIssuance(5, {"from": verifier})
    suite.registry.update(onboarding(dave, Role.OFFSET_DEVELOPER | Role.VERIFIER), {"from": regulator})
    with reverts("Offset__SelfVerification", 0, dave):
        offsets.rejectIssuance(0, WHY, {"from": dave})
    suite.registry.freeze(verifier, WHY, {"from": regulator})
    with reverts("Registry__NotActive", verifier, Status.FROZEN):
        offsets.attestIssuance(0, {"from": verifier})
