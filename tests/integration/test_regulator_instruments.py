"""The regulator's instruments through the operations layer (what operations files and the simulation run): a
sealed-bid auction from offer to claims, the supply reserve moved by the circulation, a containment sale, and a
circuit-breaker halt ended by the reopening auction. Every step is run a second time to show it is safe to re-run."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.auctions import SealedBid, clear
from carbon_market.ids import allowance_id
from carbon_market.ops.node import OpsError
from carbon_market.suite import MONEY_UNIT
from tests.conftest import list_for_trading, operator

SECRET = "CARBON_MARKET_TEST_BID_SECRET"
BIDS = [
    dict(ref="b1", bidder="alice", price="52", quantity=300),
    dict(ref="b2", bidder="bob", price="50", quantity=250),
    dict(ref="b3", bidder="alice", price="50", quantity=150),
    dict(ref="b4", bidder="bob", price="48.5", quantity=200),
]


@pytest.fixture
def op(funded, regulator, alice, bob, carol, exchange, monkeypatch):
    monkeypatch.setenv(SECRET, "a secret the bidders keep")
    return operator(funded, regulator=regulator, alice=alice, bob=bob, carol=carol, exchange=exchange)


def test_an_auction_runs_from_an_operations_file_vocabulary(op, funded, alice, bob, regulator):
    op.do("offer_auction", ref="a1", vintage=2028, volume=600, reserve_price="45", commit_for="2h",
          reveal_for="1h", enterprise_limit_bps=10_000)
    op.do("commit_bids", auction="a1", secret=SECRET, bids=BIDS)
    # nobody can read a bid from the chain before it is revealed: only its hash and deposit are there
    sealed = funded.auction.bid(op.ref("b1"))
    assert sealed["quantity"] == 0 and sealed["tick"] == 0
    chain.sleep(2 * 3_600 + 1)
    op.do("reveal_bids", auction="a1", secret=SECRET, bids=BIDS)
    assert op.do("reveal_bids", auction="a1", secret=SECRET, bids=BIDS) == []  # re-run: nothing left to reveal
    chain.sleep(3_600 + 1)
    op.do("clear_auction", by="carol", auction="a1", steps=1)
    want = clear(600, [SealedBid(b["bidder"], int(float(b["price"]) * MONEY_UNIT), b["quantity"]) for b in BIDS])
    got = funded.auction.auction(op.ref("a1"))
    assert got["priceTick"] * MONEY_UNIT // 100 == want.price == 50 * MONEY_UNIT
    treasury = funded.money.balanceOf(regulator)
    op.do("claim_bids", by="carol", bids=["b1", "b2", "b3", "b4"])
    assert op.do("claim_bids", by="carol", bids=["b1", "b2", "b3", "b4"]) == []  # re-run: all settled
    units = dict(zip(("b1", "b2", "b3", "b4"), want.allocations, strict=True))
    assert funded.allowance.balanceOf(alice, allowance_id(2028)) == units["b1"] + units["b3"] == 300 + 113  # 300 shared 250:150 at 50
    assert funded.allowance.balanceOf(bob, allowance_id(2028)) == units["b2"] == 187
    assert funded.money.balanceOf(regulator) - treasury == 600 * 50 * MONEY_UNIT


def test_a_bid_cannot_be_revealed_without_its_secret(op, monkeypatch):
    op.do("offer_auction", ref="a1", vintage=2028, volume=600, reserve_price="45", commit_for="1h",
          reveal_for="1h")
    op.do("commit_bids", auction="a1", secret=SECRET, bids=BIDS[:1])
    chain.sleep(3_601)
    monkeypatch.delenv(SECRET)
    with pytest.raises(OpsError, match=f"{SECRET} is not set"):
        op.do("reveal_bids", auction="a1", secret=SECRET, bids=BIDS[:1])


def test_supply_and_containment_reserves_through_operations(op, funded, regulator, exchange, alice, bob):
    op.do("supply_rules", origin="+0s", period="365d", first_vintage=2026, vintages=3, upper=1_000, lower=100,
          intake_bps=2_400, release=50)
    op.do("compute_supply", by="carol")
    assert op.do("compute_supply", by="carol") == []  # once a period
    assert funded.reserve.supply()["toWithhold"] == 1_650 * 2_400 // 10_000
    list_for_trading(funded, regulator, exchange, (alice, bob), reference=80 * MONEY_UNIT)
    op.do("containment", reference="allowance 2026", tiers=[dict(trigger="75", per_period=100, volume=400)])
    op.do("reserve_sale", buyer="alice", tier=0, vintage=2027, quantity=30)
    assert funded.allowance.balanceOf(alice, allowance_id(2027)) == 30


def test_the_breaker_halts_and_reopens_through_operations(op, funded, regulator, exchange, alice, bob):
    list_for_trading(funded, regulator, exchange, (alice, bob), reference=60 * MONEY_UNIT)
    op.do("breaker", token="allowance 2026", move_bps=300, window="10m", cooling_off="15m")
    op.do("observe", by="carol", tokens=["allowance 2026"])
    op.do("place", token="allowance 2026", orders=[dict(ref="s1", trader="bob", side="sell", price="62", lots=5),
                                                   dict(ref="b1", trader="alice", side="buy", price="62", lots=5)])
    receipts = op.do("observe", by="carol", tokens=["allowance 2026"])
    assert receipts[0].event("Halted")["reason"] == 1
    chain.sleep(15 * 60 + 1)
    op.do("reopen", by="carol", token="allowance 2026")
    assert op.do("reopen", by="carol", token="allowance 2026") == []
    assert funded.market.instrument(1)["phase"] == 0
