"""Stateful test of the primary auction's money and units against a Python model: auctions run one after another
(bids committed with deposits that may or may not cover them, revealed or left sealed, cleared in chunks), their bids
claimed later in any order and mix (twice too), proceeds paid between. Invariants after every step: the contract holds exactly the
deposits not yet claimed plus the proceeds not yet paid (every deposit is refunded, paid or forfeited exactly once),
the treasury received exactly what was paid and forfeited, and the units minted equal the units sold to the bids
claimed so far (all of the volume sold once every bid is claimed)."""

from __future__ import annotations

import secrets

from brownie import chain
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from carbon_market.auctions import AuctionRules, SealedBid, clear, forfeit, purchase_limit
from carbon_market.bids import commitment
from carbon_market.ids import allowance_id
from carbon_market.suite import MONEY_UNIT
from hypothesis import settings

from tests.stateful.machine import SETTINGS, ChainMachine, run

VINTAGE = 2031
TICK = MONEY_UNIT // 100
RESERVE_TICK = 3_000
who = st.sampled_from(range(3))


class AuctionMachine(ChainMachine):
    suite = regulator = None
    bidders: list = []

    def __init__(self) -> None:
        super().__init__()
        self.auction_id: int | None = None
        self.volume = 0
        self.rounds = 0
        self.forfeit_bps: dict[int, int] = {}
        self.rules: AuctionRules | None = None
        self.bids: dict[int, dict] = {}      # bid id -> the model's bid
        self.order: list[int] = []           # this auction's revealed bids, in reveal order
        self.alloc: dict[int, int] = {}      # bid id -> units, once its auction is final
        self.price: dict[int, int] = {}      # auction id -> clearing price (0: cancelled)
        self.proceeds = 0
        self.paid_out = 0
        self.minted = 0
        self.treasury0 = self.suite.money.balanceOf(self.regulator)

    # ---------------------------------------------------------------- auction life

    @rule(volume=st.integers(1, 150), forfeit_bps=st.sampled_from([0, 1_000, 10_000]),
          bids=st.lists(st.tuples(who, st.integers(-1, 6), st.integers(1, 60), st.integers(-1, 3),
                                  st.sampled_from([True, True, True, False])), min_size=0, max_size=8),
          steps=st.integers(1, 4), to_reserve=st.booleans())
    def auction_round(self, volume, forfeit_bps, bids, steps, to_reserve):
        """One auction from offer to clearing: bids committed (deposits short by a tick when the slack is -1),
        revealed when drawn so (in order), cleared in chunks of `steps` price levels; claims come later."""
        self.offer(volume, forfeit_bps, to_reserve)
        for i, ticks, qty, slack, _ in bids:
            self.commit(i, ticks, qty, slack)
        chain.sleep(self.rules.commit_end - chain[-1].timestamp + 1)
        chain.mine()
        mine = sorted(b for b, m in self.bids.items() if m["auction"] == self.auction_id)
        for bid_id, (*_, reveal) in zip(mine, bids, strict=True):
            if reveal:
                self.reveal(bid_id)
        chain.sleep(self.rules.reveal_end - chain[-1].timestamp + 1)
        chain.mine()
        while not self.clear(steps):
            pass

    def offer(self, volume, forfeit_bps, to_reserve):
        chain.mine()  # after a revert the node's clock runs ahead of the last block: read it from a new one
        now = chain[-1].timestamp
        self.rules = AuctionRules(reserve_price=RESERVE_TICK * TICK, tick_size=TICK, commit_end=now + 600,
                                  reveal_end=now + 1_200, enterprise_limit_bps=10_000, investor_limit_bps=5_000,
                                  forfeit_bps=forfeit_bps, unsold_to_reserve=to_reserve)
        tx = self.suite.auction.offer(VINTAGE, volume, self.rules.as_tuple(), {"from": self.regulator})
        self.auction_id = tx.events["AuctionOffered"]["auctionId"]
        self.volume = tx.events["AuctionOffered"]["volume"]
        self.forfeit_bps[self.auction_id] = forfeit_bps
        self.order = []

    def commit(self, i, ticks, qty, slack):
        bidder = self.bidders[i]
        price = (RESERVE_TICK + ticks) * TICK
        salt = secrets.token_bytes(32)
        deposit = price * qty + slack * TICK  # slack -1: the deposit falls short of the bid
        tx = self.suite.auction.commit(self.auction_id, commitment(self.auction_id, bidder.address, price, qty, salt),
                                       deposit, {"from": bidder})
        bid_id = tx.events["BidCommitted"]["bidId"]
        self.bids[bid_id] = dict(auction=self.auction_id, bidder=bidder, price=price, qty=qty, salt=salt,
                                 deposit=deposit, revealed=False, claimed=False)

    def reveal(self, bid_id):
        m = self.bids[bid_id]
        used = sum(self.bids[b]["qty"] for b in self.order if self.bids[b]["bidder"] == m["bidder"])
        share = self.rules.enterprise_limit_bps if m["bidder"] != self.bidders[2] else self.rules.investor_limit_bps
        error = ("Auction__BelowReserve" if m["price"] < self.rules.reserve_price
                 else "Auction__BadQuantity" if m["qty"] > self.volume
                 else "Auction__DepositShort" if m["deposit"] < m["price"] * m["qty"]
                 else "Auction__PurchaseLimit" if used + m["qty"] > purchase_limit(self.volume, share) else None)
        self.expect(error, self.suite.auction.reveal, bid_id, m["price"], m["qty"], m["salt"], {"from": m["bidder"]})
        if error is None:
            m["revealed"] = True
            self.order.append(bid_id)

    def clear(self, steps) -> bool:
        if not self.suite.auction.clear(self.auction_id, steps).return_value:
            assert self.suite.auction.auction(self.auction_id)["stage"] == 2
            return False
        want = clear(self.volume, [SealedBid(str(self.bids[b]["bidder"]), self.bids[b]["price"], self.bids[b]["qty"])
                                   for b in self.order], floor=self.rules.reserve_price)
        self.price[self.auction_id] = want.price
        for b, units in zip(self.order, want.allocations, strict=True):
            self.alloc[b] = units
        got = self.suite.auction.auction(self.auction_id)
        assert got["stage"] == (4 if want.cancelled else 3)
        assert got["sold"] == want.sold
        self.rounds += 1
        return True

    # ---------------------------------------------------------------- money

    def _claimable(self) -> list[int]:
        return list(self.bids)

    @precondition(lambda self: self._claimable())
    @rule(data=st.data())
    def claim(self, data):
        done = self._claimable()
        batch = data.draw(st.lists(st.sampled_from(done), min_size=1, max_size=4, unique=True))
        twice = next((b for b in batch if self.bids[b]["claimed"]), None)
        if twice is not None:
            self.expect("Auction__AlreadyClaimed", self.suite.auction.claim, batch, {"from": self.bidders[0]})
            return
        self.suite.auction.claim(batch, {"from": self.bidders[1]})
        for b in batch:
            self._account_claim(b)

    def _account_claim(self, b: int) -> None:
        m = self.bids[b]
        m["claimed"] = True
        if m["revealed"]:
            units = self.alloc.get(b, 0)
            self.minted += units
            self.proceeds += units * self.price[m["auction"]]
        else:
            self.proceeds += forfeit(m["deposit"], self.forfeit_bps[m["auction"]])

    @rule()
    def pay_proceeds(self):
        self.suite.auction.payProceeds({"from": self.bidders[2]})
        self.paid_out += self.proceeds
        self.proceeds = 0

    def teardown(self):
        """Every bid claimed and the proceeds paid: the contract holds nothing, the treasury got every payment and
        forfeit, and every auction's volume sold was minted."""
        left = [b for b, m in self.bids.items() if not m["claimed"]]
        for start in range(0, len(left), 50):
            self.suite.auction.claim(left[start:start + 50], {"from": self.bidders[0]})
            for b in left[start:start + 50]:
                self._account_claim(b)
        self.pay_proceeds()
        self.deposits_are_held_until_claimed_once()
        assert self.suite.money.balanceOf(self.suite.auction) == 0
        sold = sum(self.suite.auction.auction(a)["sold"] for a in self.price)
        assert self.suite.allowance.totalSupply(allowance_id(VINTAGE)) == self.minted == sold

    # ---------------------------------------------------------------- invariants

    @invariant()
    def deposits_are_held_until_claimed_once(self):
        held = sum(m["deposit"] for m in self.bids.values() if not m["claimed"])
        assert self.suite.money.balanceOf(self.suite.auction) == held + self.proceeds
        assert self.suite.auction.proceeds() == self.proceeds
        assert self.suite.money.balanceOf(self.regulator) - self.treasury0 == self.paid_out

    @invariant()
    def units_minted_are_units_sold_to_claimed_bids(self):
        assert self.suite.allowance.totalSupply(allowance_id(VINTAGE)) == self.minted
        for a, price in self.price.items():
            bids = [b for b, m in self.bids.items() if m["auction"] == a]
            if price and all(self.bids[b]["claimed"] for b in bids):
                assert sum(self.alloc.get(b, 0) for b in bids) == self.suite.auction.auction(a)["sold"]


def test_auction_stateful(suite, regulator, alice, bob, carol):
    for b in (alice, bob, carol):
        suite.money.issue(b, 1_000_000 * MONEY_UNIT, {"from": regulator})
        suite.money.approve(suite.auction, 2**255, {"from": b})
    run(AuctionMachine, run_settings=settings(SETTINGS, max_examples=20, stateful_step_count=12), suite=suite,
        regulator=regulator, bidders=[alice, bob, carol])
