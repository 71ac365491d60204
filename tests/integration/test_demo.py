"""`make demo` as a test: the whole story (a compliance year with a trading session between true-up and
surrender) runs on the chain, and what it prints is what the chain holds."""

from __future__ import annotations

import contextlib
import io

import pytest

from carbon_market import demo, session
from carbon_market.ids import allowance_id
from carbon_market.market import Side

INSTRUMENT = 1


@pytest.fixture(scope="module")
def story(accounts):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        demo.run(accounts)
    return out.getvalue()


@pytest.fixture(scope="module")
def market(story):
    from brownie import Market

    return Market[-1]


def test_opening_call_clears_at_the_volume_maximising_price(story, market):
    auction = market.auction(INSTRUMENT, 1)
    assert (int(auction[2]), int(auction[3])) == (170, 5_980)  # volume, clearing price tick
    assert bool(auction[6]) and Side(auction[5]) == Side.BUY  # buyers rationed at the price
    assert "cleared at 59.80 tCNY/t: 170 lots" in story
    assert "Datang Power             buy  executed   10 of 70" in story


def test_continuous_session_and_block_trade_leave_the_expected_book(story, market):
    ins = market.instrument(INSTRUMENT)
    assert (int(ins[3]), int(ins[4])) == (5_980, 6_030)  # reference (the call's price), last price
    assert tuple(int(x) for x in market.bestTicks(INSTRUMENT)) == (5_990, 0)  # Datang's 20 lots still bid
    assert market.depth(INSTRUMENT, Side.BUY, 5_990) == 20
    assert "refused, BlockTrade__TierTooLow(Green Fund (investor), 0, 1)" in story
    assert "Huaneng Power sells 100 lots to Datang Power at 63.00 tCNY/t" in story


def test_market_holds_only_the_open_bid_and_no_fees(story, market):
    from brownie import SettlementToken, CarbonAllowance

    price = 5_990 * session.TICK
    fee = price * 18 // 10_000  # Datang is in tier 1
    assert SettlementToken[-1].balanceOf(market) == 20 * (price + fee)
    assert CarbonAllowance[-1].balanceOf(market, allowance_id(demo.YEAR)) == 0
    assert market.feesAccrued() == 0


def test_the_year_still_settles_every_enterprise(story):
    assert "early 1, on_time 2, late 1, short 1" in story
