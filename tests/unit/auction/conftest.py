"""Fixtures of the primary auction's tests: alice and bob (enterprises) and carol (an investor) hold money and have
let the auction and the reserve take it; `offer` puts up an auction of the 2029 vintage (a vintage nobody holds)
with a one-hour commit window and a one-hour reveal window."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from carbon_market.auctions import AuctionRules
from carbon_market.bids import commitment
from carbon_market.suite import MONEY_UNIT

AUCTION_VINTAGE = 2029
TICK = MONEY_UNIT // 100  # 0.01 tCNY per tonne
RESERVE = 40 * MONEY_UNIT
HOUR = 3_600


@dataclass
class Sealed:
    """A committed bid and what reveals it."""

    bid_id: int
    bidder: object
    price: int
    quantity: int
    salt: bytes
    deposit: int


@pytest.fixture(scope="module")
def auction(funded, regulator, alice, bob, carol):
    for who in (alice, bob, carol):
        funded.money.approve(funded.auction, 2**255, {"from": who})
        funded.money.approve(funded.reserve, 2**255, {"from": who})
    return funded.auction


@pytest.fixture(scope="module")
def reserve(auction, funded):
    return funded.reserve


def rules(**changes) -> AuctionRules:
    from brownie import chain

    chain.mine()  # after a revert the node's clock runs ahead of the last block: read it from a new one
    now = chain[-1].timestamp
    base = dict(reserve_price=RESERVE, tick_size=TICK, commit_end=now + HOUR, reveal_end=now + 2 * HOUR)
    base.update(changes)
    return AuctionRules(**base)


@pytest.fixture
def offer(auction, regulator):
    """``offer(volume, **rule_changes)`` -> the auction id."""

    def _offer(volume, vintage=AUCTION_VINTAGE, **changes):
        tx = auction.offer(vintage, volume, rules(**changes).as_tuple(), {"from": regulator})
        return tx.events["AuctionOffered"]["auctionId"]

    return _offer


@pytest.fixture
def commit(auction):
    """``commit(auction_id, bidder, price, quantity, deposit=None)`` -> a Sealed bid (deposit: exactly the bid)."""

    def _commit(auction_id, bidder, price, quantity, deposit=None):
        salt = secrets.token_bytes(32)
        deposit = price * quantity if deposit is None else deposit
        tx = auction.commit(auction_id, commitment(auction_id, bidder.address, price, quantity, salt), deposit,
                            {"from": bidder})
        return Sealed(tx.events["BidCommitted"]["bidId"], bidder, price, quantity, salt, deposit)

    return _commit


def reveal(auction, sealed: Sealed, **changes):
    args = dict(price=sealed.price, quantity=sealed.quantity, salt=sealed.salt)
    args.update(changes)
    return auction.reveal(sealed.bid_id, args["price"], args["quantity"], args["salt"], {"from": sealed.bidder})


def _sleep_past(timestamp: int) -> None:
    from brownie import chain

    chain.sleep(max(0, timestamp - chain[-1].timestamp + 1))
    chain.mine()


def to_reveal(auction=None, auction_id=None):
    """Past the commit window of the given auction (of the latest one when none is given)."""
    from brownie import project

    auction = auction or project.get_loaded_projects()[0].PrimaryAuction[-1]
    auction_id = auction.auctionCount() - 1 if auction_id is None else auction_id
    _sleep_past(auction.auction(auction_id)["rules"]["commitEnd"])


def to_clear(auction=None, auction_id=None):
    """Past the reveal window of the given auction (of the latest one when none is given)."""
    from brownie import project

    auction = auction or project.get_loaded_projects()[0].PrimaryAuction[-1]
    auction_id = auction.auctionCount() - 1 if auction_id is None else auction_id
    _sleep_past(auction.auction(auction_id)["rules"]["revealEnd"])
