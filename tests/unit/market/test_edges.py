"""The market at its edges: a new trading day, call phases out of turn, one claim over two instruments, a book
spread over the whole tick range (its price limits clamped at the top, its bitmap crossing words at every level),
credit tiers above the last discount, no order-size limit, fee-free block trades, the desk's own limits."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.errors import reverts
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, TICK_SIZE, Phase, Side, band, params_with, trading_day
from carbon_market.clock import latest_timestamp, sleep_until
from tests.conftest import ALLOWANCE_2026, approve_traders
from tests.unit.market.conftest import CREDIT, INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL
A27 = allowance_id(2027)
CST_OFFSET, DAY = 8 * 3_600, 86_400
MAX_TICK = 2**24 - 1


def order_id(tx):
    return tx.events["OrderPlaced"]["orderId"]


def test_a_new_trading_day_rolls_the_reference_to_the_close(market, place, alice, bob):
    place(alice, SELL, 6_100, 1)
    place(bob, BUY, 6_100, 1)
    now = latest_timestamp()
    sleep_until(now + DAY - (now + CST_OFFSET) % DAY + 4 * 3_600)  # four hours into the next day in China
    tx = place(alice, BUY, 6_050, 1)
    rolled = tx.events["ReferenceRolled"]
    assert (rolled["instrument"], rolled["day"], rolled["referenceTick"]) == (
        INSTRUMENT, trading_day(latest_timestamp()), 6_100)
    low, high = band(6_100, 1_000)
    with reverts("Market__PriceOutOfBand", INSTRUMENT, price(high + 1), price(low), price(high)):
        place(alice, BUY, high + 1, 1)


def test_call_phases_out_of_turn_are_refused(market, place, regulator, exchange, alice):
    with reverts("Market__WrongPhase", INSTRUMENT, Phase.CONTINUOUS):
        market.closeCall(INSTRUMENT, 10, {"from": exchange})
    with reverts("Market__WrongPhase", INSTRUMENT, Phase.CONTINUOUS):
        market.advanceClearing(INSTRUMENT, 10, {"from": alice})
    market.openCall(INSTRUMENT, {"from": exchange})
    with reverts("Market__WrongPhase", INSTRUMENT, Phase.CALL):
        market.openCall(INSTRUMENT, {"from": exchange})
    market.setPaused(True, {"from": regulator})
    with reverts("Market__Paused"):
        market.closeCall(INSTRUMENT, 10, {"from": exchange})
    with reverts("Market__Paused"):
        market.openCall(INSTRUMENT, {"from": exchange})


def test_one_claim_pays_units_of_two_instruments(market, funded, exchange, issuer, alice, bob):
    """Bob's bids on the 2026 and the 2027 allowance fill; one claim pays him both kinds of units."""
    funded.allowance.mint(alice, A27, 100, {"from": issuer})
    market.list(A27, 1, TICK_SIZE, 60 * 10**6, {"from": exchange})
    bids = [order_id(market.place(i, BUY, price(6_000), 3, False, 10, FEE_CAP_BPS, {"from": bob})) for i in (1, 2)]
    for i in (1, 2):
        market.place(i, SELL, price(6_000), 3, False, 10, FEE_CAP_BPS, {"from": alice})
    before = [funded.allowance.balanceOf(bob, t) for t in (ALLOWANCE_2026, A27)]
    tx = market.claim(bids, {"from": bob})
    assert [funded.allowance.balanceOf(bob, t) - b for t, b in zip((ALLOWANCE_2026, A27), before)] == [3, 3]
    assert len(tx.events["TransferSingle"]) == 2
    assert market.instrumentCount() == 2


@pytest.fixture
def wide(market, funded, exchange, issuer, alice):
    """Instrument 2: the 2027 allowance at a tick of 1 money unit and a reference of 16,000,000 ticks, so that its
    +/-10% limits reach past the largest tick (clamped to 2^24 - 1) and its orders sit in different words of the
    price bitmap at every level (leaves of 256 ticks, middle words of 65,536)."""
    funded.allowance.mint(alice, A27, 100, {"from": issuer})
    market.list(A27, 1, 1, 16_000_000, {"from": exchange})
    return 2


def test_the_limits_of_a_reference_near_the_largest_tick_are_clamped(market, wide, bob):
    low, _ = band(16_000_000, 1_000)
    market.place(wide, BUY, MAX_TICK, 1, False, 10, FEE_CAP_BPS, {"from": bob})
    with reverts("Market__PriceOutOfBand", wide, MAX_TICK + 1, low, MAX_TICK):
        market.place(wide, BUY, MAX_TICK + 1, 1, False, 10, FEE_CAP_BPS, {"from": bob})


SPREAD = [14_500_000, 15_000_000, 15_000_300, 16_500_000]  # three middle words; two leaves in one of them


def test_a_buy_sweeps_asks_across_the_bitmap(market, wide, alice, bob):
    for tick in SPREAD:
        market.place(wide, SELL, tick, 1, False, 10, FEE_CAP_BPS, {"from": alice})
    assert market.bestTicks(wide)[1] == SPREAD[0]
    tx = market.place(wide, BUY, 16_600_000, 4, False, 10, FEE_CAP_BPS, {"from": bob})
    assert [e["price"] for e in tx.events["OrderFilled"]] == SPREAD
    assert [int(t) for t in market.bestTicks(wide)] == [0, 0]


def test_a_sell_sweeps_bids_across_the_bitmap(market, wide, alice, bob):
    for tick in SPREAD:
        market.place(wide, BUY, tick, 1, False, 10, FEE_CAP_BPS, {"from": bob})
    assert market.bestTicks(wide)[0] == SPREAD[-1]
    tx = market.place(wide, SELL, 14_400_000, 4, False, 10, FEE_CAP_BPS, {"from": alice})
    assert [e["price"] for e in tx.events["OrderFilled"]] == SPREAD[::-1]
    assert [int(t) for t in market.bestTicks(wide)] == [0, 0]


def test_cancelling_the_best_levels_walks_the_bitmap(market, wide, alice, bob):
    asks = [order_id(market.place(wide, SELL, t, 1, False, 10, FEE_CAP_BPS, {"from": alice})) for t in SPREAD]
    for oid, following in zip(asks, [*SPREAD[1:], 0]):
        market.cancel(oid, {"from": alice})
        assert market.bestTicks(wide)[1] == following
    bids = [order_id(market.place(wide, BUY, t, 1, False, 10, FEE_CAP_BPS, {"from": bob})) for t in SPREAD]
    for oid, following in zip(bids[::-1], [*SPREAD[::-1][1:], 0]):
        market.cancel(oid, {"from": bob})
        assert market.bestTicks(wide)[0] == following


def test_a_tier_above_the_last_discount_pays_the_last_discount(market, credit, regulator, issuer, alice):
    credit.setTierThresholds([10, 20, 30, 40, 50], {"from": regulator})
    credit.reward(alice, 40, CREDIT, {"from": issuer})
    assert credit.tierOf(alice) == 4
    fee, discounts = market.params()[0], market.params()[6]
    assert market.feeRateOf(alice) == fee * (10_000 - discounts[3]) // 10_000


def test_no_order_size_limit_when_the_lowest_tier_limit_is_zero(market, place, regulator, carol):
    with reverts("Market__OrderTooLarge", carol, 1_001, 1_000):
        place(carol, BUY, 5_400, 1_001)
    market.setParams(params_with(market, lowestTierMaxLots=0), {"from": regulator})
    assert order_id(place(carol, BUY, 5_400, 1_001))


def test_position_limits_track_call_orders(market, place, regulator, exchange, carol, alice):
    """An investor's buy orders in the call count towards its position until cancelled or claimed."""
    market.setPositionLimit(INSTRUMENT, 100, {"from": regulator})
    market.openCall(INSTRUMENT, {"from": exchange})
    first = order_id(place(carol, BUY, 6_000, 20))
    second = order_id(place(carol, BUY, 6_000, 20))
    assert market.openBuyLots(carol, INSTRUMENT) == 40
    with reverts("Market__PositionLimit", carol, INSTRUMENT, 50 + 40 + 11, 100):
        place(carol, BUY, 6_000, 11)
    market.cancel(first, {"from": carol})
    assert market.openBuyLots(carol, INSTRUMENT) == 20
    place(alice, SELL, 6_000, 5)
    market.closeCall(INSTRUMENT, 100, {"from": exchange})
    market.claim([second], {"from": carol})
    assert market.openBuyLots(carol, INSTRUMENT) == 0


def test_a_sell_in_the_call_cancelled_returns_its_units(market, place, funded, exchange, alice):
    market.openCall(INSTRUMENT, {"from": exchange})
    before = funded.allowance.balanceOf(alice, ALLOWANCE_2026)
    ask = order_id(place(alice, SELL, 6_000, 7))
    assert funded.allowance.balanceOf(alice, ALLOWANCE_2026) == before - 7
    market.cancel(ask, {"from": alice})
    assert funded.allowance.balanceOf(alice, ALLOWANCE_2026) == before


def test_clearing_one_step_at_a_time(market, place, exchange, alice, bob, carol):
    """Rationed buys, cleared one step per call: every stage resumes where the last call stopped."""
    market.openCall(INSTRUMENT, {"from": exchange})
    buyers = (alice, carol, alice, carol)
    buys = [order_id(place(who, BUY, 6_000, 4)) for who in buyers]
    place(bob, SELL, 5_990, 10)
    market.closeCall(INSTRUMENT, 1, {"from": exchange})
    calls = 1
    while int(market.instrument(INSTRUMENT)[6]) == Phase.CLEARING:
        market.advanceClearing(INSTRUMENT, 1, {"from": carol})
        calls += 1
    assert calls > 3
    auction = market.auction(INSTRUMENT, 1)
    assert (int(auction[2]), int(auction[3])) == (10, 6_000)
    filled = [int(market.claim([b], {"from": w}).events["OrderClaimed"]["lots"])
              for b, w in zip(buys, buyers)]
    assert filled == [4, 4, 2, 0]


# ---------------------------------------------------------------- block trades


@pytest.fixture
def desk(market, funded, credit, issuer, alice, bob):
    for who in (alice, bob):
        credit.reward(who, 100, CREDIT, {"from": issuer})
    return funded.desk


def _propose(desk, who, to, side, lots, tick):
    return desk.propose(INSTRUMENT, to, side, lots, price(tick), chain[-1].timestamp + 3_600, {"from": who}).events[
        "BlockProposed"]["blockId"]


@pytest.mark.parametrize("side", [SELL, BUY])
def test_a_fee_free_block_trade_pays_no_fee(market, desk, funded, regulator, exchange, alice, bob, side):
    market.setParams(params_with(market, feeBps=0), {"from": regulator})
    before = funded.money.balanceOf(exchange)
    block = _propose(desk, alice, bob, side, 200, 6_000)
    tx = desk.accept(block, {"from": bob})
    assert (tx.events["BlockTraded"]["buyerFee"], tx.events["BlockTraded"]["sellerFee"]) == (0, 0)
    assert funded.money.balanceOf(exchange) == before


def test_the_desk_applies_the_lowest_tier_size_and_the_position_limit(market, desk, regulator, alice, carol):
    """With blocks open to tier 0, carol (tier 0, an investor) is held to the lowest tier's size and to her
    position limit, which counts her open buys in the market."""
    market.setParams(params_with(market, blockMinTier=0, blockMinLots=0), {"from": regulator})
    with reverts("BlockTrade__TooLarge", carol, 1_001, 1_000):
        _propose(desk, carol, alice, BUY, 1_001, 6_000)
    with reverts("BlockTrade__BadSize", 0, 0):
        _propose(desk, carol, alice, BUY, 0, 6_000)
    market.setPositionLimit(INSTRUMENT, 300, {"from": regulator})
    block = _propose(desk, alice, carol, SELL, 200, 6_000)
    desk.accept(block, {"from": carol})  # 50 held + 200 bought = 250 <= 300
    block = _propose(desk, alice, carol, SELL, 100, 6_000)
    with reverts("BlockTrade__PositionLimit", carol, INSTRUMENT, 350, 300):
        desk.accept(block, {"from": carol})


def test_the_desk_says_what_it_is(market, desk):
    assert desk.market() == market
    assert desk.blockCount() == 0
    assert desk.supportsInterface("0x4e2312e0")  # IERC1155Receiver
    assert market.supportsInterface("0x4e2312e0")
    assert not market.supportsInterface("0xffffffff")
    assert desk.registry() == market.registry()


# ---------------------------------------------------------------- a book across trading days and its bitmap


def _next_day() -> None:
    now = latest_timestamp()
    sleep_until(now + DAY - (now + CST_OFFSET) % DAY + 4 * 3_600)


@pytest.mark.parametrize("close, stale_side, stale_tick, taker_side", [
    (6_500, SELL, 5_500, BUY),  # next day's limits 5,850 to 7,150: the ask at 5,500 lies below them
    (5_500, BUY, 6_500, SELL),  # next day's limits 4,950 to 6,050: the bid at 6,500 lies above them
])
def test_a_level_left_outside_a_new_days_limits_does_not_trade(market, place, alice, bob, carol, close, stale_side,
                                                                 stale_tick, taker_side):
    place(bob, SELL, close, 1)
    place(carol, BUY, close, 1)  # the day's close
    stale = order_id(place(alice, stale_side, stale_tick, 1))
    _next_day()
    tx = place(carol, taker_side, 6_000, 1)  # crosses the stale level's price, but not today's limits
    assert "OrderFilled" not in tx.events
    assert tx.events["ReferenceRolled"]["referenceTick"] == close
    assert market.order(stale)["remaining"] == 1


def test_an_investors_buy_counts_only_while_it_rests(market, place, regulator, alice, carol):
    market.setPositionLimit(INSTRUMENT, 100, {"from": regulator})
    place(alice, SELL, 6_000, 5)
    place(carol, BUY, 6_000, 5)  # fills at once: nothing rests, nothing counted
    assert market.openBuyLots(carol, INSTRUMENT) == 0
    resting = order_id(place(carol, BUY, 5_900, 20))
    assert market.openBuyLots(carol, INSTRUMENT) == 20
    market.cancel(resting, {"from": carol})
    assert market.openBuyLots(carol, INSTRUMENT) == 0


def test_an_enterprise_that_also_invests_has_no_position_limit(market, funded, regulator, issuer, alice, newcomers):
    from carbon_market.roles import Role
    from carbon_market.suite import MONEY_UNIT, onboarding

    both = newcomers[3]
    funded.registry.onboard(onboarding(both, Role.ENTERPRISE | Role.INVESTOR), {"from": regulator})
    funded.money.issue(both, 100_000 * MONEY_UNIT, {"from": regulator})
    approve_traders(funded, both)
    market.setPositionLimit(INSTRUMENT, 10, {"from": regulator})
    assert order_id(market.place(INSTRUMENT, BUY, price(6_000), 50, False, 10, FEE_CAP_BPS, {"from": both}))
    assert market.openBuyLots(both, INSTRUMENT) == 0


def test_the_ends_of_the_bitmaps_words(market, wide, alice, bob):
    """An ask at the largest tick, one at the last leaf of a middle word; a bid at the first tick of a leaf."""
    end_of_mid = 0xF4FF00  # leaf 0xF4FF: the last of middle word 0xF4
    for tick in (end_of_mid, 16_100_000, MAX_TICK):
        market.place(wide, SELL, tick, 1, False, 10, FEE_CAP_BPS, {"from": alice})
    tx = market.place(wide, BUY, MAX_TICK, 3, False, 10, FEE_CAP_BPS, {"from": bob})
    assert [e["price"] for e in tx.events["OrderFilled"]] == [end_of_mid, 16_100_000, MAX_TICK]
    start_of_leaf = 16_000_000  # 0xF42400
    for tick in (15_000_000, start_of_leaf):
        market.place(wide, BUY, tick, 1, False, 10, FEE_CAP_BPS, {"from": bob})
    tx = market.place(wide, SELL, 14_400_000, 2, False, 10, FEE_CAP_BPS, {"from": alice})
    assert [e["price"] for e in tx.events["OrderFilled"]] == [start_of_leaf, 15_000_000]


@pytest.mark.parametrize("jump", [5_995, 6_005])
def test_a_call_with_a_buy_and_a_sell_surplus_candidate(market, place, exchange, alice, bob, jump):
    """Buys 10 at 6,020 and 2 at the jump; sells 10 at 5,980 and 2 a tick above it. At the jump and below, 10 lots
    trade with 2 bought too many; above it, 10 with 2 sold too many. The candidate nearer the reference (6,000)
    wins: the sell surplus's lowest price above a jump below the reference, the buy surplus's highest otherwise;
    the surplus side's lots at the price are exactly the surplus, so none of them trades."""
    market.openCall(INSTRUMENT, {"from": exchange})
    big_buy, small_buy = order_id(place(alice, BUY, 6_020, 10)), order_id(place(alice, BUY, jump, 2))
    big_sell, small_sell = order_id(place(bob, SELL, 5_980, 10)), order_id(place(bob, SELL, jump + 1, 2))
    tx = market.closeCall(INSTRUMENT, 100, {"from": exchange})
    cleared = tx.events["CallCleared"]
    expected = (jump + 1, Side.SELL) if jump < 6_000 else (jump, Side.BUY)
    assert (cleared["priceTick"], cleared["volume"], cleared["rationed"]) == (*expected[:1], 10, expected[1])
    fills = {o: int(market.claim([o], {"from": w}).events["OrderClaimed"]["lots"])
             for o, w in ((big_buy, alice), (small_buy, alice), (big_sell, bob), (small_sell, bob))}
    assert fills == {big_buy: 10, small_buy: 0, big_sell: 10, small_sell: 0}


def test_the_desk_limits_investors_only(market, desk, funded, regulator, alice, bob, carol, newcomers):
    """With a position limit of 10 units, enterprises (also one that invests) buy blocks of any size; with no
    lowest-tier size limit, a tier-0 investor proposes any size."""
    from carbon_market.roles import Role
    from carbon_market.suite import MONEY_UNIT, onboarding

    both = newcomers[3]
    funded.registry.onboard(onboarding(both, Role.ENTERPRISE | Role.INVESTOR), {"from": regulator})
    funded.money.issue(both, 100_000 * MONEY_UNIT, {"from": regulator})
    approve_traders(funded, both)
    market.setParams(params_with(market, blockMinTier=0, lowestTierMaxLots=0), {"from": regulator})
    market.setPositionLimit(INSTRUMENT, 10, {"from": regulator})
    for buyer in (alice, both):
        desk.accept(_propose(desk, bob, buyer, SELL, 200, 6_000), {"from": buyer})
        assert funded.allowance.balanceOf(buyer, ALLOWANCE_2026) >= 200
    assert _propose(desk, carol, alice, BUY, 1_001, 6_000) >= 0
