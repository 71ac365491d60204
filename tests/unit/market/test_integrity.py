"""Market integrity (issue 20): rules that no single participant can get around. Each test here failed on the
code before the fix it names.

- a level outside the day's limits never blocks the book (it leaves the book when a taker meets it; the exchange
  returns stale orders in chunks; the best prices and depth show only what can trade);
- order flags mean what they say in a call phase;
- no self-trade in the call auction, and a call price becomes the reference only when enough distinct buyers and
  sellers traded.
"""

from __future__ import annotations

from brownie import chain

from carbon_market.errors import ANY, reverts
from carbon_market.market import Phase, Side, fee_per_lot, params_with
from tests.conftest import ALLOWANCE_2026, WHY, approve_traders
from tests.unit.market.conftest import INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL


def order_id(tx):
    return tx.events["OrderPlaced"]["orderId"]


def narrow(market, regulator, band_bps=500):
    """The regulator narrows the daily limits intraday (default +/-5%: ticks 5,700 to 6,300 around 6,000)."""
    market.setParams(params_with(market, bandBps=band_bps), {"from": regulator})


# ---------------------------------------------------------------- item 1: out-of-band levels


def test_an_ask_left_below_the_limits_does_not_block_buys(market, place, regulator, alice, bob, carol):
    """One lot left at 5,400 when the band narrows used to make every buy return (0, 0, 0) and hide the asks
    behind it; now the taker takes the level out of the book and trades with the in-band ask."""
    stale = order_id(place(alice, SELL, 5_400, 1))
    live = order_id(place(bob, SELL, 6_000, 5))
    narrow(market, regulator)
    tx = place(carol, BUY, 6_100, 3)
    withdrawn = tx.events["LevelWithdrawn"]
    assert (withdrawn["instrument"], withdrawn["side"], withdrawn["tick"], withdrawn["lots"]) == (
        INSTRUMENT, SELL, 5_400, 1)
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [live]
    assert tx.events["OrderPlaced"]["filled"] == 3
    assert market.order(stale)[1] == 1  # still escrowed for its owner


def test_a_buy_that_crosses_only_a_stale_ask_rests(market, place, regulator, alice, carol):
    place(alice, SELL, 5_400, 1)
    narrow(market, regulator)
    tx = place(carol, BUY, 5_800, 2)
    assert tx.events["OrderPlaced"]["rested"] == 2
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [5_800, 0]


def test_a_bid_left_above_the_limits_does_not_block_sells(market, place, regulator, alice, bob, carol):
    place(carol, BUY, 6_600, 1)
    live = order_id(place(bob, BUY, 6_000, 2))
    narrow(market, regulator)
    assert market.bestTicks(INSTRUMENT)[0] == 6_000
    tx = place(alice, SELL, 5_900, 2)
    assert tx.events["LevelWithdrawn"]["tick"] == 6_600
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [live]


def test_best_prices_and_depth_show_only_what_can_trade(market, place, regulator, alice, bob):
    place(bob, BUY, 5_500, 3)
    place(alice, SELL, 5_600, 1)
    place(alice, SELL, 6_200, 4)
    narrow(market, regulator)  # 5,700 to 6,300: the bid at 5,500 and the ask at 5,600 cannot trade today
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [0, 6_200]
    assert market.depth(INSTRUMENT, BUY, 5_500) == 0
    assert market.depth(INSTRUMENT, SELL, 5_600) == 0
    assert market.depth(INSTRUMENT, SELL, 6_200) == 4
    place(bob, BUY, 5_800, 2)
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [5_800, 6_200]


def test_a_stale_order_survives_neither_a_freeze_nor_the_next_day(market, place, registry, regulator, alice, bob,
                                                                carol):
    """The stale ask of a frozen owner, on a later day, used to keep blocking; it leaves the book like any other."""
    place(alice, SELL, 5_400, 1)
    live = order_id(place(bob, SELL, 6_000, 1))
    narrow(market, regulator)
    registry.freeze(alice, WHY, {"from": regulator})
    chain.sleep(86_400)
    tx = place(carol, BUY, 6_000, 1)
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [live]


def test_the_owner_of_a_withdrawn_order_cancels_it_for_its_escrow(market, place, funded, regulator, alice, carol):
    before = funded.allowance.balanceOf(alice, ALLOWANCE_2026)
    stale = order_id(place(alice, SELL, 5_400, 2))
    resting = order_id(place(alice, SELL, 6_100, 1))
    narrow(market, regulator)
    place(carol, BUY, 5_900, 1, True)  # takes the 5,400 level out; nothing else to fill
    tx = market.cancel(stale, {"from": alice})
    assert tx.events["OrderCancelled"]["remaining"] == 2
    assert funded.allowance.balanceOf(alice, ALLOWANCE_2026) == before - 1
    # the level bookkeeping was not touched twice: the other level and a new order at 5,400 later are sound
    narrow(market, regulator, 1_000)
    again = order_id(place(alice, SELL, 5_400, 3))
    assert market.depth(INSTRUMENT, SELL, 5_400) == 3
    market.cancel(again, {"from": alice})
    market.cancel(resting, {"from": alice})
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [0, 0]


def test_the_exchange_returns_stale_orders_in_chunks(market, place, funded, regulator, exchange, alice, bob, carol):
    """Orders priced outside today's limits (in the book or already withdrawn) go back to their owners; a chunk
    is safe to send again; an order that can still trade is refused."""
    money, units = funded.money, funded.allowance
    asks = [order_id(place(alice, SELL, 6_400 + i, 1)) for i in range(3)]
    bid = order_id(place(bob, BUY, 5_500, 2))
    tradable = order_id(place(bob, BUY, 6_000, 1))
    narrow(market, regulator)
    units_before, money_before = units.balanceOf(alice, ALLOWANCE_2026), money.balanceOf(bob)
    tx = market.returnOrders([asks[0], asks[1]], {"from": exchange})
    assert [e["orderId"] for e in tx.events["OrderReturned"]] == asks[:2]
    tx = market.returnOrders([asks[1], asks[2], bid], {"from": exchange})  # asks[1] again: skipped
    assert [e["orderId"] for e in tx.events["OrderReturned"]] == [asks[2], bid]
    assert units.balanceOf(alice, ALLOWANCE_2026) == units_before + 3
    assert money.balanceOf(bob) > money_before
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [6_000, 0]
    with reverts("Market__OrderTradable", tradable):
        market.returnOrders([tradable], {"from": exchange})
    with reverts("AccessControlUnauthorizedAccount", carol, ANY):
        market.returnOrders([tradable], {"from": carol})
    assert market.order(tradable)[1] == 1


# ---------------------------------------------------------------- item 4: flags in a call phase


def test_a_call_order_cannot_be_immediate_or_cancel(market, place, exchange, alice):
    market.openCall(INSTRUMENT, {"from": exchange})
    with reverts("Market__CallOrderFlags", INSTRUMENT, True, 0):
        place(alice, BUY, 6_000, 1, True, 0)


def test_a_call_order_cannot_bound_its_fills(market, place, exchange, alice):
    market.openCall(INSTRUMENT, {"from": exchange})
    with reverts("Market__CallOrderFlags", INSTRUMENT, False, 5):
        place(alice, BUY, 6_000, 1, False, 5)
    tx = place(alice, BUY, 6_000, 1, False, 0)
    assert tx.events["OrderPlaced"]["rested"] == 1
    assert market.instrument(INSTRUMENT)["phase"] == Phase.CALL


# ---------------------------------------------------------------- item 3: no self-trade in the call


def test_an_owner_takes_one_side_of_a_call(market, place, exchange, alice):
    """One account used to buy and sell in one round, clear with itself and set the reference alone."""
    market.openCall(INSTRUMENT, {"from": exchange})
    buy = order_id(place(alice, BUY, 6_500, 5))
    place(alice, BUY, 6_400, 1)  # more on the same side is fine
    with reverts("Market__CallSelfTrade", INSTRUMENT, 1, alice):
        place(alice, SELL, 6_500, 5)
    market.cancel(buy, {"from": alice})
    with reverts("Market__CallSelfTrade", INSTRUMENT, 1, alice):
        place(alice, SELL, 6_500, 5)  # the other buy is still in


def test_an_owner_who_left_one_side_may_take_the_other(market, place, exchange, alice):
    market.openCall(INSTRUMENT, {"from": exchange})
    market.cancel(order_id(place(alice, BUY, 6_500, 5)), {"from": alice})
    place(alice, SELL, 6_500, 5)
    auction = market.auction(INSTRUMENT, 1)
    assert (auction["buyers"], auction["sellers"]) == (0, 1)


def test_a_call_of_one_buyer_and_one_seller_keeps_the_reference(market, place, exchange, alice, bob):
    """Two colluding accounts trading 1 lot at the top of the band no longer move tomorrow's limits."""
    market.openCall(INSTRUMENT, {"from": exchange})
    place(alice, SELL, 6_600, 1)
    place(bob, BUY, 6_600, 1)
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    kept = tx.events["ReferenceKept"]
    assert (kept["buyers"], kept["sellers"], kept["needed"]) == (1, 1, 2)
    assert tx.events["CallCleared"]["volume"] == 1
    ins = market.instrument(INSTRUMENT)
    assert (ins["referenceTick"], ins["lastTick"]) == (6_000, 6_000)


def test_a_call_of_two_buyers_and_two_sellers_sets_the_reference(market, place, exchange, alice, bob, carol, dave,
                                                                 funded):
    funded.market  # dave (an offset developer) holds no 2026 allowances: alice and bob sell, carol and dave buy

    approve_traders(funded, dave)
    market.openCall(INSTRUMENT, {"from": exchange})
    for seller in (alice, bob):
        place(seller, SELL, 6_100, 1)
    for buyer in (carol, dave):
        place(buyer, BUY, 6_100, 1)
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    assert "ReferenceKept" not in tx.events
    assert market.instrument(INSTRUMENT)["referenceTick"] == 6_100


def test_the_regulator_sets_how_many_traders_a_reference_needs(market, place, regulator, exchange, alice, bob):
    market.setParams(params_with(market, callMinTraders=1), {"from": regulator})
    market.openCall(INSTRUMENT, {"from": exchange})
    place(alice, SELL, 6_100, 1)
    place(bob, BUY, 6_100, 1)
    market.closeCall(INSTRUMENT, 100, {"from": exchange})
    assert market.instrument(INSTRUMENT)["referenceTick"] == 6_100


# ---------------------------------------------------------------- item 8: fees are pulled, never pushed


def test_a_frozen_fee_recipient_stops_no_block_trade(market, funded, credit, registry, regulator, issuer, exchange,
                                                     alice, bob, newcomers):
    """A frozen recipient used to revert every block trade (the fee was pushed to it); now fees accrue in the
    desk, and the regulator replaces the recipient so that they can be withdrawn."""
    from carbon_market.roles import Role
    from carbon_market.suite import onboarding
    from tests.unit.market.conftest import CREDIT

    desk = funded.desk
    for who in (alice, bob):
        credit.reward(who, 100, CREDIT, {"from": issuer})
    registry.freeze(exchange, WHY, {"from": regulator})
    block = desk.propose(INSTRUMENT, bob, SELL, 100, price(6_000), chain[-1].timestamp + 3_600,
                         {"from": alice}).events["BlockProposed"]["blockId"]
    tx = desk.accept(block, {"from": bob})
    fees = tx.events["BlockTraded"]["buyerFee"] + tx.events["BlockTraded"]["sellerFee"]
    assert fees > 0 and desk.feesAccrued() == fees
    with reverts("Registry__NotActive", exchange, 2):
        desk.withdrawFees({"from": alice})
    with reverts("Registry__NotActive", exchange, 2):  # the frozen exchange cannot act either
        market.setFeeRecipient(alice, {"from": exchange})
    treasury = newcomers[0]
    registry.onboard(onboarding(treasury, Role.SYSTEM), {"from": regulator})
    market.setFeeRecipient(treasury, {"from": regulator})
    desk.withdrawFees({"from": alice})
    assert funded.money.balanceOf(treasury) == fees
    with reverts("Registry__MissingRole"):
        market.setFeeRecipient(alice, {"from": alice})


# ---------------------------------------------------------------- item 9: cancelled slots and maxFills


def test_cancelled_slots_do_not_use_up_a_takers_fills(market, place, alice, bob, carol):
    """Four cancelled asks ahead of Bob's used to use up a 1-fill bound: the buy filled nothing and expired."""
    ahead = [order_id(place(alice, SELL, 6_000, 1)) for _ in range(4)]
    live = order_id(place(bob, SELL, 6_000, 2))
    for oid in ahead:  # the level keeps Bob's lots, so its queue still starts at the first cancelled slot
        market.cancel(oid, {"from": alice})
    tx = place(carol, BUY, 6_000, 2, False, 1)
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [live]
    assert tx.events["OrderPlaced"]["filled"] == 2


def test_skipping_is_bounded_and_resumes(market, place, alice, bob, carol):
    """Past MAX_SKIPS (100) cancelled slots at one level a taker stops; the next one starts where it stopped."""
    from carbon_market import bulk

    ids = [order_id(place(alice, SELL, 6_000, 1)) for _ in range(101)]
    live = order_id(place(bob, SELL, 6_000, 1))
    bulk.send([bulk.call(market.cancel, oid, sender=alice.address) for oid in ids])
    first = place(carol, BUY, 6_000, 1, True)
    assert first.events["OrderPlaced"]["filled"] == 0
    second = place(carol, BUY, 6_000, 1, True)
    assert [e["orderId"] for e in second.events["OrderFilled"]] == [live]


# ---------------------------------------------------------------- item 9: a call across a day roll


def test_a_call_belongs_to_the_day_it_opened(market, place, regulator, exchange, alice, bob):
    """The rule (README, market): a call opened on day D was entered within D's limits and clears within them,
    whenever its clearing ends; its price is the last price, so the next day's reference is the call's price.
    Here day D closes at 6,600 in continuous trading, the call clears at 5,400 on D + 1: outside the band the
    continuous close alone would give D + 1 (5,940 to 7,260), inside D's (5,400 to 6,600)."""
    market.setParams(params_with(market, callMinTraders=1), {"from": regulator})
    place(alice, SELL, 6_600, 1)
    place(bob, BUY, 6_600, 1)
    market.openCall(INSTRUMENT, {"from": exchange})
    place(alice, SELL, 5_400, 1)
    place(bob, BUY, 5_400, 1)
    chain.sleep(86_400)
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    assert tx.events["CallCleared"]["priceTick"] == 5_400
    rolled = place(alice, SELL, 5_900, 1).events["ReferenceRolled"]
    assert rolled["referenceTick"] == 5_400
    with reverts("Market__PriceOutOfBand", INSTRUMENT, price(6_000), price(4_860), price(5_940)):
        place(alice, SELL, 6_000, 1)


# ---------------------------------------------------------------- item 7: escrow is never stuck nor unbacked


def test_units_in_escrow_cannot_be_clawed_back_or_invalidated(market, place, funded, regulator, issuer, alice,
                                                              bob):
    """Burning the market's escrow used to leave the last claimant's claim unbacked (it reverted)."""
    units = funded.allowance
    place(alice, SELL, 6_000, 5)
    for holder in (market, funded.desk):
        with reverts("Allowance__EscrowHolder", holder):
            units.clawBack(holder, ALLOWANCE_2026, 1, WHY, {"from": issuer})
        with reverts("Allowance__EscrowHolder", holder):
            units.invalidate(holder, ALLOWANCE_2026, 1, WHY, {"from": regulator})
    units.clawBack(bob, ALLOWANCE_2026, 1, WHY, {"from": issuer})  # a participant's own units still can be


def test_the_regulator_recovers_a_revoked_owners_orders(market, place, funded, registry, regulator, exchange,
                                                        alice, bob, carol, newcomers):
    """A revoked owner can never cancel: its resting sell, its partly filled buy and its call order went nowhere.
    The regulator sends their escrow and proceeds to a named recovery account; an active owner's are refused."""
    from carbon_market.roles import Role
    from carbon_market.suite import onboarding

    recovery = newcomers[1]
    registry.onboard(onboarding(recovery, Role.SYSTEM), {"from": regulator})
    ask = order_id(place(alice, SELL, 6_100, 4))
    bid = order_id(place(alice, BUY, 5_900, 3))
    place(bob, SELL, 5_900, 1)  # fills one lot of Alice's bid: one unit to claim, two lots of money in escrow
    other = order_id(place(carol, BUY, 5_800, 1))
    registry.revoke(alice, WHY, {"from": regulator})
    with reverts("Registry__NotActive", alice, 3):
        market.cancel(ask, {"from": alice})
    held = (funded.money.balanceOf(market), funded.allowance.balanceOf(market, ALLOWANCE_2026))
    with reverts("Market__OwnerNotRevoked", other, carol):
        market.recoverOrders([other], recovery, {"from": regulator})
    with reverts("Registry__MissingRole"):
        market.recoverOrders([ask], recovery, {"from": exchange})
    tx = market.recoverOrders([ask, bid], recovery, {"from": regulator})
    assert [(e["orderId"], e["owner"], e["recovery"]) for e in tx.events["OrderRecovered"]] == [
        (ask, alice, recovery), (bid, alice, recovery)]
    assert funded.allowance.balanceOf(recovery, ALLOWANCE_2026) == 4 + 1
    money_back = funded.money.balanceOf(recovery)
    assert money_back == 2 * (price(5_900) + fee_per_lot(price(5_900), 20))  # the bid's two unfilled lots
    assert (funded.money.balanceOf(market), funded.allowance.balanceOf(market, ALLOWANCE_2026)) == (
        held[0] - money_back, held[1] - 5)
    tx = market.recoverOrders([ask], recovery, {"from": regulator})  # gone already: nothing to do
    assert "OrderRecovered" not in tx.events


def test_the_regulator_recovers_a_revoked_proposers_blocks(market, funded, credit, registry, regulator, issuer,
                                                           alice, bob, newcomers):
    from carbon_market.roles import Role
    from carbon_market.suite import onboarding
    from tests.unit.market.conftest import CREDIT

    desk, recovery = funded.desk, newcomers[1]
    registry.onboard(onboarding(recovery, Role.SYSTEM), {"from": regulator})
    for who in (alice, bob):
        credit.reward(who, 100, CREDIT, {"from": issuer})
    block = desk.propose(INSTRUMENT, bob, SELL, 100, price(6_000), chain[-1].timestamp + 3_600,
                         {"from": alice}).events["BlockProposed"]["blockId"]
    live = desk.propose(INSTRUMENT, alice, SELL, 100, price(6_000), chain[-1].timestamp + 3_600,
                        {"from": bob}).events["BlockProposed"]["blockId"]
    registry.revoke(alice, WHY, {"from": regulator})
    with reverts("BlockTrade__ProposerNotRevoked", live, bob):
        desk.recoverBlocks([live], recovery, {"from": regulator})
    tx = desk.recoverBlocks([block], recovery, {"from": regulator})
    assert (tx.events["BlockRecovered"]["blockId"], tx.events["BlockRecovered"]["recovery"]) == (block, recovery)
    assert funded.allowance.balanceOf(recovery, ALLOWANCE_2026) == 100
    assert funded.allowance.balanceOf(desk, ALLOWANCE_2026) == 100  # Bob's proposal, still open


# ---------------------------------------------------------------- item 2: position limits count everything


def test_units_parked_in_a_resting_sell_still_count(market, place, regulator, alice, carol):
    """Carol (an investor with 50 units) used to park them in a resting sell, buy up to her limit of 100 again,
    cancel the sell and repeat: 350 against 100 in three rounds. Her resting sell now counts."""
    market.setPositionLimit(INSTRUMENT, 100, {"from": regulator})
    parked = order_id(place(carol, SELL, 6_600, 50))
    place(alice, SELL, 6_000, 100)
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 0 + 50 + 100, 100):
        place(carol, BUY, 6_000, 100)
    assert market.openBuyLots(carol, INSTRUMENT) == 50  # the parked sell
    place(carol, BUY, 6_000, 50)  # up to the limit is fine (it fills at once)
    market.cancel(parked, {"from": carol})
    assert market.openBuyLots(carol, INSTRUMENT) == 0


def test_orders_placed_before_a_limit_count_after_it(market, place, regulator, carol):
    place(carol, BUY, 5_900, 80)
    market.setPositionLimit(INSTRUMENT, 100, {"from": regulator})
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 50 + 80 + 30, 100):
        place(carol, BUY, 5_900, 30)


def test_units_escrowed_in_a_block_proposal_count(market, place, funded, credit, regulator, issuer, alice, carol):
    from tests.unit.market.conftest import CREDIT

    desk = funded.desk
    market.setParams(params_with(market, blockMinLots=10), {"from": regulator})
    credit.reward(carol, 100, CREDIT, {"from": issuer})
    credit.reward(alice, 100, CREDIT, {"from": issuer})
    market.setPositionLimit(INSTRUMENT, 100, {"from": regulator})
    block = desk.propose(INSTRUMENT, alice, SELL, 50, price(6_000), chain[-1].timestamp + 3_600,
                         {"from": carol}).events["BlockProposed"]["blockId"]
    assert desk.escrowedLots(carol, INSTRUMENT) == 50
    place(alice, SELL, 6_000, 100)
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 50 + 100, 100):
        place(carol, BUY, 6_000, 100)
    desk.cancel(block, {"from": carol})
    assert desk.escrowedLots(carol, INSTRUMENT) == 0
    place(carol, BUY, 6_000, 50)


# ---------------------------------------------------------------- the edges of the rules above


def test_a_best_bid_above_the_limits_with_none_inside_shows_none(market, place, regulator, carol):
    place(carol, BUY, 6_600, 1)
    narrow(market, regulator)
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [0, 0]


def test_an_ask_below_the_limits_with_none_inside_shows_none(market, place, regulator, alice):
    place(alice, SELL, 5_500, 1)
    narrow(market, regulator)
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [0, 0]


def test_an_ask_above_the_limits_shows_none(market, place, regulator, alice):
    place(alice, SELL, 6_400, 1)
    narrow(market, regulator)
    assert [int(t) for t in market.bestTicks(INSTRUMENT)] == [0, 0]


def test_the_sweep_leaves_an_owner_it_cannot_pay(market, place, registry, regulator, exchange, alice, bob):
    """A frozen owner's stale order stays for the owner to cancel; the rest of the chunk goes on."""
    frozen = order_id(place(alice, SELL, 6_400, 1))
    other = order_id(place(bob, SELL, 6_400, 1))
    narrow(market, regulator)
    registry.freeze(alice, WHY, {"from": regulator})
    tx = market.returnOrders([frozen, other], {"from": exchange})
    assert [e["orderId"] for e in tx.events["OrderReturned"]] == [other]
    assert market.order(frozen)["remaining"] == 1


def test_a_stale_order_is_returned_on_a_later_day_and_a_call_order_never(market, place, regulator, exchange,
                                                                         alice, bob):
    stale = order_id(place(alice, SELL, 6_500, 1))
    narrow(market, regulator)
    chain.sleep(86_400)
    chain.mine()
    tx = market.returnOrders([stale], {"from": exchange})  # the day has not rolled yet: its limits are the close's
    assert tx.events["OrderReturned"]["orderId"] == stale
    market.openCall(INSTRUMENT, {"from": exchange})
    call = order_id(place(bob, BUY, 6_000, 1))
    with reverts("Market__OrderTradable", call):
        market.returnOrders([call], {"from": exchange})


def test_the_regulator_recovers_a_revoked_owners_call_order(market, place, funded, registry, regulator, exchange,
                                                            alice, newcomers):
    from carbon_market.roles import Role
    from carbon_market.suite import onboarding

    recovery = newcomers[1]
    registry.onboard(onboarding(recovery, Role.SYSTEM), {"from": regulator})
    market.openCall(INSTRUMENT, {"from": exchange})
    call = order_id(place(alice, SELL, 6_000, 3))
    registry.revoke(alice, WHY, {"from": regulator})
    tx = market.recoverOrders([call], recovery, {"from": regulator})
    assert tx.events["OrderRecovered"]["orderId"] == call
    assert funded.allowance.balanceOf(recovery, ALLOWANCE_2026) == 3
    assert market.auction(INSTRUMENT, 1)["sellers"] == 0


# ---------------------------------------------------------------- item 9(d): a taker bounds the fee it pays


def test_a_taker_bounds_the_fee_it_pays(market, place, regulator, alice, bob):
    """A fee the regulator raised between an order's signing and its inclusion used to be charged in full; an order
    now states the most it pays, and is refused above it."""
    seen = market.feeRateOf(bob)
    place(alice, SELL, 6_000, 5)
    market.setParams(params_with(market, feeBps=seen + 10), {"from": regulator})
    with reverts("Market__FeeAboveMax", bob, seen + 10, seen):
        place(bob, BUY, 6_000, 5, max_fee=seen)
    tx = place(bob, BUY, 6_000, 5, max_fee=seen + 10)
    assert tx.events["OrderPlaced"]["feeBps"] == seen + 10


def test_a_resting_order_keeps_the_rate_it_accepted(market, place, regulator, alice, bob):
    """The bound covers the maker side too: the rate is fixed at entry, and a later rise does not reach it."""
    seen = market.feeRateOf(bob)
    bid = order_id(place(bob, BUY, 6_000, 5, max_fee=seen))
    market.setParams(params_with(market, feeBps=seen * 3), {"from": regulator})
    place(alice, SELL, 6_000, 5)
    claimed = market.claim([bid], {"from": bob}).events["OrderClaimed"]
    assert claimed["fee"] == 5 * fee_per_lot(price(6_000), seen)


def test_the_bound_is_on_the_rate_after_the_credit_discount(market, place, credit, issuer, alice):
    """A trader of a higher credit tier pays a discounted rate; its bound is checked against what it pays."""
    from tests.unit.market.conftest import CREDIT

    credit.reward(alice, 100, CREDIT, {"from": issuer})
    rate = market.feeRateOf(alice)
    assert rate < market.params()["feeBps"]
    place(alice, BUY, 5_900, 1, max_fee=rate)
    with reverts("Market__FeeAboveMax", alice, rate, rate - 1):
        place(alice, BUY, 5_900, 1, max_fee=rate - 1)


# ---------------------------------------------------------------- item 10: T+1


def t_plus_one(market, regulator, on=True):
    tx = market.setTPlusOne(INSTRUMENT, on, {"from": regulator})
    assert dict(tx.events["TPlusOneChanged"]) == {"instrument": INSTRUMENT, "on": on}


def test_units_bought_today_are_sold_from_the_next_day(market, place, regulator, alice, bob):
    """Under T+1 bob (600 units) buys 100: today he may sell the 600 he held, not the 100; tomorrow he may."""
    t_plus_one(market, regulator)
    place(alice, SELL, 6_000, 100)
    place(bob, BUY, 6_000, 100)
    assert market.boughtToday(bob, INSTRUMENT) == 100
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        place(bob, SELL, 6_600, 601)
    place(bob, SELL, 6_600, 600)
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 1, 0):
        place(bob, SELL, 6_600, 1)
    chain.sleep(86_400)
    chain.mine()
    assert market.boughtToday(bob, INSTRUMENT) == 0
    assert place(bob, SELL, 6_600, 100).events["OrderPlaced"]["rested"] == 100


def test_fills_of_a_resting_buy_count_when_claimed_or_cancelled(market, place, regulator, alice, bob):
    """A maker's fills reach it when it claims them, or cancels the rest of its order: both are purchases of
    the day they are paid."""
    t_plus_one(market, regulator)
    claimed = order_id(place(bob, BUY, 5_900, 30))
    cancelled = order_id(place(bob, BUY, 5_800, 30))
    place(alice, SELL, 5_800, 50)
    market.claim([claimed], {"from": bob})
    assert market.boughtToday(bob, INSTRUMENT) == 30
    market.cancel(cancelled, {"from": bob})
    assert market.boughtToday(bob, INSTRUMENT) == 50
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        place(bob, SELL, 6_600, 601)


def test_t_plus_one_holds_in_the_call_auction(market, place, regulator, exchange, alice, bob):
    """A call's fills claimed today are today's purchases, and a sell entered in a later call of the day is held
    to the same rule."""
    t_plus_one(market, regulator)
    market.setParams(params_with(market, callMinTraders=1), {"from": regulator})
    market.openCall(INSTRUMENT, {"from": exchange})
    place(alice, SELL, 6_000, 40)
    bid = order_id(place(bob, BUY, 6_000, 40))
    market.closeCall(INSTRUMENT, 100, {"from": exchange})
    market.claim([bid], {"from": bob})
    assert market.boughtToday(bob, INSTRUMENT) == 40
    market.openCall(INSTRUMENT, {"from": exchange})
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        place(bob, SELL, 6_000, 601)
    place(bob, SELL, 6_000, 600)


def test_without_t_plus_one_purchases_are_neither_recorded_nor_held(market, place, regulator, alice, bob):
    """The rule is the regulator's switch, per instrument, off by default; deliveries are recorded only while it is
    on, so switching it on binds what is bought from then on."""
    assert not market.instrument(INSTRUMENT)["tPlusOne"]
    place(alice, SELL, 6_000, 100)
    place(bob, BUY, 6_000, 100)
    assert market.boughtToday(bob, INSTRUMENT) == 0
    place(bob, SELL, 6_600, 650)
    t_plus_one(market, regulator)
    assert market.instrument(INSTRUMENT)["tPlusOne"]
    place(bob, SELL, 6_600, 50)
    t_plus_one(market, regulator, on=False)
    assert not market.instrument(INSTRUMENT)["tPlusOne"]


def test_only_the_regulator_switches_t_plus_one(market, regulator, exchange):
    with reverts("Registry__MissingRole"):
        market.setTPlusOne(INSTRUMENT, True, {"from": exchange})
    with reverts("Market__UnknownInstrument", 9):
        market.setTPlusOne(9, True, {"from": regulator})


def _block_traders(market, credit, regulator, issuer, *who):
    from tests.unit.market.conftest import CREDIT

    market.setParams(params_with(market, blockMinLots=10), {"from": regulator})
    for account in who:
        credit.reward(account, 100, CREDIT, {"from": issuer})


def _block(desk, proposer, counterparty, side, lots, tick):
    return desk.propose(INSTRUMENT, counterparty, side, lots, price(tick), chain[-1].timestamp + 3_600,
                        {"from": proposer}).events["BlockProposed"]["blockId"]


def test_units_bought_in_a_block_are_held_on_the_market_and_the_desk(market, place, funded, credit, regulator,
                                                                     issuer, alice, bob):
    """The block desk is a way to sell too: under T+1 bob's 100 units bought in a block today are his to sell
    tomorrow, on the market, in a block he proposes or in one he accepts."""
    desk = funded.desk
    _block_traders(market, credit, regulator, issuer, alice, bob)
    t_plus_one(market, regulator)
    desk.accept(_block(desk, alice, bob, SELL, 100, 6_000), {"from": bob})
    assert desk.boughtToday(bob, INSTRUMENT) == 100
    assert market.boughtToday(bob, INSTRUMENT) == 100
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        place(bob, SELL, 6_600, 601)
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        _block(desk, bob, alice, SELL, 601, 6_000)
    bid = _block(desk, alice, bob, BUY, 601, 6_000)
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        desk.accept(bid, {"from": bob})
    desk.accept(_block(desk, alice, bob, BUY, 600, 6_000), {"from": bob})
    desk.accept(_block(desk, alice, bob, SELL, 10, 6_000), {"from": bob})
    assert desk.boughtToday(bob, INSTRUMENT) == 110
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 100, 0):  # all he holds (110) was bought today
        _block(desk, bob, alice, SELL, 100, 6_000)


def test_units_bought_on_the_market_are_not_sold_in_a_block_today(market, place, funded, credit, regulator,
                                                                   issuer, alice, bob):
    desk = funded.desk
    _block_traders(market, credit, regulator, issuer, alice, bob)
    t_plus_one(market, regulator)
    place(alice, SELL, 6_000, 100)
    place(bob, BUY, 6_000, 100)
    assert desk.boughtToday(bob, INSTRUMENT) == 0
    with reverts("Market__BoughtToday", bob, INSTRUMENT, 601, 600):
        _block(desk, bob, alice, SELL, 601, 6_000)
    chain.sleep(86_400)
    chain.mine()
    _block(desk, bob, alice, SELL, 700, 6_000)


def test_block_purchases_are_recorded_only_under_t_plus_one(market, funded, credit, regulator, issuer, alice, bob):
    desk = funded.desk
    _block_traders(market, credit, regulator, issuer, alice, bob)
    desk.accept(_block(desk, alice, bob, SELL, 100, 6_000), {"from": bob})
    assert desk.boughtToday(bob, INSTRUMENT) == 0
    _block(desk, bob, alice, SELL, 700, 6_000)
