"""Access-control matrix: every state-changing function, called by every role and by an outsider.

Each function is called with arguments that are valid for a permitted caller, so the only thing that
varies is who calls; a call must succeed exactly for the callers listed as allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brownie.exceptions import VirtualMachineError

from carbon_market.compliance import Rules
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, identity_hash, onboarding
from carbon_market.auctions import AuctionRules
from carbon_market.market import params_with
from tests.conftest import ALLOWANCE_2026, list_for_trading

CALLERS = ("admin", "regulator", "verifier", "exchange", "enterprise", "investor", "developer", "system",
           "frozen", "outsider")
ACTIVE = {"regulator", "verifier", "exchange", "enterprise", "investor", "developer", "system"}
REASON = identity_hash("matrix")
RULES = Rules(early_deadline=2_000_000_000, deadline=2_000_000_000)
TAG = b"MATRIX".ljust(32, b"\0")
AUCTION_RULES = AuctionRules(reserve_price=MONEY_UNIT, tick_size=MONEY_UNIT // 100, commit_end=2_000_000_000,
                             reveal_end=2_000_003_600)
SUPPLY_RULES = (1, 365 * 86_400, 2026, 4, 10**9, 10**6, 2_400, 1_000)
GUARD = (2, 500, 600, 900)
EVERYONE = set(CALLERS)


@pytest.fixture(scope="module")
def who(admin, regulator, verifier, exchange, alice, carol, dave, issuer, outsider, newcomers):
    return {"admin": admin, "regulator": regulator, "verifier": verifier, "exchange": exchange,
            "enterprise": alice, "investor": carol, "developer": dave, "system": issuer,
            "frozen": newcomers[0], "outsider": outsider, "target": newcomers[1], "spare": newcomers[2]}


@pytest.fixture(scope="module")
def world(suite, who, regulator, issuer):
    """Every active participant holds units, money and credit; `frozen` holds some and is frozen."""
    suite.registry.onboardBatch(
        [onboarding(who["frozen"], Role.ENTERPRISE), onboarding(who["target"], Role.ENTERPRISE)],
        {"from": regulator},
    )
    holders = [who[name] for name in sorted(ACTIVE)] + [who["frozen"], who["target"]]
    suite.allowance.mintBatch(holders, ALLOWANCE_2026, [100] * len(holders), {"from": issuer})
    for holder in holders:
        suite.money.issue(holder, 100 * MONEY_UNIT, {"from": regulator})
        suite.credit.reward(holder, 50, TAG, {"from": issuer})
    suite.registry.freeze(who["frozen"], REASON, {"from": regulator})
    suite.compliance.openYear(2026, RULES.as_tuple(), [0], [800_000], {"from": regulator})
    suite.offsets.registerProject(who["developer"], REASON, {"from": regulator})
    for holder in holders:
        if holder != who["frozen"]:
            suite.money.approve(suite.auction, 2**255, {"from": holder})
    suite.auction.offer(2029, 1_000, AUCTION_RULES.as_tuple(), {"from": regulator})
    suite.reserve.setSupplyRules(SUPPLY_RULES, {"from": regulator})
    list_for_trading(suite, regulator, who["exchange"], [who["enterprise"]], reference=60 * MONEY_UNIT)
    suite.breaker.setGuard(1, GUARD, {"from": regulator})
    return suite


Call = Callable[[Any, dict, Any], Any]

# name -> (call(suite, who, caller), allowed callers)
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "registry.onboard": (
        lambda s, w, c: s.registry.onboard(onboarding(w["spare"], Role.INVESTOR), {"from": c}), {"regulator"}),
    "registry.onboard_regulator": (
        lambda s, w, c: s.registry.onboard(onboarding(w["spare"], Role.REGULATOR), {"from": c}), {"admin"}),
    "registry.onboardBatch": (
        lambda s, w, c: s.registry.onboardBatch([onboarding(w["spare"], Role.INVESTOR)], {"from": c}),
        {"regulator"}),
    "registry.update": (
        lambda s, w, c: s.registry.update(onboarding(w["target"], Role.INVESTOR), {"from": c}), {"regulator"}),
    "registry.freeze": (lambda s, w, c: s.registry.freeze(w["target"], REASON, {"from": c}), {"regulator"}),
    "registry.declareGroup": (lambda s, w, c: s.registry.declareGroup(w["target"], REASON, {"from": c}),
                              {"regulator"}),
    "registry.unfreeze": (lambda s, w, c: s.registry.unfreeze(w["frozen"], REASON, {"from": c}), {"regulator"}),
    "registry.revoke": (lambda s, w, c: s.registry.revoke(w["target"], REASON, {"from": c}), {"regulator"}),
    "registry.proposeAdmin": (lambda s, w, c: s.registry.proposeAdmin(w["spare"], {"from": c}), {"admin"}),
    "allowance.mint": (lambda s, w, c: s.allowance.mint(w["target"], ALLOWANCE_2026, 1, {"from": c}), {"system"}),
    "allowance.mintBatch": (
        lambda s, w, c: s.allowance.mintBatch([w["target"]], ALLOWANCE_2026, [1], {"from": c}), {"system"}),
    "allowance.surrender": (
        lambda s, w, c: s.allowance.surrender(w["target"], ALLOWANCE_2026, 1, {"from": c}), {"system"}),
    "allowance.retire": (
        lambda s, w, c: s.allowance.retire(ALLOWANCE_2026, 1, w["target"], "matrix", {"from": c}), ACTIVE),
    "allowance.invalidate": (
        lambda s, w, c: s.allowance.invalidate(w["target"], ALLOWANCE_2026, 1, REASON, {"from": c}),
        {"regulator"}),
    "allowance.clawBack": (
        lambda s, w, c: s.allowance.clawBack(w["target"], ALLOWANCE_2026, 1, REASON, {"from": c}), {"system"}),
    "allowance.safeTransferFrom": (
        lambda s, w, c: s.allowance.safeTransferFrom(c, w["target"], ALLOWANCE_2026, 1, b"", {"from": c}),
        ACTIVE),
    "allowance.setApprovalForAll": (
        lambda s, w, c: s.allowance.setApprovalForAll(w["target"], True, {"from": c}), ACTIVE),
    "allowance.setURI": (lambda s, w, c: s.allowance.setURI(ALLOWANCE_2026, "x", {"from": c}), {"regulator"}),
    "allowance.setBaseURI": (lambda s, w, c: s.allowance.setBaseURI("x", {"from": c}), {"regulator"}),
    "allowance.grantRole": (
        lambda s, w, c: s.allowance.grantRole(s.allowance.ISSUER_ROLE(), w["target"], {"from": c}),
        {"regulator"}),
    "allowance.revokeRole": (
        lambda s, w, c: s.allowance.revokeRole(s.allowance.ISSUER_ROLE(), w["system"], {"from": c}),
        {"regulator"}),
    "credit.reward": (lambda s, w, c: s.credit.reward(w["target"], 1, TAG, {"from": c}), {"system"}),
    "credit.penalize": (lambda s, w, c: s.credit.penalize(w["target"], 1, TAG, {"from": c}), {"system"}),
    "credit.regulatorMint": (
        lambda s, w, c: s.credit.regulatorMint(w["target"], 1, "matrix", {"from": c}), {"regulator"}),
    "credit.regulatorBurn": (
        lambda s, w, c: s.credit.regulatorBurn(w["target"], 1, "matrix", {"from": c}), {"regulator"}),
    "credit.setTierThresholds": (lambda s, w, c: s.credit.setTierThresholds([7], {"from": c}), {"regulator"}),
    "credit.setTransfersEnabled": (
        lambda s, w, c: s.credit.setTransfersEnabled(True, {"from": c}), {"regulator"}),
    "credit.transfer": (lambda s, w, c: s.credit.transfer(w["target"], 1, {"from": c}), set()),
    "credit.approve": (lambda s, w, c: s.credit.approve(w["target"], 1, {"from": c}), ACTIVE),
    "money.issue": (lambda s, w, c: s.money.issue(w["target"], 1, {"from": c}), {"regulator"}),
    "money.redeem": (lambda s, w, c: s.money.redeem(1, {"from": c}), {"regulator"}),
    "money.transfer": (lambda s, w, c: s.money.transfer(w["target"], 1, {"from": c}), ACTIVE),
    "money.approve": (lambda s, w, c: s.money.approve(w["target"], 1, {"from": c}), ACTIVE),
    "compliance.openYear": (
        lambda s, w, c: s.compliance.openYear(2027, RULES.as_tuple(), [], [], {"from": c}), {"regulator"}),
    "compliance.setRules": (
        lambda s, w, c: s.compliance.setRules(2026, RULES.as_tuple(), {"from": c}), {"regulator"}),
    "compliance.setBenchmarks": (
        lambda s, w, c: s.compliance.setBenchmarks(2026, [1], [1], {"from": c}), {"regulator"}),
    "compliance.enroll": (
        lambda s, w, c: s.compliance.enroll(2026, [w["target"]], [1_000], {"from": c}), {"regulator"}),
    "compliance.grantRole": (
        lambda s, w, c: s.compliance.grantRole(s.compliance.DEFAULT_ADMIN_ROLE(), w["target"], {"from": c}),
        {"regulator"}),
    "offsets.registerProject": (
        lambda s, w, c: s.offsets.registerProject(w["developer"], REASON, {"from": c}), {"regulator"}),
    "offsets.setProjectActive": (
        lambda s, w, c: s.offsets.setProjectActive(1, False, REASON, {"from": c}), {"regulator"}),
    "offsets.requestIssuance": (
        lambda s, w, c: s.offsets.requestIssuance(1, 2025, 10, REASON, {"from": c}), {"developer"}),
    "money.grantRole": (
        lambda s, w, c: s.money.grantRole(s.money.ISSUER_ROLE(), w["target"], {"from": c}), {"regulator"}),
    "auction.offer": (lambda s, w, c: s.auction.offer(2029, 10, AUCTION_RULES.as_tuple(), {"from": c}), {"regulator"}),
    "auction.commit": (lambda s, w, c: s.auction.commit(0, REASON, MONEY_UNIT, {"from": c}), {"enterprise", "investor"}),
    "auction.payProceeds": (lambda s, w, c: s.auction.payProceeds({"from": c}), EVERYONE),
    "auction.setTreasury": (lambda s, w, c: s.auction.setTreasury(w["target"], {"from": c}), {"regulator"}),
    "auction.grantRole": (
        lambda s, w, c: s.auction.grantRole(s.auction.AUCTIONEER_ROLE(), w["target"], {"from": c}), {"regulator"}),
    "reserve.draw": (lambda s, w, c: s.reserve.draw(10, {"from": c}), set()),
    "reserve.keepUnsold": (lambda s, w, c: s.reserve.keepUnsold(10, True, {"from": c}), set()),
    "reserve.setSupplyRules": (lambda s, w, c: s.reserve.setSupplyRules(SUPPLY_RULES, {"from": c}), {"regulator"}),
    "reserve.computeSupply": (lambda s, w, c: s.reserve.computeSupply({"from": c}), EVERYONE),
    "reserve.setContainment": (
        lambda s, w, c: s.reserve.setContainment(1, [(70 * MONEY_UNIT, 10, 10)], {"from": c}), {"regulator"}),
    "breaker.setGuard": (lambda s, w, c: s.breaker.setGuard(1, GUARD, {"from": c}), {"regulator"}),
    "breaker.observe": (lambda s, w, c: s.breaker.observe(1, {"from": c}), EVERYONE),
    "registry.handOver": (lambda s, w, c: s.registry.handOver(s.market, {"from": c}), {"admin"}),
    # every part was initialized when it was deployed: nobody initializes it again
    "registry.initialize": (lambda s, w, c: s.registry.initialize(w["spare"], {"from": c}), set()),
    "allowance.initialize": (lambda s, w, c: s.allowance.initialize("x", {"from": c}), set()),
    "credit.initialize": (lambda s, w, c: s.credit.initialize([7], {"from": c}), set()),
    "money.initialize": (lambda s, w, c: s.money.initialize("x", "X", {"from": c}), set()),
    "compliance.initialize": (lambda s, w, c: s.compliance.initialize({"from": c}), set()),
    "offsets.initialize": (lambda s, w, c: s.offsets.initialize({"from": c}), set()),
    "auction.initialize": (lambda s, w, c: s.auction.initialize(w["spare"], {"from": c}), set()),
    "reserve.initialize": (lambda s, w, c: s.reserve.initialize({"from": c}), set()),
    "breaker.initialize": (lambda s, w, c: s.breaker.initialize({"from": c}), set()),
    # the market's and the desk's governed and emergency actions (their trading paths: tests/unit/market)
    "market.setParams": (lambda s, w, c: s.market.setParams(params_with(s.market, feeBps=30), {"from": c}),
                         {"regulator"}),
    "market.setPositionLimit": (lambda s, w, c: s.market.setPositionLimit(1, 10, {"from": c}), {"regulator"}),
    "market.setTPlusOne": (lambda s, w, c: s.market.setTPlusOne(1, True, {"from": c}), {"regulator"}),
    "market.setPaused": (lambda s, w, c: s.market.setPaused(True, {"from": c}), {"regulator"}),
    "market.grantRole": (
        lambda s, w, c: s.market.grantRole(s.market.EXCHANGE_ROLE(), w["target"], {"from": c}), {"regulator"}),
    "market.initialize": (lambda s, w, c: s.market.initialize(w["spare"], {"from": c}), set()),
    "desk.grantRole": (
        lambda s, w, c: s.desk.grantRole(TAG, w["target"], {"from": c}), {"regulator"}),
    "desk.initialize": (lambda s, w, c: s.desk.initialize({"from": c}), set()),
}
#: what the governor alone does once a suite is handed over (test_access_matrix_governed.py): parameters, role
#: grants, and the registry admin's powers (new regulators, a new admin, a new governor)
GOVERNED = {"registry.onboard_regulator", "registry.proposeAdmin", "registry.handOver", "allowance.setURI",
            "allowance.setBaseURI", "allowance.grantRole", "allowance.revokeRole", "credit.setTierThresholds",
            "credit.setTransfersEnabled", "compliance.openYear", "compliance.setRules", "compliance.setBenchmarks",
            "compliance.grantRole", "money.grantRole", "auction.setTreasury", "auction.grantRole",
            "reserve.setSupplyRules", "reserve.setContainment", "breaker.setGuard", "market.setParams",
            "market.setPositionLimit", "market.setTPlusOne", "market.grantRole", "desk.grantRole"}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("function", sorted(MATRIX))
def test_access(world, who, function, caller):
    call, allowed = MATRIX[function]
    if caller in allowed:
        call(world, who, who[caller])
    else:
        with pytest.raises(VirtualMachineError):
            call(world, who, who[caller])


def test_matrix_covers_every_state_changing_function(world):
    """A new external function must be added to the matrix (or to the deliberate exclusions)."""
    excluded = {
        "registry.acceptAdmin",  # only the pending admin, tested in test_registry
        "allowance.safeBatchTransferFrom",  # same _update path as safeTransferFrom
        "allowance.renounceRole", "credit.renounceRole", "money.renounceRole",  # only about the caller itself
        "credit.transferFrom", "money.transferFrom",  # spender checks tested in the token tests
        "credit.revokeRole", "money.revokeRole", "credit.grantRole",  # same RegistryAccessControl as allowance
        "compliance.revokeRole", "compliance.renounceRole", "offsets.grantRole", "offsets.revokeRole",
        "offsets.renounceRole",
        # each needs a state of a report or a claim; who may call them is tested in tests/unit/compliance
        # and tests/unit/test_offsets.py (enrolled enterprise, active verifier, not the party itself)
        "compliance.submitReport", "compliance.attest", "compliance.reject", "compliance.finalize",
        "compliance.surrender", "offsets.attestIssuance", "offsets.rejectIssuance",
        "compliance.settle",  # anyone, after the deadline (test_settlement_outcomes uses an outsider)
        "compliance.claimAllocation",  # only what is held for the caller itself (tests/unit/test_hostile_callers.py)
        # runs the calls it is given as its sender: each call's own rule applies (test_surrender_settlement.py)
        "compliance.multicall",
        "auction.revokeRole", "auction.renounceRole", "reserve.grantRole", "reserve.revokeRole",
        "reserve.renounceRole", "breaker.grantRole", "breaker.revokeRole", "breaker.renounceRole",
        # each needs an auction in its reveal or claim stage: the bid's owner only (reveal), anyone (clear, claim);
        # tests/unit/auction/test_primary_auction.py
        "auction.reveal", "auction.clear", "auction.claim",
        "reserve.setAuction",  # once, at deployment (test_supply_reserve: a second time is refused)
        "reserve.buyFromReserve",  # needs a secondary price at a trigger: enterprises only, test_supply_reserve
        "auction.withdrawHeld",  # only what is held for the caller itself (tests/unit/test_hostile_callers.py)
        # needs a revoked bidder's held settlement: the regulator only (test_primary_auction.py)
        "auction.recoverHeld",
        "breaker.resume",  # needs a halt: anyone after the cooling-off, tests/unit/market/test_circuit_breaker.py
    }
    seen = set()
    for label, contract in (("registry", world.registry), ("allowance", world.allowance),
                            ("credit", world.credit), ("money", world.money),
                            ("compliance", world.compliance), ("offsets", world.offsets),
                            ("auction", world.auction), ("reserve", world.reserve), ("breaker", world.breaker)):
        for item in contract.abi:
            if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable"):
                seen.add(f"{label}.{item['name']}")
    covered = {name.split("_regulator")[0] for name in MATRIX}
    assert seen - covered - excluded == set()
