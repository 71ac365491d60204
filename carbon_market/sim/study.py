"""A planning study: plans x seeds on one chain, each run a whole horizon of compliance years
(:mod:`carbon_market.sim.years`) set beside its least-cost path (:mod:`carbon_market.sim.planning`).

Each run is written to its own file as it ends (``runs/<scenario>/seed-<n>.json``, written whole), so that a study
stopped (Ctrl-C, a crash, a machine that goes away) is resumed by running the same command again: the runs on
disk are kept and only the others run. :func:`frames` turns a study's folder into tidy data frames.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from carbon_market.failures import BadInput
from carbon_market.sim import planning as pl
from carbon_market.sim.model import SECTORS

#: the scenarios of ``make demo`` and ``carbon-market plan``, by name (each differs from the baseline in one thing,
#: the supply reserve from the auctioned scenario)
SCENARIOS: dict[str, pl.Plan] = {
    "baseline": pl.Plan(),
    "credit incentives off": pl.Plan(credit=False),
    "30% auctioned (reserve 40)": pl.Plan(auction_share=0.3, reserve_price=40.0),
    "auctioned + supply reserve": pl.Plan(auction_share=0.3, reserve_price=40.0, supply_reserve=True),
    "containment reserve at 100": pl.Plan(containment_price=100.0),
    "offsets up to 5%": pl.Plan(offset_limit_bps=500),
    "tighter cap (-3.5%/yr)": pl.Plan(tightening=0.035),
    "low fine (10 tCNY/t)": pl.Plan(fine_per_tonne=10.0),
    "narrow band (+/-3%)": pl.Plan(band_bps=300),
    "continuous trading": pl.Plan(trading="continuous"),
}
OUTCOMES = ("early", "on_time", "late", "short", "unverified")


@dataclass(frozen=True)
class Study:
    """What a study runs: the same enterprises under every scenario and seed."""

    scenarios: tuple[str, ...]
    seeds: tuple[int, ...]
    enterprises: int
    years: int = pl.YEARS
    first_year: int = pl.FIRST_YEAR

    def __post_init__(self) -> None:
        unknown = [s for s in self.scenarios if s not in SCENARIOS]
        if unknown:
            raise BadInput(f"unknown scenario {unknown[0]!r}; scenarios: {', '.join(SCENARIOS)}")
        if not self.scenarios or not self.seeds:
            raise BadInput("a study runs at least one scenario and one seed")
        if not 2 <= self.enterprises <= 5_000:
            raise BadInput(f"the number of enterprises must be between 2 and 5,000, not {self.enterprises}")
        if not 1 <= self.years <= 40:
            raise BadInput(f"the number of years must be between 1 and 40, not {self.years}")

    def plan(self, scenario: str) -> pl.Plan:
        base = SCENARIOS[scenario]
        return pl.Plan(**{**asdict(base), "name": scenario, "years": self.years, "first_year": self.first_year})

    @property
    def runs(self) -> list[tuple[str, int]]:
        return [(s, seed) for s in self.scenarios for seed in self.seeds]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_path(out: Path, scenario: str, seed: int) -> Path:
    return out / "runs" / slug(scenario) / f"seed-{seed}.json"


#: the project's folder (the package is installed from it, in place)
ROOT = Path(__file__).resolve().parents[2]
#: what a run does not depend on: the report, drawn again from the runs every time
PRESENTATION = ("carbon_market/sim/dashboard.py", "carbon_market/sim/report.py")


def model_sources() -> list[Path]:
    """The files a run's figures follow from: the harness (the enterprises' rules, the economy, the year's
    operations and how they are sent) and the contracts, but for the report's modules."""
    files = [*ROOT.glob("carbon_market/**/*.py"), *ROOT.glob("contracts/**/*.sol"), *ROOT.glob("interfaces/**/*.sol")]
    return sorted(f for f in files if f.relative_to(ROOT).as_posix() not in PRESENTATION)


def model_fingerprint() -> str:
    """A digest of :func:`model_sources`: runs made by other code are not this model's."""
    digest = hashlib.sha256()
    for path in model_sources():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_folder(study: Study, out: Path) -> None:
    """A folder holds one study of one version of the model: a folder of another study's runs, or of runs made by
    other code (:func:`model_fingerprint`), is refused, not mixed in."""
    manifest = out / "study.json"
    mine = {"enterprises": study.enterprises, "years": study.years, "first_year": study.first_year}
    model = model_fingerprint()
    if manifest.exists():
        try:
            theirs = json.loads(manifest.read_text())
        except (OSError, ValueError):
            raise BadInput(f"{manifest} is not a study's record: remove it or choose another folder") from None
        if {k: theirs.get(k) for k in mine} != mine:
            raise BadInput(f"{out} holds a study of {theirs.get('enterprises')} enterprises over "
                           f"{theirs.get('years')} years from {theirs.get('first_year')}: choose another folder "
                           f"or remove it")
        if theirs.get("model") != model:
            raise BadInput(f"{out} holds runs of another version of the model (its code or the contracts changed "
                           f"since): remove it or choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    _write(manifest, {**mine, "model": model, "scenarios": list(study.scenarios), "seeds": list(study.seeds)})


def _write(path: Path, data: Any) -> None:
    """Write whole or not at all: a temporary file renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_text(json.dumps(data, indent=1) + "\n")
    part.replace(path)


def run_study(study: Study, accounts: Any, out: Path, *, share: tuple[int, int] = (0, 1),
              progress: Callable[[str], None] = lambda _: None) -> int:
    """The runs of ``study`` not yet in ``out`` (of share ``k`` of ``n``: every n-th run from the k-th, so that n
    workers on n chains divide a study); returns how many it ran. The folder is checked first (:func:`check_folder`)
    by whoever divides the study."""
    from carbon_market.sim import years

    k, n = share
    population = pl.firms(study.enterprises)
    mine = [run for index, run in enumerate(study.runs) if index % n == k]
    todo = [(s, seed) for s, seed in mine if not run_path(out, s, seed).exists()]
    if len(todo) < len(mine):
        progress(f"resuming: {len(mine) - len(todo)} of {len(mine)} runs already in {out}")
    stage = None
    for done, (scenario, seed) in enumerate(todo, 1):
        label = f"{scenario!r} seed {seed} ({done} of {len(todo)})"
        if stage is None:
            progress(f"deploying the suite and onboarding {study.enterprises} enterprises")
            stage = years.Stage(accounts, population)
        eco = pl.economy(population, study.plan(scenario), seed)
        started = time.perf_counter()
        run = years.Run(stage, eco, progress=partial(_labelled, progress, label))
        outcomes = run.run()
        seconds = time.perf_counter() - started
        _write(run_path(out, scenario, seed), record(eco, outcomes, seconds, run.transactions))
    return len(todo)


def _labelled(progress: Callable[[str], None], label: str, line: str) -> None:
    progress(f"{label}: {line}")


def load_study(study: Study, out: Path) -> list[dict[str, Any]]:
    """Every run of ``study`` from its folder, in the study's order."""
    missing = [f"{s!r} seed {seed}" for s, seed in study.runs if not run_path(out, s, seed).exists()]
    if missing:
        raise BadInput(f"{out} lacks {len(missing)} run(s) of the study, the first {missing[0]}: run it again")
    return [json.loads(run_path(out, s, seed).read_text()) for s, seed in study.runs]


# ------------------------------------------------------------------------------------------------ records


def record(eco: pl.Economy, outcomes: Sequence[Any], seconds: float, transactions: int) -> dict[str, Any]:
    """A run as plain data: per year the market's figures beside the least-cost path's, and per year the figures
    of each sector and each province."""
    least = pl.least_cost_path(eco)
    n = len(eco.firms)
    years, groups = [], []
    for t, o in enumerate(outcomes):
        counts = Counter(o.outcome.values())
        cost = {i: eco.slope[t][i] * a * a / 2 for i, a in o.abatement.items()}
        years.append({
            "year": o.year, "cap": o.cap, "price": o.price, "close": o.close, "volume": o.volume,
            "emissions_bau": sum(eco.emissions(t, i) for i in range(n)), "emissions": sum(o.emissions.values()),
            "abatement": sum(o.abatement.values()), "abatement_cost": sum(cost.values()), "bank": o.bank,
            "offsets": sum(o.offsets.values()), "offset_cost": sum(o.offsets.values()) * eco.plan.offset_price,
            "containment_sold": o.containment_sold, "reserve_held": o.withheld,
            "fines": sum(o.fines.values()), "spent": sum(o.spent.values()),
            **{k: counts.get(k, 0) for k in OUTCOMES},
            "compliance_rate": (counts.get("early", 0) + counts.get("on_time", 0)) / n,
            "credit_mean": sum(o.credit.values()) / n,
            "auction_price": o.auction_price, "auction_sold": o.auction_sold, "transactions": o.transactions,
            "lc_price": least.price[t], "lc_abatement": least.abatement[t], "lc_bank": least.bank[t],
            "lc_cost": least.cost[t],
        })
        for kind, key in (("sector", lambda f: f.sector), ("province", lambda f: f.region)):
            members: dict[int, list[int]] = {}
            for f in eco.firms:
                members.setdefault(key(f), []).append(f.index)
            for code, ids in sorted(members.items()):
                groups.append({
                    "year": o.year, "kind": kind, "code": code,
                    "name": SECTORS[code][0] if kind == "sector" else pl.PROVINCES[code][0],
                    "enterprises": len(ids), "emissions": sum(o.emissions[i] for i in ids),
                    "abatement": sum(o.abatement[i] for i in ids),
                    "abatement_cost": sum(cost[i] for i in ids),
                    "spent": sum(o.spent[i] for i in ids), "fines": sum(o.fines[i] for i in ids),
                    "compliant": sum(1 for i in ids if o.outcome[i] in ("early", "on_time")),
                })
    return {"scenario": eco.plan.name, "seed": eco.seed, "enterprises": n, "plan": asdict(eco.plan),
            "seconds": seconds, "transactions": transactions, "years": years, "groups": groups,
            "lc_present_value": least.present_value()}


# ------------------------------------------------------------------------------------------------ frames


def frames(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Tidy data frames of a study: ``years`` (a row per scenario, seed and year), ``groups`` (per sector and per
    province too), ``runs`` (a row per scenario and seed: the totals a planner compares)."""
    import pandas as pd

    years = pd.DataFrame([{"scenario": r["scenario"], "seed": r["seed"], **y} for r in records for y in r["years"]])
    groups = pd.DataFrame([{"scenario": r["scenario"], "seed": r["seed"], **g} for r in records for g in r["groups"]])
    rate = {r["scenario"]: r["plan"]["discount_rate"] for r in records}
    first = {r["scenario"]: r["plan"]["first_year"] for r in records}
    years["discount"] = [(1 + rate[s]) ** -(y - first[s]) for s, y in zip(years["scenario"], years["year"])]
    runs = years.assign(pv_cost=(years["abatement_cost"] + years["offset_cost"]) * years["discount"],
                        lc_pv_cost=years["lc_cost"] * years["discount"],
                        price_gap=(years["price"] - years["lc_price"]).abs() / years["lc_price"].clip(lower=1e-9)) \
        .groupby(["scenario", "seed"], sort=False) \
        .agg(pv_cost=("pv_cost", "sum"), lc_pv_cost=("lc_pv_cost", "sum"), compliance_rate=("compliance_rate", "mean"),
             early=("early", "sum"), on_time=("on_time", "sum"), late=("late", "sum"), short=("short", "sum"),
             mean_price=("price", "mean"), lc_mean_price=("lc_price", "mean"), price_gap=("price_gap", "mean"),
             emissions=("emissions", "sum"), cap=("cap", "sum"), fines=("fines", "sum"),
             transactions=("transactions", "sum")).reset_index()
    runs["cost_gap"] = runs["pv_cost"] / runs["lc_pv_cost"] - 1
    size = {(r["scenario"], r["seed"]): r["enterprises"] * len(r["years"]) for r in records}
    enterprise_years = [size[(s, seed)] for s, seed in zip(runs["scenario"], runs["seed"])]
    for outcome in ("early", "on_time", "late", "short"):
        runs[f"{outcome}_share"] = runs[outcome] / enterprise_years
    seconds = {(r["scenario"], r["seed"]): r["seconds"] for r in records}
    runs["seconds"] = [seconds[(s, seed)] for s, seed in zip(runs["scenario"], runs["seed"])]
    return {"years": years, "groups": groups, "runs": runs}


def bands(frame: Any, column: str, by: Sequence[str] = ("scenario", "year")) -> Any:
    """Median and 5-95% band of ``column`` across seeds, per ``by``."""
    grouped = frame.groupby(list(by), sort=False)[column]
    return grouped.quantile(0.5).to_frame("median").assign(p5=grouped.quantile(0.05), p95=grouped.quantile(0.95)) \
        .reset_index()


def paired_effect(runs: Any, column: str, scenario: str, baseline: str = "baseline") -> Any:
    """``column`` of ``scenario`` minus the baseline's, seed by seed (the same futures): its median and 5-95% band."""
    a = runs[runs["scenario"] == scenario].set_index("seed")[column]
    b = runs[runs["scenario"] == baseline].set_index("seed")[column]
    diff = (a - b).dropna()
    return {"median": float(diff.quantile(0.5)), "p5": float(diff.quantile(0.05)), "p95": float(diff.quantile(0.95)),
            "seeds": int(diff.size)}


def load(out: Path) -> list[dict[str, Any]]:
    """Every run recorded in a study's folder (a Python API: ``frames(load(folder))``)."""
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*/seed-*.json"))]
