"""The planning domain without a chain: the least-cost path with banking (Hotelling and Rubin), the enterprises'
decision rules, the economy's draws, and a study's data frames and bands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from carbon_market.failures import BadInput
from carbon_market.sim import dashboard
from carbon_market.sim import planning as pl
from carbon_market.sim import study as st

POPULATION = pl.firms(40)


def economy(seed: int = 1, **plan) -> pl.Economy:
    return pl.economy(POPULATION, pl.Plan(**plan), seed)


def banks(eco: pl.Economy, prices: list[float]) -> list[float]:
    """The bank at each year's end when the price path is ``prices`` (negative: borrowing)."""
    least = pl.least_cost_path(eco)
    bank, out = 0.0, []
    for t, p in enumerate(prices):
        bank += pl._supply(eco, t, p)[0] - least.required[t]
        out.append(bank)
    return out


# ------------------------------------------------------------------------------------------ least-cost path


def test_the_price_rises_at_the_discount_rate_while_the_bank_is_positive():
    eco = economy()
    least = pl.least_cost_path(eco)
    assert all(p > 0 for p in least.price)
    for t in range(1, len(least.price)):
        if least.bank[t - 1] > 1.0:  # a tonne of rounding
            assert least.price[t] == pytest.approx(least.price[t - 1] * (1 + eco.plan.discount_rate), rel=1e-9)


def test_the_bank_is_never_negative_and_empty_at_the_end():
    eco = economy()
    least = pl.least_cost_path(eco)
    assert min(least.bank) >= 0
    assert least.bank[-1] == pytest.approx(0, abs=1.0)
    # cumulative abatement meets the cumulative requirement (no tonne is left unabated or abated for nothing)
    assert sum(least.abatement) == pytest.approx(sum(least.required), rel=1e-6)


@pytest.mark.parametrize("growth", [0.0, 0.02, 0.08, 0.12])
def test_no_other_feasible_path_costs_less(growth):
    """Paths whose price grows at another rate, scaled to meet the cumulative requirement, cost more in present
    value whenever they never borrow."""
    eco = economy()
    least = pl.least_cost_path(eco)
    years = range(eco.plan.years)

    def total(p0: float) -> float:
        return sum(pl._supply(eco, t, p0 * (1 + growth) ** t)[0] for t in years) - sum(least.required)

    low, high = 0.0, 1_000.0
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if total(mid) < 0 else (low, mid)
    path = [high * (1 + growth) ** t for t in years]
    cost = sum(pl._supply(eco, t, p)[1] / (1 + eco.plan.discount_rate) ** t for t, p in enumerate(path))
    if min(banks(eco, path)) >= -1.0:
        assert cost >= least.present_value() * (1 - 1e-9)
    else:  # rising faster than the discount rate, it abates too little early and borrows: infeasible without debt
        assert growth > eco.plan.discount_rate


def test_a_cap_that_loosens_leaves_nothing_to_bank():
    """When each year requires less than the last, banking never pays: every year is a segment of its own whose
    abatement meets its own requirement."""
    eco = economy(tightness=0.20, tightening=-0.02)
    least = pl.least_cost_path(eco)
    assert all(a > b > 0 for a, b in zip(least.required, least.required[1:]))
    assert all(b == pytest.approx(0, abs=1.0) for b in least.bank)
    for t in range(eco.plan.years):
        assert least.abatement[t] == pytest.approx(least.required[t], rel=1e-6)
    assert least.price[1] < least.price[0] * (1 + eco.plan.discount_rate)


def test_no_requirement_no_price():
    eco = economy(tightness=-0.5, tightening=0.0)
    least = pl.least_cost_path(eco)
    assert least.price == [0.0] * eco.plan.years
    assert least.present_value() == 0


# ------------------------------------------------------------------------------------------ the economy


def test_the_same_seed_draws_the_same_future_whatever_the_plan():
    a, b = economy(seed=7), economy(seed=7, credit=False, auction_share=0.3, band_bps=300)
    assert a.output == b.output and a.slope == b.slope and a.hassle == b.hassle and a.belief == b.belief
    assert economy(seed=8).output != a.output


def test_abatement_gets_cheaper_with_learning():
    eco = economy()
    for i in range(len(POPULATION)):
        # the slope per tonne of emissions falls by the learning rate, whatever the output did
        first = eco.slope[0][i] * eco.emissions(0, i)
        last = eco.slope[-1][i] * eco.emissions(9, i)
        assert last == pytest.approx(first * (1 - pl.LEARNING) ** 9, rel=0.01)


def test_the_cap_falls_by_the_tightening_each_year():
    plan = pl.Plan()
    for sector in pl.SECTORS:
        assert plan.benchmark(sector, 3) == pytest.approx(plan.benchmark(sector, 2) * (1 - plan.tightening))


def test_every_enterprise_is_in_a_province_of_the_map():
    assert {f.region for f in pl.firms(500)} <= set(pl.PROVINCES)
    assert len({f.region for f in pl.firms(500)}) > 20


# ------------------------------------------------------------------------------------------ decisions


def situation(**changes) -> pl.Situation:
    base = pl.Situation(emissions=100_000, slope=0.004, max_abatement=30_000, holdings=90_000, price=60.0,
                        bank_value=63.0, shortfall_cost=200.0, bank_cap=10_000)
    return replace(base, **changes)


def test_demand_for_allowances_falls_with_the_price():
    s = situation()
    demands = [pl.holding_demand(s, p) for p in range(1, 400, 3)]
    assert all(a >= b for a, b in zip(demands, demands[1:]))
    # below the bank value it banks; above the shortfall cost it would rather be short
    assert pl.holding_demand(s, 62.0) - pl.holding_demand(s, 63.5) >= s.bank_cap
    assert pl.holding_demand(s, 201.0) == 0


def test_at_its_reservation_price_an_enterprise_neither_buys_nor_sells():
    s = situation()
    p = pl.reservation(s, 1.0, 400.0)
    assert pl.want(s, p - 0.01) >= 0 >= pl.want(s, p + 0.01)


def test_abatement_is_what_is_cheaper_than_the_price_or_what_compliance_needs():
    s = situation()
    assert pl.abatement(s, held=200_000, price=60.0) == int(60.0 / s.slope)  # enough held: by the price only
    assert pl.abatement(s, held=80_000, price=60.0) == 20_000  # short of 20,000: abates them (cheaper than short)
    assert pl.abatement(s, held=0, price=60.0) == s.max_abatement  # never more than it can
    cheap_fine = situation(shortfall_cost=40.0)
    assert pl.abatement(cheap_fine, held=80_000, price=20.0) == int(40.0 / s.slope)  # short rather than abate more


def _cumulative(bids):
    total, out = 0, []
    for price, quantity in bids:
        total += quantity
        out.append((price, total))
    return out


def test_an_enterprise_bids_each_part_of_its_demand_at_what_it_is_worth_to_it():
    """Sealed bids: what it wants at the reserve price (within the purchase limit) in equal parts, highest price
    first, each part at the highest cent at which it still wants that much: its demand schedule, bid truthfully."""
    s = situation()
    bids = pl.auction_bids(s, reserve_price=40.0, limit=10**9)
    prices = [p for p, _ in bids]
    assert prices == sorted(prices, reverse=True) and len(bids) <= pl.BID_STEPS
    assert sum(q for _, q in bids) == pl.want(s, 40.0)  # all it wants at the reserve price
    for price, cumulative in _cumulative(bids):
        assert pl.want(s, price) >= cumulative > pl.want(s, price + 0.01)  # the most it would pay for that much
    assert sum(q for _, q in pl.auction_bids(s, reserve_price=40.0, limit=5)) == 5


def test_an_enterprise_that_values_allowances_above_the_price_it_expects_bids_that_value():
    """An enterprise short of allowances whose abatement is used up values them at what being short costs it (fine,
    deduction, credit): it bids up to that, not to a fifth above the price it expects (with bids capped there, a
    scarce auction cleared at the cap every year, the price rising a fifth a year whatever the market's demand)."""
    s = situation(holdings=50_000)
    assert pl.want(s, 1.2 * s.price) > 0 and pl.want(s, 150.0) > 0
    bids = pl.auction_bids(s, reserve_price=40.0, limit=10**9)
    assert bids[0][0] > 1.2 * s.price
    assert bids[0][0] == pytest.approx(s.shortfall_cost, abs=0.01)  # its abatement used up: short costs the most
    for price, cumulative in _cumulative(bids):
        assert pl.want(s, price) >= cumulative > pl.want(s, price + 0.01)


def test_an_enterprise_that_expects_more_than_the_fine_still_bids_below_it():
    """In the plan's last year a tonne short costs the fine: an enterprise expecting a price above it wants
    nothing at the prices near that, but at prices under the fine it still wants to comply, and it bids there
    (with bids only above the fine every enterprise bid nothing in an auctioned plan's last year: all were short)."""
    s = situation(holdings=50_000, price=195.0, shortfall_cost=100.0, bank_value=0.0, bank_cap=0)
    assert pl.want(s, 1.2 * s.price) <= 0
    bids = pl.auction_bids(s, reserve_price=40.0, limit=10**9)
    assert all(40.0 <= p <= s.shortfall_cost for p, _ in bids)
    assert sum(q for _, q in bids) == pl.want(s, 40.0) > 0


def test_nothing_is_banked_in_the_plans_last_year():
    eco = economy()
    last = pl.situation(eco, eco.plan.years - 1, 0, 10_000, 60.0, 0.0, 0)
    first = pl.situation(eco, 0, 0, 10_000, 60.0, 0.0, 0)
    assert last.bank_cap == 0 and last.bank_value == 0
    assert first.bank_cap > 0 and first.bank_value > 0
    # a tonne short costs the fine, next year's deduction and its part of the credit a shortfall burns
    assert pl.situation(eco, 0, 0, 10_000, 60.0, 2.0, 50).shortfall_cost == pytest.approx(
        eco.plan.fine_per_tonne + first.bank_value + 100.0 / (pl.SHORTFALL_SPREAD * eco.emissions(0, 0)))


def test_an_enterprise_is_late_when_its_hassle_outweighs_stigma_and_credit():
    eco = economy()
    hassles = [(t, i) for t in range(eco.plan.years) for i in range(len(POPULATION))]
    late = [(t, i) for t, i in hassles if pl.timing(eco, t, i, 0.0, 0.0) == "late"]
    assert late and len(late) < len(hassles) / 4
    t, i = late[0]
    assert pl.timing(eco, t, i, eco.hassle[t][i], 0.0) == "on_time"  # a stake as large as the hassle keeps it on time
    t, i = next(x for x in hassles if x not in late)
    assert pl.timing(eco, t, i, 0.0, 1.0) == "early" and pl.timing(eco, t, i, 0.0, 0.0) == "on_time"


# ------------------------------------------------------------------------------------------ studies


@pytest.mark.parametrize("args, message", [
    ({"scenarios": ("dark pool",)}, "unknown scenario 'dark pool'; scenarios: baseline"),
    ({"scenarios": ()}, "at least one scenario and one seed"),
    ({"seeds": ()}, "at least one scenario and one seed"),
    ({"enterprises": 1}, "between 2 and 5,000, not 1"),
    ({"years": 0}, "between 1 and 40, not 0"),
])
def test_a_bad_study_is_refused_with_one_line(args, message):
    with pytest.raises(BadInput, match=message):
        st.Study(**{"scenarios": ("baseline",), "seeds": (1,), "enterprises": 10, **args})


def test_a_folder_of_another_study_is_refused(tmp_path):
    st.check_folder(st.Study(("baseline",), (1,), 10), tmp_path)
    st.check_folder(st.Study(("baseline", "continuous trading"), (1, 2), 10), tmp_path)  # more runs: the same study
    with pytest.raises(BadInput, match="holds a study of 10 enterprises over 10 years"):
        st.check_folder(st.Study(("baseline",), (1,), 12), tmp_path)
    (tmp_path / "study.json").write_text("{not json")
    with pytest.raises(BadInput, match="is not a study's record"):
        st.check_folder(st.Study(("baseline",), (1,), 10), tmp_path)



def test_a_folder_of_runs_made_by_another_version_of_the_model_is_refused(tmp_path):
    """A study resumes from the runs in its folder: runs made by other code (the enterprises' rules, the year's
    operations, the contracts) would be mixed with new ones, or shown as if new, so such a folder is refused."""
    study = st.Study(("baseline",), (1,), 10)
    st.check_folder(study, tmp_path)
    manifest = tmp_path / "study.json"
    recorded = json.loads(manifest.read_text())
    assert recorded["model"] == st.model_fingerprint()
    manifest.write_text(json.dumps({**recorded, "model": "0" * 64}))
    with pytest.raises(BadInput, match="holds runs of another version of the model"):
        st.check_folder(study, tmp_path)
    del recorded["model"]  # a folder from before the model was recorded
    manifest.write_text(json.dumps(recorded))
    with pytest.raises(BadInput, match="holds runs of another version of the model"):
        st.check_folder(study, tmp_path)


def test_the_model_fingerprint_follows_the_code_runs_depend_on_and_not_the_report():
    sources = [path.relative_to(st.ROOT).as_posix() for path in st.model_sources()]
    assert {"carbon_market/sim/planning.py", "carbon_market/sim/years.py", "carbon_market/bulk.py",
            "contracts/Market.sol", "contracts/libraries/CallAuction.sol"} <= set(sources)
    assert not {"carbon_market/sim/dashboard.py", "carbon_market/sim/report.py"} & set(sources)
    assert len(st.model_fingerprint()) == 64


def record(scenario: str, seed: int, compliant: float, cost: float) -> dict:
    """A run's record as a study writes it, two years of two enterprises (figures chosen, not simulated)."""
    years = [{"year": 2026 + t, "cap": 100, "price": 50.0 + t, "close": 50.0, "volume": 10, "emissions_bau": 120,
              "emissions": 100, "abatement": 20, "abatement_cost": cost, "bank": 5, "fines": 0.0, "spent": 10.0,
              "offsets": 0, "offset_cost": 0.0, "containment_sold": 0, "reserve_held": 0,
              "early": 1, "on_time": 1 if compliant == 1 else 0, "late": 0 if compliant == 1 else 1, "short": 0,
              "unverified": 0, "compliance_rate": compliant, "credit_mean": 10.0, "auction_price": None,
              "auction_sold": 0, "transactions": 50, "lc_price": 40.0 * 1.05 ** t, "lc_abatement": 20.0,
              "lc_bank": 0.0, "lc_cost": cost / 2} for t in range(2)]
    groups = [{"year": y["year"], "kind": kind, "code": code, "name": name, "enterprises": 2, "emissions": 100,
               "abatement": 20, "abatement_cost": cost, "spent": 10.0, "fines": 0.0, "compliant": 2}
              for y in years for kind, code, name in (("sector", 4411, "power"), ("province", 110000, "Beijing"))]
    return {"scenario": scenario, "seed": seed, "enterprises": 2, "plan": {"discount_rate": 0.05, "first_year": 2026},
            "seconds": 1.0, "transactions": 100, "years": years, "groups": groups, "lc_present_value": 0.0}


def test_frames_bands_and_paired_effects():
    records = [record("baseline", s, 1.0, 100.0 * s) for s in (1, 2, 3)] + \
              [record("credit incentives off", s, 0.5, 100.0 * s) for s in (1, 2, 3)]
    data = st.frames(records)
    assert len(data["years"]) == 12 and len(data["runs"]) == 6
    runs = data["runs"]
    first = runs[(runs["scenario"] == "baseline") & (runs["seed"] == 1)].iloc[0]
    assert first["pv_cost"] == pytest.approx(100 + 100 / 1.05)
    assert first["cost_gap"] == pytest.approx(1.0)  # twice the least cost
    assert first["late_share"] == 0 and first["early_share"] == 0.5
    fan = st.bands(data["years"], "abatement_cost")
    row = fan[(fan["scenario"] == "baseline") & (fan["year"] == 2026)].iloc[0]
    assert (row["median"], row["p5"], row["p95"]) == pytest.approx((200.0, 110.0, 290.0))
    effect = st.paired_effect(runs, "compliance_rate", "baseline", "credit incentives off")
    assert effect == {"median": 0.5, "p5": 0.5, "p95": 0.5, "seeds": 3}
    lines = dashboard.headlines(runs)
    assert "credit token: on-time compliance +50.0 points" in "\n".join(lines)
    assert dashboard.text(runs)[1].startswith("baseline")


def test_the_regulators_instruments_are_charted_for_the_scenarios_that_use_them():
    """A chart of the instruments by year: the auction's clearing price, the supply reserve's holdings and the
    containment reserve's sales, each for the scenarios that use it; a study that uses none has no such chart."""
    plain = [record("baseline", s, 1.0, 100.0) for s in (1, 2)]
    assert "instruments" not in dashboard.figures(st.frames(plain))
    auctioned = [record("auctioned + supply reserve", s, 1.0, 100.0) for s in (1, 2)]
    for r in auctioned:
        for t, y in enumerate(r["years"]):
            y.update(auction_price=60.0 + t, auction_sold=30, reserve_held=5 * t)
    chart = dashboard.figures(st.frames(plain + auctioned))["instruments"]
    medians = [(trace.name, trace.xaxis) for trace in chart.data if trace.mode == "lines+markers"]
    assert medians == [("auctioned + supply reserve", "x"), ("auctioned + supply reserve", "x2")]
    assert [trace.showlegend for trace in chart.data if trace.mode == "lines+markers"] == [True, False]
    price = next(t for t in chart.data if t.name == "auctioned + supply reserve" and t.xaxis == "x")
    assert list(price.y) == [60.0, 61.0]
    assert "instruments" in dashboard.CHARTS


@pytest.mark.parametrize("changes, message", [
    ({"trading": "dark pool"}, "trading must be one of call, continuous, not 'dark pool'"),
    ({"auction_share": 1.0}, "auction_share must be in"),
    ({"years": 0}, "at least one year"),
    ({"supply_reserve": True}, "the plan auctions nothing"),
    ({"auction_share": 0.3, "supply_reserve": True, "msr_upper": 0.01, "msr_lower": 0.02},
     "lower threshold .* must be under its upper"),
])
def test_a_plan_that_cannot_run_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        pl.Plan(**changes)


def test_a_study_runs_on_chains_of_its_own_that_keep_only_recent_states():
    """The planning chains (the demo's, a study's workers') are not the test chains, keep their last 100 states in
    memory only, and no two local chains share a port."""
    import yaml

    from carbon_market import cli, commands

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "network-config.yaml").read_text())
    local = {n["id"]: n for n in config["development"]}
    assert cli.PLANNING_NETWORK == commands.WORKER_NETWORKS[0]
    assert all(local[name]["cmd"].endswith("--prune-history 100") for name in commands.WORKER_NETWORKS)
    ports = [n["cmd_settings"]["port"] for n in local.values()]
    assert len(ports) == len(set(ports))


@pytest.mark.parametrize("asked, enterprises, runs, cores, count", [
    (0, 50, 200, 2, 3),       # a small study: one worker more than cores (a worker's harness and node take turns)
    (0, 3_000, 1, 2, 1),      # never more than its runs
    (0, 3_000, 20, 2, 2),     # a large study: one per core (each node 8.8 GB at 3,000 enterprises)
    (0, 50, 200, 8, 3),       # never more than the worker networks
    (1, 50, 200, 2, 1),       # as asked
    (5, 50, 200, 2, 3),
])
def test_a_study_runs_one_worker_a_core_and_one_more_when_small(monkeypatch, asked, enterprises, runs, cores, count):
    from carbon_market import commands

    monkeypatch.setattr(commands.os, "cpu_count", lambda: cores)
    assert commands.worker_count(asked, enterprises, runs) == count
