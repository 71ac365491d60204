"""The book rebuilt from the market's events alone (carbon_market.history) equals the market's own views."""

from brownie import chain

from carbon_market.history import OrderKey
from carbon_market.trace import rebuild_book
from carbon_market.market import Side
from tests.unit.market.conftest import INSTRUMENT

BUY, SELL = Side.BUY, Side.SELL


def test_order_ids_decode_to_their_level(market, place, alice):
    tx = place(alice, BUY, 5_990, 3)
    assert OrderKey.of(tx.events["OrderPlaced"]["orderId"]) == OrderKey(INSTRUMENT, BUY, 5_990, 0)


def test_rebuilt_book_matches_the_market(market, place, exchange, alice, bob, carol):
    start = chain.height + 1
    a = place(alice, SELL, 6_010, 5).events["OrderPlaced"]["orderId"]
    b = place(bob, SELL, 6_010, 4).events["OrderPlaced"]["orderId"]
    place(carol, BUY, 5_990, 2)
    place(carol, BUY, 6_010, 7)  # fills alice's 5 and 2 of bob's
    market.claim([a], {"from": exchange})
    market.cancel(b, {"from": bob})
    market.openCall(INSTRUMENT, {"from": exchange})
    call = place(alice, SELL, 6_000, 1).events["OrderPlaced"]["orderId"]

    book = rebuild_book(market, INSTRUMENT, start)
    assert a not in book.orders and b not in book.orders  # claimed in full; cancelled
    assert book.orders[call].key == OrderKey(INSTRUMENT, SELL, 6_000, 1)
    assert (book.best(BUY), book.best(SELL)) == tuple(int(x) for x in market.bestTicks(INSTRUMENT))
    assert book.depth(BUY, 5_990) == market.depth(INSTRUMENT, BUY, 5_990) == 2
    for oid, o in book.orders.items():
        owner, remaining, filled, fee_bps, _ = market.order(oid)
        assert (o.owner, o.remaining, o.filled, o.fee_bps) == (owner, remaining, filled, fee_bps)
