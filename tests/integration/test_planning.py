"""Many compliance years on the real contracts: what the chain carries from year to year (banked vintages, debt,
credit), what each run records against the chain, auctions in a plan that sells allowances, a study that resumes
and gives the same runs for the same seeds, the command, and the report in a real headless browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from brownie import web3

from carbon_market import bulk
from carbon_market import compliance as cy
from carbon_market.failures import BadInput
from carbon_market.ids import allowance_id
from carbon_market.sim import dashboard, years
from carbon_market.sim import planning as pl
from carbon_market.sim import study as st

ENTERPRISES, YEARS = 8, 3
SCENARIOS = ("baseline", "credit incentives off", "30% auctioned (reserve 40)", "low fine (10 tCNY/t)")
STUDY = st.Study(SCENARIOS, (1, 2), ENTERPRISES, years=YEARS)


@pytest.fixture(scope="module")
def folder(accounts):
    with tempfile.TemporaryDirectory() as name:
        out = Path(name)
        st.check_folder(STUDY, out)
        assert st.run_study(STUDY, accounts, out) == len(STUDY.runs)
        yield out


@pytest.fixture(scope="module")
def records(folder):
    return st.load_study(STUDY, folder)


def test_every_run_is_recorded_year_by_year_beside_its_least_cost_path(records):
    assert [(r["scenario"], r["seed"]) for r in records] == STUDY.runs
    for r in records:
        assert [y["year"] for y in r["years"]] == [2026, 2027, 2028]
        for y in r["years"]:
            n = sum(y[k] for k in st.OUTCOMES)
            assert n == ENTERPRISES
            assert y["emissions"] + y["abatement"] == y["emissions_bau"]
            assert y["lc_price"] > 0 and y["price"] > 0 and y["transactions"] > 0
        groups = Counter((g["year"], g["kind"]) for g in r["groups"])
        assert all(count >= 1 for count in groups.values())
        sectors = [g for g in r["groups"] if g["kind"] == "sector" and g["year"] == 2026]
        assert sum(g["emissions"] for g in sectors) == r["years"][0]["emissions"]


def test_a_plan_that_sells_allowances_runs_a_primary_auction_each_year(records):
    for r in (r for r in records if r["scenario"].startswith("30% auctioned")):
        for y in r["years"]:
            assert y["auction_sold"] > 0 and y["auction_price"] >= 40.0
    for r in (r for r in records if r["scenario"] == "baseline"):
        assert all(y["auction_sold"] == 0 and y["auction_price"] is None for y in r["years"])


def test_without_credit_incentives_nobody_surrenders_early_and_credit_stays_zero(records):
    for r in records:
        early = sum(y["early"] for y in r["years"])
        credit = r["years"][-1]["credit_mean"]
        if r["scenario"] == "credit incentives off":
            assert early == 0 and credit == 0
        elif r["scenario"] == "baseline":
            assert early > 0 and credit > 0


def test_a_fine_below_the_price_leaves_enterprises_short_in_the_last_year(records):
    """In the plan's last year a banked tonne is worth nothing more, so a tonne short costs the fine and the credit
    it burns: with a fine of 10 tCNY at a price near 60, enterprises short of allowances stay short."""
    low = [r for r in records if r["scenario"].startswith("low fine")]
    base = [r for r in records if r["scenario"] == "baseline"]
    assert sum(r["years"][-1]["short"] for r in low) > sum(r["years"][-1]["short"] for r in base)
    assert sum(r["years"][-1]["fines"] for r in low) > 0


def test_the_chain_carries_banks_debt_and_credit_from_year_to_year(accounts):
    """Year by year on one run: the first vintage banked is surrendered in a later year; a shortfall becomes debt
    the next year's allocation pays; credit balances carry over; the record agrees with the chain."""
    population = pl.firms(ENTERPRISES)
    stage = years.Stage(accounts, population)
    eco = pl.economy(population, pl.Plan(years=YEARS, fine_per_tonne=10.0), 3)
    run = years.Run(stage, eco)
    suite, addresses = stage.suite, stage.addresses
    first = allowance_id(2026)
    outcomes, banked = [], []
    rewarded: list[int | None] = [0] * len(addresses)
    for t, year in enumerate(eco.plan.calendar):
        outcomes.append(run.year(t, year))
        banked.append([int(b) for b in bulk.read([(suite.allowance.balanceOf, a, first) for a in addresses])])
        records = bulk.read([(suite.compliance.enterpriseYear, year, a) for a in addresses])
        balances = [int(c) for c in bulk.read([(suite.credit.balanceOf, a) for a in addresses])]
        owed = [int(c) for c in bulk.read([(suite.credit.owedOf, a) for a in addresses])]
        for i, rec in enumerate(records):
            r = dict(zip(cy.ENTERPRISE_YEAR_FIELDS, rec))
            assert int(r["verifiedEmissions"]) == outcomes[-1].emissions[i]
            assert cy.Outcome(int(r["outcome"])).name.lower() == outcomes[-1].outcome[i]
            assert outcomes[-1].credit[i] == balances[i]
            before = rewarded[i]
            if before is not None:
                # never penalised: credit carries, every year's rewards are still there
                rewarded[i] = None if int(r["creditBurned"]) or owed[i] else before + int(r["creditRewarded"])
            if rewarded[i] is not None:
                assert balances[i] == rewarded[i]
        assert outcomes[-1].bank == sum(map(sum, run._vintage_balances(year)))  # the bank derived is the chain's
    assert sum(banked[0]) > 0, "some of the first vintage is banked after the first year"
    assert sum(banked[-1]) < sum(banked[0]), "and surrendered in a later year"
    assert any(rewarded), "some enterprise carried the rewards of every year"
    shorts = [i for i, o in outcomes[-1].outcome.items() if o == "short"]
    assert shorts, "a fine of 10 tCNY leaves someone short in the last year"
    debts = bulk.read([(suite.compliance.debtOf, addresses[i]) for i in shorts])
    assert all(int(d) > 0 for d in debts)


def test_a_new_vintage_is_listed_at_the_last_price_paid_for_an_allowance(accounts):
    """The exchange lists each year's vintage at the last price paid for an allowance: the market's close, or the
    year's auction price when the market did not trade after the auction (a reference the auction left behind holds
    the market's price limits around a price nobody pays, and the market stops trading)."""
    population = pl.firms(20)
    stage = years.Stage(accounts, population)
    eco = pl.economy(population, pl.Plan(years=4, auction_share=0.3, reserve_price=40.0), 1)
    run = years.Run(stage, eco)
    start = web3.eth.block_number
    outcomes = run.run()
    listed = [int(e.args.referenceTick)
              for e in stage.suite.market.events.get_sequence(start, event_type="InstrumentListed")]
    expected = [years.tick_of(eco.plan.reference_price)]
    for out in outcomes[:-1]:
        paid = out.close if out.volume else out.auction_price if out.auction_sold else None
        expected.append(expected[-1] if paid is None else years.tick_of(paid))
    assert listed == expected
    assert any(not out.volume and out.auction_sold for out in outcomes[:-1]), "a year the market did not trade"


def test_a_run_on_lean_receipts_is_the_run_on_full_ones(accounts):
    """A run's years read lean receipts (made from blocks and their logs, their gas counted per block) and send
    each year's settlement with the next year's opening: the same years, year by year, and the same gas as the same
    run reading every receipt in full and settling each year in a block of its own."""
    population = pl.firms(ENTERPRISES)
    stage = years.Stage(accounts, population)
    eco = pl.economy(population, pl.Plan(years=YEARS, fine_per_tonne=10.0), 3)
    lean = years.Run(stage, eco)
    lean_years = lean.run()
    full = years.Run(stage, eco)
    with bulk.fuller_blocks(years.BLOCK_GAS):
        full_years = [full.year(t, year) for t, year in enumerate(eco.plan.calendar)]
    assert lean_years == full_years
    assert lean.transactions == full.transactions
    assert lean.gas == full.gas > 0


def test_the_same_seed_gives_the_same_run_and_a_study_resumes(accounts, folder, records):
    target = st.run_path(folder, "baseline", 2)
    before = json.loads(target.read_text())
    target.unlink()
    assert st.run_study(STUDY, accounts, folder) == 1  # only the missing run
    after = json.loads(target.read_text())
    assert {**before, "seconds": 0} == {**after, "seconds": 0}


def test_the_plan_command_prints_the_comparison_and_writes_the_report(accounts, tmp_path, capsys):
    from carbon_market.commands import run_plan

    assert run_plan(4, 2, 2, "baseline,credit incentives off", str(tmp_path), accounts, workers=1) == 0
    printed = capsys.readouterr().out
    assert "credit token: on-time compliance" in printed and "against the least-cost path" in printed
    assert (tmp_path / "report.html").exists() and (tmp_path / "runs.csv").exists()
    with pytest.raises(BadInput, match="unknown scenario 'dark pool'"):
        run_plan(4, 2, 2, "dark pool", str(tmp_path), accounts, workers=1)
    with pytest.raises(BadInput, match="holds a study of 4 enterprises over 2 years"):
        run_plan(5, 2, 2, "baseline", str(tmp_path), accounts, workers=1)
    with pytest.raises(BadInput, match="seeds must be between 1 and 1,000, not 0"):
        run_plan(4, 2, 0, "baseline", str(tmp_path), accounts, workers=1)


def test_the_report_renders_every_chart_offline_in_a_headless_browser(records, tmp_path):
    written = dashboard.write(records, tmp_path)
    page = written[0].read_text()
    assert not re.search(r"<script[^>]*\bsrc=", page), "every script is inline: nothing is fetched when viewed"
    assert not re.search(r"<link[^>]*\bhref=\"?https?:", page)
    for name in ("years", "groups", "runs"):
        header = (tmp_path / f"{name}.csv").read_text().splitlines()[0]
        assert header.startswith("scenario,seed")
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (make test installs it)"
    with tempfile.TemporaryDirectory() as profile:
        shown = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=15000", "--dump-dom", written[0].as_uri()],
            capture_output=True, text=True, timeout=120, check=True)
    body = re.search(r"<body[^>]*>", shown.stdout).group(0)
    rendered = int(re.search(r'data-charts-rendered="(\d+)"', body).group(1))
    errors = json.loads(re.search(r"data-errors=\"([^\"]*)\"", body).group(1).replace("&quot;", '"'))
    assert rendered == len(dashboard.figures(st.frames(records))) == len(dashboard.CHARTS)
    assert errors == []
    assert "Uncaught" not in shown.stderr


def test_offsets_a_supply_reserve_and_a_containment_reserve_in_a_plan(accounts):
    """Offsets bought within the limit are surrendered first; the supply reserve withholds from the auctions once
    the bank is above its upper threshold; the containment reserve sells at its trigger once the reference reaches
    it, within the tier's bound."""
    population = pl.firms(ENTERPRISES)
    stage = years.Stage(accounts, population)
    suite, addresses = stage.suite, stage.addresses

    run = years.Run(stage, pl.economy(population, pl.Plan(years=2, offset_limit_bps=500), 1))
    outcomes = run.run()
    assert all(sum(o.offsets.values()) > 0 for o in outcomes)
    records = [dict(zip(cy.ENTERPRISE_YEAR_FIELDS, r))
               for r in bulk.read([(suite.compliance.enterpriseYear, 2027, a) for a in addresses])]
    assert [int(r["offsetsSurrendered"]) for r in records] == [outcomes[-1].offsets[i] for i in range(ENTERPRISES)]

    plan = pl.Plan(years=3, auction_share=0.3, reserve_price=40.0, supply_reserve=True, msr_upper=0.001,
                   msr_lower=0.0005)
    run = years.Run(stage, pl.economy(population, plan, 1))
    outcomes = run.run()
    assert outcomes[0].withheld == 0 and any(o.withheld > 0 for o in outcomes[1:])
    assert int(suite.reserve.supply()["reserve"]) == outcomes[-1].withheld

    plan = pl.Plan(years=2, containment_price=40.0, containment_share=0.01)
    run = years.Run(stage, pl.economy(population, plan, 1))
    outcomes = run.run()  # the second year's sales fall in a period of their own: the first's bound does not bind
    offered = int(pl.economy(population, plan, 1).cap(1) * 0.01)
    assert all(0 < o.containment_sold for o in outcomes)
    assert int(suite.reserve.tiers()[0]["remaining"]) == offered - outcomes[-1].containment_sold


def test_an_auction_nobody_bids_in_is_cleared_after_its_reveal_window(accounts):
    """A reserve price above what any enterprise would pay: no bids, and the auction is still cleared (its volume
    unsold) once its reveal window closes, not before (the last year of a study stopped on it)."""
    population = pl.firms(ENTERPRISES)
    stage = years.Stage(accounts, population)
    run = years.Run(stage, pl.economy(population, pl.Plan(years=1, auction_share=0.3, reserve_price=1_000.0), 1))
    (outcome,) = run.run()
    assert outcome.auction_sold == 0 and outcome.auction_price is None
    assert int(stage.suite.auction.auction(run.op.ref("a2026"))["stage"]) in (3, 4)  # cleared or cancelled
