"""The circuit breaker: an instrument halts (its continuous book becomes a call) when its price reaches the day's
limit a set number of times or moves more than a set share within a window; after the cooling-off anyone reopens
it through the call auction. Halts and resumptions are events."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.errors import ANY, reverts
from carbon_market.market import Side
from tests.unit.market.conftest import INSTRUMENT

CONTINUOUS, CALL = 0, 1
LIMIT_HITS, PRICE_MOVE = 0, 1


@pytest.fixture(scope="module")
def breaker(market, funded):
    return funded.breaker


def trade(place, tick, buyer, seller, lots=1):
    place(seller, Side.SELL, tick, lots)
    place(buyer, Side.BUY, tick, lots, ioc=True)


def test_a_move_beyond_the_threshold_within_the_window_halts_the_instrument(
        market, breaker, place, regulator, alice, bob, carol):
    breaker.setGuard(INSTRUMENT, (0, 300, 600, 900), {"from": regulator})  # 3% in 10 minutes, 15 minutes off
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False  # anchors at 6,000
    trade(place, 6_150, alice, bob)  # +2.5%
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False
    trade(place, 6_200, alice, bob)  # +3.33%
    tx = breaker.observe(INSTRUMENT, {"from": carol})
    halt = tx.events["Halted"]
    assert (halt["reason"], halt["lastTick"], halt["anchorTick"]) == (PRICE_MOVE, 6_200, 6_000)
    assert market.instrument(INSTRUMENT)["phase"] == CALL
    assert tx.events["CallOpened"]["instrument"] == INSTRUMENT
    # orders collect during the halt; a second look changes nothing
    place(bob, Side.SELL, 6_100, 2)
    place(alice, Side.BUY, 6_120, 2)
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False
    with reverts("Breaker__NotHalted", INSTRUMENT, halt["until"], ANY):
        breaker.resume(INSTRUMENT, 50, {"from": carol})
    chain.sleep(900)
    chain.mine()
    tx = breaker.resume(INSTRUMENT, 50, {"from": carol})
    assert tx.events["Resumed"]["haltedUntil"] == halt["until"]
    assert tx.events["CallCleared"]["volume"] == 2  # the reopening auction
    assert market.instrument(INSTRUMENT)["phase"] == CONTINUOUS
    with reverts("Breaker__NotHalted", INSTRUMENT, 0, ANY):
        breaker.resume(INSTRUMENT, 50, {"from": carol})


def test_a_slow_move_does_not_halt(market, breaker, place, regulator, alice, bob, carol):
    breaker.setGuard(INSTRUMENT, (0, 300, 600, 900), {"from": regulator})
    breaker.observe(INSTRUMENT, {"from": carol})
    for tick in (6_100, 6_200, 6_300):
        chain.sleep(601)
        trade(place, tick, alice, bob)
        assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False
    assert market.instrument(INSTRUMENT)["phase"] == CONTINUOUS


def test_reaching_the_daily_limit_a_set_number_of_times_halts(market, breaker, place, regulator, alice, bob, carol):
    breaker.setGuard(INSTRUMENT, (2, 0, 0, 600), {"from": regulator})
    trade(place, 6_600, alice, bob)  # the upper limit (+10%)
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False  # the same arrival is counted once
    trade(place, 6_500, alice, bob)
    breaker.observe(INSTRUMENT, {"from": carol})
    trade(place, 6_600, alice, bob)
    tx = breaker.observe(INSTRUMENT, {"from": carol})
    assert tx.events["Halted"]["reason"] == LIMIT_HITS and tx.events["Halted"]["hits"] == 2


def test_guards_are_the_regulators_and_checked(breaker, market, regulator, carol):
    with reverts("Breaker__NoGuard", INSTRUMENT):
        breaker.observe(INSTRUMENT, {"from": carol})
    for guard, name, value in [((0, 10_000, 60, 60), "moveBps", 10_000), ((0, 100, 0, 60), "window", 0),
                               ((1, 0, 0, 0), "coolingOff", 0)]:
        with reverts("Breaker__BadGuard", name.encode().ljust(32, b"\0"), value):
            breaker.setGuard(INSTRUMENT, guard, {"from": regulator})
    with reverts("Market__UnknownInstrument", 9):
        breaker.setGuard(9, (1, 0, 0, 60), {"from": regulator})
    tx = breaker.setGuard(INSTRUMENT, (3, 500, 300, 600), {"from": regulator})
    assert tx.events["GuardSet"]["instrument"] == INSTRUMENT
    assert tuple(int(v) for v in breaker.guard(INSTRUMENT)) == (3, 500, 300, 600)
    assert breaker.watch(INSTRUMENT)["haltedUntil"] == 0


def test_an_instrument_in_the_exchanges_call_is_not_observed(market, breaker, regulator, exchange, carol):
    breaker.setGuard(INSTRUMENT, (1, 100, 60, 600), {"from": regulator})
    market.openCall(INSTRUMENT, {"from": exchange})
    assert breaker.observe(INSTRUMENT, {"from": carol}).return_value is False
    assert breaker.watch(INSTRUMENT)["anchorTime"] == 0  # nothing was looked at


def test_reaching_the_lower_limit_counts_too(market, breaker, place, regulator, alice, bob, carol):
    breaker.setGuard(INSTRUMENT, (1, 0, 0, 600), {"from": regulator})
    trade(place, 5_400, alice, bob)  # the lower limit (-10%)
    tx = breaker.observe(INSTRUMENT, {"from": carol})
    assert tx.events["Halted"]["reason"] == LIMIT_HITS and tx.events["Halted"]["lastTick"] == 5_400
