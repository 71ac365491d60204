"""Shared fixtures: accounts named by role, the deployed suite, and chain isolation per test."""

from __future__ import annotations

import gc

import pytest

from carbon_market.ids import allowance_id, offset_id
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, deploy_suite, onboarding

VINTAGE = 2026
ALLOWANCE_2026 = allowance_id(VINTAGE)
OFFSET_7_2025 = offset_id(7, 2025)

# region and sector codes: GB/T 2260 regions, GB/T 4754 sectors
BEIJING, SHANGHAI, GUANGDONG = 110000, 310000, 440000
POWER, CEMENT, STEEL = 4411, 3011, 3120


@pytest.fixture(scope="module", autouse=True)
def module_isolation(module_isolation):
    pass


@pytest.fixture(scope="session", autouse=True)
def direct_to_the_node():
    """The test chain is on this machine: reached over the standard library's kept-alive connections, not
    requests' (``bulk.go_direct``)."""
    from carbon_market import bulk

    bulk.go_direct()


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    # brownie runs a full garbage collection at every revert (its registry of objects to revert): with the project,
    # hypothesis and a module's fixtures loaded, that walked about two million objects, a third of a second at every
    # test's end. What exists when a test starts is left out of the collector's walks (frozen); what the test made
    # is still collected.
    gc.freeze()


# ---------------------------------------------------------------- accounts by role


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def regulator(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def verifier(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def exchange(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def alice(accounts):
    """An enterprise (power, Beijing)."""
    return accounts[4]


@pytest.fixture(scope="session")
def bob(accounts):
    """An enterprise (cement, Shanghai)."""
    return accounts[5]


@pytest.fixture(scope="session")
def carol(accounts):
    """An investor."""
    return accounts[6]


@pytest.fixture(scope="session")
def dave(accounts):
    """An offset developer."""
    return accounts[7]


@pytest.fixture(scope="session")
def issuer(accounts):
    """A registered system account that holds the issuer, surrender and rules roles."""
    return accounts[8]


@pytest.fixture(scope="session")
def outsider(accounts):
    """Never registered."""
    return accounts[9]


@pytest.fixture(scope="session")
def newcomers(accounts):
    """Accounts no fixture registers, for onboarding tests."""
    return accounts[10:20]


# ---------------------------------------------------------------- deployment


@pytest.fixture(scope="module")
def upgradeable():
    """Whether the module's suite stands behind proxies whose code can be replaced (a module says so by overriding
    this fixture)."""
    return False


@pytest.fixture(scope="module")
def suite(admin, regulator, verifier, exchange, alice, bob, carol, dave, issuer, upgradeable):
    s = deploy_suite(admin, regulator, upgradeable=upgradeable)
    s.registry.onboardBatch(
        [
            onboarding(verifier, Role.VERIFIER),
            onboarding(exchange, Role.EXCHANGE),
            onboarding(alice, Role.ENTERPRISE, region=BEIJING, sector=POWER),
            onboarding(bob, Role.ENTERPRISE, region=SHANGHAI, sector=CEMENT),
            onboarding(carol, Role.INVESTOR, region=SHANGHAI),
            onboarding(dave, Role.OFFSET_DEVELOPER, region=GUANGDONG),
            onboarding(issuer, Role.SYSTEM),
        ],
        {"from": regulator},
    )
    s.allowance.grantRole(s.allowance.ISSUER_ROLE(), issuer, {"from": regulator})
    s.allowance.grantRole(s.allowance.SURRENDER_ROLE(), issuer, {"from": regulator})
    s.credit.grantRole(s.credit.RULES_ROLE(), issuer, {"from": regulator})
    return s


@pytest.fixture(scope="module")
def registry(suite):
    return suite.registry


@pytest.fixture(scope="module")
def allowance(suite):
    return suite.allowance


@pytest.fixture(scope="module")
def credit(suite):
    return suite.credit


@pytest.fixture(scope="module")
def money(suite):
    return suite.money


@pytest.fixture(scope="module")
def funded(suite, issuer, regulator, alice, bob, carol, dave):
    """The suite with allowances, offsets and money in the participants' hands."""
    for holder, amount in ((alice, 1_000), (bob, 600), (carol, 50)):
        suite.allowance.mint(holder, ALLOWANCE_2026, amount, {"from": issuer})
    suite.allowance.mint(dave, OFFSET_7_2025, 300, {"from": issuer})
    for holder in (alice, bob, carol, dave):
        suite.money.issue(holder, 100_000 * MONEY_UNIT, {"from": regulator})
    return suite


# ---------------------------------------------------------------- compliance

YEAR = 2026
#: sector benchmarks in micro-tonnes per unit of output: power 0.8 t/MWh, cement 0.85 t/t, steel 1.8 t/t
BENCHMARKS = {POWER: 800_000, CEMENT: 850_000, STEEL: 1_800_000}
DOC = b"\x0d" * 32
WHY = b"\x0e" * 32


@pytest.fixture(scope="module")
def compliance(suite):
    return suite.compliance


@pytest.fixture(scope="module")
def offsets(suite):
    return suite.offsets


@pytest.fixture(scope="module")
def rules(suite):
    """Year rules: early deadline in 60 days, deadline in 90 days, a fine of 100 money units per tonne."""
    from brownie import chain

    from carbon_market.compliance import default_rules

    return default_rules(chain.time(), fine_per_tonne=100 * MONEY_UNIT)


@pytest.fixture(scope="module")
def year_open(suite, regulator, rules):
    """Year 2026 open with the default rules and the three sector benchmarks."""
    from carbon_market.year import benchmark_args, rules_args

    operator(suite, regulator=regulator).do("open_year", by="regulator", year=YEAR, rules=rules_args(rules),
                                            benchmarks=benchmark_args(BENCHMARKS))
    return suite


# ---------------------------------------------------------------- the harness's operations, sent directly

def operator(suite, **people):
    """The harness's operations on ``suite`` (``carbon_market.ops.senders.Operator``), one brownie transaction at a
    time, with ``people`` named as the operations' arguments name them."""
    from carbon_market.ops.senders import Operator

    return Operator(suite, people)


def approve_traders(suite, *traders):
    """The ``approve`` operation: each trader lets the market and the block desk move its units and money."""
    names = {f"trader{i}": t for i, t in enumerate(traders)}
    operator(suite, **names).do("approve", traders=list(names))


def list_for_trading(suite, regulator, exchange, traders, *, reference, token="allowance 2026", lot=1, tick=None):
    """The ``list`` operation: appoint the exchange, list ``token`` (0.01 tCNY a tick unless told) and approve
    the traders."""
    from carbon_market.market import TICK_SIZE
    from carbon_market.ops.senders import money

    names = {f"trader{i}": t for i, t in enumerate(traders)}
    operator(suite, regulator=regulator, exchange=exchange, **names).do(
        "list", regulator="regulator", exchange="exchange", token=token, lot=lot, tick=money(tick or TICK_SIZE),
        reference=money(reference), traders=list(names))


# ---------------------------------------------------------------- coverage

def pytest_configure(config):
    """brownie's receipt wait and clock fixed for anvil (``carbon_market.receipts``), revert data kept for the one codec
    (``carbon_market.errors``), and with ``CARBON_MARKET_COVERAGE=1``
    (what `make coverage` sets) everything the session runs on chain traced."""
    import os

    from carbon_market import errors, receipts

    receipts.install()
    errors.install()

    if os.environ.get("CARBON_MARKET_COVERAGE") == "1":
        from toolchain.coverage import Collector

        Collector().install()  # the session's collector: ``toolchain.coverage.ACTIVE``


def pytest_sessionfinish(session):
    import sys

    coverage = sys.modules.get("toolchain.coverage")  # imported only when the session is traced
    if coverage is not None and coverage.ACTIVE is not None:
        coverage.ACTIVE.save()
        print(f"\ncoverage: {coverage.ACTIVE.traced} transactions and calls traced")
