"""Bad inputs, contract by contract: zero and maximum amounts, unknown ids, wrong vintages, past deadlines, prices
off the tick grid or outside the band, duplicated entries in batch calls. Each is refused with its named error and
its arguments, by the account that would otherwise be allowed to make the call, and changes nothing.

The table is the specification: one row per bad input, ``(label, call, error, arguments)``, where ``call`` takes
the world (the fixture below) and makes the call, and ``arguments`` is a function of the world giving the error's
arguments (``ANY`` where a value is not the point, e.g. a block time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from brownie import chain

from carbon_market.compliance import ReportState, Rules
from carbon_market.errors import ANY, reverts
from carbon_market.ids import allowance_id
from carbon_market.market import FEE_CAP_BPS, TICK_SIZE, Side, band, params_with
from carbon_market.roles import Role, Status
from carbon_market.suite import onboarding
from tests.conftest import ALLOWANCE_2026, BENCHMARKS, DOC, OFFSET_7_2025, POWER, WHY, YEAR, list_for_trading

BUY, SELL = Side.BUY, Side.SELL
A27 = allowance_id(YEAR + 1)
#: a token id of no kind the allowance knows (kind 3)
UNKNOWN_KIND = (3 << 248) | (YEAR << 232)
#: an allowance id whose vintage is outside 2000..2200
VINTAGE_1999 = (1 << 248) | (1999 << 232)
#: an allowance id with a project number, which only offsets carry
ALLOWANCE_WITH_PROJECT = ALLOWANCE_2026 | 7
UINT256_MAX = 2**256 - 1
UINT48_MAX = 2**48 - 1
REFERENCE_TICK = 6_000
LOW, HIGH = band(REFERENCE_TICK, 1_000)  # 5,400 and 6,600
LOTS = 10


@dataclass
class World:
    s: Any
    regulator: Any
    verifier: Any
    exchange: Any
    issuer: Any
    alice: Any
    bob: Any
    carol: Any
    dave: Any
    newcomer: Any
    rules: Rules
    project: int


@pytest.fixture(scope="module")
def world(funded, year_open, regulator, verifier, exchange, issuer, alice, bob, carol, dave, newcomers, rules):
    """Year 2026 open; alice and bob enrolled, alice verified at 500 t and holding allowances; the 2026 allowance
    listed at 60 tCNY; dave's offset project 1 registered; everyone has approved the market and the desk."""
    s = year_open
    c = s.compliance
    c.enroll(YEAR, [alice, bob], [1_000, 1_000], {"from": regulator})
    c.submitReport(YEAR, 500, 1_000, DOC, {"from": alice})
    c.attest(YEAR, alice, {"from": verifier})
    c.finalize(YEAR, [alice], {"from": regulator})
    s.allowance.mint(alice, A27, 100, {"from": issuer})
    s.allowance.mint(alice, OFFSET_7_2025, 100, {"from": issuer})
    list_for_trading(s, regulator, exchange, (alice, bob, carol), reference=REFERENCE_TICK * TICK_SIZE)
    for who in (alice, bob):
        s.credit.reward(who, 100, b"GOOD".ljust(32, b"\0"), {"from": issuer})
    project = s.offsets.registerProject(dave, DOC, {"from": regulator}).return_value
    return World(s, regulator, verifier, exchange, issuer, alice, bob, carol, dave, newcomers[0], rules, project)


def _frm(who) -> dict:
    return {"from": who}


def _expiry() -> int:
    return chain[-1].timestamp + 3_600


def _resting_filled(w: World, lots_filled: int) -> int:
    """An ask of alice's at the reference, of which bob buys ``lots_filled``: the order id."""
    m = w.s.market
    ask = m.place(1, SELL, REFERENCE_TICK * TICK_SIZE, LOTS, False, 10, FEE_CAP_BPS, _frm(w.alice)).events["OrderPlaced"]["orderId"]
    m.place(1, BUY, REFERENCE_TICK * TICK_SIZE, lots_filled, False, 10, FEE_CAP_BPS, _frm(w.bob))
    return ask


def _params(w: World, **changes: Any) -> tuple:
    return params_with(w.s.market, **changes)


def _rules_with(w: World, **changes: int) -> tuple:
    return w.rules.replace(**changes).as_tuple()


@dataclass(frozen=True)
class Bad:
    label: str
    call: Callable[[World], Any]
    error: str
    args: Callable[[World], tuple] = lambda w: ()


CASES = [
    # ---------------------------------------------------------------- allowance
    Bad("mint zero units", lambda w: w.s.allowance.mint(w.carol, ALLOWANCE_2026, 0, _frm(w.issuer)),
        "Allowance__InvalidAmount", lambda w: (0,)),
    Bad("mint past the 48-bit supply", lambda w: w.s.allowance.mint(w.carol, ALLOWANCE_2026, UINT48_MAX, _frm(w.issuer)),
        "Allowance__InvalidAmount", lambda w: (UINT48_MAX,)),
    Bad("mint an id of an unknown kind", lambda w: w.s.allowance.mint(w.carol, UNKNOWN_KIND, 1, _frm(w.issuer)),
        "Allowance__InvalidTokenId", lambda w: (UNKNOWN_KIND,)),
    Bad("mint a vintage before 2000", lambda w: w.s.allowance.mint(w.carol, VINTAGE_1999, 1, _frm(w.issuer)),
        "Allowance__InvalidTokenId", lambda w: (VINTAGE_1999,)),
    Bad("mint an allowance id with a project", lambda w: w.s.allowance.mint(
        w.carol, ALLOWANCE_WITH_PROJECT, 1, _frm(w.issuer)), "Allowance__InvalidTokenId",
        lambda w: (ALLOWANCE_WITH_PROJECT,)),
    Bad("mint a vintage after 2200", lambda w: w.s.allowance.mint(w.carol, (1 << 248) | (2201 << 232), 1,
                                                                  _frm(w.issuer)),
        "Allowance__InvalidTokenId", lambda w: ((1 << 248) | (2201 << 232),)),
    Bad("mint an id with reserved bits set", lambda w: w.s.allowance.mint(
        w.carol, ALLOWANCE_2026 | (1 << 100), 1, _frm(w.issuer)), "Allowance__InvalidTokenId",
        lambda w: (ALLOWANCE_2026 | (1 << 100),)),
    Bad("send units to the market unasked", lambda w: w.s.allowance.safeTransferFrom(
        w.alice, w.s.market, ALLOWANCE_2026, 1, b"", _frm(w.alice)), "Market__UnexpectedTokens", lambda w: (w.alice,)),
    Bad("send a batch of units to the market", lambda w: w.s.allowance.safeBatchTransferFrom(
        w.alice, w.s.market, [ALLOWANCE_2026], [1], b"", _frm(w.alice)), "Market__UnexpectedTokens",
        lambda w: (w.alice,)),
    Bad("call the market's receiver hook directly", lambda w: w.s.market.onERC1155Received(
        w.s.market, w.alice, ALLOWANCE_2026, 1, b"", _frm(w.alice)), "Market__UnexpectedTokens",
        lambda w: (w.s.market,)),
    Bad("send units to the desk unasked", lambda w: w.s.allowance.safeTransferFrom(
        w.alice, w.s.desk, ALLOWANCE_2026, 1, b"", _frm(w.alice)), "BlockTrade__UnexpectedTokens",
        lambda w: (w.alice,)),
    Bad("mint a batch of mismatched lengths", lambda w: w.s.allowance.mintBatch(
        [w.carol, w.bob], ALLOWANCE_2026, [1], _frm(w.issuer)), "Allowance__BadBatch", lambda w: (2, 1, 200)),
    Bad("mint an empty batch", lambda w: w.s.allowance.mintBatch([], ALLOWANCE_2026, [], _frm(w.issuer)),
        "Allowance__BadBatch", lambda w: (0, 0, 200)),
    Bad("mint a batch over the maximum", lambda w: w.s.allowance.mintBatch(
        [w.carol] * 201, ALLOWANCE_2026, [1] * 201, _frm(w.issuer)), "Allowance__BadBatch", lambda w: (201, 201, 200)),
    Bad("claw back zero", lambda w: w.s.allowance.clawBack(w.alice, ALLOWANCE_2026, 0, WHY, _frm(w.issuer)),
        "Allowance__InvalidAmount", lambda w: (0,)),
    Bad("claw back more than held", lambda w: w.s.allowance.clawBack(w.carol, ALLOWANCE_2026, UINT256_MAX, WHY,
                                                                     _frm(w.issuer)),
        "Allowance__InsufficientBalance", lambda w: (w.carol, ALLOWANCE_2026, 50, UINT256_MAX)),
    Bad("retire the maximum", lambda w: w.s.allowance.retire(ALLOWANCE_2026, UINT256_MAX, w.carol, "x", _frm(w.carol)),
        "Allowance__InsufficientBalance", lambda w: (w.carol, ALLOWANCE_2026, 50, UINT256_MAX)),
    Bad("retire an unknown id", lambda w: w.s.allowance.retire(UNKNOWN_KIND, 1, w.carol, "x", _frm(w.carol)),
        "Allowance__InsufficientBalance", lambda w: (w.carol, UNKNOWN_KIND, 0, 1)),
    Bad("the id of a vintage after 2200", lambda w: w.s.allowance.allowanceId(2201),
        "Allowance__InvalidVintage", lambda w: (2201,)),
    Bad("an offset id without a project", lambda w: w.s.allowance.offsetId(0, 2025),
        "Allowance__InvalidProject", lambda w: (0,)),
    Bad("decode an unknown id", lambda w: w.s.allowance.decodeId(UNKNOWN_KIND),
        "Allowance__InvalidTokenId", lambda w: (UNKNOWN_KIND,)),
    Bad("look up an unknown retirement", lambda w: w.s.allowance.retirement(99),
        "Allowance__UnknownRetirement", lambda w: (99,)),
    # ---------------------------------------------------------------- credit and money
    Bad("reward zero credit", lambda w: w.s.credit.reward(w.carol, 0, WHY, _frm(w.issuer)), "Credit__ZeroAmount"),
    Bad("penalise zero credit", lambda w: w.s.credit.penalize(w.carol, 0, WHY, _frm(w.issuer)), "Credit__ZeroAmount"),
    Bad("burn more credit than held", lambda w: w.s.credit.regulatorBurn(w.alice, UINT256_MAX, "x", _frm(w.regulator)),
        "Credit__InsufficientBalance", lambda w: (w.alice, 110, UINT256_MAX)),  # 100 given, 10 for an accurate report
    Bad("tier thresholds repeated", lambda w: w.s.credit.setTierThresholds([100, 100, 200], _frm(w.regulator)),
        "Credit__InvalidThresholds", lambda w: (1, 100)),
    Bad("issue zero money", lambda w: w.s.money.issue(w.carol, 0, _frm(w.regulator)), "Settlement__ZeroAmount"),
    Bad("redeem zero money", lambda w: w.s.money.redeem(0, _frm(w.regulator)), "Settlement__ZeroAmount"),
    Bad("pay more money than held", lambda w: w.s.money.transfer(w.bob, UINT256_MAX, _frm(w.carol)),
        "ERC20InsufficientBalance", lambda w: (w.carol, w.s.money.balanceOf(w.carol), UINT256_MAX)),
    # ---------------------------------------------------------------- registry
    Bad("onboard the zero address", lambda w: w.s.registry.onboard(
        onboarding("0x" + "00" * 20, Role.INVESTOR), _frm(w.regulator)), "Registry__ZeroAddress"),
    Bad("onboard without roles", lambda w: w.s.registry.onboard(onboarding(w.newcomer, 0), _frm(w.regulator)),
        "Registry__InvalidRoles", lambda w: (0,)),
    Bad("onboard an account twice in one batch", lambda w: w.s.registry.onboardBatch(
        [onboarding(w.newcomer, Role.INVESTOR)] * 2, _frm(w.regulator)),
        "Registry__AlreadyRegistered", lambda w: (w.newcomer,)),
    Bad("onboard an empty batch", lambda w: w.s.registry.onboardBatch([], _frm(w.regulator)),
        "Registry__BadBatchSize", lambda w: (0, 200)),
    Bad("update an unknown account", lambda w: w.s.registry.update(
        onboarding(w.newcomer, Role.INVESTOR), _frm(w.regulator)), "Registry__NotRegistered", lambda w: (w.newcomer,)),
    Bad("accept the admin role without being proposed", lambda w: w.s.registry.acceptAdmin(_frm(w.carol)),
        "Registry__NotPendingAdmin", lambda w: (w.carol, "0x" + "00" * 20)),
    Bad("unfreeze an active account", lambda w: w.s.registry.unfreeze(w.carol, WHY, _frm(w.regulator)),
        "Registry__InvalidStatusChange", lambda w: (w.carol, Status.ACTIVE)),
    # ---------------------------------------------------------------- compliance
    Bad("open a year before 2000", lambda w: w.s.compliance.openYear(
        1999, w.rules.as_tuple(), [POWER], [1], _frm(w.regulator)), "Compliance__InvalidYear", lambda w: (1999,)),
    Bad("open a year after 2200", lambda w: w.s.compliance.openYear(
        2201, w.rules.as_tuple(), [POWER], [1], _frm(w.regulator)), "Compliance__InvalidYear", lambda w: (2201,)),
    Bad("reject a report without reasons", lambda w: (
        w.s.compliance.submitReport(YEAR, 1, 1, DOC, _frm(w.bob)),
        w.s.compliance.reject(YEAR, w.bob, b"\0" * 32, _frm(w.verifier))), "Compliance__MissingDocument"),
    Bad("open a year twice", lambda w: w.s.compliance.openYear(
        YEAR, w.rules.as_tuple(), [POWER], [1], _frm(w.regulator)), "Compliance__YearAlreadyOpen", lambda w: (YEAR,)),
    Bad("a pre-allocation over 100%", lambda w: w.s.compliance.setRules(
        YEAR, _rules_with(w, pre_allocation_bps=10_001), _frm(w.regulator)),
        "Compliance__InvalidRules", lambda w: ("preAllocationBps", 10_001)),
    Bad("a deadline in the past", lambda w: w.s.compliance.openYear(
        YEAR + 1, _rules_with(w, deadline=1, early_deadline=0), [POWER], [1], _frm(w.regulator)),
        "Compliance__InvalidRules", lambda w: ("deadline", 1)),
    Bad("an early deadline after the deadline", lambda w: w.s.compliance.setRules(
        YEAR, _rules_with(w, early_deadline=w.rules.deadline + 1), _frm(w.regulator)),
        "Compliance__InvalidRules", lambda w: ("earlyDeadline", w.rules.deadline + 1)),
    Bad("a credit rule over the maximum", lambda w: w.s.compliance.setRules(
        YEAR, _rules_with(w, reward_early=1_000_001), _frm(w.regulator)),
        "Compliance__InvalidRules", lambda w: ("rewardEarly", 1_000_001)),
    Bad("a zero benchmark", lambda w: w.s.compliance.setBenchmarks(YEAR, [POWER], [0], _frm(w.regulator)),
        "Compliance__InvalidRules", lambda w: ("benchmark", 0)),
    Bad("benchmarks of mismatched lengths", lambda w: w.s.compliance.setBenchmarks(
        YEAR, [POWER], [1, 2], _frm(w.regulator)), "Compliance__BadBatch", lambda w: (1, 2, 64)),
    Bad("benchmarks over the maximum", lambda w: w.s.compliance.setBenchmarks(
        YEAR, list(range(65)), [1] * 65, _frm(w.regulator)), "Compliance__BadBatch", lambda w: (65, 65, 64)),
    Bad("enrol in a year not open", lambda w: w.s.compliance.enroll(
        YEAR + 4, [w.carol], [1], _frm(w.regulator)), "Compliance__YearNotOpen", lambda w: (YEAR + 4,)),
    Bad("enrol an enterprise twice in one batch", lambda w: (
        w.s.registry.onboard(onboarding(w.newcomer, Role.ENTERPRISE, sector=POWER), _frm(w.regulator)),
        w.s.compliance.enroll(YEAR, [w.newcomer, w.newcomer], [1, 1], _frm(w.regulator))),
        "Compliance__AlreadyEnrolled", lambda w: (YEAR, w.newcomer)),
    Bad("enrol an enrolled enterprise again", lambda w: w.s.compliance.enroll(
        YEAR, [w.alice], [1], _frm(w.regulator)), "Compliance__AlreadyEnrolled", lambda w: (YEAR, w.alice)),
    Bad("enrol an empty batch", lambda w: w.s.compliance.enroll(YEAR, [], [], _frm(w.regulator)),
        "Compliance__BadBatch", lambda w: (0, 0, 100)),
    Bad("enrol with mismatched baselines", lambda w: w.s.compliance.enroll(
        YEAR, [w.alice, w.bob], [1], _frm(w.regulator)), "Compliance__BadBatch", lambda w: (2, 1, 100)),
    Bad("enrol over the maximum", lambda w: w.s.compliance.enroll(
        YEAR, [w.alice] * 101, [1] * 101, _frm(w.regulator)), "Compliance__BadBatch", lambda w: (101, 101, 100)),
    Bad("report without a document", lambda w: w.s.compliance.submitReport(
        YEAR, 1, 1, b"\0" * 32, _frm(w.bob)), "Compliance__MissingDocument"),
    Bad("report for a year not open", lambda w: w.s.compliance.submitReport(YEAR + 4, 1, 1, DOC, _frm(w.bob)),
        "Compliance__YearNotOpen", lambda w: (YEAR + 4,)),
    Bad("look up an unknown report version", lambda w: w.s.compliance.report(YEAR, w.alice, 5),
        "Compliance__UnknownReport", lambda w: (YEAR, w.alice, 5)),
    Bad("finalise an enterprise twice in one batch", lambda w: (
        w.s.compliance.submitReport(YEAR, 400, 1_000, DOC, _frm(w.bob)),
        w.s.compliance.attest(YEAR, w.bob, _frm(w.verifier)),
        w.s.compliance.finalize(YEAR, [w.bob, w.bob], _frm(w.regulator))),
        "Compliance__InvalidState", lambda w: (YEAR, w.bob, ReportState.FINALIZED)),
    Bad("surrender zero", lambda w: w.s.compliance.surrender(YEAR, ALLOWANCE_2026, 0, _frm(w.alice)),
        "Compliance__ExceedsObligation", lambda w: (YEAR, w.alice, 500, 0)),
    Bad("surrender the maximum", lambda w: w.s.compliance.surrender(YEAR, ALLOWANCE_2026, UINT256_MAX, _frm(w.alice)),
        "Compliance__ExceedsObligation", lambda w: (YEAR, w.alice, 500, UINT256_MAX)),
    Bad("surrender a later vintage", lambda w: w.s.compliance.surrender(YEAR, A27, 1, _frm(w.alice)),
        "Compliance__IneligibleUnit", lambda w: (YEAR, A27)),
    Bad("surrender an unknown id", lambda w: w.s.compliance.surrender(YEAR, UNKNOWN_KIND, 1, _frm(w.alice)),
        "Compliance__IneligibleUnit", lambda w: (YEAR, UNKNOWN_KIND)),
    Bad("surrender offsets over the limit", lambda w: w.s.compliance.surrender(YEAR, OFFSET_7_2025, 26, _frm(w.alice)),
        "Compliance__OffsetLimitExceeded", lambda w: (YEAR, w.alice, 25, 26)),
    Bad("surrender before finalisation", lambda w: w.s.compliance.surrender(YEAR, ALLOWANCE_2026, 1, _frm(w.bob)),
        "Compliance__InvalidState", lambda w: (YEAR, w.bob, ReportState.ENROLLED)),
    Bad("settle before the deadline", lambda w: w.s.compliance.settle(YEAR, 1, _frm(w.carol)),
        "Compliance__DeadlineNotPassed", lambda w: (YEAR, w.rules.deadline)),
    Bad("claim an allocation nobody holds", lambda w: w.s.compliance.claimAllocation(YEAR, _frm(w.alice)),
        "Compliance__NothingToClaim", lambda w: (YEAR, w.alice)),
    # ---------------------------------------------------------------- market
    Bad("place zero lots", lambda w: w.s.market.place(1, BUY, 6_000 * TICK_SIZE, 0, False, 10, FEE_CAP_BPS, _frm(w.bob)),
        "Market__BadQuantity", lambda w: (0,)),
    Bad("place the most lots a tier-0 trader may not", lambda w: w.s.market.place(
        1, BUY, 6_000 * TICK_SIZE, 2**32 - 1, False, 10, FEE_CAP_BPS, _frm(w.carol)),
        "Market__OrderTooLarge", lambda w: (w.carol, 2**32 - 1, ANY)),
    Bad("place at a zero price", lambda w: w.s.market.place(1, BUY, 0, 1, False, 10, FEE_CAP_BPS, _frm(w.bob)),
        "Market__OffGrid", lambda w: (1, 0, TICK_SIZE)),
    Bad("place off the tick grid", lambda w: w.s.market.place(
        1, BUY, 6_000 * TICK_SIZE + 1, 1, False, 10, FEE_CAP_BPS, _frm(w.bob)), "Market__OffGrid",
        lambda w: (1, 6_000 * TICK_SIZE + 1, TICK_SIZE)),
    Bad("place above the band", lambda w: w.s.market.place(1, BUY, (HIGH + 1) * TICK_SIZE, 1, False, 10, FEE_CAP_BPS, _frm(w.bob)),
        "Market__PriceOutOfBand", lambda w: (1, (HIGH + 1) * TICK_SIZE, LOW * TICK_SIZE, HIGH * TICK_SIZE)),
    Bad("place below the band", lambda w: w.s.market.place(1, SELL, (LOW - 1) * TICK_SIZE, 1, False, 10, FEE_CAP_BPS, _frm(w.bob)),
        "Market__PriceOutOfBand", lambda w: (1, (LOW - 1) * TICK_SIZE, LOW * TICK_SIZE, HIGH * TICK_SIZE)),
    Bad("place at the maximum price", lambda w: w.s.market.place(1, BUY, UINT256_MAX // TICK_SIZE * TICK_SIZE, 1,
                                                                 False, 10, FEE_CAP_BPS, _frm(w.bob)),
        "Market__PriceOutOfBand", lambda w: (1, ANY, LOW * TICK_SIZE, HIGH * TICK_SIZE)),
    Bad("place on an unknown instrument", lambda w: w.s.market.place(9, BUY, 6_000 * TICK_SIZE, 1, False, 10, FEE_CAP_BPS,
                                                                     _frm(w.bob)),
        "Market__UnknownInstrument", lambda w: (9,)),
    Bad("cancel an unknown order", lambda w: w.s.market.cancel(12345, _frm(w.bob)),
        "Market__UnknownOrder", lambda w: (12345,)),
    Bad("claim a filled order twice in one call", lambda w: w.s.market.claim(
        [_resting_filled(w, LOTS)] * 2, _frm(w.alice)), "Market__UnknownOrder", lambda w: (ANY,)),
    Bad("list an unknown token id", lambda w: w.s.market.list(UNKNOWN_KIND, 1, TICK_SIZE, 6 * 10**7,
                                                              _frm(w.exchange)),
        "Market__BadListing", lambda w: (UNKNOWN_KIND,)),
    Bad("list a token twice", lambda w: w.s.market.list(ALLOWANCE_2026, 1, TICK_SIZE, 6 * 10**7, _frm(w.exchange)),
        "Market__BadListing", lambda w: (ALLOWANCE_2026,)),
    Bad("list with a zero lot", lambda w: w.s.market.list(A27, 0, TICK_SIZE, 6 * 10**7, _frm(w.exchange)),
        "Market__BadGrid", lambda w: (0, TICK_SIZE, 6 * 10**7)),
    Bad("list at a zero reference price", lambda w: w.s.market.list(A27, 1, TICK_SIZE, 0, _frm(w.exchange)),
        "Market__BadGrid", lambda w: (1, TICK_SIZE, 0)),
    Bad("list at a reference off the grid", lambda w: w.s.market.list(A27, 1, TICK_SIZE, 6 * 10**7 + 1,
                                                                       _frm(w.exchange)),
        "Market__BadGrid", lambda w: (1, TICK_SIZE, 6 * 10**7 + 1)),
    Bad("list at a reference past the largest tick", lambda w: w.s.market.list(A27, 1, 1, 2**24, _frm(w.exchange)),
        "Market__BadGrid", lambda w: (1, 1, 2**24)),
    Bad("a fee over 10%", lambda w: w.s.market.setParams(_params(w, feeBps=1_001), _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"feeBps".ljust(32, b"\0"), 1_001)),
    Bad("price limits of zero", lambda w: w.s.market.setParams(_params(w, bandBps=0), _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"bandBps".ljust(32, b"\0"), 0)),
    Bad("price limits over 50%", lambda w: w.s.market.setParams(_params(w, bandBps=5_001, blockBandBps=9_000),
                                                                 _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"bandBps".ljust(32, b"\0"), 5_001)),
    Bad("block limits inside the price limits", lambda w: w.s.market.setParams(
        _params(w, bandBps=2_000, blockBandBps=1_500), _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"blockBandBps".ljust(32, b"\0"), 1_500)),
    Bad("block limits over 90%", lambda w: w.s.market.setParams(_params(w, blockBandBps=9_001), _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"blockBandBps".ljust(32, b"\0"), 9_001)),
    Bad("a tier discount over 100%", lambda w: w.s.market.setParams(
        _params(w, tierDiscountBps=(0, 0, 0, 10_001)), _frm(w.regulator)),
        "Market__BadParam", lambda w: (b"tierDiscountBps".ljust(32, b"\0"), 10_001)),
    Bad("list with a zero tick", lambda w: w.s.market.list(A27, 1, 0, 6 * 10**7, _frm(w.exchange)),
        "Market__BadGrid", lambda w: (1, 0, 6 * 10**7)),
    # ---------------------------------------------------------------- block trades
    Bad("propose a block below the minimum size", lambda w: w.s.desk.propose(
        1, w.bob, SELL, 1, 6_000 * TICK_SIZE, _expiry(), _frm(w.alice)),
        "BlockTrade__BadSize", lambda w: (1, w.s.market.params()[3])),
    Bad("propose a block at a zero price", lambda w: w.s.desk.propose(
        1, w.bob, SELL, 200, 0, _expiry(), _frm(w.alice)), "BlockTrade__OffGrid", lambda w: (1, 0, TICK_SIZE)),
    Bad("propose a block off the grid", lambda w: w.s.desk.propose(
        1, w.bob, SELL, 200, 6_000 * TICK_SIZE + 1, _expiry(), _frm(w.alice)),
        "BlockTrade__OffGrid", lambda w: (1, 6_000 * TICK_SIZE + 1, TICK_SIZE)),
    Bad("propose a block outside its band", lambda w: w.s.desk.propose(
        1, w.bob, SELL, 200, 9_000 * TICK_SIZE, _expiry(), _frm(w.alice)),
        "BlockTrade__PriceOutOfBand", lambda w: (1, 9_000 * TICK_SIZE, 4_200 * TICK_SIZE, 7_800 * TICK_SIZE)),
    Bad("propose a block that has expired", lambda w: w.s.desk.propose(
        1, w.bob, SELL, 200, 6_000 * TICK_SIZE, 1, _frm(w.alice)), "BlockTrade__BadExpiry", lambda w: (1, ANY)),
    Bad("propose a block to oneself", lambda w: w.s.desk.propose(
        1, w.alice, SELL, 200, 6_000 * TICK_SIZE, _expiry(), _frm(w.alice)), "BlockTrade__SelfTrade",
        lambda w: (w.alice,)),
    Bad("accept an unknown block", lambda w: w.s.desk.accept(77, _frm(w.bob)),
        "BlockTrade__UnknownBlock", lambda w: (77,)),
    # ---------------------------------------------------------------- offsets
    Bad("request zero offsets", lambda w: w.s.offsets.requestIssuance(w.project, 2025, 0, DOC, _frm(w.dave)),
        "Offset__InvalidAmount", lambda w: (0,)),
    Bad("request more offsets than 64 bits", lambda w: w.s.offsets.requestIssuance(
        w.project, 2025, 2**64, DOC, _frm(w.dave)), "Offset__InvalidAmount", lambda w: (2**64,)),
    Bad("request offsets of a vintage before 2000", lambda w: w.s.offsets.requestIssuance(
        w.project, 1999, 1, DOC, _frm(w.dave)), "Allowance__InvalidVintage", lambda w: (1999,)),
    Bad("request offsets of an unknown project", lambda w: w.s.offsets.requestIssuance(
        99, 2025, 1, DOC, _frm(w.dave)), "Offset__UnknownProject", lambda w: (99,)),
    Bad("request offsets without a document", lambda w: w.s.offsets.requestIssuance(
        w.project, 2025, 1, b"\0" * 32, _frm(w.dave)), "Offset__MissingDocument"),
    Bad("attest an unknown claim", lambda w: w.s.offsets.attestIssuance(5, _frm(w.verifier)),
        "Offset__UnknownClaim", lambda w: (5,)),
    # ---------------------------------------------------------------- primary auction, reserves, breaker
    Bad("offer an auction of a vintage after 2200", lambda w: w.s.auction.offer(
        2201, 100, _auction_rules(), _frm(w.regulator)), "Allowance__InvalidVintage", lambda w: (2201,)),
    Bad("offer an auction whose reveal ends before its commitments", lambda w: w.s.auction.offer(
        YEAR, 100, _auction_rules(reveal_after=0), _frm(w.regulator)), "Auction__BadRules",
        lambda w: (b"revealEnd".ljust(32, b"\0"), ANY)),
    Bad("commit to an auction never offered", lambda w: w.s.auction.commit(9, DOC, 1, _frm(w.alice)),
        "Auction__UnknownAuction", lambda w: (9,)),
    Bad("commit a deposit over 96 bits", lambda w: w.s.auction.commit(_offered(w), DOC, 2**96, _frm(w.alice)),
        "Auction__BadDeposit", lambda w: (2**96,)),
    Bad("reveal a bid never committed", lambda w: w.s.auction.reveal(5, 1, 1, DOC, _frm(w.alice)),
        "Auction__UnknownBid", lambda w: (5,)),
    Bad("claim more bids than a batch takes", lambda w: w.s.auction.claim(list(range(201)), _frm(w.alice)),
        "Auction__BadBatch", lambda w: (201, 200)),
    Bad("withdraw nothing held", lambda w: w.s.auction.withdrawHeld(YEAR, _frm(w.alice)),
        "Auction__NothingHeld", lambda w: (w.alice, YEAR)),
    Bad("compute the supply without rules", lambda w: w.s.reserve.computeSupply(_frm(w.alice)), "Reserve__NoRules"),
    Bad("count more than 50 vintages", lambda w: w.s.reserve.setSupplyRules(
        (1, 86_400, YEAR, 51, 10, 1, 0, 0), _frm(w.regulator)), "Reserve__BadRules",
        lambda w: (b"vintages".ljust(32, b"\0"), 51)),
    Bad("buy from a containment tier that does not exist", lambda w: w.s.reserve.buyFromReserve(
        0, YEAR, 1, _frm(w.alice)), "Reserve__UnknownTier", lambda w: (0,)),
    Bad("set containment tiers whose triggers fall", lambda w: w.s.reserve.setContainment(
        1, [(2, 1, 1), (1, 1, 1)], _frm(w.regulator)), "Reserve__BadRules",
        lambda w: (b"triggerPrice".ljust(32, b"\0"), 1)),
    Bad("guard an instrument never listed", lambda w: w.s.breaker.setGuard(5, (1, 0, 0, 60), _frm(w.regulator)),
        "Market__UnknownInstrument", lambda w: (5,)),
    Bad("guard with no cooling-off", lambda w: w.s.breaker.setGuard(1, (1, 0, 0, 0), _frm(w.regulator)),
        "Breaker__BadGuard", lambda w: (b"coolingOff".ljust(32, b"\0"), 0)),
    Bad("look at an instrument without a guard", lambda w: w.s.breaker.observe(1, _frm(w.carol)),
        "Breaker__NoGuard", lambda w: (1,)),
    Bad("end a halt that never began", lambda w: w.s.breaker.resume(1, 10, _frm(w.carol)),
        "Breaker__NotHalted", lambda w: (1, 0, ANY)),
]


def _auction_rules(reveal_after: int = 3_600) -> tuple:
    from carbon_market.auctions import AuctionRules

    now = chain[-1].timestamp
    return AuctionRules(reserve_price=10**6, tick_size=10**4, commit_end=now + 3_600,
                        reveal_end=now + 3_600 + reveal_after).as_tuple()


def _offered(w: World) -> int:
    return w.s.auction.offer(YEAR + 1, 100, _auction_rules(), _frm(w.regulator)).events["AuctionOffered"]["auctionId"]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_a_bad_input_is_refused_with_its_error(world, case):
    with reverts(case.error, *case.args(world)):
        case.call(world)


def test_every_case_has_its_own_label():
    assert len({c.label for c in CASES}) == len(CASES)


def test_past_the_deadline(world):
    """After the deadline: no enrolment, no rules, no benchmarks; settlement takes 1 to 200 at a time."""
    w, c = world, world.s.compliance
    chain.sleep(w.rules.deadline - chain[-1].timestamp + 1)
    chain.mine()
    with reverts("Compliance__DeadlinePassed", YEAR, w.rules.deadline):
        c.enroll(YEAR, [w.bob], [1], _frm(w.regulator))
    with reverts("Compliance__DeadlinePassed", YEAR, w.rules.deadline):
        c.setRules(YEAR, w.rules.as_tuple(), _frm(w.regulator))
    with reverts("Compliance__DeadlinePassed", YEAR, w.rules.deadline):
        c.setBenchmarks(YEAR, [POWER], [BENCHMARKS[POWER]], _frm(w.regulator))
    with reverts("Compliance__BadBatch", 0, 0, 200):
        c.settle(YEAR, 0, _frm(w.carol))
    with reverts("Compliance__BadBatch", 201, 0, 200):
        c.settle(YEAR, 201, _frm(w.carol))
    c.settle(YEAR, 200, _frm(w.carol))
    with reverts("Compliance__NothingToSettle", YEAR):
        c.settle(YEAR, 1, _frm(w.carol))
    with reverts("Compliance__AlreadySettled", YEAR, w.alice):
        c.surrender(YEAR, ALLOWANCE_2026, 1, _frm(w.alice))


def test_claiming_a_partly_filled_order_twice_pays_once(world):
    w, m = world, world.s.market
    ask = _resting_filled(w, 4)
    before = w.s.money.balanceOf(w.alice)
    m.claim([ask, ask], _frm(w.alice))
    once = w.s.money.balanceOf(w.alice) - before
    assert once > 0
    m.claim([ask], _frm(w.alice))
    assert w.s.money.balanceOf(w.alice) - before == once
    assert m.order(ask)["remaining"] == LOTS - 4


def test_an_expired_block_cannot_be_accepted(world):
    w, desk = world, world.s.desk
    block = desk.propose(1, w.bob, SELL, 200, 6_000 * TICK_SIZE, _expiry(), _frm(w.alice)).events[
        "BlockProposed"]["blockId"]
    chain.sleep(3_601)
    chain.mine()
    with reverts("BlockTrade__Expired", block, ANY):
        desk.accept(block, _frm(w.bob))


def test_withdrawing_an_approval_needs_no_active_spender(world):
    """Approving zero is how an owner withdraws an approval: it needs the owner active, not the spender."""
    w = world
    w.s.money.approve(w.newcomer, 0, _frm(w.carol))
    w.s.credit.approve(w.newcomer, 0, _frm(w.carol))
    with reverts("Registry__NotActive", w.newcomer, Status.NONE):
        w.s.money.approve(w.newcomer, 1, _frm(w.carol))
    with reverts("Registry__NotActive", w.newcomer, Status.NONE):
        w.s.credit.approve(w.newcomer, 1, _frm(w.carol))


def test_counts_start_at_zero(world):
    assert (world.s.offsets.claimCount(), world.s.desk.blockCount()) == (0, 0)
