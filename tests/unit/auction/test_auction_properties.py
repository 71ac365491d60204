"""Property: with truthful bids, the contract's clearing price and allocation equal the ones computed independently
in Python (``carbon_market.auctions.clear``: bids sorted by price, not the contract's walk over price levels),
including ties at the clearing price, bids below the reserve price (refused at reveal) and demand short of the
volume."""

from __future__ import annotations

import pytest
from brownie import chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_market.auctions import SealedBid, clear
from carbon_market.errors import reverts
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, onboarding
from tests.unit.auction.conftest import AUCTION_VINTAGE, TICK, reveal, rules, to_clear, to_reveal

RESERVE_TICK = 4_000
#: a few prices around the reserve, so that ties and refusals are frequent
TICKS = st.sampled_from([RESERVE_TICK - 1, RESERVE_TICK, RESERVE_TICK + 1, RESERVE_TICK + 2, RESERVE_TICK + 5,
                         RESERVE_TICK + 40])
BIDS = st.lists(st.tuples(st.integers(0, 5), TICKS, st.integers(1, 60)), min_size=1, max_size=10)


@pytest.fixture(scope="module")
def bidders(auction, funded, regulator, alice, bob, carol, newcomers):
    extra = list(newcomers[3:6])
    funded.registry.onboardBatch([onboarding(b, Role.ENTERPRISE) for b in extra], {"from": regulator})
    for b in extra:
        funded.money.issue(b, 100_000 * MONEY_UNIT, {"from": regulator})
        funded.money.approve(auction, 2**255, {"from": b})
    return [alice, bob, carol, *extra]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(volume=st.integers(1, 300), bids=BIDS)
def test_truthful_bids_clear_as_the_python_model_says(auction, regulator, commit, bidders, volume, bids):
    chain.snapshot()
    try:
        tx = auction.offer(AUCTION_VINTAGE, volume,
                           rules(reserve_price=RESERVE_TICK * TICK, enterprise_limit_bps=10_000,
                                 investor_limit_bps=10_000).as_tuple(), {"from": regulator})
        aid = tx.events["AuctionOffered"]["auctionId"]
        volume = tx.events["AuctionOffered"]["volume"]
        room = dict.fromkeys(range(len(bidders)), volume)  # a bidder's bids add up to the volume at most
        sealed = []
        for who, tick, qty in bids:
            qty = min(qty, room[who])
            if qty:
                room[who] -= qty if tick >= RESERVE_TICK else 0
                sealed.append(commit(aid, bidders[who], tick * TICK, qty))
        to_reveal()
        accepted = []
        for s in sealed:
            if s.price < RESERVE_TICK * TICK:
                with reverts("Auction__BelowReserve"):
                    reveal(auction, s)
            else:
                reveal(auction, s)
                accepted.append(s)
        to_clear()
        while not auction.clear(aid, 2).return_value:
            pass
        want = clear(volume, [SealedBid(s.bidder.address, s.price, s.quantity) for s in accepted],
                     floor=RESERVE_TICK * TICK)
        got = auction.auction(aid)
        if want.cancelled:
            assert got["stage"] == 4
        else:
            assert got["priceTick"] * TICK == want.price
            assert got["sold"] == want.sold == sum(want.allocations)
        assert [auction.allocationOf(s.bid_id) for s in accepted] == list(want.allocations)
    finally:
        chain.revert()
