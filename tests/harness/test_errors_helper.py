"""The `reverts` helper must fail when the error or its arguments differ, or when nothing reverts."""

from __future__ import annotations

import pytest

from carbon_market.errors import ANY, RevertMismatch, reverts
from carbon_market.roles import Status


def test_matches_name_and_arguments(registry, outsider):
    with reverts("Registry__NotActive", outsider, Status.NONE):
        registry.requireActive(outsider)
    with reverts("Registry__NotActive", ANY, 0):
        registry.requireActive(outsider)
    with reverts("Registry__NotActive"):
        registry.requireActive(outsider)


def test_wrong_name_or_arguments_fail(registry, outsider, alice):
    with pytest.raises(RevertMismatch):
        with reverts("Registry__MissingRole"):
            registry.requireActive(outsider)
    with pytest.raises(RevertMismatch):
        with reverts("Registry__NotActive", alice, Status.NONE):
            registry.requireActive(outsider)
    with pytest.raises(RevertMismatch):
        with reverts("Registry__NotActive", outsider):
            registry.requireActive(outsider)


def test_no_revert_fails(registry, alice):
    with pytest.raises(AssertionError, match="succeeded"):
        with reverts("Registry__NotActive"):
            registry.requireActive(alice)


def test_a_revert_is_read_from_its_data_by_the_one_codec(registry, outsider):
    """brownie keeps the revert data (``errors.install``), so the error's arguments come typed and by name, printed
    as the operations runner prints them."""
    from brownie.exceptions import VirtualMachineError

    from carbon_market.errors import decode

    with pytest.raises(VirtualMachineError) as raised:
        registry.requireActive(outsider)
    decoded = decode(raised.value)
    assert decoded.name == "Registry__NotActive"
    assert [name for name, _ in decoded.values] == ["account", "status"]
    assert decoded.values[0][1].lower() == outsider.address.lower() and decoded.values[1][1] == Status.NONE
    assert str(decoded) == f"Registry__NotActive(account={decoded.values[0][1]}, status=0)"


def test_typed_arguments_compare_by_value(registry, outsider):
    with reverts("Registry__NotActive", outsider.address.lower(), int(Status.NONE)):
        registry.requireActive(outsider)
    with pytest.raises(RevertMismatch):
        with reverts("Registry__NotActive", outsider, Status.ACTIVE):
            registry.requireActive(outsider)
