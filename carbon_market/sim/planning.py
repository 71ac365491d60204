"""Planning over many compliance years, independent of the chain: the economy a planner simulates (enterprises
whose output grows with random shocks and whose abatement costs fall with learning), the plan (cap path, auction
share, reserve price, offsets, band, fine, credit incentives, trading), the rules by which each enterprise decides,
and the theory a market's path is judged against: the intertemporal least-cost path with banking.

Enterprise i in year t emits ``E[i,t] = output[i,t] * intensity[i]`` tonnes without abatement and may abate
``a <= amax[i,t] = 30% of E[i,t]`` at marginal cost ``c[i,t] * a``; ``c`` falls by the learning rate each year. The
cap is the sector benchmarks times output; its path falls by ``Plan.tightening`` a year. What the enterprises
decide is :func:`holding_demand` (how many allowances each wants to hold at a price), :func:`abatement` (what it
abates once it knows what it holds and the year's price) and :func:`timing` (early, on time or late). The chain
carries everything else: holdings of every vintage (banking), debt, credit balances and tiers.

The least-cost path (Rubin 1996, after Hotelling 1931): with banking and no borrowing, a competitive market's
price rises at the discount rate while the bank is positive, and the bank is empty where a segment of the path
ends. :func:`least_cost_path` finds it by segments: the lowest starting price that keeps the bank non-negative
every year fixes the first segment's end, and the search starts again after it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from carbon_market.sim.model import SECTORS

FIRST_YEAR, YEARS = 2026, 10
#: output growth a year by sector (mean): China's heavy industry near its peak, power still growing
GROWTH: dict[int, float] = {4411: 0.025, 3011: -0.01, 3120: 0.0, 3216: 0.01}
#: the yearly output shock's standard deviation (log), and the enterprise's abatement potential (share of emissions)
OUTPUT_SHOCK, ABATEMENT_POTENTIAL = 0.04, 0.30
#: abatement costs fall by this share a year (learning; IEA's and IRENA's cost declines of low-carbon options are
#: several per cent a year)
LEARNING = 0.03
#: the share of next year's emissions an enterprise would bank when the market prices the future above today
BANK_SHARE = 0.10
#: a shortfall's credit penalty is a number of points however large the shortfall: an enterprise weighs it per
#: tonne over a shortfall of this share of its emissions
SHORTFALL_SPREAD = 0.10
#: private discount rates: the planner's rate plus a premium drawn per enterprise (cost of capital)
RATE_PREMIUM = (0.0, 0.06)
#: price expectations: next year's price = this year's x (1 + own rate) x a belief drawn each year (log-normal)
BELIEF_SPREAD = 0.10
#: the cost (tCNY) of surrendering on time rather than late (attention, liquidity): log-normal around this median
#: with this spread; the public cost of lateness (being named late by the regulator) it is weighed against
HASSLE_MEDIAN, HASSLE_SPREAD, LATE_STIGMA = 8_000.0, 1.2, 40_000.0
#: what one credit point is worth to an enterprise (tCNY), per tonne it trades a year: the market's fee (20 bps)
#: times the discount a tier gives (10%, 25%, 50% at 100, 500, 2,000 points), over the points between tiers
POINT_VALUE_PER_TRADED_TCNY = 0.002 * 0.25 / 100
TRADING = ("call", "continuous")
#: GB/T 2260 province code -> (name, row and column on a tile grid map of China, weight: an illustrative share of
#: the covered enterprises, heavier where heavy industry and coal power are, lighter in the west and the big cities)
PROVINCES: dict[int, tuple[str, int, int, float]] = {
    230000: ("Heilongjiang", 0, 8, 2), 150000: ("Inner Mongolia", 1, 6, 8), 220000: ("Jilin", 1, 8, 2),
    650000: ("Xinjiang", 2, 1, 4), 620000: ("Gansu", 2, 3, 2), 640000: ("Ningxia", 2, 4, 2),
    110000: ("Beijing", 2, 6, 1), 120000: ("Tianjin", 2, 7, 1), 210000: ("Liaoning", 2, 8, 4),
    630000: ("Qinghai", 3, 2, 1), 610000: ("Shaanxi", 3, 4, 3), 140000: ("Shanxi", 3, 5, 6),
    130000: ("Hebei", 3, 6, 7), 370000: ("Shandong", 3, 7, 10), 540000: ("Tibet", 4, 1, 0.2),
    510000: ("Sichuan", 4, 3, 3), 500000: ("Chongqing", 4, 4, 1), 410000: ("Henan", 4, 5, 6),
    320000: ("Jiangsu", 4, 6, 9), 310000: ("Shanghai", 4, 7, 1), 530000: ("Yunnan", 5, 3, 2),
    520000: ("Guizhou", 5, 4, 2), 420000: ("Hubei", 5, 5, 3), 340000: ("Anhui", 5, 6, 4),
    330000: ("Zhejiang", 5, 7, 5), 450000: ("Guangxi", 6, 4, 2), 430000: ("Hunan", 6, 5, 2),
    360000: ("Jiangxi", 6, 6, 2), 350000: ("Fujian", 6, 7, 2), 460000: ("Hainan", 7, 4, 1),
    440000: ("Guangdong", 7, 5, 7),
}


@dataclass(frozen=True)
class Plan:
    """What a planner sets for the whole horizon."""

    name: str = "baseline"
    first_year: int = FIRST_YEAR
    years: int = YEARS
    #: the first year's benchmarks are each sector's mean intensity reduced by this share; each later year's are
    #: the previous year's reduced by ``tightening`` (the cap path)
    tightness: float = 0.04
    tightening: float = 0.022
    #: the share of the cap sold in a sealed-bid primary auction instead of given free, and its reserve price
    auction_share: float = 0.0
    reserve_price: float = 0.0
    #: a supply reserve after the EU's MSR (with auctions only): when the bank (the allowances in circulation once
    #: a year is settled) is above ``msr_upper`` of the first year's cap, 24% of it is withheld from the next
    #: auctions; below ``msr_lower``, ``msr_release`` of the cap is released to them. The EU's thresholds (833 and
    #: 400 million) are a third and a sixth of its cap, set for a bank of years of surplus; the simulated market
    #: banks a few per cent of a year's cap, and the thresholds are set to that scale
    supply_reserve: bool = False
    msr_upper: float = 0.02
    msr_lower: float = 0.005
    msr_release: float = 0.01
    #: a cost containment reserve after California's: ``containment_share`` of each year's cap sold to enterprises
    #: at ``containment_price`` once the market's reference reaches it (0: none)
    containment_price: float = 0.0
    containment_share: float = 0.02
    #: offsets may cover this share of verified emissions; they cost ``offset_price`` tCNY per tonne
    offset_limit_bps: int = 0
    offset_price: float = 35.0
    band_bps: int = 1_000
    fine_per_tonne: float = 100.0
    #: credit incentives: the compliance year's rewards and penalties and the market's tier discounts
    credit: bool = True
    #: "call": periodic call auctions (up to three a year, each day's limits around the last); "continuous": days
    #: of continuous trading by budget-constrained zero-intelligence traders
    trading: str = "call"
    #: the first listing's reference price, tCNY per tonne (later years list at the previous year's close)
    reference_price: float = 60.0
    discount_rate: float = 0.05

    def __post_init__(self) -> None:
        if self.trading not in TRADING:
            raise ValueError(f"trading must be one of {', '.join(TRADING)}, not {self.trading!r}")
        if not 0 <= self.auction_share < 1:
            raise ValueError(f"auction_share must be in [0, 1), not {self.auction_share}")
        if self.years < 1:
            raise ValueError(f"a plan covers at least one year, not {self.years}")
        if self.supply_reserve and not self.auction_share:
            raise ValueError("a supply reserve withholds from or adds to auctions: the plan auctions nothing")
        if not 0 <= self.msr_lower < self.msr_upper:
            raise ValueError(f"the supply reserve's lower threshold ({self.msr_lower}) must be under its upper "
                             f"({self.msr_upper})")

    @property
    def calendar(self) -> range:
        return range(self.first_year, self.first_year + self.years)

    def benchmark(self, sector: int, t: int) -> float:
        """The full benchmark (tonnes per unit of output) of ``sector`` in the plan's year ``t`` (0 first)."""
        return SECTORS[sector][1] * (1 - self.tightness) * (1 - self.tightening) ** t


@dataclass(frozen=True)
class Firm:
    """An enterprise's structure: the same in every seed (the national market's enterprises)."""

    index: int
    sector: int
    region: int
    output: int  # the base year's output
    intensity: float  # t CO2e per unit of output without abatement
    mac5: float  # the base year's marginal abatement cost at 5% abatement (tCNY/t)


def firms(count: int, structure_seed: int = 2026) -> list[Firm]:
    """``count`` enterprises across the four sectors and the provinces (weighted)."""
    rng = random.Random(structure_seed)
    sectors, regions = list(SECTORS), list(PROVINCES)
    weights = [PROVINCES[r][3] for r in regions]
    out = []
    for i in range(count):
        sector = sectors[i % len(sectors)]
        _, intensity, mac5 = SECTORS[sector]
        out.append(Firm(i, sector, rng.choices(regions, weights)[0], int(rng.uniform(60_000, 240_000)),
                        intensity * math.exp(rng.gauss(0, 0.06)), mac5 * math.exp(rng.gauss(0, 0.35))))
    return out


@dataclass(frozen=True)
class Economy:
    """One seed's world: every enterprise's output, abatement cost, beliefs and frictions, year by year."""

    firms: list[Firm]
    plan: Plan
    seed: int
    output: list[list[int]]  # [year][firm]
    slope: list[list[float]]  # c[i,t]: tCNY per tonne per tonne abated
    belief: list[list[float]]
    hassle: list[list[float]]
    premium: list[float] = field(default_factory=list)  # private discount rate premium per firm

    def emissions(self, t: int, i: int) -> int:
        return round(self.output[t][i] * self.firms[i].intensity)

    def max_abatement(self, t: int, i: int) -> int:
        return int(ABATEMENT_POTENTIAL * self.emissions(t, i))

    def allocation(self, t: int, i: int) -> int:
        """The full allocation (free and auctioned) of firm ``i`` in year ``t``: benchmark x output."""
        return int(self.plan.benchmark(self.firms[i].sector, t) * self.output[t][i])

    def cap(self, t: int) -> int:
        return sum(self.allocation(t, i) for i in range(len(self.firms)))

    def rate(self, i: int) -> float:
        return self.plan.discount_rate + self.premium[i]


def economy(population: list[Firm], plan: Plan, seed: int) -> Economy:
    """Draw one seed's shocks for ``population`` under ``plan`` (the same draws whatever the plan, so that
    plans compare on the same futures seed by seed)."""
    rng = random.Random(seed)
    output, slope, belief, hassle = [], [], [], []
    level = [float(f.output) for f in population]
    for t in range(plan.years):
        if t:
            level = [q * math.exp(GROWTH[f.sector] + rng.gauss(0, OUTPUT_SHOCK)) for q, f in zip(level, population)]
        output.append([max(round(q), 1) for q in level])
        slope.append([f.mac5 * (1 - LEARNING) ** t / (0.05 * round(q * f.intensity))
                      for q, f in zip(level, population)])
        belief.append([math.exp(rng.gauss(0, BELIEF_SPREAD)) for _ in population])
        hassle.append([HASSLE_MEDIAN * math.exp(rng.gauss(0, HASSLE_SPREAD)) for _ in population])
    premium = [rng.uniform(*RATE_PREMIUM) for _ in population]
    return Economy(population, plan, seed, output, slope, belief, hassle, premium)


# ------------------------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class Situation:
    """What enterprise ``i`` knows when it trades in year ``t``."""

    emissions: int  # without abatement
    slope: float
    max_abatement: int
    holdings: int  # allowances it will hold at surrender if it trades nothing (its true-up included)
    price: float  # the price it expects this year (the last price)
    bank_value: float  # what a tonne banked is worth to it today (0 in the plan's last year)
    shortfall_cost: float  # what a tonne short costs it: fine, next year's deduction, credit lost
    bank_cap: int


def situation(eco: Economy, t: int, i: int, holdings: int, price: float, point_value: float,
              penalty_points: int) -> Situation:
    """Enterprise ``i``'s view in year ``t``: its expectation of next year's price is this year's rising at its
    own rate times a belief; a tonne short costs the fine, the deduction from next year's allocation (worth next
    year's price, discounted) and its part of the credit a shortfall burns (``penalty_points``, once a year however
    large the shortfall: spread over a shortfall of :data:`SHORTFALL_SPREAD` of its emissions)."""
    rate = eco.rate(i)
    last = t == eco.plan.years - 1
    expected_next = price * (1 + rate) * eco.belief[t][i]
    bank_value = 0.0 if last else expected_next / (1 + rate)
    emissions = eco.emissions(t, i)
    shortfall = eco.plan.fine_per_tonne + bank_value + penalty_points * point_value / (SHORTFALL_SPREAD * emissions)
    cap = 0 if last else int(BANK_SHARE * emissions)
    return Situation(emissions, eco.slope[t][i], eco.max_abatement(t, i), holdings, price, bank_value, shortfall, cap)


def abatement_at(s: Situation, price: float) -> float:
    return min(price / s.slope, s.max_abatement) if price > 0 else 0.0


def holding_demand(s: Situation, price: float) -> int:
    """Allowances the enterprise wants to hold at ``price``: what it emits after abating where abatement is cheaper
    than the price (nothing if being short is cheaper still), plus a bank if the future is worth more than the
    price."""
    comply = 0.0 if price > s.shortfall_cost else s.emissions - abatement_at(s, price)
    bank = s.bank_cap if price < s.bank_value else 0
    return max(round(comply), 0) + bank


def want(s: Situation, price: float) -> int:
    """Tonnes to buy at ``price`` (negative: to sell)."""
    return holding_demand(s, price) - s.holdings


def reservation(s: Situation, low: float, high: float) -> float:
    """The price at which it neither buys nor sells (bisection on the falling demand), within ``low..high``."""
    if want(s, high) >= 0:
        return high
    if want(s, low) <= 0:
        return low
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if want(s, mid) > 0 else (low, mid)
    return (low + high) / 2


#: an enterprise's sealed bids: what it must have, and the rest of its demand at the reserve price in equal parts
BID_STEPS = 4


def auction_bids(s: Situation, reserve_price: float, limit: int) -> list[tuple[float, int]]:
    """Its sealed bids (price, quantity), highest price first, within the purchase limit ``limit``: what it must
    have (what it cannot abate for less than being short costs it), then the rest of what it wants at the reserve
    price in :data:`BID_STEPS` less one equal parts; each at the highest cent at which it still wants that much
    (:func:`worth`). This is its demand schedule bid truthfully: in a uniform-price auction of many small bidders
    none sets the price, so none gains by bidding under what a tonne is worth to it. What it must have is bid at
    what being short costs it (in a plan's last year, with a banked tonne worth nothing more, under the fine)."""
    total = min(want(s, reserve_price), limit)
    if total <= 0:
        return []
    must = min(max(want(s, max(s.shortfall_cost - 0.01, reserve_price)), 0), total)
    rest = BID_STEPS - 1 if must else BID_STEPS
    bounds = ([must] if must else []) + [must + -(-(total - must) * k // rest) for k in range(1, rest + 1)]
    bids: list[tuple[float, int]] = []
    taken = 0
    for cumulative in bounds:
        if cumulative <= taken:
            continue
        price = worth(s, cumulative, reserve_price)
        if bids and bids[-1][0] == price:
            bids[-1] = (price, bids[-1][1] + cumulative - taken)
        else:
            bids.append((price, cumulative - taken))
        taken = cumulative
    return bids


def worth(s: Situation, quantity: int, low: float) -> float:
    """The highest price, to the cent and at least ``low``, at which it wants at least ``quantity`` (it wants that
    much at ``low``): at most what being short costs it, above which it wants nothing to comply."""
    lo = math.ceil(low * 100 - 1e-9)  # never under ``low`` (a bid under the reserve price is refused)
    hi = max(round(s.shortfall_cost * 100), lo)
    if want(s, hi / 100) >= quantity:
        return hi / 100
    while hi - lo > 1:  # want(lo) >= quantity > want(hi), in cents
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if want(s, mid / 100) >= quantity else (lo, mid)
    return lo / 100


def abatement(s: Situation, held: int, price: float) -> int:
    """What it abates once it holds ``held`` allowances and the year's price is ``price``: at least what is cheaper
    than the price, more if it must to comply (as long as abating is cheaper than being short), within its potential.
    """
    by_price = abatement_at(s, price)
    needed = min(max(s.emissions - held, 0), s.shortfall_cost / s.slope)
    return int(min(max(by_price, needed), s.max_abatement))


def offsets_bought(eco: Economy, t: int, i: int, expected_price: float) -> int:
    """Offsets an enterprise buys for year ``t``: as many as the limit lets it surrender even at its most abatement
    (the limit is a share of verified emissions), when allowances are expected to cost more than offsets."""
    if not eco.plan.offset_limit_bps or expected_price <= eco.plan.offset_price:
        return 0
    return (eco.emissions(t, i) - eco.max_abatement(t, i)) * eco.plan.offset_limit_bps // 10_000


def point_value(traded_tonnes: float, price: float) -> float:
    """What a credit point is worth to an enterprise that trades ``traded_tonnes`` a year at ``price``."""
    return abs(traded_tonnes) * price * POINT_VALUE_PER_TRADED_TCNY


def timing(eco: Economy, t: int, i: int, stake: float, early_bonus: float) -> str:
    """When it surrenders: late if its hassle exceeds the public stigma and what lateness costs it in credit
    (``stake``, tCNY); early if the early reward is worth anything to it (``early_bonus``); otherwise on time."""
    if eco.hassle[t][i] > LATE_STIGMA + stake:
        return "late"
    return "early" if early_bonus > 0 else "on_time"


# --------------------------------------------------------------------------------------------- theory


@dataclass(frozen=True)
class LeastCost:
    """The intertemporal least-cost path: per year the price, abatement, bank at the year's end and cost."""

    price: list[float]
    abatement: list[float]
    bank: list[float]
    cost: list[float]  # abatement (and offset) cost of the year, tCNY
    required: list[float]  # emissions without abatement minus the cap
    discount_rate: float

    def present_value(self) -> float:
        return sum(c / (1 + self.discount_rate) ** t for t, c in enumerate(self.cost))


def _supply(eco: Economy, t: int, price: float) -> tuple[float, float]:
    """Abatement (offsets included) at ``price`` in year ``t`` and its cost."""
    amount = cost = 0.0
    for i in range(len(eco.firms)):
        c, top = eco.slope[t][i], eco.max_abatement(t, i)
        a = min(price / c, top) if price > 0 else 0.0
        amount += a
        cost += c * a * a / 2
    offsets = _offset_supply(eco, t)
    if offsets and price >= eco.plan.offset_price:
        amount += offsets
        cost += offsets * eco.plan.offset_price
    return amount, cost


def _offset_supply(eco: Economy, t: int) -> float:
    return sum((eco.emissions(t, i) - eco.max_abatement(t, i)) * eco.plan.offset_limit_bps // 10_000
               for i in range(len(eco.firms)))


def _top_price(eco: Economy, t: int) -> float:
    return max(eco.slope[t][i] * eco.max_abatement(t, i) for i in range(len(eco.firms)))


def least_cost_path(eco: Economy) -> LeastCost:
    """Prices rising at the discount rate within segments whose banks start and end empty (no borrowing)."""
    years, r = eco.plan.years, eco.plan.discount_rate
    required = [sum(eco.emissions(t, i) for i in range(len(eco.firms))) - eco.cap(t) for t in range(years)]
    prices: list[float] = []
    start = 0
    while start < years:
        best_p0, end = -1.0, start
        for k in range(start, years):
            p0 = _segment_start(eco, start, k, required, r)
            if p0 > best_p0 + 1e-9:
                best_p0, end = p0, k
        prices += [best_p0 * (1 + r) ** (t - start) for t in range(start, end + 1)]
        start = end + 1
    abated, costs, banks, bank = [], [], [], 0.0
    for t, p in enumerate(prices):
        amount, cost = _supply(eco, t, p)
        abated.append(amount)
        costs.append(cost)
        bank = max(bank + amount - required[t], 0.0)
        banks.append(bank)
    return LeastCost(prices, abated, banks, costs, [float(x) for x in required], r)


def _segment_start(eco: Economy, start: int, end: int, required: list[int], r: float) -> float:
    """The starting price whose path, rising at ``r``, abates from ``start`` to ``end`` exactly what they require."""
    def surplus(p0: float) -> float:
        return sum(_supply(eco, t, p0 * (1 + r) ** (t - start))[0] - required[t] for t in range(start, end + 1))

    high = max(_top_price(eco, t) for t in range(start, end + 1))
    if surplus(high) < 0:
        return high  # even the most abatement falls short: the cap binds beyond what can be abated
    if surplus(0.0) >= 0:
        return 0.0
    low = 0.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if surplus(mid) < 0 else (low, mid)
    return high


def abatement_cost(eco: Economy, t: int, abated: dict[int, int]) -> float:
    """The cost of what each enterprise abated in year ``t``."""
    return sum(eco.slope[t][i] * a * a / 2 for i, a in abated.items())

