"""The primary auction: commit, reveal, clear, claim, with the rules of each auction and a named error for each
refusal."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from carbon_market.auctions import SealedBid, clear
from carbon_market.bids import commitment
from carbon_market.errors import ANY, reverts
from carbon_market.ids import allowance_id
from tests.unit.auction.conftest import AUCTION_VINTAGE, HOUR, RESERVE, TICK, reveal, rules, to_clear, to_reveal

P = 50 * 10**6  # 50 tCNY per tonne
ID = allowance_id(AUCTION_VINTAGE)
OPEN, CLEARING, CLEARED, CANCELLED = 1, 2, 3, 4


def test_an_auction_clears_at_the_lowest_accepted_bid_and_winners_claim_their_allowances(
        auction, offer, commit, funded, alice, bob, carol, regulator):
    aid = offer(600, enterprise_limit_bps=10_000, investor_limit_bps=1_000)
    a = commit(aid, alice, P + 200 * TICK, 200)         # 52 tCNY: fills in full
    b = commit(aid, bob, P, 250, deposit=P * 250 + 7)   # 50 tCNY: fills in full
    c = commit(aid, carol, P, 40)                       # 50 tCNY too (an investor: at most 10% of 600)
    d = commit(aid, bob, P - 100 * TICK, 240)           # 49 tCNY: the marginal bid, rationed
    to_reveal()
    for s in (a, b, c, d):
        reveal(auction, s)
    with reverts("Auction__OutOfWindow"):
        auction.clear(aid, 10)
    to_clear()
    assert auction.clear(aid, 10).return_value is True
    # 490 bid at 50 tCNY or more; the last 110 of the 600 go to the 240 bid at 49 tCNY, the clearing price
    price = P - 100 * TICK
    got = auction.auction(aid)
    assert got["stage"] == CLEARED and got["priceTick"] * TICK == price and got["sold"] == 600
    before = {w: funded.money.balanceOf(w) for w in (alice, bob, carol)}
    tx = auction.claim([a.bid_id, b.bid_id, c.bid_id, d.bid_id], {"from": carol})
    assert [e["units"] for e in tx.events["BidClaimed"]] == [200, 250, 40, 110]
    assert funded.allowance.balanceOf(alice, ID) == 200
    assert funded.allowance.balanceOf(bob, ID) == 360
    assert funded.allowance.totalSupply(ID) == 600
    assert funded.money.balanceOf(alice) - before[alice] == a.deposit - 200 * price
    assert funded.money.balanceOf(bob) - before[bob] == b.deposit + d.deposit - 360 * price
    assert auction.proceeds() == 600 * price
    treasury_before = funded.money.balanceOf(regulator)
    auction.payProceeds({"from": alice})
    assert funded.money.balanceOf(regulator) - treasury_before == 600 * price
    assert auction.proceeds() == 0 and funded.money.balanceOf(auction) == 0


def test_unsold_volume_is_carried_to_the_next_auction(auction, reserve, offer, commit, alice):
    first = offer(1_000)
    s = commit(first, alice, P, 130)
    to_reveal()
    reveal(auction, s)
    to_clear()
    tx = auction.clear(first, 10)
    assert tx.events["AuctionCleared"]["sold"] == 130 and tx.events["AuctionCleared"]["unsold"] == 870
    assert reserve.supply()["carried"] == 870
    tx = auction.offer(AUCTION_VINTAGE, 500, rules().as_tuple(), {"from": auction.treasury()})
    assert tx.events["AuctionOffered"]["volume"] == 1_370 and tx.events["AuctionOffered"]["carried"] == 870
    assert reserve.supply()["carried"] == 0


def test_ties_at_the_clearing_price_share_pro_rata_and_add_up_exactly(auction, offer, commit, funded, alice, bob):
    aid = offer(300, enterprise_limit_bps=10_000)
    top = commit(aid, alice, P + TICK, 100)
    tied = [commit(aid, alice, P, 101), commit(aid, bob, P, 103), commit(aid, bob, P, 7), commit(aid, alice, P, 3)]
    to_reveal()
    for s in [top, *tied]:
        reveal(auction, s)
    to_clear()
    auction.clear(aid, 10)
    bids = [SealedBid(s.bidder.address, s.price, s.quantity) for s in [top, *tied]]
    want = clear(300, bids)
    got = [int(auction.allocationOf(s.bid_id)) for s in [top, *tied]]
    assert got == list(want.allocations)
    assert sum(got) == 300 and got[0] == 100
    exact = [200 * s.quantity / 214 for s in tied]
    assert all(abs(g - e) < 1 for g, e in zip(got[1:], exact, strict=True)), (got, exact)


def test_bids_below_the_reserve_price_are_refused_at_reveal(auction, offer, commit, alice):
    aid = offer(100)
    s = commit(aid, alice, RESERVE - TICK, 10)
    off_grid = commit(aid, alice, RESERVE + 1, 10)
    too_many = commit(aid, alice, RESERVE, 101)
    to_reveal()
    with reverts("Auction__OffGrid", aid, RESERVE + 1, TICK):
        reveal(auction, off_grid)
    with reverts("Auction__BadQuantity", aid, 101):
        reveal(auction, too_many)
    with reverts("Auction__BelowReserve", aid, RESERVE - TICK, RESERVE):
        reveal(auction, s)


def test_the_purchase_limit_is_a_share_of_the_volume_lower_for_investors(auction, offer, commit, alice, carol):
    aid = offer(1_000)
    big = commit(aid, alice, P, 200)
    more = commit(aid, alice, P, 51)
    fund = commit(aid, carol, P, 41)
    to_reveal()
    reveal(auction, big)
    with reverts("Auction__PurchaseLimit", aid, alice, 251, 250):
        reveal(auction, more)
    with reverts("Auction__PurchaseLimit", aid, carol, 41, 40):
        reveal(auction, fund)


def test_a_reveal_must_match_its_commitment_its_deposit_and_its_bidder(auction, offer, commit, alice, bob):
    aid = offer(1_000)
    s = commit(aid, alice, P, 100, deposit=P * 100 - 1)
    ok = commit(aid, bob, P, 10)
    with reverts("Auction__OutOfWindow"):
        reveal(auction, ok)  # still committing
    to_reveal()
    with reverts("Auction__CommitmentMismatch", s.bid_id):
        reveal(auction, s, quantity=99)
    with reverts("Auction__DepositShort", s.bid_id, P * 100 - 1, P * 100):
        reveal(auction, s)
    with reverts("Auction__NotBidOwner", ok.bid_id, alice):
        auction.reveal(ok.bid_id, ok.price, ok.quantity, ok.salt, {"from": alice})
    reveal(auction, ok)
    with reverts("Auction__AlreadyRevealed", ok.bid_id):
        reveal(auction, ok)
    with reverts("Auction__OutOfWindow"):
        commit(aid, bob, P, 1)  # commitments are closed


def test_unrevealed_commitments_forfeit_their_share_and_a_bid_is_claimed_once(auction, offer, commit, funded, bob):
    aid = offer(100, forfeit_bps=2_500)
    silent = commit(aid, bob, P, 10)
    to_reveal()
    to_clear()
    with reverts("Auction__OutOfWindow"):
        auction.claim([silent.bid_id], {"from": bob})  # not cleared yet
    auction.clear(aid, 5)
    assert auction.auction(aid)["stage"] == CANCELLED  # no bid revealed
    before = funded.money.balanceOf(bob)
    tx = auction.claim([silent.bid_id], {"from": bob})
    forfeited = silent.deposit // 4
    assert tx.events["BidClaimed"]["forfeited"] == forfeited
    assert funded.money.balanceOf(bob) - before == silent.deposit - forfeited
    assert auction.proceeds() == forfeited
    with reverts("Auction__AlreadyClaimed", silent.bid_id):
        auction.claim([silent.bid_id], {"from": bob})
    assert auction.clear(aid, 5).return_value is True  # a cancelled auction is final too
    assert auction.allocationOf(silent.bid_id) == 0 and auction.bid(silent.bid_id)["deposit"] == 0


def test_clearing_resumes_in_chunks_of_price_levels(auction, offer, commit, alice, bob):
    aid = offer(10_000)
    sealed = [commit(aid, (alice, bob)[i % 2], P + i * TICK, 10 + i) for i in range(12)]
    to_reveal()
    for s in sealed:
        reveal(auction, s)
    to_clear()
    steps = 0
    while not auction.clear(aid, 5).return_value:
        steps += 1
        assert auction.auction(aid)["stage"] == CLEARING
    assert steps == 2  # 12 levels in chunks of 5: two unfinished chunks, the third ends (demand ran out)
    bids = [SealedBid(s.bidder.address, s.price, s.quantity) for s in sealed]
    assert [auction.allocationOf(s.bid_id) for s in sealed] == list(clear(10_000, bids).allocations)


def test_an_auction_far_below_the_secondary_reference_is_cancelled_or_sells_less(
        auction, offer, commit, funded, alice, bob, regulator, exchange):
    from tests.conftest import list_for_trading

    list_for_trading(funded, regulator, exchange, (alice, bob), reference=60 * 10**6,
                     token=f"allowance {AUCTION_VINTAGE}")
    # the reference is 60 tCNY; a 10% discount gives a 54 tCNY minimum
    cancelled = offer(100, reference_instrument=1)
    lesser = offer(100, reference_instrument=1, cancel_below_minimum=False)
    bids = {}
    for aid in (cancelled, lesser):
        bids[aid] = [commit(aid, alice, 55 * 10**6, 25), commit(aid, bob, 50 * 10**6, 25)]
    to_reveal()
    for aid in bids:
        for s in bids[aid]:
            reveal(auction, s)
    to_clear()
    tx = auction.clear(cancelled, 10)
    assert tx.events["AuctionCancelled"]["price"] == 50 * 10**6
    assert tx.events["AuctionCancelled"]["minimum"] == 54 * 10**6
    auction.clear(lesser, 10)
    got = auction.auction(lesser)
    assert got["stage"] == CLEARED and got["priceTick"] * TICK == 55 * 10**6 and got["sold"] == 25
    assert [auction.allocationOf(s.bid_id) for s in bids[lesser]] == [25, 0]
    assert [auction.allocationOf(s.bid_id) for s in bids[cancelled]] == [0, 0]


def test_offers_take_carried_and_withheld_volume_from_the_reserve(auction, reserve, offer, commit, alice):
    aid = offer(100, unsold_to_reserve=True)
    s = commit(aid, alice, P, 25)
    to_reveal()
    reveal(auction, s)
    to_clear()
    tx = auction.clear(aid, 5)
    assert tx.events["AuctionCleared"]["unsold"] == 75 and tx.events["AuctionCleared"]["unsoldToReserve"]
    assert reserve.supply()["reserve"] == 75 and reserve.supply()["carried"] == 0


def test_bad_rules_are_refused_with_their_name(auction, regulator):
    from brownie import chain

    now = chain[-1].timestamp
    table = [
        (dict(tick_size=0), "tickSize", 0),
        (dict(reserve_price=RESERVE + 1), "reservePrice", RESERVE + 1),
        (dict(commit_end=now - 1), "commitEnd", now - 1),
        (dict(reveal_end=now + HOUR), "revealEnd", now + HOUR),
        (dict(enterprise_limit_bps=0), "enterpriseLimitBps", 0),
        (dict(enterprise_limit_bps=10_001), "enterpriseLimitBps", 10_001),
        (dict(investor_limit_bps=10_001), "investorLimitBps", 10_001),
        (dict(forfeit_bps=10_001), "forfeitBps", 10_001),
        (dict(max_discount_bps=10_000), "maxDiscountBps", 10_000),
    ]
    for changes, name, value in table:
        with reverts("Auction__BadRules", name.encode().ljust(32, b"\0"), value):
            auction.offer(AUCTION_VINTAGE, 100, rules(**changes).as_tuple(), {"from": regulator})
    with reverts("Market__UnknownInstrument", 7):
        auction.offer(AUCTION_VINTAGE, 100, rules(reference_instrument=7).as_tuple(), {"from": regulator})
    with reverts("Allowance__InvalidVintage", 1999):
        auction.offer(1999, 100, rules().as_tuple(), {"from": regulator})


def test_only_enterprises_and_investors_bid_and_unknown_ids_are_named(auction, offer, verifier, alice):
    aid = offer(100)
    c = commitment(aid, verifier.address, P, 1, b"\0" * 32)
    with reverts("Auction__NotBidder", verifier, 2):
        auction.commit(aid, c, P, {"from": verifier})
    with reverts("Auction__BadDeposit", 0):
        auction.commit(aid, c, 0, {"from": alice})
    with reverts("Auction__UnknownAuction", aid + 1):
        auction.commit(aid + 1, c, P, {"from": alice})
    with reverts("Auction__UnknownBid", 12345):
        auction.reveal(12345, P, 1, b"\0" * 32, {"from": alice})
    with reverts("Auction__BadBatch", 0, 200):
        auction.claim([], {"from": alice})


def test_the_treasury_is_the_regulators_to_set(auction, regulator, alice):
    tx = auction.setTreasury(alice, {"from": regulator})
    assert tx.events["TreasuryChanged"]["current"] == alice
    with reverts("Auction__BadRules"):
        auction.setTreasury(ZERO_ADDRESS, {"from": regulator})
    assert auction.commitmentOf(3, alice, P, 5, b"\1" * 32).hex().removeprefix("0x") == \
        commitment(3, alice.address, P, 5, b"\1" * 32).hex()


@pytest.mark.parametrize("volume", [1])
def test_a_single_unit_auction_with_one_bid_sells_it(auction, offer, commit, bob, volume):
    aid = offer(volume)
    s = commit(aid, bob, RESERVE, 1)
    to_reveal()
    reveal(auction, s)
    to_clear()
    auction.clear(aid, 1)
    auction.clear(aid, 1)  # a second call on a final auction does nothing
    assert auction.allocationOf(s.bid_id) == 1 and auction.demandAt(aid, RESERVE // TICK) == 1
    tx = auction.claim([s.bid_id], {"from": bob})
    assert (tx.events["BidClaimed"]["units"], tx.events["BidClaimed"]["refund"]) == (1, 0)  # the deposit, all paid


def test_reveals_after_the_window_and_degenerate_bids_are_refused(auction, offer, commit, regulator, alice):
    tiny = auction.offer(AUCTION_VINTAGE, 10, rules(reserve_price=0, tick_size=1).as_tuple(),
                         {"from": regulator}).events["AuctionOffered"]["auctionId"]
    zero_price = commit(tiny, alice, 0, 1, deposit=1)
    huge_price = commit(tiny, alice, 2**24, 1)  # tick 2^24: past the 24-bit price grid
    zero_qty = commit(tiny, alice, 5, 0, deposit=1)
    late = commit(tiny, alice, 5, 1)
    to_reveal(auction, tiny)
    with reverts("Auction__OffGrid", tiny, 0, 1):
        reveal(auction, zero_price)
    with reverts("Auction__OffGrid", tiny, 2**24, 1):
        reveal(auction, huge_price)
    with reverts("Auction__BadQuantity", tiny, 0):
        reveal(auction, zero_qty)
    to_clear(auction, tiny)
    rules_ = auction.auction(tiny)["rules"]
    with reverts("Auction__OutOfWindow", tiny, OPEN, rules_["commitEnd"], rules_["revealEnd"], ANY):
        reveal(auction, late)


def test_a_frozen_bidders_settlement_is_held_and_withdrawn_once_active(auction, offer, commit, funded, regulator,
                                                                       exchange, alice, bob):
    from tests.conftest import list_for_trading

    reason = b"\x0f" * 32
    aid = offer(100, enterprise_limit_bps=10_000)
    exact = commit(aid, bob, RESERVE, 30)  # cleared at its own price: nothing to refund
    to_reveal()
    reveal(auction, exact)
    to_clear()
    auction.clear(aid, 5)
    list_for_trading(funded, regulator, exchange, (alice,), reference=60 * 10**6,
                     token=f"allowance {AUCTION_VINTAGE}")
    cancelled = offer(100, reference_instrument=1)
    loser_of_cancelled = commit(cancelled, bob, P, 10)
    to_reveal()
    reveal(auction, loser_of_cancelled)
    to_clear()
    auction.clear(cancelled, 5)  # 50 tCNY is more than 10% under the 60 tCNY reference: cancelled
    assert auction.auction(cancelled)["stage"] == CANCELLED
    funded.registry.freeze(bob, reason, {"from": regulator})
    tx = auction.claim([exact.bid_id, loser_of_cancelled.bid_id], {"from": alice})
    assert [dict(e)["units"] for e in tx.events["SettlementHeld"]] == [30, 0]
    assert tuple(map(int, auction.held(bob, AUCTION_VINTAGE))) == (30, P * 10)
    funded.registry.unfreeze(bob, reason, {"from": regulator})
    before = funded.money.balanceOf(bob)
    auction.withdrawHeld(AUCTION_VINTAGE + 1, {"from": bob})  # the money alone: no units of that vintage are held
    assert funded.money.balanceOf(bob) - before == P * 10
    auction.withdrawHeld(AUCTION_VINTAGE, {"from": bob})  # the units alone: the money went
    assert funded.allowance.balanceOf(bob, ID) == 30
    with reverts("Auction__NothingHeld", bob, AUCTION_VINTAGE):
        auction.withdrawHeld(AUCTION_VINTAGE, {"from": bob})


def test_selling_less_without_a_reference_is_bounded_by_the_reserve_alone(auction, offer, commit, alice, bob):
    aid = offer(100, cancel_below_minimum=False)
    s = commit(aid, alice, RESERVE, 10)
    sealed = commit(aid, bob, RESERVE, 10)  # never revealed: it receives nothing
    to_reveal()
    reveal(auction, s)
    to_clear()
    auction.clear(aid, 5)
    assert auction.auction(aid)["priceTick"] * TICK == RESERVE and auction.allocationOf(s.bid_id) == 10
    assert auction.allocationOf(sealed.bid_id) == 0


def test_a_zero_discount_makes_the_reference_the_minimum(auction, offer, commit, funded, regulator, exchange,
                                                          alice):
    from tests.conftest import list_for_trading

    list_for_trading(funded, regulator, exchange, (alice,), reference=60 * 10**6, token=f"allowance {AUCTION_VINTAGE}")
    at_reference = offer(100, reference_instrument=1, max_discount_bps=0)
    below = offer(100, reference_instrument=1, max_discount_bps=0)
    bids = [commit(at_reference, alice, 60 * 10**6, 10), commit(below, alice, 60 * 10**6 - TICK, 10)]
    to_reveal()
    for s in bids:
        reveal(auction, s)
    to_clear()
    assert auction.clear(at_reference, 5).events["AuctionCleared"]["price"] == 60 * 10**6
    assert auction.clear(below, 5).events["AuctionCancelled"]["minimum"] == 60 * 10**6


def test_a_revoked_bidders_held_settlement_is_recovered_by_the_regulator(auction, offer, commit, funded, regulator,
                                                                         alice, bob, carol):
    reason = b"\x0e" * 32
    aid = offer(100, enterprise_limit_bps=10_000)
    s = commit(aid, bob, P, 30, deposit=P * 30 + 7)  # cleared at its own price: 7 to refund
    to_reveal()
    reveal(auction, s)
    to_clear()
    auction.clear(aid, 5)
    with reverts("Auction__BidderNotRevoked", alice):
        auction.recoverHeld(alice, AUCTION_VINTAGE, carol, {"from": regulator})
    funded.registry.revoke(bob, reason, {"from": regulator})
    auction.claim([s.bid_id], {"from": alice})  # held: bob is no longer active
    with reverts("Registry__MissingRole", alice, 1):
        auction.recoverHeld(bob, AUCTION_VINTAGE, carol, {"from": alice})
    tx = auction.recoverHeld(bob, AUCTION_VINTAGE, carol, {"from": regulator})
    assert dict(tx.events["HeldRecovered"]) == {"bidder": bob, "vintage": AUCTION_VINTAGE, "recovery": carol,
                                                 "units": 30, "money": 7}
    assert funded.allowance.balanceOf(carol, ID) == 30
    with reverts("Auction__NothingHeld", bob, AUCTION_VINTAGE):
        auction.recoverHeld(bob, AUCTION_VINTAGE, carol, {"from": regulator})
