"""Policy scenarios compared on one population: each runs a whole compliance year on a fresh suite of the real
contracts and is set beside the theory computed from the same cost curves."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carbon_market.sim import chain as simchain
from carbon_market.sim.model import (
    REGIONS,
    SECTORS,
    Policy,
    Population,
    Theory,
    efficiency,
    equilibrium,
    generate,
    realised_cost,
)

#: the scenarios of ``make scenarios`` (and of the demo), by name
SCENARIOS: dict[str, Policy] = {
    "baseline": Policy(),
    "looser benchmarks (-4%)": Policy(tightness=0.04),
    "tighter benchmarks (-8%)": Policy(tightness=0.08),
    "tighter, narrow band (+/-3%)": Policy(tightness=0.08, band_bps=300),
    "offsets up to 5%": Policy(offset_limit_bps=500),
    "call auction only": Policy(trading="call"),
    "continuous only": Policy(trading="continuous"),
}


@dataclass
class Result:
    """One scenario: the theory, what the market did, what it cost, and how the year ended."""

    name: str
    policy: Policy
    enterprises: int
    theory: Theory
    trades: list[simchain.Trade]
    bands: list[tuple[int, int, int]]
    realised_cost: float
    efficiency: float
    abatement: dict[int, int]
    outcomes: dict[str, int]
    credit: dict[int, int]
    fines: float
    transactions: int
    orders: int
    seconds: float
    population: Population = field(repr=False)

    @property
    def volume(self) -> int:
        return sum(t.lots for t in self.trades)

    @property
    def vwap(self) -> float:
        """The volume-weighted average price, tCNY per tonne (0 without trades)."""
        return sum(simchain.per_tonne(t.tick) * t.lots for t in self.trades) / self.volume if self.volume else 0.0

    @property
    def call_price(self) -> float | None:
        prices = [simchain.per_tonne(t.tick) for t in self.trades if t.kind == "call"]
        return prices[0] if prices else None

    @property
    def last_price(self) -> float | None:
        return simchain.per_tonne(self.trades[-1].tick) if self.trades else None

    @property
    def compliance_rate(self) -> float:
        """Enterprises that surrendered in full by the deadline, over all."""
        return (self.outcomes.get("early", 0) + self.outcomes.get("on_time", 0)) / self.enterprises

    def credit_distribution(self) -> dict[int, int]:
        """Credit points after settlement -> how many enterprises hold that many (most first)."""
        return dict(sorted(Counter(self.credit.values()).items(), reverse=True))

    def by(self, what: str) -> dict[str, tuple[float, float]]:
        """Abatement (tonnes) by sector or region: (on the chain, least-cost)."""
        actual: dict[str, float] = defaultdict(float)
        least: dict[str, float] = defaultdict(float)
        for e in self.population.enterprises:
            key = str(SECTORS[e.sector][0] if what == "sector" else REGIONS[e.region])
            actual[key] += self.abatement[e.index]
            least[key] += self.theory.abatement[e.index]
        return {k: (actual[k], least[k]) for k in actual}

    def row(self) -> dict[str, Any]:
        """The scenario as one row of the results table."""
        return {"scenario": self.name, "enterprises": self.enterprises,
                "equilibrium_price": round(self.theory.price, 2),
                "call_price": None if self.call_price is None else round(self.call_price, 2),
                "vwap": round(self.vwap, 2),
                "last_price": None if self.last_price is None else round(self.last_price, 2),
                "volume_t": self.volume * simchain.LOT, "trades": len(self.trades),
                "least_cost_mcny": round(self.theory.least_cost / 1e6, 3),
                "no_trade_cost_mcny": round(self.theory.no_trade_cost / 1e6, 3),
                "realised_cost_mcny": round(self.realised_cost / 1e6, 3),
                "efficiency": round(self.efficiency, 4), "offsets_t": self.theory.offsets,
                "compliance_rate": round(self.compliance_rate, 3),
                "outcomes": ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
                "fines_tcny": round(self.fines), "transactions": self.transactions, "seconds": round(self.seconds, 1)}


def simulate(name: str, population: Population, accounts: Any, *, seed: int = 1,
             progress: Callable[[str], None] = lambda _: None) -> Result:
    """Run ``population``'s year on the chain and judge it against the theory."""
    theory = equilibrium(population)
    start = time.perf_counter()
    _, out = simchain.run(population, accounts, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    cost, abatement = realised_cost(population, out.bought)
    return Result(name, population.policy, len(population.enterprises), theory, out.trades, out.bands, cost,
                  efficiency(theory, cost), out.abatement, dict(Counter(out.outcomes.values())), out.credit,
                  sum(out.fines.values()) / simchain.MONEY_UNIT, out.transactions, out.orders, seconds, population)


def compare(accounts: Any, names: list[str], *, enterprises: int = 50, seed: int = 2026,
            progress: Callable[[str], None] = lambda _: None) -> list[Result]:
    """Every named scenario on the same population (same seed)."""
    results = []
    for name in names:
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; scenarios: {', '.join(SCENARIOS)}")
        progress(f"scenario {name!r}")
        population = generate(enterprises, SCENARIOS[name], seed)
        results.append(simulate(name, population, accounts, seed=seed, progress=lambda s: progress(f"  {s}")))
    return results
