"""ParticipantRegistry: onboarding, updates, status changes, admin hand-over, checks."""

from __future__ import annotations

import brownie
import pytest

from carbon_market.errors import reverts
from carbon_market.roles import ALL_ROLES, Role, Status
from carbon_market.suite import identity_hash, onboarding
from tests.conftest import BEIJING, POWER

REASON = identity_hash("reason: audit finding 17")


def test_role_constants_match_python(registry):
    assert registry.ROLE_REGULATOR() == Role.REGULATOR
    assert registry.ROLE_VERIFIER() == Role.VERIFIER
    assert registry.ROLE_ENTERPRISE() == Role.ENTERPRISE
    assert registry.ROLE_INVESTOR() == Role.INVESTOR
    assert registry.ROLE_OFFSET_DEVELOPER() == Role.OFFSET_DEVELOPER
    assert registry.ROLE_EXCHANGE() == Role.EXCHANGE
    assert registry.ROLE_SYSTEM() == Role.SYSTEM


def test_fixture_participants(registry, regulator, alice, outsider):
    assert registry.isActive(regulator)
    assert registry.hasRole(regulator, Role.REGULATOR)
    assert registry.hasRole(alice, Role.ENTERPRISE)
    assert not registry.hasRole(alice, Role.INVESTOR)
    assert registry.statusOf(outsider) == Status.NONE
    assert not registry.isActive(outsider)


# ---------------------------------------------------------------- onboarding


def test_onboard_stores_record_and_emits(registry, regulator, newcomers):
    who = newcomers[0]
    entry = onboarding(who, Role.ENTERPRISE | Role.OFFSET_DEVELOPER, region=BEIJING, sector=POWER)
    tx = registry.onboard(entry, {"from": regulator})
    roles, status, region, sector, registered, updated, doc = registry.participant(who)
    assert roles == Role.ENTERPRISE | Role.OFFSET_DEVELOPER
    assert status == Status.ACTIVE
    assert (region, sector) == (BEIJING, POWER)
    assert registered == updated == tx.timestamp
    assert doc == "0x" + entry[2].hex()
    assert registry.rolesOf(who) == entry[1]
    ev = tx.events["ParticipantOnboarded"]
    assert ev["account"] == who and ev["roles"] == entry[1] and ev["by"] == regulator
    assert ev["region"] == BEIJING and ev["sector"] == POWER


def test_onboard_batch(registry, regulator, newcomers):
    entries = [onboarding(a, Role.INVESTOR) for a in newcomers[:5]]
    tx = registry.onboardBatch(entries, {"from": regulator})
    assert len(tx.events["ParticipantOnboarded"]) == 5
    assert all(registry.isActive(a) for a in newcomers[:5])


def test_onboard_batch_is_atomic(registry, regulator, newcomers, alice):
    entries = [onboarding(newcomers[0], Role.INVESTOR), onboarding(alice, Role.INVESTOR)]
    with reverts("Registry__AlreadyRegistered", alice):
        registry.onboardBatch(entries, {"from": regulator})
    assert registry.statusOf(newcomers[0]) == Status.NONE


@pytest.mark.parametrize("size", [0, 201])
def test_onboard_batch_size_bounds(registry, regulator, accounts, size):
    entries = [onboarding(f"0x{i + 1:040x}", Role.INVESTOR) for i in range(size)]
    with reverts("Registry__BadBatchSize", size, 200):
        registry.onboardBatch(entries, {"from": regulator})


def test_onboard_rejects_zero_address(registry, regulator):
    with reverts("Registry__ZeroAddress"):
        registry.onboard(onboarding("0x" + "00" * 20, Role.INVESTOR), {"from": regulator})


@pytest.mark.parametrize("roles", [0, 1 << 7, int(ALL_ROLES) + 1])
def test_onboard_rejects_bad_roles(registry, regulator, newcomers, roles):
    with reverts("Registry__InvalidRoles", roles):
        registry.onboard(onboarding(newcomers[0], roles), {"from": regulator})


def test_onboard_twice_reverts(registry, regulator, alice):
    with reverts("Registry__AlreadyRegistered", alice):
        registry.onboard(onboarding(alice, Role.INVESTOR), {"from": regulator})


def test_revoked_account_cannot_come_back(registry, regulator, alice):
    registry.revoke(alice, REASON, {"from": regulator})
    with reverts("Registry__AlreadyRegistered", alice):
        registry.onboard(onboarding(alice, Role.ENTERPRISE), {"from": regulator})


def test_only_active_regulators_onboard(registry, regulator, alice, outsider, newcomers, admin):
    for caller in (alice, outsider, admin):
        with reverts("Registry__Unauthorized", caller):
            registry.onboard(onboarding(newcomers[0], Role.INVESTOR), {"from": caller})
    # a frozen regulator loses its power until unfrozen
    registry.freeze(regulator, REASON, {"from": admin})
    with reverts("Registry__Unauthorized", regulator):
        registry.onboard(onboarding(newcomers[0], Role.INVESTOR), {"from": regulator})
    registry.unfreeze(regulator, REASON, {"from": admin})
    registry.onboard(onboarding(newcomers[0], Role.INVESTOR), {"from": regulator})


def test_only_admin_onboards_regulators(registry, admin, regulator, newcomers):
    with reverts("Registry__RegulatorRequiresAdmin", regulator, newcomers[0]):
        registry.onboard(onboarding(newcomers[0], Role.REGULATOR), {"from": regulator})
    registry.onboard(onboarding(newcomers[0], Role.REGULATOR), {"from": admin})
    assert registry.hasRole(newcomers[0], Role.REGULATOR)


# ---------------------------------------------------------------- update


def test_update_replaces_fields_keeps_status(registry, regulator, alice):
    before = registry.participant(alice)
    brownie.chain.sleep(10)
    entry = onboarding(alice, Role.ENTERPRISE | Role.OFFSET_DEVELOPER, region=1, sector=2, identity="v2")
    tx = registry.update(entry, {"from": regulator})
    after = registry.participant(alice)
    assert after[0] == entry[1] and after[1] == Status.ACTIVE and (after[2], after[3]) == (1, 2)
    assert after[4] == before[4] and after[5] == tx.timestamp > before[5]
    assert after[6] == "0x" + entry[2].hex()
    ev = tx.events["ParticipantUpdated"]
    assert ev["oldRoles"] == Role.ENTERPRISE and ev["roles"] == entry[1]


def test_update_unknown_account(registry, regulator, outsider):
    with reverts("Registry__NotRegistered", outsider):
        registry.update(onboarding(outsider, Role.INVESTOR), {"from": regulator})


def test_update_bad_roles(registry, regulator, alice):
    with reverts("Registry__InvalidRoles", 0):
        registry.update(onboarding(alice, 0), {"from": regulator})


def test_regulator_cannot_grant_or_strip_regulator_role(registry, regulator, admin, alice):
    with reverts("Registry__RegulatorRequiresAdmin", regulator, alice):
        registry.update(onboarding(alice, Role.ENTERPRISE | Role.REGULATOR), {"from": regulator})
    with reverts("Registry__RegulatorRequiresAdmin", regulator, regulator):
        registry.update(onboarding(regulator, Role.INVESTOR), {"from": regulator})
    registry.update(onboarding(alice, Role.ENTERPRISE | Role.REGULATOR), {"from": admin})
    assert registry.hasRole(alice, Role.REGULATOR)


def test_update_by_non_regulator(registry, alice, bob):
    with reverts("Registry__Unauthorized", bob):
        registry.update(onboarding(alice, Role.INVESTOR), {"from": bob})


# ---------------------------------------------------------------- status


def test_freeze_unfreeze_revoke_cycle(registry, regulator, alice):
    tx = registry.freeze(alice, REASON, {"from": regulator})
    assert registry.statusOf(alice) == Status.FROZEN and not registry.isActive(alice)
    ev = tx.events["StatusChanged"]
    assert (ev["oldStatus"], ev["newStatus"]) == (Status.ACTIVE, Status.FROZEN)
    assert ev["reasonHash"] == "0x" + REASON.hex() and ev["by"] == regulator
    assert not registry.hasRole(alice, Role.ENTERPRISE)
    registry.unfreeze(alice, REASON, {"from": regulator})
    assert registry.isActive(alice)
    registry.freeze(alice, REASON, {"from": regulator})
    tx = registry.revoke(alice, REASON, {"from": regulator})
    assert tx.events["StatusChanged"]["oldStatus"] == Status.FROZEN
    assert registry.statusOf(alice) == Status.REVOKED


def test_invalid_status_changes(registry, regulator, alice, bob):
    with reverts("Registry__InvalidStatusChange", alice, Status.ACTIVE):
        registry.unfreeze(alice, REASON, {"from": regulator})
    registry.freeze(alice, REASON, {"from": regulator})
    with reverts("Registry__InvalidStatusChange", alice, Status.FROZEN):
        registry.freeze(alice, REASON, {"from": regulator})
    registry.revoke(bob, REASON, {"from": regulator})
    for action in (registry.freeze, registry.unfreeze, registry.revoke):
        with reverts("Registry__InvalidStatusChange", bob, Status.REVOKED):
            action(bob, REASON, {"from": regulator})


def test_status_change_unknown_account(registry, regulator, outsider):
    for action in (registry.freeze, registry.unfreeze, registry.revoke):
        with reverts("Registry__NotRegistered", outsider):
            action(outsider, REASON, {"from": regulator})


def test_status_change_authority(registry, regulator, admin, alice, bob):
    with reverts("Registry__Unauthorized", bob):
        registry.freeze(alice, REASON, {"from": bob})
    with reverts("Registry__RegulatorRequiresAdmin", regulator, regulator):
        registry.freeze(regulator, REASON, {"from": regulator})
    with reverts("Registry__Unauthorized", admin):
        registry.freeze(alice, REASON, {"from": admin})


# ---------------------------------------------------------------- checks


def test_require_active_and_role(registry, regulator, alice, outsider):
    registry.requireActive(alice)
    registry.requireRole(alice, Role.ENTERPRISE | Role.INVESTOR)
    with reverts("Registry__NotActive", outsider, Status.NONE):
        registry.requireActive(outsider)
    with reverts("Registry__MissingRole", alice, Role.VERIFIER):
        registry.requireRole(alice, Role.VERIFIER)
    registry.freeze(alice, REASON, {"from": regulator})
    with reverts("Registry__NotActive", alice, Status.FROZEN):
        registry.requireRole(alice, Role.ENTERPRISE)


def test_require_transfer(registry, regulator, alice, bob, carol, outsider):
    registry.requireTransfer(alice, alice, bob)
    registry.requireTransfer(carol, alice, bob)
    with reverts("Registry__NotActive", outsider, Status.NONE):
        registry.requireTransfer(outsider, alice, bob)
    with reverts("Registry__NotActive", outsider, Status.NONE):
        registry.requireTransfer(alice, alice, outsider)
    registry.revoke(alice, REASON, {"from": regulator})
    with reverts("Registry__NotActive", alice, Status.REVOKED):
        registry.requireTransfer(alice, alice, bob)


# ---------------------------------------------------------------- admin hand-over


def test_admin_two_step_transfer(registry, admin, alice, newcomers):
    successor = newcomers[0]
    tx = registry.proposeAdmin(successor, {"from": admin})
    assert tx.events["AdminTransferProposed"]["proposed"] == successor
    assert registry.admin() == admin and registry.pendingAdmin() == successor
    with reverts("Registry__NotPendingAdmin", alice, successor):
        registry.acceptAdmin({"from": alice})
    tx = registry.acceptAdmin({"from": successor})
    ev = tx.events["AdminTransferred"]
    assert (ev["previousAdmin"], ev["newAdmin"]) == (admin, successor)
    assert registry.admin() == successor and registry.pendingAdmin() == "0x" + "00" * 20
    with reverts("Registry__Unauthorized", admin):
        registry.proposeAdmin(admin, {"from": admin})


def test_admin_proposal_can_be_cancelled(registry, admin, newcomers):
    registry.proposeAdmin(newcomers[0], {"from": admin})
    registry.proposeAdmin("0x" + "00" * 20, {"from": admin})
    with reverts("Registry__NotPendingAdmin", newcomers[0], "0x" + "00" * 20):
        registry.acceptAdmin({"from": newcomers[0]})
    assert registry.admin() == admin


def test_propose_admin_only_admin(registry, regulator):
    with reverts("Registry__Unauthorized", regulator):
        registry.proposeAdmin(regulator, {"from": regulator})


def test_constructor_rejects_zero_admin(admin):
    from carbon_market.suite import project

    with reverts("Registry__ZeroAddress"):
        project().ParticipantRegistry.deploy("0x" + "00" * 20, {"from": admin})


# ---------------------------------------------------------------- beneficial-owner groups


def test_the_regulator_declares_and_clears_a_group(registry, regulator, alice, bob):
    """Groups live in the chain's events (surveillance reads them there): each declaration says the group it
    replaced."""
    group = identity_hash("Huaneng Group")
    first = registry.declareGroup(alice, group, {"from": regulator}).events["GroupDeclared"]
    assert (first["account"], first["previous"], first["group"], first["by"]) == (
        alice, "0x" + "00" * 32, "0x" + group.hex(), regulator)
    registry.declareGroup(bob, group, {"from": regulator})
    cleared = registry.declareGroup(alice, b"\0" * 32, {"from": regulator}).events["GroupDeclared"]
    assert (cleared["previous"], cleared["group"]) == ("0x" + group.hex(), "0x" + "00" * 32)


def test_a_group_is_declared_only_for_a_registered_account_by_its_authority(registry, regulator, admin, alice,
                                                                            outsider):
    with reverts("Registry__NotRegistered", outsider):
        registry.declareGroup(outsider, REASON, {"from": regulator})
    with reverts("Registry__Unauthorized", alice):
        registry.declareGroup(alice, REASON, {"from": alice})
    with reverts("Registry__RegulatorRequiresAdmin", regulator, regulator):
        registry.declareGroup(regulator, REASON, {"from": regulator})
    declared = registry.declareGroup(regulator, REASON, {"from": admin}).events["GroupDeclared"]
    assert declared["group"] == "0x" + REASON.hex() and declared["by"] == admin


# ---------------------------------------------------------------- governance (the hand-over to a timelock)


def test_without_a_governor_every_active_regulator_governs(registry, suite, admin, regulator, alice, outsider):
    assert registry.governor() == "0x0000000000000000000000000000000000000000"
    assert registry.isGovernor(regulator) and not registry.isGovernor(alice) and not registry.isGovernor(outsider)
    registry.requireGovernor(regulator)
    with reverts("Registry__MissingRole", alice, Role.REGULATOR):
        registry.requireGovernor(alice)
    with reverts("Registry__NotActive", outsider, Status.NONE):
        registry.requireGovernor(outsider)
    registry.freeze(regulator, REASON, {"from": admin})  # the admin freezes a regulator
    assert not registry.isGovernor(regulator)
    assert not suite.market.hasRole(suite.market.GOVERNOR_ROLE(), regulator)


def test_the_admin_hands_the_registry_to_a_governor_contract(registry, suite, admin, regulator, newcomers):
    registry.proposeAdmin(newcomers[0], {"from": admin})
    with reverts("Registry__Unauthorized", regulator):
        registry.handOver(suite.market, {"from": regulator})
    with reverts("Registry__GovernorWithoutCode", newcomers[1]):
        registry.handOver(newcomers[1], {"from": admin})
    governor = suite.compliance  # any contract: a timelock in a deployment
    tx = registry.handOver(governor, {"from": admin})
    assert tx.events["GovernorSet"]["governor"] == governor
    assert tx.events["AdminTransferred"]["newAdmin"] == governor
    assert (registry.governor(), registry.admin(), registry.pendingAdmin()) == (
        governor, governor, "0x0000000000000000000000000000000000000000")
    assert registry.isGovernor(governor) and not registry.isGovernor(regulator)
    registry.requireGovernor(governor)
    with reverts("Registry__NotGovernor", regulator, governor):
        registry.requireGovernor(regulator)
    market = suite.market
    assert market.hasRole(market.GOVERNOR_ROLE(), governor) and not market.hasRole(market.GOVERNOR_ROLE(), regulator)
    assert market.hasRole(market.DEFAULT_ADMIN_ROLE(), regulator)  # a regulator still acts at once
    assert market.getRoleAdmin(market.EXCHANGE_ROLE()) == market.GOVERNOR_ROLE()
