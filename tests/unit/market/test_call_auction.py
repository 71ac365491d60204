"""The call auction: collection without matching, one clearing price, rationing by time priority, chunked
clearing, settlement by claims; and a property test against an independent Python clearing."""

from brownie.test import given
from hypothesis import settings, strategies as st

from carbon_market.errors import reverts
from carbon_market.market import FEE_CAP_BPS, CallOrder, Phase, Side, buy_escrow, clear_call, fee_per_lot
from tests.conftest import ALLOWANCE_2026
from tests.unit.market.conftest import INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL
FEE = 20
REF_TICK = 6_000


def order_id(tx):
    return tx.events["OrderPlaced"]["orderId"]


def test_orders_collect_without_matching(market, place, exchange, alice, bob):
    market.openCall(INSTRUMENT, {"from": exchange})
    assert market.instrument(INSTRUMENT)[6] == Phase.CALL
    place(bob, SELL, 5_900, 5)
    tx = place(alice, BUY, 6_100, 5)
    assert "OrderFilled" not in tx.events
    assert [int(x) for x in market.callDepth(INSTRUMENT, 1, 6_100)] == [5, 0]
    assert [int(x) for x in market.bestTicks(INSTRUMENT)] == [0, 0]


def test_uniform_price_and_time_priority_rationing(market, place, exchange, money, allowance, alice, bob, carol):
    market.openCall(INSTRUMENT, {"from": exchange})
    b1 = order_id(place(alice, BUY, 6_050, 6))
    b2 = order_id(place(carol, BUY, 6_000, 4))
    b3 = order_id(place(alice, BUY, 6_000, 4))
    s1 = order_id(place(bob, SELL, 5_950, 8))
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    cleared = tx.events["CallCleared"]
    # demand at 6,000 is 14, supply 8: volume 8 at 6,000 (at 6,050 only 6); buys rationed at 6,000
    assert (cleared["priceTick"], cleared["volume"], cleared["rationing"], cleared["rationed"]) == (6_000, 8, True, BUY)
    assert (cleared["boundary"], cleared["boundaryFill"]) == (0, 2)  # carol's order (first at 6,000) gets 2
    ins = market.instrument(INSTRUMENT)
    assert (ins[3], ins[4], ins[6], ins[7]) == (6_000, 6_000, Phase.CONTINUOUS, 2)
    p = price(6_000)
    alice_money = money.balanceOf(alice)
    market.claim([b1, b3], {"from": alice})
    refund_b1 = buy_escrow(price(6_050), 6, FEE) - 6 * (p + fee_per_lot(p, FEE))
    refund_b3 = buy_escrow(p, 4, FEE)
    assert money.balanceOf(alice) == alice_money + refund_b1 + refund_b3
    carol_units = allowance.balanceOf(carol, ALLOWANCE_2026)
    market.claim([b2], {"from": carol})
    assert allowance.balanceOf(carol, ALLOWANCE_2026) == carol_units + 2
    bob_money = money.balanceOf(bob)
    market.claim([s1], {"from": bob})
    assert money.balanceOf(bob) == bob_money + 8 * (p - fee_per_lot(p, FEE))
    assert allowance.balanceOf(market, ALLOWANCE_2026) == 0
    assert money.balanceOf(market) == market.feesAccrued() == 16 * fee_per_lot(p, FEE)


def test_no_cross_no_trade(market, place, exchange, money, alice, bob):
    market.openCall(INSTRUMENT, {"from": exchange})
    bid = order_id(place(alice, BUY, 5_900, 3))
    place(bob, SELL, 6_100, 3)
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    assert tx.events["CallCleared"]["volume"] == 0
    assert market.instrument(INSTRUMENT)[3] == REF_TICK
    before = money.balanceOf(alice)
    market.claim([bid], {"from": alice})
    assert money.balanceOf(alice) == before + buy_escrow(price(5_900), 3, FEE)


def test_clearing_runs_in_chunks_anyone_advances(market, place, exchange, alice, bob, carol):
    market.openCall(INSTRUMENT, {"from": exchange})
    for i in range(6):
        place(alice, BUY, 6_000 + i, 1)
        place(bob, SELL, 5_990 - i, 1)
    market.closeCall(INSTRUMENT, 3, {"from": exchange})
    assert market.instrument(INSTRUMENT)[6] == Phase.CLEARING
    with reverts("Market__WrongPhase", INSTRUMENT, Phase.CLEARING):
        place(alice, BUY, 6_000, 1)
    steps = 0
    while market.instrument(INSTRUMENT)[6] == Phase.CLEARING:
        market.advanceClearing(INSTRUMENT, 3, {"from": carol})
        steps += 1
    assert steps >= 2
    assert market.auction(INSTRUMENT, 1)[2] == 6


def test_cancel_during_the_call_and_not_while_clearing(market, place, exchange, money, alice, bob):
    market.openCall(INSTRUMENT, {"from": exchange})
    before = money.balanceOf(alice)
    bid = order_id(place(alice, BUY, 6_000, 3))
    keep = order_id(place(alice, BUY, 6_000, 1))
    market.cancel(bid, {"from": alice})
    assert [int(x) for x in market.callDepth(INSTRUMENT, 1, 6_000)] == [1, 0]
    place(bob, SELL, 5_990, 1)
    market.closeCall(INSTRUMENT, 1, {"from": exchange})
    with reverts("Market__WrongPhase", INSTRUMENT, Phase.CLEARING):
        market.cancel(keep, {"from": alice})
    with reverts("Market__NotCleared", INSTRUMENT, 1):
        market.claim([keep], {"from": alice})
    market.advanceClearing(INSTRUMENT, 10, {"from": alice})
    market.cancel(keep, {"from": alice})  # after clearing, cancel settles like a claim
    assert money.balanceOf(alice) == before - price(6_000) - fee_per_lot(price(6_000), FEE)


orders_strategy = st.lists(
    st.tuples(st.sampled_from([BUY, SELL]), st.integers(min_value=5_980, max_value=6_020), st.integers(1, 30)),
    min_size=1, max_size=14,
)


@settings(max_examples=60)
@given(orders=orders_strategy)
def test_clearing_matches_an_independent_implementation(market, exchange, alice, bob, orders):
    market.openCall(INSTRUMENT, {"from": exchange})
    # alice buys and bob sells (an owner takes one side of a call); bob's 600 units cover any generated sells
    traders = [alice if side == BUY else bob for side, _, _ in orders]
    ids = []
    for (side, tick, lots), trader in zip(orders, traders):
        tx = market.place(INSTRUMENT, side, price(tick), lots, False, 0, FEE_CAP_BPS, {"from": trader})
        ids.append(order_id(tx))
    market.closeCall(INSTRUMENT, 1_000, {"from": exchange})
    expected = clear_call([CallOrder(s, t, q) for s, t, q in orders], REF_TICK)
    a = market.auction(INSTRUMENT, 1)
    assert (int(a[2]), int(a[3])) == (expected.volume, expected.price_tick if expected.volume else 0)
    fills = []
    for oid, trader in zip(ids, traders):
        tx = market.claim([oid], {"from": trader})
        fills.append(int(tx.events["OrderClaimed"]["lots"]))
    assert tuple(fills) == expected.fills
    assert sum(f for f, (s, _, _) in zip(fills, orders) if s == BUY) == expected.volume
