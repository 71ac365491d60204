"""The regulator's instruments through the operations layer (what operations files and the simulation run): a
sealed-bid auction from offer to claims, the supply reserve moved by the circulation, a containment sale, and a
circuit-breaker halt ended by the reopening auction. Every step is run a second time to show it is safe to re-run."""

from __future__ import annotations

import pytest
from brownie import chain

from carbon_market.auctions import SealedBid, clear, sealing_deposit
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
    from dataclasses import replace

    from carbon_market.errors import reverts
    from carbon_market.ops.steps import _salt

    op.do("offer_auction", ref="a1", vintage=2028, volume=600, reserve_price="45", commit_for="1h",
          reveal_for="1h")
    op.do("commit_bids", auction="a1", secret=SECRET, bids=BIDS[:1])
    chain.sleep(3_601)
    monkeypatch.delenv(SECRET)
    # a development chain falls back to a secret everybody knows: not the one the bid was sealed with
    with reverts("Auction__CommitmentMismatch", op.ref("b1")):
        op.do("reveal_bids", auction="a1", secret=SECRET, bids=BIDS[:1])
    # anywhere else a missing secret is one line, before anything is sent
    live = replace(op.run, node=type("Live", (), {"development": False})())
    with pytest.raises(OpsError, match=f"{SECRET} is not set"):
        _salt(live, {"secret": SECRET, "auction": "a1"}, {"bidder": "alice", "ref": "b1"})


def test_supply_and_containment_reserves_through_operations(op, funded, regulator, exchange, alice, bob):
    op.do("supply_rules", origin="+0s", period="365d", first_vintage=2026, vintages=3, upper=1_000, lower=100,
          intake_bps=2_400, release=50)
    op.do("compute_supply", by="carol")
    assert op.do("compute_supply", by="carol") == []  # once a period
    assert funded.reserve.supply()["toWithhold"] == 1_650 * 2_400 // 10_000
    list_for_trading(funded, regulator, exchange, (alice, bob), reference=80 * MONEY_UNIT)
    op.do("containment", reference="allowance 2026", tiers=[dict(trigger="75", per_period=100, volume=400)])
    before = funded.allowance.balanceOf(bob, allowance_id(2027))
    # several buyers in one operation: each buyer's approval (if it has none) before its purchase
    op.do("reserve_sale", tier=0, vintage=2027,
          purchases=[dict(buyer="alice", quantity=30), dict(buyer="bob", quantity=20)])
    assert funded.allowance.balanceOf(alice, allowance_id(2027)) == 30
    assert funded.allowance.balanceOf(bob, allowance_id(2027)) == before + 20


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


def test_trace_and_audit_rebuild_auctions_and_reserve_movements_from_events(op, funded):
    from brownie import web3

    from carbon_market import audit
    from carbon_market.commands import trace_lines
    from carbon_market.trace import auction_history, reserve_movements

    op.do("supply_rules", origin="+0s", period="365d", first_vintage=2026, vintages=3, upper=1_000, lower=100,
          intake_bps=2_400, release=50)
    op.do("compute_supply", by="carol")  # 1,650 in circulation: 396 to withhold
    op.do("offer_auction", ref="a1", vintage=2028, volume=1_000, reserve_price="45", commit_for="1h",
          reveal_for="1h", unsold_to_reserve=True, enterprise_limit_bps=10_000)
    op.do("commit_bids", auction="a1", secret=SECRET, bids=BIDS)
    chain.sleep(3_601)
    op.do("reveal_bids", auction="a1", secret=SECRET, bids=BIDS[:3])  # b4 stays sealed
    chain.sleep(3_601)
    op.do("clear_auction", by="carol", auction="a1")
    op.do("claim_bids", by="carol", bids=["b1", "b2", "b3", "b4"])
    stored = funded.auction.auction(op.ref("a1"))
    record = auction_history(funded, op.ref("a1")).record
    assert record["volume"] == stored["volume"] == 1_000 - 396
    assert (record["state"], record["sold"], record["price"]) == ("cleared", stored["sold"], 50 * MONEY_UNIT)
    assert record["minted"] == funded.allowance.totalSupply(allowance_id(2028)) == stored["sold"]
    # 10% of b4's deposit: 9,700 tCNY bid, 10,000 deposited (the 1-2-5 series hides the bid's value)
    assert record["forfeited"] == sealing_deposit(BIDS[3]["quantity"] * 48_500_000) // 10 == 1_000 * MONEY_UNIT
    assert record["paid"] == stored["sold"] * 50 * MONEY_UNIT
    movements = reserve_movements(funded)
    assert [m["event"] for m in movements] == ["SupplyComputed", "AuctionOffered", "AuctionCleared"]
    assert movements[-1]["reserve"] == funded.reserve.supply()["reserve"] == 396 + stored["volume"] - stored["sold"]
    assert trace_lines(funded, "auction", str(op.ref("a1")), 0)[-1].startswith(f"auction {op.ref('a1')}: vintage")
    report = audit.build(funded, web3.eth.block_number)
    assert [(a["auction"], a["sold"]) for a in report.auctions] == [(op.ref("a1"), stored["sold"])]
    assert report.reserve[-1]["reserve"] == movements[-1]["reserve"]
