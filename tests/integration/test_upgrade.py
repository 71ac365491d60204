"""Upgrades without losing state. A suite behind proxies runs half a compliance year (allocations, reports, an
attestation, a surrender, a book of resting orders, a fill not yet claimed); then the code of every part is replaced
(the registry, the three tokens, compliance, the market and the desk by their next versions, the others by a new
build of the same code) and nothing held in them changes; then the year finishes on the new code: the resting orders
trade, the fill is claimed, the reports are attested, trued up and surrendered against, and the year settles."""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address

from carbon_market.compliance import Outcome, Phase, enterprise_year, year_totals
from carbon_market.clock import sleep_until
from carbon_market.errors import reverts
from carbon_market.ids import allowance_id
from carbon_market.market import TICK_SIZE, Side
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, PARTS, deploy_suite, onboarding, project
from carbon_market.upgrade import UpgradeError, code_of, proxy_admin_of, upgrade
from carbon_market.year import benchmark_args, rules_args
from tests.conftest import BEIJING, BENCHMARKS, CEMENT, DOC, POWER, SHANGHAI, YEAR, list_for_trading, operator

A26 = allowance_id(YEAR)
REFERENCE = 60 * MONEY_UNIT
FEE_CAP = 1_000
# name: (sector, baseline output, reported emissions, verified output)
PLAN = {
    "north": (POWER, 100_000, 82_000, 105_000),
    "south": (CEMENT, 60_000, 50_000, 58_000),
    "east": (POWER, 80_000, 75_000, 80_000),
}
#: the next version of each part (contracts/test/UpgradedSuite.sol); the others get a new build of their own code
NEXT = {"registry": "ParticipantRegistryV2", "allowance": "CarbonAllowanceV2", "credit": "CreditTokenV2",
        "money": "SettlementTokenV2", "compliance": "ComplianceV2", "market": "MarketV2",
        "desk": "BlockTradeDeskV2"}


#: the ticks (from the reference price) where the test's orders rest
TICKS = (-3, -1, 0, 2)


def price(ticks: int) -> int:
    return REFERENCE + ticks * TICK_SIZE


@pytest.fixture(scope="module")
def upgradeable():
    return True


@pytest.fixture(scope="module")
def firms(suite, regulator, newcomers):
    regions = {POWER: BEIJING, CEMENT: SHANGHAI}
    accounts = dict(zip(PLAN, newcomers[:3], strict=True))
    suite.registry.onboardBatch(
        [onboarding(accounts[n], Role.ENTERPRISE, sector=PLAN[n][0], region=regions[PLAN[n][0]]) for n in PLAN],
        {"from": regulator})
    return accounts


@pytest.fixture(scope="module")
def half_year(suite, regulator, exchange, verifier, carol, firms, rules):
    """The first half of the year: returns the orders placed, by name."""
    benchmarks = {POWER: BENCHMARKS[POWER], CEMENT: BENCHMARKS[CEMENT]}
    op = operator(suite, regulator=regulator, **firms)
    op.do("open_year", by="regulator", year=YEAR, rules=rules_args(rules), benchmarks=benchmark_args(benchmarks))
    op.do("allocate", by="regulator", year=YEAR,
          enterprises=[{"enterprise": n, "baseline_output": PLAN[n][1]} for n in PLAN])
    for holder in (*firms.values(), carol):
        suite.money.issue(holder, 1_000_000 * MONEY_UNIT, {"from": regulator})
    list_for_trading(suite, regulator, exchange, [*firms.values(), carol], reference=REFERENCE)
    market, instrument = suite.market, 1

    def place(who, side, ticks, lots):
        tx = market.place(instrument, side, price(ticks), lots, False, 10, FEE_CAP, {"from": who})
        return tx.events["OrderPlaced"]["orderId"]

    orders = {
        "north asks 500 at +2": place(firms["north"], Side.SELL, 2, 500),
        "north asks 300 at 0": place(firms["north"], Side.SELL, 0, 300),
        "east bids 400 at -1": place(firms["east"], Side.BUY, -1, 400),
        "south bids 100 at -3": place(firms["south"], Side.BUY, -3, 100),
    }
    place(carol, Side.BUY, 0, 200)  # fills 200 of north's 300 at 0: north's fill waits to be claimed
    for name in ("north", "south"):
        suite.compliance.submitReport(YEAR, PLAN[name][2], PLAN[name][3], DOC, {"from": firms[name]})
    suite.compliance.attest(YEAR, firms["north"], {"from": verifier})
    return orders


def state(suite, people, orders):
    """Everything the suite holds that the test can see: participants, balances, supply counters, compliance
    records, the book and its open orders, the parameters and fees."""
    s, everyone = suite, [*people, suite.market, suite.compliance, suite.desk]
    return {
        "registry": (s.registry.admin(), [tuple(s.registry.participant(p)) for p in people]),
        "allowances": [s.allowance.balanceOf(p, A26) for p in everyone],
        "money": [s.money.balanceOf(p) for p in everyone],
        "credit": [(s.credit.balanceOf(p), s.credit.owedOf(p), s.credit.tierOf(p)) for p in people],
        "supply": (tuple(s.allowance.totals(A26)), s.money.totalSupply(), s.credit.totalSupply(),
                   tuple(s.credit.tierThresholds())),
        "compliance": ([enterprise_year(s.compliance, YEAR, p) for p in people], year_totals(s.compliance, YEAR),
                       s.compliance.phase(YEAR)),
        "orders": [tuple(s.market.order(o)) for o in orders.values()],
        "book": (tuple(s.market.bestTicks(1)), [s.market.depth(1, side, price(t) // TICK_SIZE) for side in Side
                                                for t in TICKS], tuple(s.market.instrument(1)),
                 [s.market.openBuyLots(p, 1) for p in people]),
        "market": (tuple(s.market.params()), s.market.feesAccrued(), s.market.feeRecipient(),
                   s.market.instrumentCount(), s.market.paused()),
        "desk": (s.desk.feesAccrued(), s.desk.blockCount()),
        "names": (s.money.name(), s.money.symbol(), s.money.decimals(), s.credit.name(), s.allowance.uri(A26)),
    }


@pytest.fixture(scope="module")
def upgraded(suite, half_year, admin, regulator, firms, carol):
    """Every part's code replaced, by the ProxyAdmins' owner (the deployer): (state before, state after, the
    implementations before, the upgraded suite, the upgrades' receipts)."""
    people = [*firms.values(), carol]
    before, codes = state(suite, people, half_year), {part: code_of(getattr(suite, part)) for part in PARTS}
    receipts, contracts = {}, project()
    for part in PARTS:
        container = getattr(contracts, NEXT[part]) if part in NEXT else None
        suite, receipts[part] = upgrade(suite, part, admin, regulator, container)
    return before, state(suite, people, half_year), codes, suite, receipts


def test_an_upgrade_keeps_every_balance_order_and_record(upgraded):
    before, after, codes, suite, receipts = upgraded
    assert after == before
    assert all(code_of(getattr(suite, part)) != codes[part] for part in PARTS)
    assert {part: getattr(suite, part).version() for part in NEXT} == dict.fromkeys(NEXT, 2)
    # ERC-1967's Upgraded(implementation), logged by each proxy (whose own ABI brownie does not decode it with)
    upgraded_to = {p: [log for log in r.logs if bytes(log["topics"][0]) == keccak(text="Upgraded(address)")]
                   for p, r in receipts.items()}
    assert {p: [to_checksum_address(bytes(log["topics"][1])[-20:]) for log in logs]
            for p, logs in upgraded_to.items()} == {p: [code_of(getattr(suite, p))] for p in PARTS}


def test_a_variable_appended_by_the_new_version_starts_empty_and_disturbs_nothing(upgraded, firms, regulator):
    _, before, _, suite, _ = upgraded
    assert suite.registry.note() == ""
    suite.registry.setNote("upgraded in June", {"from": regulator})
    assert suite.registry.note() == "upgraded in June"
    assert suite.registry.admin() == before["registry"][0]
    assert [tuple(suite.registry.participant(p)) for p in firms.values()] == before["registry"][1][:3]


def test_the_year_finishes_on_the_new_code(upgraded, half_year, regulator, verifier, outsider, firms, carol, rules):
    _, _, _, suite, _ = upgraded
    market, c, a, orders = suite.market, suite.compliance, suite.allowance, half_year
    north, east, south = firms["north"], firms["east"], firms["south"]
    # the resting orders trade on the new code: carol sells into east's bid, south lifts what is left of north's
    # ask at the reference (100) and 50 of its ask two ticks up
    a.safeTransferFrom(north, carol, A26, 400, b"", {"from": north})
    market.place(1, Side.SELL, price(-1), 400, False, 10, FEE_CAP, {"from": carol})
    market.place(1, Side.BUY, price(2), 150, False, 10, FEE_CAP, {"from": south})
    assert [market.depth(1, side, price(t) // TICK_SIZE) for side, t in
            ((Side.BUY, -1), (Side.SELL, 0), (Side.SELL, 2), (Side.BUY, -3))] == [0, 0, 450, 100]
    held, cash = (a.balanceOf(north, A26), a.balanceOf(east, A26)), suite.money.balanceOf(north)
    filled = [orders[n] for n in ("north asks 500 at +2", "north asks 300 at 0", "east bids 400 at -1")]
    market.claim(filled, {"from": outsider})  # the fill before the upgrade and those after it
    assert a.balanceOf(east, A26) == held[1] + 400
    assert suite.money.balanceOf(north) > cash + 350 * REFERENCE * 99 // 100  # 350 sold, less fees
    market.cancel(orders["north asks 500 at +2"], {"from": north})
    assert a.balanceOf(north, A26) == held[0] + 450
    assert market.depth(1, Side.SELL, price(2) // TICK_SIZE) == 0

    op = operator(suite, regulator=regulator, outsider=outsider, **firms)
    c.submitReport(YEAR, PLAN["east"][2], PLAN["east"][3], DOC, {"from": east})
    for name in ("south", "east"):
        c.attest(YEAR, firms[name], {"from": verifier})
    op.do("true_up", by="regulator", year=YEAR, enterprises=list(PLAN))
    for name, (_, _, emissions, _) in PLAN.items():
        held = a.balanceOf(firms[name], A26)
        c.surrender(YEAR, A26, min(held, emissions), {"from": firms[name]})
    sleep_until(rules.deadline + 1)
    op.do("settle", by="outsider", year=YEAR, batch=10)
    assert c.phase(YEAR) == Phase.SETTLED
    outcomes = {n: enterprise_year(c, YEAR, firms[n])["outcome"] for n in PLAN}
    assert set(outcomes.values()) <= {Outcome.ON_TIME, Outcome.EARLY, Outcome.SHORT}
    surrendered = sum(enterprise_year(c, YEAR, firms[n])["allowancesSurrendered"] for n in PLAN)
    assert a.totals(A26)[1] == surrendered == year_totals(c, YEAR)["allowancesSurrendered"]


def test_only_the_proxy_admins_owner_upgrades_and_nothing_initializes_twice(upgraded, admin, regulator, outsider):
    _, _, _, suite, _ = upgraded
    market_admin = proxy_admin_of(suite.market)
    assert market_admin.owner() == admin
    for who in (regulator, outsider):
        with reverts("OwnableUnauthorizedAccount", who):
            market_admin.upgradeAndCall(suite.market, code_of(suite.registry), b"", {"from": who})
    with reverts("InvalidInitialization"):
        suite.market.initialize(outsider, {"from": outsider})
    with reverts("InvalidInitialization"):
        suite.registry.initialize(outsider, {"from": outsider})
    implementation = project().MarketV2.at(code_of(suite.market))
    with reverts("InvalidInitialization"):
        implementation.initialize(outsider, {"from": outsider})


def test_a_suite_deployed_without_proxies_says_its_code_is_final(admin, regulator):
    direct = deploy_suite(admin, regulator)
    with pytest.raises(UpgradeError, match="is not behind a proxy: its code is final"):
        upgrade(direct, "market", admin, regulator)
    with pytest.raises(UpgradeError, match="no part 'exchange'"):
        upgrade(direct, "exchange", admin, regulator)
