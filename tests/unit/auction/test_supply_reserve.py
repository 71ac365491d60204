"""The supply reserve (after the EU Market Stability Reserve) and the cost containment reserve (after California's):
circulation counted from the allowance's own counters once per period, intake and release through the next
auctions' volume, tiered sales at trigger prices bounded per period."""

from __future__ import annotations

from brownie import chain

from carbon_market.errors import reverts
from carbon_market.ids import allowance_id
from carbon_market.suite import MONEY_UNIT
from tests.conftest import ALLOWANCE_2026, list_for_trading
from tests.unit.auction.conftest import AUCTION_VINTAGE, rules

YEAR = 365 * 86_400


def supply_rules(origin, *, upper=1_000, lower=500, intake_bps=2_400, release=300, first=2026, vintages=4,
                 period=YEAR):
    return (origin, period, first, vintages, upper, lower, intake_bps, release)


def test_circulation_above_the_upper_threshold_withholds_a_share_from_the_next_auction(
        auction, reserve, funded, regulator, issuer, alice):
    # alice 1,000 + bob 600 + carol 50 of 2026 are minted; 100 of them are surrendered
    funded.allowance.surrender(alice, ALLOWANCE_2026, 100, {"from": issuer})
    origin = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(origin), {"from": regulator})
    assert reserve.circulation() == 1_550
    tx = reserve.computeSupply({"from": alice})
    assert tx.events["SupplyComputed"]["intake"] == 1_550 * 2_400 // 10_000 == 372
    with reverts("Reserve__PeriodDone", 0, 1):
        reserve.computeSupply({"from": alice})
    s = reserve.supply()
    assert (s["reserve"], s["toWithhold"]) == (372, 372)
    tx = auction.offer(AUCTION_VINTAGE, 1_000, rules().as_tuple(), {"from": regulator})
    offered = tx.events["AuctionOffered"]
    assert (offered["requested"], offered["volume"], offered["withheld"]) == (1_000, 628, 372)
    assert reserve.supply()["toWithhold"] == 0 and reserve.supply()["reserve"] == 372


def test_circulation_below_the_lower_threshold_releases_from_the_reserve(auction, reserve, funded, regulator, alice):
    origin = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(origin, upper=1_000, lower=500), {"from": regulator})
    reserve.computeSupply({"from": alice})  # 1,650 in circulation: 396 withheld
    funded.allowance.retire(ALLOWANCE_2026, 1_000, alice, "retired by alice", {"from": alice})  # 650 left
    reserve.setSupplyRules(supply_rules(origin, upper=1_000, lower=700), {"from": regulator})
    chain.sleep(YEAR)
    chain.mine()
    tx = reserve.computeSupply({"from": alice})
    assert tx.events["SupplyComputed"]["period"] == 1
    assert tx.events["SupplyComputed"]["release"] == 300
    s = reserve.supply()
    # the 300 released cancel 300 of the 396 not yet withheld
    assert (s["reserve"], s["toWithhold"], s["toRelease"]) == (96, 96, 0)


def test_a_release_with_nothing_pending_adds_to_the_next_auction(auction, reserve, funded, regulator, alice, bob):
    origin = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(origin, upper=1_000, lower=500), {"from": regulator})
    reserve.computeSupply({"from": alice})  # 396 withheld
    auction.offer(AUCTION_VINTAGE, 1_000, rules().as_tuple(), {"from": regulator})  # takes them
    funded.allowance.retire(ALLOWANCE_2026, 1_000, alice, "", {"from": alice})
    funded.allowance.retire(ALLOWANCE_2026, 600, bob, "", {"from": bob})
    chain.sleep(YEAR)
    chain.mine()
    tx = reserve.computeSupply({"from": alice})  # 50 in circulation
    assert tx.events["SupplyComputed"]["release"] == 300
    tx = auction.offer(AUCTION_VINTAGE, 100, rules().as_tuple(), {"from": regulator})
    assert tx.events["AuctionOffered"]["volume"] == 400 and tx.events["AuctionOffered"]["released"] == 300


def test_the_reserve_is_set_up_by_the_regulator_and_computed_by_anyone_once_a_period(reserve, regulator, alice):
    with reverts("Reserve__NoRules"):
        reserve.computeSupply({"from": alice})
    now = chain[-1].timestamp
    table = [
        (supply_rules(now, period=0), "periodLength", 0),
        (supply_rules(now, vintages=0), "vintages", 0),
        (supply_rules(now, vintages=51), "vintages", 51),
        (supply_rules(now, lower=2_000), "lowerThreshold", 2_000),
        (supply_rules(now, intake_bps=10_001), "intakeBps", 10_001),
    ]
    for bad, name, value in table:
        with reverts("Reserve__BadRules", name.encode().ljust(32, b"\0"), value):
            reserve.setSupplyRules(bad, {"from": regulator})
    with reverts("Allowance__InvalidVintage", 2200 + 1):
        reserve.setSupplyRules(supply_rules(now, first=2190, vintages=12), {"from": regulator})
    with reverts("Reserve__NotAuction", alice):
        reserve.draw(10, {"from": alice})
    with reverts("Reserve__NotAuction", alice):
        reserve.keepUnsold(10, True, {"from": alice})
    with reverts("Reserve__AuctionSet", reserve.primaryAuction()):
        reserve.setAuction(reserve.primaryAuction(), {"from": regulator})
    reserve.setSupplyRules(supply_rules(now + 1_000), {"from": regulator})
    with reverts("Reserve__PeriodDone", 0, 0):
        reserve.computeSupply({"from": alice})  # before the origin


def test_the_containment_reserve_sells_at_its_trigger_once_the_secondary_price_reaches_it(
        auction, reserve, funded, regulator, exchange, alice, bob, carol):
    list_for_trading(funded, regulator, exchange, (alice, bob), reference=60 * MONEY_UNIT)
    tiers = [(70 * MONEY_UNIT, 100, 150), (80 * MONEY_UNIT, 100, 1_000)]
    reserve.setContainment(1, tiers, {"from": regulator})
    reserve.setSupplyRules(supply_rules(chain[-1].timestamp), {"from": regulator})
    with reverts("Reserve__BelowTrigger", 0, 60 * MONEY_UNIT, 70 * MONEY_UNIT):
        reserve.buyFromReserve(0, 2027, 10, {"from": alice})
    # the secondary price rises to 72 over two days (10% a day at most)
    for price in (66, 72):
        funded.market.place(1, 1, price * MONEY_UNIT, 1, False, 0, 1_000, {"from": bob})
        funded.market.place(1, 0, price * MONEY_UNIT, 1, True, 1, 1_000, {"from": alice})
        chain.sleep(86_400)
        chain.mine()
    treasury = funded.money.balanceOf(regulator)
    tx = reserve.buyFromReserve(0, 2027, 60, {"from": alice})
    assert tx.events["ReserveSold"]["referencePrice"] == 72 * MONEY_UNIT
    assert funded.allowance.balanceOf(alice, allowance_id(2027)) == 60
    assert funded.money.balanceOf(regulator) - treasury == 60 * 70 * MONEY_UNIT
    with reverts("Reserve__TierExhausted", 0, 41, 40):
        reserve.buyFromReserve(0, 2027, 41, {"from": bob})
    with reverts("Reserve__BelowTrigger", 1, 72 * MONEY_UNIT, 80 * MONEY_UNIT):
        reserve.buyFromReserve(1, 2027, 1, {"from": bob})
    with reverts("Reserve__NotEnterprise", carol):
        reserve.buyFromReserve(0, 2027, 1, {"from": carol})
    with reverts("Reserve__UnknownTier", 2):
        reserve.buyFromReserve(2, 2027, 1, {"from": bob})
    with reverts("Reserve__TierExhausted", 0, 0, 40):
        reserve.buyFromReserve(0, 2027, 0, {"from": bob})
    reserve.buyFromReserve(0, 2027, 40, {"from": bob})
    with reverts("Reserve__TierExhausted", 0, 1, 0):  # the period's 100 are sold
        reserve.buyFromReserve(0, 2027, 1, {"from": bob})
    assert reserve.currentPeriod() == 0
    chain.sleep(366 * 86_400)
    chain.mine()
    # a new period: 100 more per period, but the tier holds only 50 more
    with reverts("Reserve__TierExhausted", 0, 51, 50):
        reserve.buyFromReserve(0, 2027, 51, {"from": bob})
    assert reserve.tierSold(0, 0) == 100


def test_containment_tiers_rise_and_are_bounded(reserve, regulator):
    with reverts("Reserve__BadRules", b"triggerPrice".ljust(32, b"\0"), 70):
        reserve.setContainment(0, [(80, 1, 1), (70, 1, 1)], {"from": regulator})
    with reverts("Reserve__BadRules", b"tiers".ljust(32, b"\0"), 9):
        reserve.setContainment(0, [(i + 1, 1, 1) for i in range(9)], {"from": regulator})
    reserve.setContainment(0, [(70, 5, 9)], {"from": regulator})
    assert [tuple(int(v) for v in t) for t in reserve.tiers()] == [(70, 5, 9)]


def test_an_offer_withheld_whole_or_past_48_bits_is_refused(auction, reserve, funded, regulator, alice):
    origin = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(origin, intake_bps=10_000), {"from": regulator})
    reserve.computeSupply({"from": alice})  # all 1,650 in circulation to be withheld
    with reverts("Reserve__NothingToOffer", 1_000, 1_000):
        auction.offer(AUCTION_VINTAGE, 1_000, rules().as_tuple(), {"from": regulator})
    big = auction.offer(AUCTION_VINTAGE, 2**48 - 1, rules().as_tuple(), {"from": regulator})
    aid = big.events["AuctionOffered"]["auctionId"]
    assert big.events["AuctionOffered"]["volume"] == 2**48 - 1 - 1_650
    chain.sleep(2 * 3_600 + 1)
    chain.mine()
    auction.clear(aid, 5)  # no bids: cancelled, everything carried
    assert reserve.supply()["carried"] == 2**48 - 1 - 1_650
    with reverts("Reserve__NothingToOffer", 2**48 - 1, 0):
        auction.offer(AUCTION_VINTAGE, 2**48 - 1, rules().as_tuple(), {"from": regulator})


def test_an_intake_first_takes_back_a_release_not_yet_given(auction, reserve, funded, regulator, alice):
    origin = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(origin), {"from": regulator})
    reserve.computeSupply({"from": alice})  # 1,650: 396 withheld
    auction.offer(AUCTION_VINTAGE, 1_000, rules().as_tuple(), {"from": regulator})  # takes the 396
    funded.allowance.retire(ALLOWANCE_2026, 1_000, alice, "", {"from": alice})  # 650 left: below 700
    reserve.setSupplyRules(supply_rules(origin, lower=700), {"from": regulator})
    chain.sleep(YEAR)
    chain.mine()
    reserve.computeSupply({"from": alice})  # releases 300 to the next auction
    assert reserve.supply()["toRelease"] == 300
    reserve.setSupplyRules(supply_rules(origin, upper=500, lower=100), {"from": regulator})
    chain.sleep(YEAR)
    chain.mine()
    tx = reserve.computeSupply({"from": alice})  # 650 > 500: 156 in, cancelling 156 of the pending release
    assert tx.events["SupplyComputed"]["intake"] == 650 * 2_400 // 10_000 == 156
    s = reserve.supply()
    assert (s["toRelease"], s["toWithhold"], s["reserve"]) == (300 - 156, 0, 96 + 156)


def test_reserve_views_and_bad_purchases(reserve, funded, regulator, alice):
    from brownie import SupplyReserve

    with reverts("Reserve__NoRules"):
        reserve.circulation()
    fresh = SupplyReserve.deploy(funded.registry, funded.allowance, funded.money, funded.market, {"from": regulator})
    with reverts("Reserve__BadRules", b"auction".ljust(32, b"\0"), int(alice.address, 16)):
        fresh.setAuction(alice, {"from": regulator})  # an account without code
    reserve.setContainment(0, [(1, 10, 10)], {"from": regulator})
    with reverts("Reserve__BelowTrigger", 0, 0, 1):  # no reference instrument: no secondary price
        reserve.buyFromReserve(0, 2027, 1, {"from": alice})
    now = chain[-1].timestamp
    reserve.setSupplyRules(supply_rules(now + 1_000), {"from": regulator})
    assert reserve.currentPeriod() == 0 and reserve.supplyRules()["origin"] == now + 1_000
