"""Supervision and privileges: pause, frozen accounts, credit tiers (fee discount, order-size limit), investor
position limits, who may administer."""

from carbon_market.errors import reverts
from carbon_market.market import Side, fee_per_lot
from tests.conftest import ALLOWANCE_2026, WHY
from tests.unit.market.conftest import CREDIT, INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL


def order_id(tx):
    return tx.events["OrderPlaced"]["orderId"]


def test_pause_stops_placing_not_cancelling(market, place, regulator, alice):
    resting = order_id(place(alice, BUY, 6_000, 1))
    tx = market.setPaused(True, {"from": regulator})
    assert tx.events["PausedChanged"]["paused"] is True
    with reverts("Market__Paused"):
        place(alice, BUY, 6_000, 1)
    market.cancel(resting, {"from": alice})
    market.setPaused(False, {"from": regulator})
    place(alice, BUY, 6_000, 1)


def test_only_the_regulator_pauses(market, exchange):
    with reverts("Registry__MissingRole"):
        market.setPaused(True, {"from": exchange})


def test_frozen_account_cannot_place(market, place, registry, regulator, alice):
    registry.freeze(alice, WHY, {"from": regulator})
    with reverts("Registry__NotActive", alice, 2):  # frozen
        place(alice, BUY, 6_000, 1)


def test_frozen_makers_orders_leave_the_book_untraded(market, place, registry, regulator, alice, bob, carol):
    frozen = order_id(place(bob, SELL, 6_000, 5))
    live = order_id(place(carol, SELL, 6_000, 5))
    registry.freeze(bob, WHY, {"from": regulator})
    tx = place(alice, BUY, 6_000, 5)
    assert tx.events["OrderSuspended"]["orderId"] == frozen
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [live]
    assert market.order(frozen)[1] == 5  # its escrow is kept for the owner
    assert market.depth(INSTRUMENT, SELL, 6_000) == 0
    registry.unfreeze(bob, WHY, {"from": regulator})
    market.cancel(frozen, {"from": bob})


def test_lowest_tier_order_size_limit(market, place, credit, issuer, alice):
    with reverts("Market__OrderTooLarge", alice, 1_001, 1_000):
        place(alice, BUY, 5_500, 1_001)
    credit.reward(alice, 100, CREDIT, {"from": issuer})  # tier 1
    place(alice, BUY, 5_500, 1_001)


def test_credit_tier_discounts_the_fee(market, place, credit, issuer, money, alice, bob):
    assert market.feeRateOf(alice) == 20
    credit.reward(alice, 2_000, CREDIT, {"from": issuer})  # tier 3: half the fee
    assert market.feeRateOf(alice) == 10
    place(bob, SELL, 6_000, 10)
    before = money.balanceOf(alice)
    tx = place(alice, BUY, 6_000, 10)
    assert tx.events["OrderPlaced"]["feeBps"] == 10
    assert money.balanceOf(alice) == before - 10 * (price(6_000) + fee_per_lot(price(6_000), 10))


def test_investor_position_limit(market, place, allowance, regulator, carol, bob):
    assert allowance.balanceOf(carol, ALLOWANCE_2026) == 50
    tx = market.setPositionLimit(INSTRUMENT, 80, {"from": regulator})
    assert tx.events["PositionLimitChanged"]["current"] == 80
    first = order_id(place(carol, BUY, 5_900, 20))
    assert market.openBuyLots(carol, INSTRUMENT) == 20
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 81, 80):
        place(carol, BUY, 5_900, 11)
    place(bob, SELL, 5_900, 20)  # fills carol's bid
    market.claim([first], {"from": carol})
    assert market.openBuyLots(carol, INSTRUMENT) == 0
    assert allowance.balanceOf(carol, ALLOWANCE_2026) == 70
    place(carol, BUY, 5_900, 10)
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 81, 80):
        place(carol, BUY, 5_900, 1)


def test_position_limits_do_not_bind_enterprises(market, place, regulator, alice):
    market.setPositionLimit(INSTRUMENT, 1, {"from": regulator})
    place(alice, BUY, 5_900, 500)


def test_parameters_are_the_regulators(market, regulator, exchange):
    current = market.params()
    changed = (30, 800, 2_500, 10, 50, 2, (0, 2_000, 4_000, 6_000), 3)
    with reverts("Registry__MissingRole"):
        market.setParams(changed, {"from": exchange})
    tx = market.setParams(changed, {"from": regulator})
    assert list(tx.events["ParamsChanged"]["previous"])[:6] == list(current)[:6]
    assert market.params()[0] == 30 and list(market.params()[6]) == [0, 2_000, 4_000, 6_000]
    assert market.params()["callMinTraders"] == 3
    with reverts("Market__BadParam"):
        market.setParams((30, 0, 2_500, 10, 50, 2, (0, 0, 0, 0), 2), {"from": regulator})


def test_listing_is_the_exchanges(market, exchange, alice):
    with reverts("AccessControlUnauthorizedAccount"):
        market.list(ALLOWANCE_2026 + 0, 1, 10_000, 60 * 10**6, {"from": alice})
    with reverts("Market__BadListing", ALLOWANCE_2026):
        market.list(ALLOWANCE_2026, 1, 10_000, 60 * 10**6, {"from": exchange})


def test_market_refuses_tokens_it_did_not_pull(market, allowance, alice):
    with reverts("Market__UnexpectedTokens", alice):
        allowance.safeTransferFrom(alice, market, ALLOWANCE_2026, 1, b"", {"from": alice})


def test_every_placement_is_numbered(market, place, alice):
    seqs = [place(alice, BUY, 5_900, 1).events["OrderPlaced"]["sequence"] for _ in range(3)]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
