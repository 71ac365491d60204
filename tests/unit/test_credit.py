"""CreditToken: rewards and penalties by rules contracts, regulator actions, tiers, transfer switch."""

from __future__ import annotations

import pytest

from carbon_market.errors import reverts
from carbon_market.roles import Status
from carbon_market.suite import DEFAULT_TIER_THRESHOLDS, identity_hash

EARLY = b"COMPLIANCE_EARLY".ljust(32, b"\0")
LATE = b"SURRENDER_LATE".ljust(32, b"\0")


def test_metadata(credit):
    assert credit.decimals() == 0
    assert credit.symbol() == "CREDIT"
    assert list(credit.tierThresholds()) == list(DEFAULT_TIER_THRESHOLDS)
    assert not credit.transfersEnabled()


def test_reward_mints_and_emits(credit, issuer, alice):
    tx = credit.reward(alice, 150, EARLY, {"from": issuer})
    assert credit.balanceOf(alice) == 150 and credit.totalSupply() == 150
    ev = tx.events["Rewarded"]
    assert (ev["account"], ev["amount"], ev["rules"]) == (alice, 150, issuer)
    assert ev["reason"] == "0x" + EARLY.hex()


def test_reward_needs_active_recipient(credit, issuer, registry, regulator, alice, outsider):
    with reverts("Registry__NotActive", outsider, Status.NONE):
        credit.reward(outsider, 1, EARLY, {"from": issuer})
    registry.freeze(alice, identity_hash("x"), {"from": regulator})
    with reverts("Registry__NotActive", alice, Status.FROZEN):
        credit.reward(alice, 1, EARLY, {"from": issuer})


def test_penalty_burns_at_most_the_balance(credit, issuer, alice):
    credit.reward(alice, 100, EARLY, {"from": issuer})
    tx = credit.penalize(alice, 40, LATE, {"from": issuer})
    assert tx.return_value == 40 and credit.balanceOf(alice) == 60
    tx = credit.penalize(alice, 500, LATE, {"from": issuer})
    assert tx.return_value == 60 and credit.balanceOf(alice) == 0
    ev = tx.events["Penalized"]
    assert (ev["amount"], ev["burned"]) == (500, 60)
    tx = credit.penalize(alice, 5, LATE, {"from": issuer})
    assert tx.return_value == 0 and "Transfer" not in tx.events


def test_penalty_applies_to_frozen_accounts(credit, issuer, registry, regulator, alice):
    credit.reward(alice, 100, EARLY, {"from": issuer})
    registry.freeze(alice, identity_hash("abuse"), {"from": regulator})
    credit.penalize(alice, 30, LATE, {"from": issuer})
    assert credit.balanceOf(alice) == 70


def test_zero_amounts(credit, issuer, regulator, alice):
    with reverts("Credit__ZeroAmount"):
        credit.reward(alice, 0, EARLY, {"from": issuer})
    with reverts("Credit__ZeroAmount"):
        credit.penalize(alice, 0, LATE, {"from": issuer})
    with reverts("Credit__ZeroAmount"):
        credit.regulatorMint(alice, 0, "", {"from": regulator})
    with reverts("Credit__ZeroAmount"):
        credit.regulatorBurn(alice, 0, "", {"from": regulator})


def test_only_rules_contracts(credit, regulator, alice):
    role = bytes(credit.RULES_ROLE())
    with reverts("AccessControlUnauthorizedAccount", regulator, role):
        credit.reward(alice, 1, EARLY, {"from": regulator})
    with reverts("AccessControlUnauthorizedAccount", alice, role):
        credit.penalize(alice, 1, LATE, {"from": alice})


def test_regulator_mint_and_burn_with_reason(credit, regulator, alice, bob):
    tx = credit.regulatorMint(alice, 700, "verified over-achievement 2025", {"from": regulator})
    assert tx.events["RegulatorMinted"]["reason"] == "verified over-achievement 2025"
    tx = credit.regulatorBurn(alice, 200, "market abuse finding 3", {"from": regulator})
    ev = tx.events["RegulatorBurned"]
    assert (ev["account"], ev["amount"], ev["reason"], ev["regulator"]) == (
        alice, 200, "market abuse finding 3", regulator
    )
    assert credit.balanceOf(alice) == 500
    with reverts("Credit__InsufficientBalance", alice, 500, 501):
        credit.regulatorBurn(alice, 501, "", {"from": regulator})
    with reverts("Registry__MissingRole", bob, 1):
        credit.regulatorMint(bob, 1, "", {"from": bob})


@pytest.mark.parametrize(
    "balance,tier", [(0, 0), (99, 0), (100, 1), (499, 1), (500, 2), (1_999, 2), (2_000, 3), (10**9, 3)]
)
def test_tier_of(credit, regulator, alice, balance, tier):
    if balance:
        credit.regulatorMint(alice, balance, "tier test", {"from": regulator})
    assert credit.tierOf(alice) == tier


def test_set_tier_thresholds(credit, regulator, alice):
    credit.regulatorMint(alice, 50, "", {"from": regulator})
    tx = credit.setTierThresholds([10, 20, 30, 40, 50, 60, 70], {"from": regulator})
    ev = tx.events["TierThresholdsChanged"]
    assert list(ev["oldThresholds"]) == list(DEFAULT_TIER_THRESHOLDS)
    assert list(ev["newThresholds"]) == [10, 20, 30, 40, 50, 60, 70]
    assert credit.tierOf(alice) == 5
    credit.setTierThresholds([], {"from": regulator})
    assert credit.tierOf(alice) == 0 and list(credit.tierThresholds()) == []


@pytest.mark.parametrize(
    "thresholds,index,value",
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], 8, 0),
        ([0], 0, 0),
        ([5, 5], 1, 5),
        ([9, 3], 1, 3),
        ([2**32], 0, 2**32),
    ],
)
def test_bad_thresholds(credit, regulator, thresholds, index, value):
    with reverts("Credit__InvalidThresholds", index, value):
        credit.setTierThresholds(thresholds, {"from": regulator})


def test_transfers_off_by_default_then_between_active_only(credit, regulator, issuer, alice, bob, outsider):
    credit.reward(alice, 100, EARLY, {"from": issuer})
    with reverts("Credit__TransfersDisabled"):
        credit.transfer(bob, 10, {"from": alice})
    tx = credit.setTransfersEnabled(True, {"from": regulator})
    assert tx.events["TransfersEnabledChanged"]["enabled"] is True
    credit.transfer(bob, 10, {"from": alice})
    assert credit.balanceOf(bob) == 10
    with reverts("Registry__NotActive", outsider, Status.NONE):
        credit.transfer(outsider, 10, {"from": alice})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        credit.approve(outsider, 10, {"from": alice})
    credit.approve(bob, 10, {"from": alice})
    credit.transferFrom(alice, bob, 10, {"from": bob})
    assert credit.balanceOf(bob) == 20
    credit.setTransfersEnabled(False, {"from": regulator})
    with reverts("Credit__TransfersDisabled"):
        credit.transfer(bob, 1, {"from": alice})
    with reverts("Registry__MissingRole", alice, 1):
        credit.setTransfersEnabled(True, {"from": alice})
