"""Surveillance measured against ground truth: on each of several seeds, an honest market of zero-intelligence
traders (40 buyers and 40 sellers of the simulation's market-quality test: a call round, then a continuous
session) and, by scripted accounts, one injected case of every kind of abuse the rules look for. Every rule must
find every injected case (recall 100%) and name fewer than 1% of the honest accounts (each seed's 80 traders and
an honest enterprise): with 81 honest accounts, none. The seeds and the injection schedule are fixed here; the
thresholds are the policy file's (policies/surveillance.yaml), not tuned to a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_utils import keccak

from carbon_market import bulk
from carbon_market.clock import latest_timestamp, sleep_until
from carbon_market.compliance import Rules
from carbon_market.ids import allowance_id
from carbon_market.market import Side
from carbon_market.ops.senders import Operator, money
from carbon_market.roles import Role
from carbon_market.sim.zi import TICK, ZIMarket, schedules
from carbon_market.surveillance import monitor, policy
from carbon_market.surveillance.alerts import Alert
from carbon_market.year import benchmark_args, rules_args
from tests.conftest import POWER

SEEDS = (3, 17, 41)
POLICY = policy.load(Path(__file__).resolve().parents[2] / "policies" / "surveillance.yaml")
DAY = 86_400
CST = 8 * 3_600


@dataclass
class Seed:
    seed: int
    start: int = 0
    end: int = 0
    honest: set[str] = field(default_factory=set)
    #: (rule, the accounts an alert of that rule must name)
    injected: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def _at_hour(hour: int) -> None:
    """Move the clock to ``hour`` o'clock of the next trading day (China Standard Time)."""
    now = latest_timestamp()
    start_of_next = ((now + CST) // DAY + 1) * DAY - CST
    sleep_until(start_of_next + hour * 3_600)


def _limits(suite, instrument: int) -> tuple[int, int]:
    from carbon_market.market import limits

    return limits(suite.market.instrument(instrument), int(suite.market.params()["bandBps"]), latest_timestamp())


def _run_seed(seed: int, suite, accounts, regulator, issuer, exchange, verifier) -> Seed:
    from brownie import web3

    case = Seed(seed)
    _at_hour(10)  # the honest session trades in the middle of a day, far from its close
    case.start = web3.eth.block_number + 1
    zi = ZIMarket(suite, regulator, issuer, exchange, schedules(seed), seed)
    zi.call(rounds=1)
    zi.continuous(rounds=60)
    case.honest = {t.address.lower() for t in zi.traders}
    token, instrument = zi.token, zi.instrument

    names = ["w1", "w2", "i1", "i2", "c1", "c2", "c3", "s1", "l1", "x1", "x2", "n1", "n2", "m1", "m2", "h1", "v1",
             "r1", "r2"]
    people = {n: bulk.address_of(f"abuse {seed} {n}") for n in names}
    bulk.act_for(list(people.values()))
    op = Operator(suite, {"regulator": regulator, "exchange": exchange, "verifier": verifier, **people})
    investor = {"v1"}
    op.do("onboard", by="regulator", participants=[
        {"account": n, "roles": Role.INVESTOR if n in investor else Role.ENTERPRISE, "sector": POWER,
         "identity": f"abuse {seed} identity of {'i' if n in ('i1', 'i2') else n}"} for n in names])
    group = keccak(text=f"group {seed}")
    for n in ("w1", "w2"):
        suite.registry.declareGroup(people[n], group, {"from": regulator})
    vintage = allowance_id(int(token.split()[1]))
    for n, units in (("w1", 5), ("i1", 5), ("c1", 3), ("s1", 300), ("l1", 125), ("x1", 3), ("n2", 2), ("m1", 1),
                     ("m2", 1), ("h1", 200)):
        suite.allowance.mint(people[n], vintage, units, {"from": issuer})
    op.do("issue_money", by="regulator", payments=[{"account": n, "amount": 10_000} for n in names])
    op.do("approve", traders=names)
    def a(name: str) -> str:
        return people[name].lower()

    price = int(suite.market.instrument(instrument)["lastTick"]) or 100
    ordered = iter(range(1, 10_000))

    def cross(resting: str, aggressor: str, resting_side: Side, lots: int, tick: int = price) -> None:
        """``resting`` enters an order, ``aggressor`` takes it (the book is empty after the honest session)."""
        for who, side in ((resting, resting_side), (aggressor, Side(1 - resting_side))):
            op.do("place", token=token, orders=[{"ref": f"x{seed}-{next(ordered)}", "trader": who, "side": side,
                                                 "price": money(tick * TICK), "lots": lots, "max_fee_bps": 1_000}])

    def trade(seller: str, buyer: str, lots: int) -> None:
        cross(seller, buyer, Side.SELL, lots)

    def place_and_cancel(who: str, lots: int, times: int) -> None:
        _, high = _limits(suite, instrument)
        refs = [f"x{seed}-{next(ordered)}" for _ in range(times)]
        op.do("place", token=token, orders=[{"ref": r, "trader": who, "side": Side.SELL,
                                             "price": money(high * TICK), "lots": lots, "max_fee_bps": 1_000}
                                            for r in refs])
        op.do("cancel", orders=refs)

    trade("w1", "w2", 5)
    case.injected.append(("wash", frozenset({a("w1"), a("w2")})))
    trade("i1", "i2", 5)
    case.injected.append(("wash", frozenset({a("i1"), a("i2")})))
    trade("c1", "c2", 3)
    trade("c2", "c3", 3)
    trade("c3", "c1", 3)
    case.injected.append(("circular", frozenset({a("c1"), a("c2"), a("c3")})))
    place_and_cancel("s1", 300, 1)  # just inside the upper limit, away from the market
    case.injected.append(("spoofing", frozenset({a("s1")})))
    place_and_cancel("l1", 5, 25)
    case.injected.append(("spoofing", frozenset({a("l1")})))
    # x1 bids 10 lots below x2's 3-lot bid, sells 3 into x2's bid, then withdraws its own bid unfilled
    bids = [f"x{seed}-{next(ordered)}" for _ in range(2)]
    op.do("place", token=token, orders=[
        {"ref": bids[0], "trader": "x2", "side": Side.BUY, "price": money(price * TICK), "lots": 3,
         "max_fee_bps": 1_000},
        {"ref": bids[1], "trader": "x1", "side": Side.BUY, "price": money((price - 2) * TICK), "lots": 10,
         "max_fee_bps": 1_000}])
    op.do("place", token=token, orders=[{"ref": f"x{seed}-{next(ordered)}", "trader": "x1", "side": Side.SELL,
                                         "price": money(price * TICK), "lots": 3, "max_fee_bps": 1_000}])
    op.do("cancel", orders=[bids[1]])
    case.injected.append(("spoofing", frozenset({a("x1")})))
    op.do("cancel", orders=[bids[0]])  # x2's bid, filled in part, leaves the book
    # n1 joins the best bid with 10 lots; the best ask moves up a tick; n1 withdraws its bid unfilled
    _, high = _limits(suite, instrument)
    ask = min(price + 2, high - 1)
    quotes = [f"x{seed}-{next(ordered)}" for _ in range(4)]
    op.do("place", token=token, orders=[
        {"ref": quotes[0], "trader": "n2", "side": Side.SELL, "price": money(ask * TICK), "lots": 1,
         "max_fee_bps": 1_000},
        {"ref": quotes[1], "trader": "n2", "side": Side.BUY, "price": money((price - 1) * TICK), "lots": 1,
         "max_fee_bps": 1_000},
        {"ref": quotes[2], "trader": "n1", "side": Side.BUY, "price": money((price - 1) * TICK), "lots": 10,
         "max_fee_bps": 1_000}])
    op.do("cancel", orders=[quotes[0]])
    op.do("place", token=token, orders=[{"ref": quotes[3], "trader": "n2", "side": Side.SELL,
                                         "price": money((ask + 1) * TICK), "lots": 1, "max_fee_bps": 1_000}])
    op.do("cancel", orders=[quotes[2], quotes[1], quotes[3]])
    case.injected.append(("spoofing", frozenset({a("n1")})))
    case.injected.append(("concentration", frozenset({a("h1")})))
    op.do("position_limit", token=token, units=50)
    suite.allowance.mint(people["v1"], vintage, 45, {"from": issuer})
    case.injected.append(("limits", frozenset({a("v1")})))

    # a year whose deadline is 20 days away: r1 emitted twice its allocation, r2 less than it
    now = latest_timestamp()
    rules = rules_args(Rules(early_deadline=now + 10 * DAY, deadline=now + 20 * DAY))
    year = 2100 + seed
    op.do("open_year", by="regulator", year=year, rules=rules, benchmarks=benchmark_args({POWER: 800_000}))
    op.do("allocate", by="regulator", year=year, enterprises=[{"enterprise": n, "baseline_output": 10_000}
                                                                for n in ("r1", "r2")])
    op.do("report", year=year, reports=[{"enterprise": "r1", "emissions": 16_000, "output": 10_000},
                                        {"enterprise": "r2", "emissions": 7_000, "output": 10_000}])
    op.do("attest", year=year, verifier="verifier", enterprises=["r1", "r2"])
    op.do("true_up", by="regulator", year=year, enterprises=["r1", "r2"])
    case.injected.append(("compliance_risk", frozenset({a("r1")})))
    case.honest.add(a("r2"))

    # ten minutes before the day's close, m2 moves the price 6% with one lot (up, unless that is past the limit)
    now = latest_timestamp()
    sleep_until(((now + CST) // DAY + 1) * DAY - CST - 600)
    last = int(suite.market.instrument(instrument)["lastTick"])
    _, high = _limits(suite, instrument)
    if last * 106 // 100 <= high:
        cross("m1", "m2", Side.SELL, 1, last * 106 // 100)
    else:
        cross("m1", "m2", Side.BUY, 1, last * 94 // 100)
    case.injected.append(("marking_close", frozenset({a("m2")})))
    case.end = web3.eth.block_number
    case.alerts = monitor.surveil(suite, POLICY, case.start, case.end).alerts
    return case


@pytest.fixture(scope="module")
def seeds(suite, accounts, regulator, issuer, exchange, verifier):
    return [_run_seed(s, suite, accounts, regulator, issuer, exchange, verifier) for s in SEEDS]


def _recall(case: Seed, rule: str) -> tuple[int, int]:
    cases = [accounts for r, accounts in case.injected if r == rule]
    found = [accounts for accounts in cases
             if any(a.rule == rule and accounts <= {x.lower() for x in a.accounts} for a in case.alerts)]
    return len(found), len(cases)


def _false(case: Seed, rule: str) -> set[str]:
    return {x.lower() for a in case.alerts if a.rule == rule for x in a.accounts} & case.honest


@pytest.mark.parametrize("rule", sorted(policy.RULES))
def test_every_rule_finds_every_injected_case_and_no_honest_trader(seeds, rule):
    lines = []
    for case in seeds:
        found, injected = _recall(case, rule)
        wrong = _false(case, rule)
        lines.append(f"seed {case.seed}: recall {found}/{injected}, false alerts {len(wrong)}/{len(case.honest)}")
        assert found == injected, f"{rule}, {lines[-1]}: missed {[c for r, c in case.injected if r == rule]}"
        assert len(wrong) < 0.01 * len(case.honest), f"{rule}, {lines[-1]}: " + "; ".join(
            a.summary for a in case.alerts if a.rule == rule and {x.lower() for x in a.accounts} & wrong)
    print(f"{rule}: " + "; ".join(lines))


def test_every_alert_carries_its_evidence(seeds):
    for case in seeds:
        for alert in case.alerts:
            assert alert.rule in policy.RULES and alert.severity in policy.SEVERITIES
            if alert.rule in ("wash", "circular", "spoofing", "marking_close"):
                assert alert.evidence and all(case.start <= r.block <= case.end for r in alert.evidence)
                assert all(r.tx.startswith("0x") and len(r.tx) == 66 for r in alert.evidence)


# ---------------------------------------------------------------- reports, case files and their responses


def test_surveil_writes_whole_reports_and_each_response_checks_on_a_fork(seeds, suite, accounts, tmp_path):
    """The case file of a wash alert carries the trace of both accounts and a response that `ops` checks on a fork
    of the chain (freezing both) before anything is sent."""
    from brownie import network, web3

    from carbon_market import ops

    case = seeds[0]
    result = monitor.surveil(suite, POLICY, case.start, case.end)
    written = monitor.write(result, tmp_path / "report", regulator={"node": 1}, title="test")
    lines = (tmp_path / "report" / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == len(result.alerts) and all(p.exists() for p in written)
    assert "Price path of instrument" in (tmp_path / "report" / "report.html").read_text()
    wash = next(a for a in result.alerts if a.rule == "wash")
    text = (tmp_path / "report" / "cases" / f"{wash.id}.md").read_text()
    assert all(f"## Trace of {x}" in text for x in wash.accounts) and "OrderFilled" in text
    plan = ops.load(tmp_path / "report" / "cases" / f"{wash.id}.yaml")
    outcome = ops.operate(plan, suite, url=web3.provider.endpoint_uri, network=network.show_active(),
                          development=True, dry_run=True, accounts=accounts)
    assert outcome.sent == 2  # both accounts frozen on the fork; nothing sent here
    assert all(int(suite.registry.statusOf(x)) == 1 for x in wash.accounts)


def test_a_report_folder_is_replaced_whole(seeds, suite, tmp_path):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "stale.txt").write_text("from an earlier run")
    monitor.write(monitor.surveil(suite, POLICY, seeds[0].start, seeds[0].end), folder, regulator={"node": 1},
                  title="test")
    assert not (folder / "stale.txt").exists() and not (tmp_path / ".report.writing").exists()


# ---------------------------------------------------------------- watching


def test_watch_gives_each_alert_once_across_restarts_and_within_two_blocks(seeds, suite, regulator, exchange,
                                                                           issuer, tmp_path):
    """A watch one confirmation behind the head; a wash trade arrives; a restart from the checkpoint gives only
    the new alert, within two blocks of its trade; a crash between giving alerts and saving the checkpoint
    repeats nothing."""
    from brownie import chain, web3

    checkpoint, out = tmp_path / "watch.json", tmp_path / "alerts.jsonl"
    start = seeds[-1].start
    first = monitor.watch(suite, POLICY, checkpoint=checkpoint, out=out, confirmations=1, start=start, polls=1)
    assert first and len(monitor.given_in(out)) == len(first)

    people = {n: bulk.address_of(f"watch {n}") for n in ("p", "q")}
    bulk.act_for(list(people.values()))
    op = Operator(suite, {"regulator": regulator, "exchange": exchange, **people})
    op.do("onboard", by="regulator", participants=[{"account": n, "roles": Role.ENTERPRISE, "identity": "one owner"}
                                                   for n in people])
    token = "allowance 2026"
    op.do("list", regulator="regulator", exchange="exchange", token=token, lot=1, tick="0.01", reference=60,
          traders=list(people))
    op.do("issue_money", by="regulator", payments=[{"account": "q", "amount": 1_000}])
    suite.allowance.mint(people["p"], allowance_id(2026), 5, {"from": issuer})
    op.do("place", token=token, orders=[{"ref": "wp", "trader": "p", "side": Side.SELL, "price": "60", "lots": 5}])
    traded = op.do("place", token=token, orders=[{"ref": "wq", "trader": "q", "side": Side.BUY, "price": "60",
                                                  "lots": 5}])[0].block
    saved = checkpoint.read_text()
    chain.mine()  # the confirmation
    second = monitor.watch(suite, POLICY, checkpoint=checkpoint, out=out, confirmations=1, start=start, polls=1)
    assert [a.rule for a in second if a.rule == "wash"] == ["wash"]
    assert not {a.id for a in second} & {a.id for a in first}
    detected_at = web3.eth.block_number
    assert detected_at - traded <= 2  # the block of the trade, then its one confirmation
    checkpoint.write_text(saved)  # a crash after the alerts were given, before the checkpoint was saved
    third = monitor.watch(suite, POLICY, checkpoint=checkpoint, out=out, confirmations=1, start=start, polls=1)
    assert third == [] and len(monitor.given_in(out)) == len(first) + len(second)


def test_a_checkpoint_of_another_deployment_is_refused(suite, tmp_path):
    from carbon_market.failures import BadInput

    checkpoint = tmp_path / "watch.json"
    checkpoint.write_text('{"chain": {"chain_id": 1, "genesis": "0x00", "registry": "0x00"}, "last_block": 5, '
                          '"seen": []}')
    with pytest.raises(BadInput, match="checkpoint of another chain or deployment"):
        monitor.watch(suite, POLICY, checkpoint=checkpoint, out=tmp_path / "a.jsonl", confirmations=1, polls=1)
    checkpoint.write_text("not json")
    with pytest.raises(BadInput, match="is not a watch checkpoint"):
        monitor.watch(suite, POLICY, checkpoint=checkpoint, out=tmp_path / "a.jsonl", confirmations=1, polls=1)
