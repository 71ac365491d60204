"""Hostile callers (contracts/test/HostileParticipant.sol): a participant that is a contract refusing ERC-1155 units,
burning all the gas of its receiver hook, answering the wrong selector, or re-entering the market, the block-trade
desk and compliance from that hook. Every attempt fails cleanly or is harmless, and none blocks a batch or another
participant: allocations are held for a contract enterprise to claim, makers claim their fills, the call auction
clears without paying anyone."""

from __future__ import annotations

from enum import IntEnum

import pytest
from brownie import HostileParticipant, web3

from carbon_market.errors import ANY, reverts
from carbon_market.market import FEE_CAP_BPS, TICK_SIZE, Side
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, onboarding
from tests.conftest import ALLOWANCE_2026, BEIJING, DOC, POWER, YEAR, list_for_trading

BUY, SELL = Side.BUY, Side.SELL
INSTRUMENT = 1
REFERENCE = 60 * 10**6
CREDIT = b"MARKET".ljust(32, b"\0")
FREEZE = b"\x0f" * 32


class Mode(IntEnum):
    ACCEPT = 0
    REFUSE = 1
    BURN_GAS = 2
    WRONG_SELECTOR = 3
    REENTER = 4


def selector(signature: str) -> bytes:
    return bytes(web3.keccak(text=signature)[:4])


def error_data(signature: str, *words: int | str) -> bytes:
    """ABI encoding of a custom error whose arguments are all static words."""
    encoded = b"".join(int(w, 16).to_bytes(32, "big") if isinstance(w, str) else int(w).to_bytes(32, "big")
                       for w in words)
    return selector(signature) + encoded


REENTRANT = selector("ReentrancyGuardReentrantCall()")


class Hostile:
    """A deployed HostileParticipant and its owner; ``act`` calls a contract as the hostile participant."""

    def __init__(self, contract, owner):
        self.contract = contract
        self.owner = owner
        self.address = contract.address

    def act(self, target, fn: str, *args, gas_limit=None):
        data = getattr(target, fn).encode_input(*args)
        tx = {"from": self.owner}
        if gas_limit:
            tx["gas_limit"] = gas_limit
        return self.contract.execute(target, data, tx)

    def mode(self, mode: Mode, target=None, fn: str | None = None, *args):
        data = getattr(target, fn).encode_input(*args) if fn else b""
        self.contract.configure(mode, target or "0x" + "0" * 40, data, {"from": self.owner})

    def approve(self, suite):
        for spender in (suite.market, suite.desk):
            self.act(suite.allowance, "setApprovalForAll", spender, True)
            self.act(suite.money, "approve", spender, 2**256 - 1)


@pytest.fixture(scope="module")
def hostile(suite, regulator, newcomers):
    """A power enterprise in Beijing that is a contract, owned by a test account; accepts until told otherwise."""
    owner = newcomers[0]
    contract = HostileParticipant.deploy(owner, {"from": owner})
    suite.registry.onboard(onboarding(contract, Role.ENTERPRISE, region=BEIJING, sector=POWER), {"from": regulator})
    return Hostile(contract, owner)


# ---------------------------------------------------------------- compliance: enrolment and true-up


@pytest.fixture(scope="module")
def year(year_open):
    return year_open


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BURN_GAS, Mode.WRONG_SELECTOR])
def test_a_hostile_enterprise_cannot_block_enrolment(year, regulator, alice, bob, hostile, mode):
    c, allowance = year.compliance, year.allowance
    hostile.mode(mode)
    tx = c.enroll(YEAR, [alice, hostile.address, bob], [100_000, 50_000, 40_000], {"from": regulator})

    allocated = {e["enterprise"]: e["minted"] for e in tx.events["PreAllocated"]}
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == allocated[alice] > 0
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == allocated[bob] > 0
    assert allowance.balanceOf(hostile.address, ALLOWANCE_2026) == 0
    assert c.heldAllocation(YEAR, hostile.address) == allocated[hostile.address] > 0
    held = tx.events["AllocationHeld"]
    assert len(held) == 1 and dict(held[0]) == {"year": YEAR, "enterprise": hostile.address,
                                                  "amount": allocated[hostile.address]}
    # the hook was never called: the batch's gas is what three ordinary enrolments cost
    assert tx.gas_used < 600_000


def test_a_held_allocation_is_claimed_by_its_enterprise_alone(year, regulator, alice, hostile):
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [alice, hostile.address], [100_000, 50_000], {"from": regulator})
    held = c.heldAllocation(YEAR, hostile.address)

    hostile.mode(Mode.REFUSE)
    with reverts("Hostile__CallFailed", c, ANY):
        hostile.act(c, "claimAllocation", YEAR)
    assert c.heldAllocation(YEAR, hostile.address) == held  # the failed claim changed nothing
    with reverts("Compliance__NothingToClaim", YEAR, alice):
        c.claimAllocation(YEAR, {"from": alice})

    hostile.mode(Mode.ACCEPT)
    tx = hostile.act(c, "claimAllocation", YEAR)
    assert dict(tx.events["AllocationClaimed"]) == {"year": YEAR, "enterprise": hostile.address, "amount": held}
    assert allowance.balanceOf(hostile.address, ALLOWANCE_2026) == held
    assert c.heldAllocation(YEAR, hostile.address) == 0
    with reverts("Hostile__CallFailed", c, ANY):
        hostile.act(c, "claimAllocation", YEAR)


def test_re_entering_a_claim_from_its_own_mint_claims_nothing_more(year, regulator, hostile):
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [hostile.address], [50_000], {"from": regulator})
    held = c.heldAllocation(YEAR, hostile.address)
    hostile.mode(Mode.REENTER, c, "claimAllocation", YEAR)

    hostile.act(c, "claimAllocation", YEAR)
    h = hostile.contract
    assert (h.reentries(), h.reentriesSucceeded()) == (1, 0)
    assert bytes(h.lastReentryResult()) == error_data(
        "Compliance__NothingToClaim(uint16,address)", YEAR, hostile.address)
    assert allowance.balanceOf(hostile.address, ALLOWANCE_2026) == h.unitsReceived() == held


def finalize_with(c, regulator, verifier, enterprises, reports):
    for who, (emissions, output) in zip(enterprises, reports):
        if hasattr(who, "act"):
            who.act(c, "submitReport", YEAR, emissions, output, DOC)
            c.attest(YEAR, who.address, {"from": verifier})
        else:
            c.submitReport(YEAR, emissions, output, DOC, {"from": who})
            c.attest(YEAR, who, {"from": verifier})
    return c.finalize(YEAR, [getattr(e, "address", e) for e in enterprises], {"from": regulator})


def test_a_hostile_enterprise_cannot_block_a_true_up(year, regulator, verifier, alice, hostile):
    """The top-up of a gas-burning contract enterprise is held; alice's in the same batch is minted."""
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [alice, hostile.address], [100_000, 50_000], {"from": regulator})
    hostile.mode(Mode.BURN_GAS)
    held_before = c.heldAllocation(YEAR, hostile.address)
    alice_before = allowance.balanceOf(alice, ALLOWANCE_2026)

    tx = finalize_with(c, regulator, verifier, [alice, hostile], [(90_000, 120_000), (50_000, 60_000)])
    ups = {e["enterprise"]: e for e in tx.events["TrueUp"]}
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == alice_before + ups[alice]["minted"]
    assert ups[hostile.address]["minted"] > 0
    assert c.heldAllocation(YEAR, hostile.address) == held_before + ups[hostile.address]["minted"]
    assert c.enterpriseYear(YEAR, hostile.address)["allocated"] == ups[hostile.address]["entitlement"]
    assert tx.gas_used < 1_000_000


def test_an_excess_is_taken_from_the_held_allocation_first(year, regulator, verifier, hostile, issuer):
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [hostile.address], [50_000], {"from": regulator})
    held = c.heldAllocation(YEAR, hostile.address)
    assert held == 28_000  # 70% of 0.8 t x 50,000 MWh
    hostile.mode(Mode.ACCEPT)
    allowance.mint(hostile.address, ALLOWANCE_2026, 1_000, {"from": issuer})

    # entitlement 0.8 x 20,000 = 16,000: 12,000 too many, all of them still held
    tx = finalize_with(c, regulator, verifier, [hostile], [(20_000, 20_000)])
    up = tx.events["TrueUp"]
    # taken from what is held: never minted, so not a claw-back (issue 20), and the event says so
    assert (up["entitlement"], up["clawedBack"], up["debtAdded"]) == (16_000, 0, 0)
    assert tx.events["HeldAllocationReduced"]["amount"] == held - 16_000
    assert "ClawedBack" not in tx.events
    assert c.heldAllocation(YEAR, hostile.address) == 16_000
    assert allowance.balanceOf(hostile.address, ALLOWANCE_2026) == 1_000
    assert c.debtOf(hostile.address) == 0


def test_an_excess_beyond_the_held_allocation_is_clawed_back_then_carried(year, regulator, verifier, alice, hostile):
    """Once claimed, an excess comes off the balance; what the balance cannot cover becomes debt."""
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [hostile.address], [50_000], {"from": regulator})
    hostile.act(c, "claimAllocation", YEAR)  # 28,000
    hostile.act(allowance, "safeTransferFrom", hostile.address, alice, ALLOWANCE_2026, 20_000, b"")

    # entitlement 0.8 x 1,000 = 800: 27,200 too many, 8,000 on the balance
    tx = finalize_with(c, regulator, verifier, [hostile], [(1_000, 1_000)])
    up = tx.events["TrueUp"]
    assert (up["entitlement"], up["clawedBack"], up["debtAdded"]) == (800, 8_000, 19_200)
    assert tx.events["ClawedBack"]["amount"] == 8_000
    assert allowance.balanceOf(hostile.address, ALLOWANCE_2026) == 0
    assert c.heldAllocation(YEAR, hostile.address) == 0
    assert c.debtOf(hostile.address) == 19_200


def test_a_frozen_enterprise_cannot_block_a_true_up(year, registry, regulator, verifier, alice, bob):
    """An enterprise frozen between enrolment and finalisation has its top-up held, not the batch reverted."""
    c, allowance = year.compliance, year.allowance
    c.enroll(YEAR, [alice, bob], [100_000, 40_000], {"from": regulator})
    for who, emissions, output in ((alice, 90_000, 120_000), (bob, 40_000, 60_000)):
        c.submitReport(YEAR, emissions, output, DOC, {"from": who})
        c.attest(YEAR, who, {"from": verifier})
    registry.freeze(bob, FREEZE, {"from": regulator})
    bob_before = allowance.balanceOf(bob, ALLOWANCE_2026)

    tx = c.finalize(YEAR, [alice, bob], {"from": regulator})
    top_up = {e["enterprise"]: e["minted"] for e in tx.events["TrueUp"]}[bob]
    assert top_up > 0 and c.heldAllocation(YEAR, bob) == top_up
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == bob_before
    with reverts("Registry__NotActive", bob, ANY):
        c.claimAllocation(YEAR, {"from": bob})

    registry.unfreeze(bob, FREEZE, {"from": regulator})
    c.claimAllocation(YEAR, {"from": bob})
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == bob_before + top_up


# ---------------------------------------------------------------- market and desk


@pytest.fixture(scope="module")
def market(funded, regulator, exchange, alice, bob, carol, hostile, issuer):
    """Instrument 1 (2026 allowances, 1 t a lot, 60 tCNY reference); the hostile participant holds 500 units and
    100,000 tCNY, has approved the market and the desk, and is in credit tier 1 like alice and bob."""
    list_for_trading(funded, regulator, exchange, (alice, bob, carol), reference=REFERENCE)
    funded.allowance.mint(hostile.address, ALLOWANCE_2026, 500, {"from": issuer})
    funded.money.issue(hostile.address, 100_000 * MONEY_UNIT, {"from": regulator})
    hostile.approve(funded)
    for who in (alice, bob, hostile.address):
        funded.credit.reward(who, 100, CREDIT, {"from": issuer})
    return funded.market


def price(tick: int) -> int:
    return tick * TICK_SIZE


def placed(tx) -> int:
    return tx.events["OrderPlaced"]["orderId"]


def test_re_entering_the_market_from_a_claim_fails(market, funded, alice, hostile):
    bid = placed(hostile.act(market, "place", INSTRUMENT, BUY, price(6_000), 10, False, 100, FEE_CAP_BPS))
    market.place(INSTRUMENT, SELL, price(6_000), 10, False, 100, FEE_CAP_BPS, {"from": alice})
    units = funded.allowance.balanceOf(hostile.address, ALLOWANCE_2026)
    hostile.mode(Mode.REENTER, market, "claim", [bid])

    hostile.act(market, "claim", [bid])
    h = hostile.contract
    assert (h.reentries(), h.reentriesSucceeded()) == (1, 0)
    assert bytes(h.lastReentryResult()) == REENTRANT
    assert funded.allowance.balanceOf(hostile.address, ALLOWANCE_2026) == units + 10
    assert funded.allowance.balanceOf(market, ALLOWANCE_2026) == 0


@pytest.mark.parametrize("fn", ["place", "cancel"])
def test_re_entering_the_market_from_a_taker_fill_fails(market, funded, alice, hostile, fn):
    """A buy that fills at once receives its units inside `place`; the hook re-enters and is refused."""
    resting = placed(hostile.act(market, "place", INSTRUMENT, BUY, price(5_900), 5, False, 100, FEE_CAP_BPS))
    market.place(INSTRUMENT, SELL, price(6_000), 10, False, 100, FEE_CAP_BPS, {"from": alice})
    args = (INSTRUMENT, SELL, price(6_100), 1, False, 100, FEE_CAP_BPS) if fn == "place" else (resting,)
    hostile.mode(Mode.REENTER, market, fn, *args)
    units = funded.allowance.balanceOf(hostile.address, ALLOWANCE_2026)

    hostile.act(market, "place", INSTRUMENT, BUY, price(6_000), 10, False, 100, FEE_CAP_BPS)
    h = hostile.contract
    assert (h.reentries(), h.reentriesSucceeded(), bytes(h.lastReentryResult())) == (1, 0, REENTRANT)
    assert funded.allowance.balanceOf(hostile.address, ALLOWANCE_2026) == units + 10
    assert market.order(resting)["remaining"] == 5  # the re-entering cancel did not happen


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BURN_GAS])
def test_a_hostile_maker_cannot_block_takers_or_other_makers(market, funded, alice, bob, carol, hostile, mode):
    """Bids of a refusing or gas-burning contract and of bob rest; carol sells into both; bob claims as usual."""
    h_bid = placed(hostile.act(market, "place", INSTRUMENT, BUY, price(6_000), 10, False, 100, FEE_CAP_BPS))
    b_bid = placed(market.place(INSTRUMENT, BUY, price(6_000), 10, False, 100, FEE_CAP_BPS, {"from": bob}))
    hostile.mode(mode)

    tx = market.place(INSTRUMENT, SELL, price(6_000), 20, False, 100, FEE_CAP_BPS, {"from": carol})
    assert [e["orderId"] for e in tx.events["OrderFilled"]] == [h_bid, b_bid]
    bob_units = funded.allowance.balanceOf(bob, ALLOWANCE_2026)
    market.claim([b_bid], {"from": bob})
    assert funded.allowance.balanceOf(bob, ALLOWANCE_2026) == bob_units + 10

    with reverts("Hostile__CallFailed", market, ANY):
        hostile.act(market, "claim", [h_bid], gas_limit=2_000_000)
    hostile.mode(Mode.ACCEPT)
    hostile.act(market, "claim", [h_bid])
    assert funded.allowance.balanceOf(market, ALLOWANCE_2026) == 0


def test_a_gas_burning_bidder_cannot_block_a_call_auction(market, funded, exchange, alice, bob, hostile):
    market.openCall(INSTRUMENT, {"from": exchange})
    h_bid = placed(hostile.act(market, "place", INSTRUMENT, BUY, price(6_100), 10, False, 0, FEE_CAP_BPS))
    b_bid = placed(market.place(INSTRUMENT, BUY, price(6_050), 10, False, 0, FEE_CAP_BPS, {"from": bob}))
    ask = placed(market.place(INSTRUMENT, SELL, price(6_000), 20, False, 0, FEE_CAP_BPS, {"from": alice}))
    hostile.mode(Mode.BURN_GAS)

    tx = market.closeCall(INSTRUMENT, 1_000, {"from": exchange})
    assert (tx.events["CallCleared"]["priceTick"], tx.events["CallCleared"]["volume"]) == (6_000, 20)  # volume 20 from 6,000 to 6,050: the nearest the reference
    bob_units = funded.allowance.balanceOf(bob, ALLOWANCE_2026)
    market.claim([b_bid], {"from": bob})
    market.claim([ask], {"from": alice})
    assert funded.allowance.balanceOf(bob, ALLOWANCE_2026) == bob_units + 10
    hostile.mode(Mode.ACCEPT)
    hostile.act(market, "claim", [h_bid])
    assert funded.allowance.balanceOf(market, ALLOWANCE_2026) == 0


@pytest.fixture
def propose_to(market, funded):
    desk = funded.desk

    def _propose(proposer, to, side, lots, tick):
        from brownie import chain
        expiry = chain[-1].timestamp + 3_600
        if hasattr(proposer, "act"):
            tx = proposer.act(desk, "propose", INSTRUMENT, to, side, lots, price(tick), expiry)
        else:
            tx = desk.propose(INSTRUMENT, to, side, lots, price(tick), expiry, {"from": proposer})
        return tx.events["BlockProposed"]["blockId"]

    return _propose


def test_a_refusing_block_buyer_only_spoils_its_own_proposal(market, funded, alice, hostile, propose_to):
    desk, allowance, money = funded.desk, funded.allowance, funded.money
    block = propose_to(hostile, alice, BUY, 200, 6_000)
    hostile.mode(Mode.REFUSE)
    before = [(money.balanceOf(a), allowance.balanceOf(a, ALLOWANCE_2026)) for a in (alice, hostile.address, desk)]

    with reverts("Hostile__Refused", desk, alice, ALLOWANCE_2026, 200):
        desk.accept(block, {"from": alice})
    after = [(money.balanceOf(a), allowance.balanceOf(a, ALLOWANCE_2026)) for a in (alice, hostile.address, desk)]
    assert after == before
    hostile.act(desk, "cancel", block)  # money comes back through ERC-20, which has no hook
    assert money.balanceOf(hostile.address) > before[1][0]


def test_re_entering_the_desk_from_a_block_settlement_fails(market, funded, alice, hostile, propose_to):
    desk = funded.desk
    first = propose_to(hostile, alice, BUY, 200, 6_000)
    second = propose_to(hostile, alice, BUY, 200, 6_000)
    hostile.mode(Mode.REENTER, desk, "cancel", second)

    desk.accept(first, {"from": alice})
    h = hostile.contract
    assert (h.reentries(), h.reentriesSucceeded(), bytes(h.lastReentryResult())) == (1, 0, REENTRANT)
    assert desk.blockTrade(second)["proposer"] == hostile.address


# ---------------------------------------------------------------- primary auction


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BURN_GAS, Mode.WRONG_SELECTOR, Mode.REENTER])
def test_a_hostile_bidder_cannot_block_a_claim_batch_and_withdraws_alone(
        funded, regulator, issuer, alice, bob, hostile, mode):
    import secrets

    from brownie import chain

    from carbon_market.auctions import AuctionRules
    from carbon_market.bids import commitment
    from carbon_market.ids import allowance_id

    auction = funded.auction
    funded.money.issue(hostile.address, 10_000 * MONEY_UNIT, {"from": regulator})
    hostile.act(funded.money, "approve", auction, 2**255)
    funded.money.approve(auction, 2**255, {"from": alice})
    chain.mine()
    now = chain[-1].timestamp
    rules = AuctionRules(reserve_price=MONEY_UNIT, tick_size=MONEY_UNIT // 100, commit_end=now + 100,
                         reveal_end=now + 200, enterprise_limit_bps=10_000)
    aid = auction.offer(2030, 100, rules.as_tuple(), {"from": regulator}).events["AuctionOffered"]["auctionId"]
    bids = []
    for bidder, price in ((alice, 50 * MONEY_UNIT), (hostile, 55 * MONEY_UNIT)):
        salt = secrets.token_bytes(32)
        c = commitment(aid, bidder.address, price, 50, salt)
        if bidder is hostile:
            tx = hostile.act(auction, "commit", aid, c, price * 51)
        else:
            tx = auction.commit(aid, c, price * 51, {"from": bidder})
        bids.append((tx.events["BidCommitted"]["bidId"], bidder, price, salt))
    chain.sleep(101)
    chain.mine()
    for bid_id, bidder, price, salt in bids:
        if bidder is hostile:
            hostile.act(auction, "reveal", bid_id, price, 50, salt)
        else:
            auction.reveal(bid_id, price, 50, salt, {"from": bidder})
    chain.sleep(101)
    chain.mine()
    auction.clear(aid, 10, {"from": bob})
    # the hook would refuse, burn the gas, answer wrongly or re-enter the auction's claim
    hostile.mode(mode, auction, "claim", [bids[1][0]])
    tx = auction.claim([bids[1][0], bids[0][0]], {"from": bob})
    assert tx.gas_used < 400_000  # the hostile hook was never called
    assert funded.allowance.balanceOf(alice, allowance_id(2030)) == 50
    held = tx.events["SettlementHeld"]
    assert len(held) == 1 and held[0]["bidder"] == hostile.address and held[0]["units"] == 50
    # the refund: the deposit (55 x 51) less 50 units at the clearing price (50, the lowest accepted bid)
    assert tuple(map(int, auction.held(hostile.address, 2030))) == (50, (55 * 51 - 50 * 50) * MONEY_UNIT)
    with reverts("Auction__NothingHeld", alice, 2030):
        auction.withdrawHeld(2030, {"from": alice})
    if mode != Mode.REENTER:
        with reverts("Hostile__CallFailed", auction, ANY):
            hostile.act(auction, "withdrawHeld", 2030)
        assert tuple(map(int, auction.held(hostile.address, 2030))) == (50, (55 * 51 - 50 * 50) * MONEY_UNIT)
    hostile.mode(Mode.ACCEPT)
    hostile.act(auction, "withdrawHeld", 2030)
    assert funded.allowance.balanceOf(hostile.address, allowance_id(2030)) == 50
    assert tuple(map(int, auction.held(hostile.address, 2030))) == (0, 0)
