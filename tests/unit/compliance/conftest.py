"""Shared states of the compliance unit tests. Each test module makes one of them autouse, because a
module-scoped fixture outlives function isolation: every test of a module sees the same starting state."""

from __future__ import annotations

import pytest

from carbon_market.compliance import Rules
from carbon_market.ids import allowance_id, offset_id
from carbon_market.roles import Role
from carbon_market.suite import onboarding
from carbon_market.clock import latest_timestamp, sleep_until
from tests.conftest import DOC, POWER, YEAR

A25, A26, A27 = (allowance_id(y) for y in (YEAR - 1, YEAR, YEAR + 1))
OFFSET = offset_id(7, 2025)
ALICE_BASE = 100_000  # MWh
BOB_BASE = 50_000  # t of clinker
ERIN_BASE = 20_000  # MWh


@pytest.fixture(scope="module")
def erin(newcomers, suite, regulator):
    """A power enterprise enrolled by `enrolled` that never gets a report finalised."""
    suite.registry.onboard(onboarding(newcomers[5], Role.ENTERPRISE, sector=POWER), {"from": regulator})
    return newcomers[5]


@pytest.fixture(scope="module")
def enrolled(year_open, regulator, alice, bob, erin):
    """Alice (power), Bob (cement) and Erin (power) enrolled in 2026 with baselines."""
    year_open.compliance.enroll(YEAR, [alice, bob, erin], [ALICE_BASE, BOB_BASE, ERIN_BASE], {"from": regulator})
    return year_open


@pytest.fixture(scope="module")
def verified(enrolled, regulator, verifier, alice, bob, issuer):
    """Alice verified at 90,000 t (output 100,000: entitlement 80,000); Bob at 40,000 t (entitlement 42,500).
    Alice also holds 10,000 allowances of 2025 and 5,000 of 2027, and 10,000 offsets of vintage 2025."""
    c = enrolled.compliance
    for who, emissions, output in ((alice, 90_000, ALICE_BASE), (bob, 40_000, BOB_BASE)):
        c.submitReport(YEAR, emissions, output, DOC, {"from": who})
        c.attest(YEAR, who, {"from": verifier})
    c.finalize(YEAR, [alice, bob], {"from": regulator})
    enrolled.allowance.mint(alice, A25, 10_000, {"from": issuer})
    enrolled.allowance.mint(alice, A27, 5_000, {"from": issuer})
    enrolled.allowance.mint(alice, OFFSET, 10_000, {"from": issuer})
    return enrolled


def verify(c, regulator, verifier, enterprise, emissions, output):
    """Report, attest and finalise one enterprise's year; returns the finalisation transaction."""
    c.submitReport(YEAR, emissions, output, DOC, {"from": enterprise})
    c.attest(YEAR, enterprise, {"from": verifier})
    return c.finalize(YEAR, [enterprise], {"from": regulator})


def past_deadline(rules: Rules) -> None:
    """Mine a block just after the year's surrender deadline."""
    sleep_until(rules.deadline + 1)
    assert latest_timestamp() > rules.deadline

