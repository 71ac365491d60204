"""Credit tiers cannot be borrowed or dodged (issue 20, item 5).

Before: with transfers enabled one balance passed around gave every holder tier 3 in turn (fee discount, block
access), and an enterprise could move its credit away before settlement so that a penalty burned nothing. Now
credit received by transfer counts towards a tier from the next trading day (the tier at the start of the day), and
a penalty larger than the balance is owed and collected from the next credit that arrives."""

from __future__ import annotations

from brownie import chain


EARLY = b"COMPLIANCE_EARLY".ljust(32, b"\0")
LATE = b"SURRENDER_LATE".ljust(32, b"\0")
DAY = 86_400


def test_a_transfer_does_not_lend_a_tier(credit, funded, issuer, regulator, alice, bob):
    credit.setTransfersEnabled(True, {"from": regulator})
    credit.reward(alice, 2_000, EARLY, {"from": issuer})
    chain.sleep(DAY)
    chain.mine()
    assert credit.tierOf(alice) == 3
    credit.transfer(bob, 2_000, {"from": alice})
    assert (credit.tierOf(alice), credit.tierOf(bob)) == (0, 0)  # gone from Alice at once, Bob's tomorrow
    assert credit.balanceOf(bob) == 2_000
    chain.sleep(DAY)
    chain.mine()
    assert credit.tierOf(bob) == 3
    credit.transfer(alice, 2_000, {"from": bob})  # handed back: neither has the tier today
    assert (credit.tierOf(alice), credit.tierOf(bob)) == (0, 0)


def test_credit_received_and_part_sent_on_one_day(credit, issuer, regulator, alice, bob):
    """What arrived today is set aside for the tier until tomorrow; sending spends it first."""
    credit.setTransfersEnabled(True, {"from": regulator})
    credit.reward(alice, 600, EARLY, {"from": issuer})
    credit.reward(bob, 100, EARLY, {"from": issuer})  # rewards count at once: the rules contract is no lender
    assert credit.tierOf(bob) == 1
    credit.transfer(bob, 500, {"from": alice})
    assert credit.tierOf(bob) == 1  # 600 held, 500 of them arrived today
    credit.transfer(alice, 450, {"from": bob})
    assert credit.tierOf(bob) == 1  # 150 held, 50 of them arrived today


def test_a_penalty_larger_than_the_balance_is_owed_and_collected(credit, issuer, alice):
    credit.reward(alice, 30, EARLY, {"from": issuer})
    tx = credit.penalize(alice, 50, LATE, {"from": issuer})
    assert tx.return_value == 30
    assert tx.events["CreditOwed"]["owed"] == 20
    assert (credit.balanceOf(alice), credit.owedOf(alice)) == (0, 20)
    tx = credit.reward(alice, 15, EARLY, {"from": issuer})
    assert tx.events["OwedCollected"]["amount"] == 15
    assert (credit.balanceOf(alice), credit.owedOf(alice), credit.totalSupply()) == (0, 5, 0)
    credit.reward(alice, 10, EARLY, {"from": issuer})
    assert (credit.balanceOf(alice), credit.owedOf(alice), credit.totalSupply()) == (5, 0, 5)


def test_moving_credit_away_does_not_dodge_a_penalty(credit, issuer, regulator, alice, bob):
    credit.setTransfersEnabled(True, {"from": regulator})
    credit.reward(alice, 100, EARLY, {"from": issuer})
    credit.transfer(bob, 100, {"from": alice})  # just before settlement
    credit.penalize(alice, 50, LATE, {"from": issuer})
    assert credit.owedOf(alice) == 50
    credit.transfer(alice, 80, {"from": bob})  # whatever comes back pays the debt first
    assert (credit.balanceOf(alice), credit.owedOf(alice)) == (30, 0)


def test_the_ledger_refuses_what_it_cannot_hold(credit, issuer, regulator, alice, bob):
    """A balance past 2^96 - 1 is refused; a transfer of more than the balance too; an owed total saturates."""
    from carbon_market.errors import reverts

    with reverts("Credit__InvalidAmount", 2**96):
        credit.regulatorMint(alice, 2**96, "too much", {"from": regulator})
    credit.setTransfersEnabled(True, {"from": regulator})
    credit.reward(alice, 10, EARLY, {"from": issuer})
    with reverts("ERC20InsufficientBalance", alice, 10, 11):
        credit.transfer(bob, 11, {"from": alice})
    credit.penalize(bob, 2**64 + 5, LATE, {"from": issuer})
    assert credit.owedOf(bob) == 2**64 - 1
