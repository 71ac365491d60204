"""The economics of a simulated compliance year, independent of the chain: a population of enterprises with
emissions and linear marginal abatement cost (MAC) curves, the policy that allocates to them, and the theory a
market's outcome is judged against: the competitive equilibrium price, the least-cost abatement, the cost
without trade, and allocative efficiency.

Enterprise i emits ``e_i`` tonnes without abatement and may abate ``a`` tonnes, up to ``a_max_i``, at marginal
cost ``c_i * a`` (tCNY per tonne), so abating ``a`` costs ``c_i * a**2 / 2``. Its final allocation is its
sector's benchmark times its output; its *need* ``n_i`` is emissions minus allocation minus the offsets it
buys. Given a price p, it abates ``a_i(p) = min(p / c_i, a_max_i)`` and buys ``n_i - a_i(p)`` (sells if
negative). The equilibrium price p* clears the market: ``sum_i a_i(p*) = sum_i n_i``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

#: sector code -> (name, mean emission intensity (t CO2e per unit of output), MAC at 5% abatement (tCNY/t))
SECTORS: dict[int, tuple[str, float, float]] = {
    4411: ("power", 0.85, 55.0),
    3011: ("cement", 0.86, 70.0),
    3120: ("steel", 1.80, 85.0),
    3216: ("aluminium", 1.55, 65.0),
}
#: GB/T 2260 province codes: Beijing, Hebei, Shanghai, Anhui, Guangdong, Yunnan
REGIONS: dict[int, str] = {110000: "Beijing", 130000: "Hebei", 310000: "Shanghai", 340000: "Anhui",
                           440000: "Guangdong", 530000: "Yunnan"}
#: how enterprises surrender: mostly before a deadline, a few late
BEHAVIOURS = (("early", 0.3), ("on_time", 0.62), ("late", 0.08))


@dataclass(frozen=True)
class Policy:
    """What a planner sets for the year."""

    #: benchmarks are the sector's mean intensity reduced by this share (0.06: 6% below the average)
    tightness: float = 0.06
    pre_allocation_bps: int = 7_000
    #: offsets may cover this share of verified emissions, bought at ``offset_price`` tCNY per tonne
    offset_limit_bps: int = 0
    offset_price: float = 35.0
    #: the market's daily price limit around the reference, and how trading is organised
    band_bps: int = 1_000
    trading: str = "call+continuous"  # "call", "continuous" or "call+continuous"
    #: the reference price when the allowance is listed (tCNY per tonne)
    reference_price: float = 60.0
    fine_per_tonne: float = 100.0

    def __post_init__(self) -> None:
        if self.trading not in ("call", "continuous", "call+continuous"):
            raise ValueError(f"trading must be call, continuous or call+continuous, not {self.trading!r}")


@dataclass(frozen=True)
class Enterprise:
    index: int
    sector: int
    region: int
    output: int  # units of output, the baseline and the verified output alike
    intensity: float  # t CO2e per unit of output without abatement
    mac_slope: float  # c_i: tCNY per tonne per tonne abated
    max_abatement: int  # a_max_i, tonnes
    behaviour: str

    @property
    def emissions(self) -> int:
        """Emissions without abatement (tonnes)."""
        return round(self.output * self.intensity)

    def abatement_at(self, price: float) -> float:
        return min(price / self.mac_slope, self.max_abatement) if price > 0 else 0.0

    def cost(self, abatement: float) -> float:
        return self.mac_slope * abatement**2 / 2


@dataclass(frozen=True)
class Population:
    enterprises: list[Enterprise]
    policy: Policy
    seed: int
    #: sector -> benchmark in micro-tonnes per unit (the contract's unit)
    benchmarks: dict[int, int] = field(default_factory=dict)
    #: enterprise -> offsets it buys (tonnes), see :func:`_offsets`
    offsets: dict[int, int] = field(default_factory=dict)

    def allocation(self, e: Enterprise) -> int:
        """The final allocation at true-up (the contract's rounding)."""
        return self.benchmarks[e.sector] * e.output // 1_000_000

    def pre_allocation(self, e: Enterprise) -> int:
        return self.benchmarks[e.sector] * e.output * self.policy.pre_allocation_bps // (1_000_000 * 10_000)

    def offset_limit(self, e: Enterprise) -> int:
        """The offsets ``e`` may surrender: the limit's share of its emissions even at its most abatement (the
        limit applies to verified emissions), and never more than it needs."""
        floor = (e.emissions - e.max_abatement) * self.policy.offset_limit_bps // 10_000
        return max(min(floor, e.emissions - self.allocation(e)), 0)

    def need(self, e: Enterprise) -> int:
        """Tonnes to abate or buy (negative: a surplus to sell), after offsets."""
        return e.emissions - self.allocation(e) - self.offsets.get(e.index, 0)


def generate(count: int, policy: Policy, seed: int = 2026) -> Population:
    """``count`` enterprises, the same for a given seed whatever the policy (policies compare on one population)."""
    rng = random.Random(seed)
    enterprises = []
    sectors, regions = list(SECTORS), list(REGIONS)
    for i in range(count):
        sector = sectors[i % len(sectors)]
        _, intensity, mac5 = SECTORS[sector]
        output = int(rng.uniform(60_000, 240_000))
        own_intensity = intensity * math.exp(rng.gauss(0, 0.06))
        emissions = output * own_intensity
        mac_at_5pct = mac5 * math.exp(rng.gauss(0, 0.35))
        behaviour = rng.choices([b for b, _ in BEHAVIOURS], [w for _, w in BEHAVIOURS])[0]
        enterprises.append(Enterprise(i, sector, regions[rng.randrange(len(regions))], output, own_intensity,
                                      mac_at_5pct / (0.05 * emissions), int(0.15 * emissions), behaviour))
    benchmarks = {s: round(SECTORS[s][1] * (1 - policy.tightness) * 1_000_000) for s in sectors}
    population = Population(enterprises, policy, seed, benchmarks)
    return Population(enterprises, policy, seed, benchmarks, _offsets(population))


def _offsets(population: Population) -> dict[int, int]:
    """Offsets are a supply at ``offset_price`` up to every enterprise's limit. If the allowance price with every
    limit used is still above the offset price, every limit is used; if even without offsets it is below, none
    is; otherwise just enough offsets are used to bring the price down to the offset price, shared in
    proportion to the limits."""
    price = population.policy.offset_price
    limits = {e.index: population.offset_limit(e) for e in population.enterprises}
    if not any(limits.values()):
        return {}
    full = Population(population.enterprises, population.policy, population.seed, population.benchmarks, limits)
    if equilibrium(full).price >= price:
        return limits
    without = equilibrium(population)
    if without.price <= price:
        return {}
    wanted = without.required - sum(e.abatement_at(price) for e in population.enterprises)
    share = min(wanted / sum(limits.values()), 1.0)
    return {i: int(limit * share) for i, limit in limits.items()}


# ------------------------------------------------------------------------------------------------ theory


@dataclass(frozen=True)
class Theory:
    price: float  # competitive equilibrium price, tCNY per tonne
    abatement: dict[int, float]  # least-cost abatement per enterprise
    least_cost: float  # total abatement cost at the equilibrium
    no_trade_cost: float  # every enterprise abating its own need
    required: int  # total abatement the cap requires (tonnes)
    offsets: int  # tonnes covered by offsets
    offset_cost: float

    @property
    def max_gains(self) -> float:
        return self.no_trade_cost - self.least_cost


def equilibrium(population: Population) -> Theory:
    """The competitive equilibrium: the price at which the abatement every enterprise chooses equals what the
    cap requires; bisection on the monotone total abatement curve."""
    firms = population.enterprises
    needs = {e.index: population.need(e) for e in firms}
    required = sum(needs.values())
    most = sum(e.max_abatement for e in firms)
    if required <= 0:
        price = 0.0
    elif required >= most:
        price = max(e.mac_slope * e.max_abatement for e in firms)
    else:
        low, high = 0.0, max(e.mac_slope * e.max_abatement for e in firms)
        for _ in range(200):
            mid = (low + high) / 2
            if sum(e.abatement_at(mid) for e in firms) < required:
                low = mid
            else:
                high = mid
        price = high
    abatement = {e.index: e.abatement_at(price) for e in firms}
    no_trade = sum(e.cost(min(max(needs[e.index], 0), e.max_abatement)) for e in firms)
    offsets = sum(population.offsets.values())
    return Theory(price, abatement, sum(e.cost(abatement[e.index]) for e in firms), no_trade, required, offsets,
                  offsets * population.policy.offset_price)


def realised_cost(population: Population, bought: dict[int, int]) -> tuple[float, dict[int, int]]:
    """The abatement cost once each enterprise has bought ``bought[i]`` tonnes (sold, if negative) and abates
    the rest of its need (never less than nothing, never more than it can)."""
    abatement = {e.index: min(max(population.need(e) - bought.get(e.index, 0), 0), e.max_abatement)
                 for e in population.enterprises}
    return sum(e.cost(abatement[e.index]) for e in population.enterprises), abatement


def efficiency(theory: Theory, cost: float) -> float:
    """Gains from trade realised over the most there are (1.0: the least-cost allocation)."""
    return (theory.no_trade_cost - cost) / theory.max_gains if theory.max_gains > 0 else 1.0


# ---------------------------------------------------------------------------------------- schedules


def lot_values(e: Enterprise, position: int, lot: int, side: str, count: int) -> list[float]:
    """What each of the next ``count`` lots is worth to ``e`` (tCNY per tonne) when ``position`` tonnes are still
    to be abated or bought (negative: a surplus): to a buyer the abatement cost a lot spares it, to a seller the
    abatement cost selling it forces. Stops where buying spares nothing or selling would need more than
    ``a_max``."""
    def cost(x: int) -> float:
        return e.cost(max(x, 0))

    values = []
    for k in range(count):
        if side == "buy":
            before, after = position - k * lot, position - (k + 1) * lot
            if before <= 0:
                break
        else:
            before, after = position + k * lot, position + (k + 1) * lot
            if after > e.max_abatement:
                break
        values.append(abs(cost(before) - cost(after)) / lot)
    return values


def summary(population: Population) -> dict[str, Any]:
    """Counts and totals of the population, for the report."""
    firms = population.enterprises
    return {"enterprises": len(firms), "emissions": sum(e.emissions for e in firms),
            "allocation": sum(population.allocation(e) for e in firms),
            "sectors": {SECTORS[s][0]: sum(1 for e in firms if e.sector == s) for s in SECTORS},
            "regions": {REGIONS[r]: sum(1 for e in firms if e.region == r) for r in REGIONS}}


