"""The continuous book: escrow, price-time priority, partial fills, claims and fees, immediate-or-cancel,
self-match, the matching bound, price limits, cancellation."""

from brownie.test import given
from hypothesis import strategies as st

from carbon_market.errors import reverts
from carbon_market.market import FEE_CAP_BPS, Side, buy_escrow, fee_per_lot
from tests.conftest import ALLOWANCE_2026
from tests.unit.market.conftest import INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL
FEE = 20  # tier 0: no discount


def best(market):
    return tuple(int(x) for x in market.bestTicks(INSTRUMENT))


def order_id(tx):
    return tx.events["OrderPlaced"]["orderId"]


def test_resting_buy_escrows_money_and_becomes_best_bid(market, place, money, alice):
    before = money.balanceOf(alice)
    tx = place(alice, BUY, 5_990, 10)
    assert money.balanceOf(alice) == before - buy_escrow(price(5_990), 10, FEE)
    assert best(market) == (5_990, 0)
    assert market.depth(INSTRUMENT, BUY, 5_990) == 10
    o = market.order(order_id(tx))
    assert o[0] == alice and [int(x) for x in o[1:4]] == [10, 0, FEE]
    placed = tx.events["OrderPlaced"]
    assert (placed["filled"], placed["rested"], placed["sequence"]) == (0, 10, 1)


def test_resting_sell_escrows_units(market, place, allowance, bob):
    before = allowance.balanceOf(bob, ALLOWANCE_2026)
    place(bob, SELL, 6_010, 25)
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == before - 25
    assert allowance.balanceOf(market, ALLOWANCE_2026) == 25
    assert best(market) == (0, 6_010)


def test_price_time_priority(market, place, alice, bob, carol):
    first = order_id(place(bob, SELL, 6_020, 5))
    second = order_id(place(carol, SELL, 6_020, 5))
    better = order_id(place(bob, SELL, 6_010, 3))
    tx = place(alice, BUY, 6_020, 10)
    fills = [(e["orderId"], e["lots"], e["price"]) for e in tx.events["OrderFilled"]]
    assert fills == [(better, 3, price(6_010)), (first, 5, price(6_020)), (second, 2, price(6_020))]
    assert market.order(second)[1] == 3
    assert best(market) == (0, 6_020)


def test_partial_fill_then_claim_pays_maker_less_its_fee(market, place, money, allowance, alice, bob):
    maker = order_id(place(bob, SELL, 6_000, 10))
    taker_money = money.balanceOf(alice)
    taker_units = allowance.balanceOf(alice, ALLOWANCE_2026)
    place(alice, BUY, 6_000, 4)
    p = price(6_000)
    assert money.balanceOf(alice) == taker_money - 4 * (p + fee_per_lot(p, FEE))
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == taker_units + 4
    assert market.feesAccrued() == 4 * fee_per_lot(p, FEE)
    o = market.order(maker)
    assert [int(o[1]), int(o[2])] == [6, 4]
    bob_money = money.balanceOf(bob)
    tx = market.claim([maker], {"from": bob})
    assert money.balanceOf(bob) == bob_money + 4 * (p - fee_per_lot(p, FEE))
    assert tx.events["OrderClaimed"]["lots"] == 4
    assert market.feesAccrued() == 8 * fee_per_lot(p, FEE)
    assert market.order(maker)[2] == 0  # still rests with 6 lots
    assert market.order(maker)[1] == 6


def test_anyone_may_claim_for_the_owner(market, place, money, alice, bob, carol):
    maker = order_id(place(bob, SELL, 6_000, 2))
    place(alice, BUY, 6_000, 2)
    before = money.balanceOf(bob)
    market.claim([maker], {"from": carol})
    assert money.balanceOf(bob) > before
    with reverts("Market__UnknownOrder", maker):
        market.claim([maker], {"from": bob})


def test_one_claim_pays_each_owner_of_its_orders(market, place, money, allowance, alice, bob, carol):
    """Orders of several owners in one claim (the exchange claiming a call for everyone): each owner receives
    what its own orders hold, in one payment per run of its orders."""
    b1 = order_id(place(bob, SELL, 6_000, 1))
    c1 = order_id(place(carol, SELL, 6_000, 2))
    b2 = order_id(place(bob, SELL, 6_000, 3))
    a1 = order_id(place(alice, BUY, 5_500, 4))
    place(alice, BUY, 6_000, 6)  # fills all three sell orders
    place(bob, SELL, 5_500, 4)  # fills alice's resting buy
    before = {who: money.balanceOf(who) for who in (bob, carol)}
    units = allowance.balanceOf(alice, ALLOWANCE_2026)
    tx = market.claim([b1, b2, c1, a1], {"from": carol})
    p = price(6_000)
    assert money.balanceOf(bob) - before[bob] == 4 * (p - fee_per_lot(p, FEE))
    assert money.balanceOf(carol) - before[carol] == 2 * (p - fee_per_lot(p, FEE))
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == units + 4
    assert [(e["orderId"], e["owner"]) for e in tx.events["OrderClaimed"]] == \
        [(b1, bob), (b2, bob), (c1, carol), (a1, alice)]
    assert [e["value"] for e in tx.events["Transfer"] if e["to"] in (bob, carol)] == \
        [4 * (p - fee_per_lot(p, FEE)), 2 * (p - fee_per_lot(p, FEE))]


def test_buy_maker_claims_units(market, place, allowance, alice, bob):
    maker = order_id(place(alice, BUY, 6_000, 7))
    place(bob, SELL, 5_990, 7)  # executes at the maker's price
    before = allowance.balanceOf(alice, ALLOWANCE_2026)
    market.claim([maker], {"from": alice})
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == before + 7
    with reverts("Market__UnknownOrder", maker):
        market.cancel(maker, {"from": alice})


def test_immediate_or_cancel_never_rests(market, place, money, alice, bob):
    place(bob, SELL, 6_000, 3)
    before = money.balanceOf(alice)
    tx = place(alice, BUY, 6_000, 10, ioc=True)
    placed = tx.events["OrderPlaced"]
    assert (placed["filled"], placed["rested"], placed["orderId"]) == (3, 0, 0)
    assert money.balanceOf(alice) == before - 3 * (price(6_000) + fee_per_lot(price(6_000), FEE))
    assert best(market) == (0, 0)


def test_self_match_expires_the_incoming_order(market, place, money, alice):
    resting = order_id(place(alice, SELL, 6_000, 5))
    before = money.balanceOf(alice)
    tx = place(alice, BUY, 6_000, 5)
    placed = tx.events["OrderPlaced"]
    assert (placed["filled"], placed["rested"]) == (0, 0)
    assert money.balanceOf(alice) == before
    assert market.order(resting)[1] == 5
    assert best(market) == (0, 6_000)


def test_matching_bound_expires_what_would_cross(market, place, alice, bob, carol):
    for who in (bob, carol, bob):
        place(who, SELL, 6_000, 1)
    tx = place(alice, BUY, 6_000, 3, max_fills=2)
    placed = tx.events["OrderPlaced"]
    assert (placed["filled"], placed["rested"]) == (2, 0)
    assert market.depth(INSTRUMENT, SELL, 6_000) == 1
    assert best(market) == (0, 6_000)  # not crossed


def test_walks_several_levels(market, place, alice, bob):
    for tick in (6_000, 6_005, 6_010):
        place(bob, SELL, tick, 2)
    tx = place(alice, BUY, 6_010, 5)
    assert [e["price"] for e in tx.events["OrderFilled"]] == [price(6_000), price(6_005), price(6_010)]
    assert best(market) == (0, 6_010)
    assert market.depth(INSTRUMENT, SELL, 6_010) == 1
    assert market.instrument(INSTRUMENT)[4] == 6_010  # last price


def test_rests_after_matching_what_it_can(market, place, alice, bob):
    place(bob, SELL, 6_000, 2)
    tx = place(alice, BUY, 6_005, 5)
    placed = tx.events["OrderPlaced"]
    assert (placed["filled"], placed["rested"]) == (2, 3)
    assert best(market) == (6_005, 0)


def test_price_limits(market, place, alice):
    with reverts("Market__PriceOutOfBand", INSTRUMENT, price(6_601), price(5_400), price(6_600)):
        place(alice, BUY, 6_601, 1)
    with reverts("Market__PriceOutOfBand", INSTRUMENT, price(5_399), price(5_400), price(6_600)):
        place(alice, SELL, 5_399, 1)
    place(alice, BUY, 6_600, 1)
    assert best(market) == (6_600, 0)


def test_off_grid_and_zero(market, alice):
    with reverts("Market__OffGrid", INSTRUMENT, price(6_000) + 1, 10_000):
        market.place(INSTRUMENT, BUY, price(6_000) + 1, 1, False, 10, FEE_CAP_BPS, {"from": alice})
    with reverts("Market__BadQuantity", 0):
        market.place(INSTRUMENT, BUY, price(6_000), 0, False, 10, FEE_CAP_BPS, {"from": alice})
    with reverts("Market__UnknownInstrument", 9):
        market.place(9, BUY, price(6_000), 1, False, 10, FEE_CAP_BPS, {"from": alice})


def test_cancel_returns_escrow_and_empties_the_level(market, place, money, allowance, alice, bob):
    before = money.balanceOf(alice)
    bid = order_id(place(alice, BUY, 5_990, 10))
    lower = order_id(place(alice, BUY, 5_980, 1))
    tx = market.cancel(bid, {"from": alice})
    assert tx.events["OrderCancelled"]["remaining"] == 10
    assert best(market) == (5_980, 0)
    with reverts("Market__NotOwner", lower, bob):
        market.cancel(lower, {"from": bob})
    market.cancel(lower, {"from": alice})
    assert money.balanceOf(alice) == before
    assert best(market) == (0, 0)


def test_cancel_pays_unclaimed_fills_too(market, place, money, allowance, alice, bob):
    ask = order_id(place(bob, SELL, 6_000, 10))
    place(alice, BUY, 6_000, 4)
    units, cash = allowance.balanceOf(bob, ALLOWANCE_2026), money.balanceOf(bob)
    market.cancel(ask, {"from": bob})
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == units + 6
    assert money.balanceOf(bob) == cash + 4 * (price(6_000) - fee_per_lot(price(6_000), FEE))
    assert allowance.balanceOf(market, ALLOWANCE_2026) == 0


def test_cancelled_orders_are_skipped(market, place, alice, bob, carol):
    first = order_id(place(bob, SELL, 6_000, 5))
    second = order_id(place(carol, SELL, 6_000, 5))
    market.cancel(first, {"from": bob})
    tx = place(alice, BUY, 6_000, 5)
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [second]


def test_fees_reach_the_recipient_exactly(market, place, money, alice, bob, exchange):
    maker = order_id(place(bob, SELL, 6_000, 10))
    place(alice, BUY, 6_000, 10)
    market.claim([maker], {"from": bob})
    fees = market.feesAccrued()
    assert fees == 20 * fee_per_lot(price(6_000), FEE)
    before = money.balanceOf(exchange)
    market.withdrawFees({"from": exchange})
    assert money.balanceOf(exchange) == before + fees
    assert market.feesAccrued() == 0
    assert money.balanceOf(market) == 0


@given(ticks=st.lists(st.integers(min_value=5_900, max_value=6_100), min_size=1, max_size=6))
def test_best_prices_follow_the_bitmap(market, alice, ticks):
    ids = []
    for tick in ticks:
        ids.append(order_id(market.place(INSTRUMENT, BUY, price(tick), 1, False, 10, FEE_CAP_BPS, {"from": alice})))
    assert best(market)[0] == max(ticks)
    for oid, tick in sorted(zip(ids, ticks), key=lambda x: -x[1]):
        market.cancel(oid, {"from": alice})
    assert best(market) == (0, 0)
