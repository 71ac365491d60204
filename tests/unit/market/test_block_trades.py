"""Block trades: propose and accept at a negotiated price within +/-30% of the reference, at least the minimum size,
between participants of an allowed credit tier; escrow, fees, expiry, pause, frozen parties, position limits."""

import pytest
from brownie import chain

from carbon_market.errors import ANY, reverts
from carbon_market.market import BPS, Side, band
from tests.conftest import ALLOWANCE_2026, WHY
from tests.unit.market.conftest import CREDIT, INSTRUMENT, price

BUY, SELL = Side.BUY, Side.SELL
REF_TICK = 6_000
LOW, HIGH = band(REF_TICK, 3_000)  # 4,200 and 7,800
HOUR = 3_600


def now():
    """The latest block's time (what the contract compares an expiry with)."""
    return chain[-1].timestamp


def fee(value, bps):
    return value * bps // BPS


@pytest.fixture(scope="module")
def desk(market, funded, credit, issuer, alice, bob):
    """alice in credit tier 1 (fee 18 bps), bob in tier 2 (15 bps), carol in tier 0 (no block trades)."""
    credit.reward(alice, 100, CREDIT, {"from": issuer})
    credit.reward(bob, 500, CREDIT, {"from": issuer})
    return funded.desk


@pytest.fixture
def propose(desk):
    """``propose(who, to, side, lots, tick, ttl=HOUR)`` -> the block id."""

    def _propose(who, to, side, lots, tick, ttl=HOUR):
        tx = desk.propose(INSTRUMENT, to, side, lots, price(tick), now() + ttl, {"from": who})
        return tx.events["BlockProposed"]["blockId"]

    return _propose


def holdings(suite, *accounts):
    return [(suite.money.balanceOf(a), suite.allowance.balanceOf(a, ALLOWANCE_2026)) for a in accounts]


def test_proposed_sale_escrows_units_and_settles_on_acceptance(desk, market, funded, propose, exchange, alice, bob):
    before = holdings(funded, alice, bob, exchange)
    block = propose(bob, alice, SELL, 200, 6_600)
    assert funded.allowance.balanceOf(desk, ALLOWANCE_2026) == 200
    stored = desk.blockTrade(block)
    assert (stored[0], stored[1], stored[2], stored[3], stored[4], stored[5], stored[7]) == (
        bob, INSTRUMENT, 200, 15, SELL, alice, 6_600)

    tx = desk.accept(block, {"from": alice})
    value = 200 * price(6_600)
    buyer_fee, seller_fee = fee(value, 18), fee(value, 15)
    assert dict(tx.events["BlockTraded"]) == {
        "blockId": block, "instrument": INSTRUMENT, "buyer": alice, "seller": bob, "lots": 200,
        "price": price(6_600), "buyerFee": buyer_fee, "sellerFee": seller_fee, "feeRecipient": exchange}
    after = holdings(funded, alice, bob, exchange)
    assert after[0] == (before[0][0] - value - buyer_fee, before[0][1] + 200)
    assert after[1] == (before[1][0] + value - seller_fee, before[1][1] - 200)
    assert holdings(funded, desk) == [(buyer_fee + seller_fee, 0)]  # the fees accrue in the desk
    assert desk.feesAccrued() == buyer_fee + seller_fee
    tx = desk.withdrawFees({"from": bob})  # anyone: only the recipient receives
    assert dict(tx.events["FeesWithdrawn"]) == {"recipient": exchange, "amount": buyer_fee + seller_fee}
    assert holdings(funded, exchange)[0] == (before[2][0] + buyer_fee + seller_fee, before[2][1])
    assert holdings(funded, desk) == [(0, 0)]
    assert desk.blockTrade(block)[0] == "0x" + "0" * 40
    with reverts("BlockTrade__UnknownBlock", block):
        desk.accept(block, {"from": alice})


def test_proposed_purchase_escrows_money_and_fee(desk, funded, propose, exchange, alice, bob):
    before = holdings(funded, alice, bob, exchange)
    block = propose(alice, bob, BUY, 150, 5_000)
    value = 150 * price(5_000)
    assert funded.money.balanceOf(desk) == value + fee(value, 18)
    desk.accept(block, {"from": bob})
    after = holdings(funded, alice, bob, exchange)
    assert after[0] == (before[0][0] - value - fee(value, 18), before[0][1] + 150)
    assert after[1] == (before[1][0] + value - fee(value, 15), before[1][1] - 150)
    assert holdings(funded, desk) == [(fee(value, 18) + fee(value, 15), 0)]
    desk.withdrawFees({"from": exchange})
    assert funded.money.balanceOf(exchange) == before[2][0] + fee(value, 18) + fee(value, 15)
    assert holdings(funded, desk) == [(0, 0)]


def test_block_price_limits_are_thirty_percent_of_the_reference(desk, propose, alice, bob):
    assert tuple(int(x) for x in desk.priceLimits(INSTRUMENT)) == (price(LOW), price(HIGH))
    propose(bob, alice, SELL, 100, HIGH)
    propose(bob, alice, SELL, 100, LOW)
    expiry = now() + HOUR
    with reverts("BlockTrade__PriceOutOfBand", INSTRUMENT, price(HIGH + 1), price(LOW), price(HIGH)):
        desk.propose(INSTRUMENT, alice, SELL, 100, price(HIGH + 1), expiry, {"from": bob})
    with reverts("BlockTrade__PriceOutOfBand", INSTRUMENT, price(LOW - 1), price(LOW), price(HIGH)):
        desk.propose(INSTRUMENT, alice, SELL, 100, price(LOW - 1), expiry, {"from": bob})
    with reverts("BlockTrade__OffGrid", INSTRUMENT, price(6_000) + 1, price(1)):
        desk.propose(INSTRUMENT, alice, SELL, 100, price(6_000) + 1, expiry, {"from": bob})


def test_the_limits_are_checked_again_on_acceptance(desk, market, propose, regulator, alice, bob):
    block = propose(bob, alice, SELL, 100, 7_500)
    params = list(market.params())
    params[2] = 2_000  # +/-20%: 7,500 is now out
    market.setParams(params, {"from": regulator})
    with reverts("BlockTrade__PriceOutOfBand", INSTRUMENT, price(7_500), price(4_800), price(7_200)):
        desk.accept(block, {"from": alice})


def test_block_trades_do_not_move_the_reference_price(desk, market, propose, alice, bob):
    before = tuple(market.instrument(INSTRUMENT))
    desk.accept(propose(bob, alice, SELL, 100, 7_000), {"from": alice})
    assert tuple(market.instrument(INSTRUMENT)) == before


def test_new_day_limits_follow_the_previous_close(desk, market, place, propose, alice, bob):
    place(bob, SELL, 6_500, 1)
    place(alice, BUY, 6_500, 1)  # last price 6,500
    chain.sleep(86_400)
    chain.mine()
    low, high = band(6_500, 3_000)
    assert tuple(int(x) for x in desk.priceLimits(INSTRUMENT)) == (price(low), price(high))
    propose(bob, alice, SELL, 100, high)


def test_minimum_size(desk, market, alice, bob):
    with reverts("BlockTrade__BadSize", 99, 100):
        desk.propose(INSTRUMENT, alice, SELL, 99, price(6_000), now() + HOUR, {"from": bob})


def test_credit_tier_gates_both_parties(desk, propose, credit, issuer, alice, carol):
    expiry = now() + HOUR
    with reverts("BlockTrade__TierTooLow", carol, 0, 1):
        desk.propose(INSTRUMENT, alice, BUY, 100, price(6_000), expiry, {"from": carol})
    block = propose(alice, carol, SELL, 100, 6_000)  # carol may be named, but cannot accept at tier 0
    with reverts("BlockTrade__TierTooLow", carol, 0, 1):
        desk.accept(block, {"from": carol})
    credit.reward(carol, 100, CREDIT, {"from": issuer})
    desk.accept(block, {"from": carol})


def test_lowest_tier_size_limit_applies_when_tier_zero_may_trade_blocks(desk, market, regulator, alice, carol):
    params = list(market.params())
    params[5] = 0  # blockMinTier
    market.setParams(params, {"from": regulator})
    with reverts("BlockTrade__TooLarge", carol, 1_001, 1_000):
        desk.propose(INSTRUMENT, alice, BUY, 1_001, price(6_000), now() + HOUR, {"from": carol})
    desk.propose(INSTRUMENT, alice, BUY, 100, price(6_000), now() + HOUR, {"from": carol})


def test_only_the_named_counterparty_accepts(desk, propose, alice, bob, carol, outsider):
    block = propose(bob, alice, SELL, 100, 6_000)
    for who in (carol, outsider, bob):
        with reverts("BlockTrade__NotParty", block, who):
            desk.accept(block, {"from": who})
    with reverts("BlockTrade__SelfTrade", bob):
        desk.propose(INSTRUMENT, bob, SELL, 100, price(6_000), now() + HOUR, {"from": bob})
    with reverts("BlockTrade__UnknownBlock", 99):
        desk.accept(99, {"from": alice})


def test_counterparty_must_be_active(desk, outsider, bob):
    with reverts("Registry__NotActive", outsider, 0):
        desk.propose(INSTRUMENT, outsider, SELL, 100, price(6_000), now() + HOUR, {"from": bob})


def test_expiry(desk, funded, propose, alice, bob, carol):
    with reverts("BlockTrade__BadExpiry", ANY, ANY):
        desk.propose(INSTRUMENT, alice, SELL, 100, price(6_000), now() - 1, {"from": bob})
    block = propose(bob, alice, SELL, 100, 6_000, ttl=600)
    with reverts("BlockTrade__NotParty", block, carol):
        desk.cancel(block, {"from": carol})  # not expired: only the proposer
    chain.sleep(601)
    chain.mine()
    with reverts("BlockTrade__Expired", block, ANY):
        desk.accept(block, {"from": alice})
    units = funded.allowance.balanceOf(bob, ALLOWANCE_2026)
    tx = desk.cancel(block, {"from": carol})  # anyone returns an expired block's escrow
    assert dict(tx.events["BlockCancelled"]) == {"blockId": block, "proposer": bob, "by": carol}
    assert funded.allowance.balanceOf(bob, ALLOWANCE_2026) == units + 100


def test_cancel_returns_the_money_and_fee_escrow(desk, funded, propose, alice, bob):
    before = funded.money.balanceOf(alice)
    block = propose(alice, bob, BUY, 120, 5_500)
    desk.cancel(block, {"from": alice})
    assert funded.money.balanceOf(alice) == before
    assert funded.money.balanceOf(desk) == 0
    with reverts("BlockTrade__UnknownBlock", block):
        desk.cancel(block, {"from": alice})


def test_pause_stops_proposing_and_accepting_not_cancelling(desk, market, propose, regulator, alice, bob):
    block = propose(bob, alice, SELL, 100, 6_000)
    market.setPaused(True, {"from": regulator})
    with reverts("BlockTrade__Paused"):
        desk.accept(block, {"from": alice})
    with reverts("BlockTrade__Paused"):
        desk.propose(INSTRUMENT, alice, SELL, 100, price(6_000), now() + HOUR, {"from": bob})
    desk.cancel(block, {"from": bob})


def test_frozen_parties_cannot_trade_blocks(desk, propose, registry, regulator, alice, bob):
    block = propose(bob, alice, SELL, 100, 6_000)
    registry.freeze(bob, WHY, {"from": regulator})
    with reverts("Registry__NotActive", bob, 2):
        desk.accept(block, {"from": alice})
    registry.unfreeze(bob, WHY, {"from": regulator})
    registry.freeze(alice, WHY, {"from": regulator})
    with reverts("Registry__NotActive", alice, 2):
        desk.accept(block, {"from": alice})
    registry.unfreeze(alice, WHY, {"from": regulator})
    desk.accept(block, {"from": alice})


def test_investor_position_limit_counts_open_orders(desk, market, place, propose, credit, issuer, regulator, carol, bob):
    credit.reward(carol, 100, CREDIT, {"from": issuer})
    market.setPositionLimit(INSTRUMENT, 200, {"from": regulator})  # carol holds 50
    place(carol, BUY, 5_900, 20)
    block = propose(bob, carol, SELL, 131, 6_000)
    with reverts("BlockTrade__PositionLimit", carol, INSTRUMENT, 201, 200):
        desk.accept(block, {"from": carol})
    desk.accept(propose(bob, carol, SELL, 130, 6_000), {"from": carol})


def test_desk_refuses_tokens_it_did_not_pull(desk, funded, bob):
    with reverts("BlockTrade__UnexpectedTokens", bob):
        funded.allowance.safeTransferFrom(bob, desk, ALLOWANCE_2026, 1, b"", {"from": bob})
