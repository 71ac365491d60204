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
