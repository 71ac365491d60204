"""Every constant of the harness's domain code against the contract it mirrors: read from the contract where the
contract publishes it, else shown by the behaviour it governs (the edge accepted, one past it refused)."""

from __future__ import annotations

from carbon_market import compliance as cy
from carbon_market.clock import latest_timestamp
from carbon_market.errors import reverts
from carbon_market.market import BPS, FEE_CAP_BPS, MANY_FILLS, TICK_SIZE, band, params_with, trading_day
from carbon_market.ops.steps import ONBOARD_BATCH
from carbon_market.suite import MONEY_DECIMALS
from tests.conftest import ALLOWANCE_2026, list_for_trading


def test_compliance_constants_are_the_contracts(compliance):
    assert (cy.BPS, cy.BENCHMARK_SCALE) == (compliance.BPS(), compliance.BENCHMARK_SCALE())
    assert (cy.MAX_BATCH, cy.MAX_SETTLE_BATCH) == (compliance.MAX_BATCH(), compliance.MAX_SETTLE_BATCH())
    assert 0 < cy.ENROLL_BATCH <= cy.MAX_BATCH


def test_batches_the_harness_sends_fit_the_contracts(registry):
    assert 0 < ONBOARD_BATCH <= registry.MAX_BATCH()


def test_money_has_the_tokens_decimals(money):
    assert money.decimals() == MONEY_DECIMALS


def test_the_fee_cap_is_the_highest_rate_the_market_accepts(suite, regulator):
    market = suite.market
    assert BPS == 10_000
    market.setParams(params_with(market, feeBps=FEE_CAP_BPS), {"from": regulator})
    assert market.params()["feeBps"] == FEE_CAP_BPS
    with reverts("Market__BadParam", b"feeBps".ljust(32, b"\0"), FEE_CAP_BPS + 1):
        market.setParams(params_with(market, feeBps=FEE_CAP_BPS + 1), {"from": regulator})


def test_trading_days_and_the_band_are_the_markets(funded, regulator, exchange, alice):
    list_for_trading(funded, regulator, exchange, (alice,), reference=60 * 10**6)
    instrument = funded.market.instrument(1)
    assert int(instrument["tokenId"]) == ALLOWANCE_2026
    assert int(instrument["day"]) == trading_day(latest_timestamp())  # China Standard Time days
    low, high = band(int(instrument["referenceTick"]), int(funded.market.params()["bandBps"]))
    assert (low, high) == (5_400, 6_600)
    for tick in (low - 1, high + 1):  # the contract names its own limits when it refuses a price outside them
        with reverts("Market__PriceOutOfBand", 1, tick * TICK_SIZE, low * TICK_SIZE, high * TICK_SIZE):
            funded.market.place(1, 0, tick * TICK_SIZE, 1, False, MANY_FILLS, FEE_CAP_BPS, {"from": alice})
