"""SettlementToken: issuance by the issuer, redemption, transfers only between active participants."""

from __future__ import annotations

from carbon_market.errors import reverts
from carbon_market.roles import Status
from carbon_market.suite import MONEY_UNIT, identity_hash


def test_metadata(money):
    assert money.decimals() == 6 and MONEY_UNIT == 10**6
    assert (money.name(), money.symbol()) == ("Digital Yuan (test)", "tCNY")


def test_issue_and_redeem(money, regulator, alice):
    tx = money.issue(alice, 5 * MONEY_UNIT, {"from": regulator})
    ev = tx.events["MoneyIssued"]
    assert (ev["to"], ev["amount"], ev["issuer"]) == (alice, 5 * MONEY_UNIT, regulator)
    money.issue(regulator, 3 * MONEY_UNIT, {"from": regulator})
    tx = money.redeem(MONEY_UNIT, {"from": regulator})
    assert tx.events["MoneyRedeemed"]["amount"] == MONEY_UNIT
    assert money.balanceOf(regulator) == 2 * MONEY_UNIT
    assert money.totalSupply() == 7 * MONEY_UNIT


def test_issue_errors(money, regulator, alice, outsider):
    with reverts("Settlement__ZeroAmount"):
        money.issue(alice, 0, {"from": regulator})
    with reverts("Settlement__ZeroAmount"):
        money.redeem(0, {"from": regulator})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        money.issue(outsider, 1, {"from": regulator})
    role = bytes(money.ISSUER_ROLE())
    with reverts("AccessControlUnauthorizedAccount", alice, role):
        money.issue(alice, 1, {"from": alice})
    with reverts("AccessControlUnauthorizedAccount", alice, role):
        money.redeem(1, {"from": alice})
    with reverts("ERC20InsufficientBalance", regulator, 0, 1):
        money.redeem(1, {"from": regulator})


def test_transfers_between_active_participants_only(funded, regulator, alice, bob, carol, outsider):
    money = funded.money
    money.transfer(bob, MONEY_UNIT, {"from": alice})
    assert money.balanceOf(bob) == 100_001 * MONEY_UNIT
    with reverts("Registry__NotActive", outsider, Status.NONE):
        money.transfer(outsider, 1, {"from": alice})
    money.approve(carol, MONEY_UNIT, {"from": alice})
    money.transferFrom(alice, bob, MONEY_UNIT // 2, {"from": carol})
    funded.registry.freeze(carol, identity_hash("x"), {"from": regulator})
    with reverts("Registry__NotActive", carol, Status.FROZEN):
        money.transferFrom(alice, bob, 1, {"from": carol})
    with reverts("Registry__NotActive", carol, Status.FROZEN):
        money.transfer(alice, 1, {"from": carol})
