"""``trace`` of a report and the ``audit`` report, after the pilot operations file has run: checked against the
chain's own records and against what the file sent (its CSV files are read here independently)."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from brownie import web3

from carbon_market import audit, ops
from carbon_market import compliance as cy
from carbon_market.compliance import Outcome, ReportState
from carbon_market.ids import allowance_id, offset_id
from carbon_market.suite import MONEY_UNIT, deploy_suite
from carbon_market.trace import report_history, suite_events

PILOT = Path(__file__).resolve().parents[2] / "operations" / "pilot-2026"
NAMES = ["admin", "regulator", "verifier", "exchange", "forest", "fund", "huaneng", "conch", "datang", "jidong",
         "guodian"]
ENTERPRISES = ["huaneng", "conch", "datang", "jidong", "guodian"]
YEAR = 2026


def rows(name: str) -> list[dict[str, str]]:
    with (PILOT / name).open() as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.fixture(scope="module")
def pilot(admin, regulator, accounts, tmp_path_factory):
    """The pilot year run once for the module: (suite, people by name, first block)."""
    suite = deploy_suite(admin, regulator)
    folder = tmp_path_factory.mktemp("pilot") / "pilot"
    shutil.copytree(PILOT, folder)
    start = web3.eth.block_number + 1
    ops.operate(ops.load(folder / "year.yaml"), suite, url=web3.provider.endpoint_uri, network="development",
                development=True)
    return suite, {n: accounts[i] for i, n in enumerate(NAMES)}, start


@pytest.mark.parametrize("name", ENTERPRISES)
def test_a_report_traced_from_events_matches_the_chain(pilot, name):
    suite, people, start = pilot
    history = report_history(suite, YEAR, people[name], start)
    on_chain = cy.enterprise_year(suite.compliance, YEAR, people[name])
    for field in ("allocated", "verifiedEmissions", "verifiedOutput", "allowancesSurrendered",
                  "offsetsSurrendered", "shortfall", "fine", "creditRewarded", "creditBurned", "rejections"):
        assert history.record[field] == on_chain[field], field
    assert history.record["state"] == on_chain["state"] == ReportState.FINALIZED
    assert history.record["outcome"] == on_chain["outcome"]
    sent = [r for r in rows("reports.csv") if r["enterprise"] == name] + (
        [{"enterprise": "conch"}] if name == "conch" else [])  # the corrected report of the YAML
    assert history.record["versions"] == len(sent)
    steps = [e.name for e in history.events if e.contract == "Compliance"]
    expected = (["PreAllocated", "ReportSubmitted"] + (["ReportRejected", "ReportSubmitted"] if name == "conch" else [])
                + ["ReportAttested", "ReportFinalized", "TrueUp"])
    assert steps[:len(expected)] == expected and steps[-1] == "EnterpriseSettled"
    assert "UnitsSurrendered" in steps
    assert {e.name for e in history.events if e.contract == "CarbonAllowance"} >= {"Issued", "Surrendered"}


def test_the_audit_matches_the_file_and_the_chain(pilot, tmp_path):
    suite, people, _ = pilot
    block = web3.eth.block_number
    report = audit.build(suite, block, network="development", chain_id=web3.eth.chain_id)
    address = {str(a): n for n, a in people.items()}

    # participants: the file's, with their regions and sectors, plus the regulator and the four contracts
    listed = {address.get(p["address"], p["address"]): p for p in report.participants}
    for row in rows("participants.csv"):
        p = listed[row["account"]]
        assert (p["region"], p["sector"], p["roles"]) == (int(row["region"]), int(row["sector"]), row["roles"])
    # the regulator and the seven system contracts (compliance, offsets, market, desk, reserve, auction, breaker)
    assert len(report.participants) == len(rows("participants.csv")) + 1 + 7
    # compliance: every enterprise's record is the chain's, and the verified emissions are the reports'
    for c in report.compliance:
        on_chain = cy.enterprise_year(suite.compliance, c["year"], c["enterprise"])
        assert c["verifiedEmissions"] == on_chain["verifiedEmissions"]
        assert c["outcome"] == on_chain["outcome"].name.lower() and c["fine"] == on_chain["fine"] / MONEY_UNIT
    reported = {r["enterprise"]: int(r["emissions"]) for r in rows("reports.csv")}
    reported["conch"] = 48_000  # corrected after the rejection (year.yaml)
    sector_of = {r["account"]: int(r["sector"]) for r in rows("participants.csv")}
    by_sector = defaultdict(int)
    for name, emissions in reported.items():
        by_sector[sector_of[name]] += emissions
    assert {s["sector"]: s["verifiedEmissions"] for s in report.by_sector if s["verifiedEmissions"]} == by_sector
    region_count = Counter(int(r["region"]) for r in rows("participants.csv"))
    assert {r["region"]: r["participants"] for r in report.by_region if r["participants"]} == region_count
    # holdings: balances at the block, adding up to each token's supply; the offsets issued by the file
    supply = defaultdict(int)
    for h in report.holdings:
        assert suite.allowance.balanceOf(h["holder"], int(h["token_id"], 16)) == h["amount"]
        supply[int(h["token_id"], 16)] += h["amount"]
    assert all(suite.allowance.totalSupply(token) == total for token, total in supply.items())
    assert supply[offset_id(1, 2025)] == 5_000
    # trades: the block trade as the file asked, the call auction's clearing, continuous fills between traders
    blocks = [t for t in report.trades if t["kind"].startswith("block")]
    assert [(address[b["seller"]], address[b["buyer"]], b["lots"], b["price_per_lot"]) for b in blocks] == [
        ("huaneng", "datang", 100, 630.0)]
    calls = [t for t in report.trades if t["kind"].startswith("call")]
    cleared = [e.fields for e in suite_events(suite, 0) if e.name == "CallCleared"]
    assert [c["lots"] for c in calls] == [int(e["volume"]) for e in cleared]
    fills = [e.fields for e in suite_events(suite, 0) if e.name == "OrderFilled"]
    continuous = [t for t in report.trades if t["kind"] == "continuous"]
    assert sum(t["lots"] for t in continuous) == sum(int(f["lots"]) for f in fills) > 0
    assert all(t["buyer"] != t["seller"] and t["tonnes"] == 10 * t["lots"] for t in continuous)

    written = audit.write(report, tmp_path / "audit")
    assert {p.name for p in written} == {"audit.json", "audit.html", *(f"{t}.csv" for t in audit.Audit.TABLES)}
    document = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert document["block"] == block and len(document["trades"]) == len(report.trades)
    with (tmp_path / "audit" / "compliance.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(report.compliance) == 5
    page = (tmp_path / "audit" / "audit.html").read_text()
    assert f"block {block}" in page and page.count("<table>") == len(audit.Audit.TABLES)


def test_an_audit_at_an_earlier_block_shows_the_market_as_it_was(pilot):
    suite, people, start = pilot
    first_order = min(e.block for e in suite_events(suite, start) if e.name == "OrderPlaced")
    before = audit.build(suite, first_order - 1)
    assert before.trades == []
    assert {c["state"] for c in before.compliance} == {"finalized"}
    assert {c["outcome"] for c in before.compliance} == {Outcome.PENDING.name.lower()}
    allowances = [h for h in before.holdings if h["token_id"] == hex(allowance_id(YEAR))]
    assert sum(h["amount"] for h in allowances) == sum(c["allocated"] for c in before.compliance)
