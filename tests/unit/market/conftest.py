"""Fixtures of the market tests: instrument 1 is the 2026 allowance at 1 t per lot, 0.01 tCNY per tick, 60 tCNY
reference price (tick 6,000, limits 5,400 to 6,600); alice, bob and carol have approved the market."""

import pytest

from carbon_market.market import FEE_CAP_BPS, TICK_SIZE, max_fills_in
from tests.conftest import list_for_trading

REFERENCE = 60 * 10**6
INSTRUMENT = 1
CREDIT = b"MARKET".ljust(32, b"\0")


def price(tick: int) -> int:
    return tick * TICK_SIZE


@pytest.fixture(scope="module")
def market(funded, regulator, exchange, alice, bob, carol):
    list_for_trading(funded, regulator, exchange, (alice, bob, carol), reference=REFERENCE)
    return funded.market


@pytest.fixture
def place(market):
    """``place(who, side, tick, lots, ioc=False, max_fills=None, max_fee=FEE_CAP_BPS)`` -> the transaction;
    ``max_fills`` defaults to none in a call phase and no practical bound in the continuous phase, ``max_fee`` to
    no bound on the fee rate."""

    def _place(who, side, tick, lots, ioc=False, max_fills=None, max_fee=FEE_CAP_BPS):
        if max_fills is None:
            max_fills = max_fills_in(market.instrument(INSTRUMENT)["phase"])
        return market.place(INSTRUMENT, side, price(tick), lots, ioc, max_fills, max_fee, {"from": who})

    return _place
