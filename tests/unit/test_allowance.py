"""CarbonAllowance: issuance, transfers between registered participants, surrender, retirement, invalidation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon_market import ids
from carbon_market.errors import ANY, reverts
from carbon_market.roles import Status
from carbon_market.suite import identity_hash
from tests.conftest import ALLOWANCE_2026, OFFSET_7_2025

REASON = identity_hash("double-counted project")
ZERO = "0x" + "00" * 20


# ---------------------------------------------------------------- token ids


@given(vintage=st.integers(ids.MIN_VINTAGE, ids.MAX_VINTAGE), project=st.integers(1, 2**64 - 1))
@settings(max_examples=40)
def test_ids_agree_with_python(allowance, vintage, project):
    assert allowance.allowanceId(vintage) == ids.allowance_id(vintage)
    assert allowance.offsetId(project, vintage) == ids.offset_id(project, vintage)
    assert list(allowance.decodeId(ids.allowance_id(vintage))) == [1, vintage, 0]
    assert list(allowance.decodeId(ids.offset_id(project, vintage))) == [2, vintage, project]
    assert ids.decode(ids.offset_id(project, vintage)) == ids.TokenId(ids.Kind.OFFSET, vintage, project)


@given(token_id=st.one_of(st.integers(0, 2**256 - 1), st.integers(0, 2**64).map(lambda p: (3 << 248) | p)))
@settings(max_examples=40)
def test_malformed_ids_rejected_by_both(allowance, token_id):
    if ids.is_valid(token_id):
        kind, vintage, project = allowance.decodeId(token_id)
        assert ids.encode(kind, vintage, project) == token_id
    else:
        with reverts("Allowance__InvalidTokenId", token_id):
            allowance.decodeId(token_id)
        with pytest.raises(ValueError):
            ids.decode(token_id)


def test_id_layout_is_readable(allowance):
    assert hex(ids.allowance_id(2026)) == "0x107ea" + "0" * 58
    assert hex(ids.offset_id(7, 2025)).endswith("07") and hex(ids.offset_id(7, 2025)).startswith("0x207e9")


def test_id_constructors_validate(allowance):
    with reverts("Allowance__InvalidVintage", 1999):
        allowance.allowanceId(1999)
    with reverts("Allowance__InvalidVintage", 2201):
        allowance.offsetId(1, 2201)
    with reverts("Allowance__InvalidProject", 0):
        allowance.offsetId(0, 2026)
    with pytest.raises(ValueError):
        ids.offset_id(0, 2026)
    with pytest.raises(ValueError):
        ids.encode(ids.Kind.ALLOWANCE, 2026, 5)


# ---------------------------------------------------------------- issuance


def test_mint_updates_balance_supply_and_emits(allowance, issuer, alice):
    tx = allowance.mint(alice, ALLOWANCE_2026, 500, {"from": issuer})
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == 500
    assert allowance.totalSupply(ALLOWANCE_2026) == 500
    assert list(allowance.totals(ALLOWANCE_2026)) == [500, 0, 0, 0, 0]
    ev = tx.events["Issued"]
    assert (ev["to"], ev["id"], ev["amount"], ev["issuer"]) == (alice, ALLOWANCE_2026, 500, issuer)
    single = tx.events["TransferSingle"]
    assert single["from"] == ZERO and single["to"] == alice


def test_mint_batch(allowance, issuer, alice, bob):
    tx = allowance.mintBatch([alice, bob], OFFSET_7_2025, [10, 20], {"from": issuer})
    assert len(tx.events["Issued"]) == 2
    assert allowance.balanceOf(bob, OFFSET_7_2025) == 20
    assert allowance.totalSupply(OFFSET_7_2025) == 30


@pytest.mark.parametrize("recipients,amounts", [(0, 0), (2, 1), (201, 201)])
def test_mint_batch_shape(allowance, issuer, alice, recipients, amounts):
    with reverts("Allowance__BadBatch", recipients, amounts, 200):
        allowance.mintBatch([alice] * recipients, ALLOWANCE_2026, [1] * amounts, {"from": issuer})


def test_mint_rejects_bad_id_amount_and_recipient(allowance, issuer, regulator, alice, outsider):
    with reverts("Allowance__InvalidTokenId", 12345):
        allowance.mint(alice, 12345, 1, {"from": issuer})
    with reverts("Allowance__InvalidAmount", 0):
        allowance.mint(alice, ALLOWANCE_2026, 0, {"from": issuer})
    with reverts("Allowance__InvalidAmount", 2**48):
        allowance.mint(alice, ALLOWANCE_2026, 2**48, {"from": issuer})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        allowance.mint(outsider, ALLOWANCE_2026, 1, {"from": issuer})


def test_only_issuers_mint(allowance, regulator, alice):
    role = allowance.ISSUER_ROLE()
    for caller in (regulator, alice):
        with reverts("AccessControlUnauthorizedAccount", caller, bytes(role)):
            allowance.mint(alice, ALLOWANCE_2026, 1, {"from": caller})


def test_frozen_issuer_cannot_mint(allowance, registry, regulator, issuer, alice):
    registry.freeze(issuer, REASON, {"from": regulator})
    with reverts("Registry__NotActive", issuer, Status.FROZEN):
        allowance.mint(alice, ALLOWANCE_2026, 1, {"from": issuer})


# ---------------------------------------------------------------- transfers


def test_transfer_between_active_participants(funded, alice, bob):
    a = funded.allowance
    a.safeTransferFrom(alice, bob, ALLOWANCE_2026, 100, b"", {"from": alice})
    assert a.balanceOf(alice, ALLOWANCE_2026) == 900
    assert a.balanceOf(bob, ALLOWANCE_2026) == 700
    assert a.totalSupply(ALLOWANCE_2026) == 1_650


def test_transfer_to_outsider_reverts(funded, alice, outsider):
    with reverts("Registry__NotActive", outsider, Status.NONE):
        funded.allowance.safeTransferFrom(alice, outsider, ALLOWANCE_2026, 1, b"", {"from": alice})


@pytest.mark.parametrize("action", ["freeze", "revoke"])
def test_frozen_or_revoked_cannot_send_or_receive(funded, regulator, alice, bob, action):
    a, registry = funded.allowance, funded.registry
    getattr(registry, action)(alice, REASON, {"from": regulator})
    status = Status.FROZEN if action == "freeze" else Status.REVOKED
    with reverts("Registry__NotActive", alice, status):
        a.safeTransferFrom(alice, bob, ALLOWANCE_2026, 1, b"", {"from": alice})
    with reverts("Registry__NotActive", alice, status):
        a.safeTransferFrom(bob, alice, ALLOWANCE_2026, 1, b"", {"from": bob})
    with reverts("Registry__NotActive", alice, status):
        a.safeBatchTransferFrom(bob, alice, [ALLOWANCE_2026], [1], b"", {"from": bob})


def test_operator_must_be_active(funded, regulator, alice, bob, carol, outsider):
    a = funded.allowance
    a.setApprovalForAll(carol, True, {"from": alice})
    a.safeTransferFrom(alice, bob, ALLOWANCE_2026, 5, b"", {"from": carol})
    funded.registry.freeze(carol, REASON, {"from": regulator})
    with reverts("Registry__NotActive", carol, Status.FROZEN):
        a.safeTransferFrom(alice, bob, ALLOWANCE_2026, 5, b"", {"from": carol})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        a.setApprovalForAll(outsider, True, {"from": alice})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        a.setApprovalForAll(alice, True, {"from": outsider})
    a.setApprovalForAll(carol, False, {"from": alice})
    assert not a.isApprovedForAll(alice, carol)


def test_transfer_more_than_balance(funded, alice, bob):
    with reverts("ERC1155InsufficientBalance", alice, 1_000, 1_001, ALLOWANCE_2026):
        funded.allowance.safeTransferFrom(alice, bob, ALLOWANCE_2026, 1_001, b"", {"from": alice})


# ---------------------------------------------------------------- surrender


def test_surrender_burns_and_counts(funded, issuer, alice):
    a = funded.allowance
    tx = a.surrender(alice, ALLOWANCE_2026, 400, {"from": issuer})
    assert a.balanceOf(alice, ALLOWANCE_2026) == 600
    assert list(a.totals(ALLOWANCE_2026)) == [1_650, 400, 0, 0, 0]
    assert a.totalSupply(ALLOWANCE_2026) == 1_250
    ev = tx.events["Surrendered"]
    assert (ev["holder"], ev["id"], ev["amount"], ev["operator"]) == (alice, ALLOWANCE_2026, 400, issuer)


def test_surrender_errors(funded, issuer, regulator, alice, bob):
    a = funded.allowance
    with reverts("Allowance__InsufficientBalance", alice, ALLOWANCE_2026, 1_000, 1_001):
        a.surrender(alice, ALLOWANCE_2026, 1_001, {"from": issuer})
    with reverts("Allowance__InvalidAmount", 0):
        a.surrender(alice, ALLOWANCE_2026, 0, {"from": issuer})
    with reverts("AccessControlUnauthorizedAccount", alice, bytes(a.SURRENDER_ROLE())):
        a.surrender(alice, ALLOWANCE_2026, 1, {"from": alice})
    funded.registry.freeze(bob, REASON, {"from": regulator})
    with reverts("Registry__NotActive", bob, Status.FROZEN):
        a.surrender(bob, ALLOWANCE_2026, 1, {"from": issuer})


# ---------------------------------------------------------------- retirement


def test_retire_stores_record(funded, alice, carol):
    a = funded.allowance
    tx = a.retire(ALLOWANCE_2026, 30, carol, "Scope 1 neutral, 2026 annual report", {"from": alice})
    assert tx.return_value == 0 and a.retirementCount() == 1
    holder, at, beneficiary, amount, token_id, reason = a.retirement(0)
    assert (holder, beneficiary, amount, token_id) == (alice, carol, 30, ALLOWANCE_2026)
    assert at == tx.timestamp and reason == "Scope 1 neutral, 2026 annual report"
    ev = tx.events["Retired"]
    assert (ev["retirementId"], ev["holder"], ev["beneficiary"], ev["amount"]) == (0, alice, carol, 30)
    assert a.totals(ALLOWANCE_2026)[2] == 30
    assert a.balanceOf(alice, ALLOWANCE_2026) == 970


def test_retirement_ids_count_up(funded, alice, dave):
    a = funded.allowance
    assert a.retire(ALLOWANCE_2026, 1, alice, "", {"from": alice}).return_value == 0
    assert a.retire(OFFSET_7_2025, 1, ZERO, "", {"from": dave}).return_value == 1
    assert a.retirementCount() == 2


def test_retire_errors(funded, regulator, alice, outsider):
    a = funded.allowance
    with reverts("Allowance__InsufficientBalance", alice, OFFSET_7_2025, 0, 1):
        a.retire(OFFSET_7_2025, 1, alice, "", {"from": alice})
    with reverts("Allowance__InvalidAmount", 0):
        a.retire(ALLOWANCE_2026, 0, alice, "", {"from": alice})
    with reverts("Registry__NotActive", outsider, Status.NONE):
        a.retire(ALLOWANCE_2026, 1, alice, "", {"from": outsider})
    funded.registry.freeze(alice, REASON, {"from": regulator})
    with reverts("Registry__NotActive", alice, Status.FROZEN):
        a.retire(ALLOWANCE_2026, 1, alice, "", {"from": alice})
    with reverts("Allowance__UnknownRetirement", 0):
        a.retirement(0)


# ---------------------------------------------------------------- invalidation


def test_regulator_invalidates_even_frozen_holder(funded, regulator, dave):
    a = funded.allowance
    funded.registry.freeze(dave, REASON, {"from": regulator})
    tx = a.invalidate(dave, OFFSET_7_2025, 120, REASON, {"from": regulator})
    assert a.balanceOf(dave, OFFSET_7_2025) == 180
    assert list(a.totals(OFFSET_7_2025)) == [300, 0, 0, 120, 0]
    ev = tx.events["Invalidated"]
    assert (ev["holder"], ev["amount"], ev["regulator"]) == (dave, 120, regulator)
    assert ev["reasonHash"] == "0x" + REASON.hex()


def test_invalidate_errors(funded, regulator, issuer, dave):
    a = funded.allowance
    with reverts("Registry__MissingRole", issuer, 1):
        a.invalidate(dave, OFFSET_7_2025, 1, REASON, {"from": issuer})
    with reverts("Allowance__InsufficientBalance", dave, OFFSET_7_2025, 300, 301):
        a.invalidate(dave, OFFSET_7_2025, 301, REASON, {"from": regulator})


# ---------------------------------------------------------------- metadata and roles


def test_uris(allowance, regulator, alice):
    assert allowance.uri(ALLOWANCE_2026) == ""
    allowance.setURI(ALLOWANCE_2026, "cea-2026.json", {"from": regulator})
    assert allowance.uri(ALLOWANCE_2026) == "ipfs://carbon-market/cea-2026.json"
    tx = allowance.setBaseURI("https://registry.example/", {"from": regulator})
    assert tx.events["BaseURIChanged"]["baseURI"] == "https://registry.example/"
    assert allowance.uri(ALLOWANCE_2026) == "https://registry.example/cea-2026.json"
    with reverts("Registry__MissingRole", alice, 1):
        allowance.setURI(ALLOWANCE_2026, "x", {"from": alice})
    with reverts("Registry__NotActive", ANY, Status.NONE):
        allowance.setBaseURI("x", {"from": "0x" + "11" * 20})


def test_regulators_hold_admin_role_through_registry(allowance, registry, regulator, admin, alice):
    assert allowance.hasRole(allowance.DEFAULT_ADMIN_ROLE(), regulator)
    assert not allowance.hasRole(allowance.DEFAULT_ADMIN_ROLE(), admin)
    allowance.grantRole(allowance.ISSUER_ROLE(), alice, {"from": regulator})
    assert allowance.hasRole(allowance.ISSUER_ROLE(), alice)
    registry.freeze(regulator, REASON, {"from": admin})
    assert not allowance.hasRole(allowance.DEFAULT_ADMIN_ROLE(), regulator)
    with reverts("Registry__NotActive", regulator, Status.FROZEN):
        allowance.revokeRole(allowance.ISSUER_ROLE(), alice, {"from": regulator})


def test_supports_interfaces(allowance):
    assert allowance.supportsInterface("0xd9b67a26")  # ERC-1155
    assert allowance.supportsInterface("0x0e89341c")  # ERC-1155 metadata URI
    assert allowance.supportsInterface("0x7965db0b")  # AccessControl
    assert not allowance.supportsInterface("0xffffffff")


def test_constructor_rejects_zero_registry(admin):
    from carbon_market.suite import project

    with reverts("Access__RegistryWithoutCode", ZERO):
        project().CarbonAllowance.deploy(ZERO, "", {"from": admin})


# ---------------------------------------------------------------- claw-back


def test_issuer_claws_back_even_frozen_holder(funded, issuer, regulator, alice):
    a = funded.allowance
    funded.registry.freeze(alice, REASON, {"from": regulator})
    tx = a.clawBack(alice, ALLOWANCE_2026, 250, REASON, {"from": issuer})
    assert a.balanceOf(alice, ALLOWANCE_2026) == 750
    assert list(a.totals(ALLOWANCE_2026)) == [1_650, 0, 0, 0, 250]
    assert a.totalSupply(ALLOWANCE_2026) == 1_400
    ev = tx.events["ClawedBack"]
    assert (ev["holder"], ev["id"], ev["amount"], ev["issuer"]) == (alice, ALLOWANCE_2026, 250, issuer)


def test_claw_back_bounded_by_balance(funded, issuer, alice):
    with reverts("Allowance__InsufficientBalance", alice, ALLOWANCE_2026, 1_000, 1_001):
        funded.allowance.clawBack(alice, ALLOWANCE_2026, 1_001, REASON, {"from": issuer})
    with reverts("Allowance__InvalidAmount", 0):
        funded.allowance.clawBack(alice, ALLOWANCE_2026, 0, REASON, {"from": issuer})
