"""The primary auction's Python model (``carbon_market.auctions``), the specification the contract is tested
against: its own rules stated on small cases worked by hand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from carbon_market.auctions import SealedBid, clear, minimum_price, purchase_limit, sealing_deposit


def test_the_clearing_price_is_the_lowest_accepted_bid_and_ties_share_pro_rata():
    bids = [SealedBid("a", 52, 300), SealedBid("b", 50, 250), SealedBid("c", 50, 150), SealedBid("d", 48, 200)]
    got = clear(600, bids)
    assert (got.price, got.sold, got.allocations) == (50, 600, (300, 187, 113, 0))


def test_demand_short_of_the_volume_sells_everything_at_the_lowest_bid():
    got = clear(1_000, [SealedBid("a", 52, 300), SealedBid("b", 49, 100)])
    assert (got.price, got.sold, got.unsold, got.allocations) == (49, 400, 600, (300, 100))


def test_bids_under_the_floor_are_not_accepted_and_a_price_under_the_minimum_cancels():
    bids = [SealedBid("a", 55, 25), SealedBid("b", 50, 25)]
    assert clear(100, bids, floor=52).allocations == (25, 0)
    assert clear(100, bids, minimum=54).cancelled
    assert clear(100, bids, minimum=54, cancel_below_minimum=False).allocations == (25, 0)


def test_limits_and_minimum_round_in_the_bidders_favour():
    assert purchase_limit(1, 2_500) == 1 and purchase_limit(1_000, 400) == 40 and purchase_limit(10, 0) == 0
    assert minimum_price(60_000_000, 1_000) == 54_000_000 and minimum_price(0, 1_000) == 0
    assert minimum_price(60_000_000, 0) == 60_000_000


@given(st.integers(1, 10**18))
def test_a_sealing_deposit_covers_the_bid_and_tells_it_within_a_factor_of_two_and_a_half(value):
    deposit = sealing_deposit(value)
    assert value <= deposit < 2.5 * value + 1
    assert str(deposit).rstrip("0") in ("1", "2", "5")


@given(st.integers(1, 500), st.lists(st.tuples(st.integers(1, 5), st.integers(1, 90)), min_size=1, max_size=12))
def test_the_shares_add_up_to_what_is_sold_and_none_exceeds_its_bid(volume, raw):
    bids = [SealedBid(str(i), price, qty) for i, (price, qty) in enumerate(raw)]
    got = clear(volume, bids)
    assert sum(got.allocations) == got.sold == min(volume, sum(b.quantity for b in bids))
    assert all(0 <= a <= b.quantity for a, b in zip(got.allocations, bids, strict=True))
    assert all(a == b.quantity for a, b in zip(got.allocations, bids, strict=True) if b.price > got.price)
