"""A whole compliance year as a composition of operations (:mod:`carbon_market.ops.steps`): open, enrol, report
(a rejected report corrected), verify, true up, surrender on each firm's schedule, settle. The bench and the
simulation run it with a sender of their choice (:class:`carbon_market.ops.senders.Operator`); an operator writes the
same steps in a file (``operations/pilot-2026``). It moves the chain's clock to the deadlines, so it runs only where
time can be advanced (a development chain)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from carbon_market import compliance as cy
from carbon_market.ops.node import Receipt
from carbon_market.ops.senders import Operator, money

#: when a firm surrenders its obligation: before the early deadline, before the deadline, after it, only
#: partly (short), or never reporting at all (unverified)
BEHAVIOURS = ("early", "on_time", "late", "short", "unverified")
#: the rounds of surrender: who surrenders, then the deadline the clock moves past (none after the last)
ROUNDS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("early",), "early_deadline"), (("on_time", "short"), "deadline"), (("late",), None))


@dataclass(frozen=True)
class Firm:
    """One enterprise's year: its account name, baseline and verified figures, and how it behaves."""

    name: str
    sector: int
    baseline_output: int
    emissions: int
    output: int
    behaviour: str = "on_time"
    rejected_first: bool = False
    #: offsets of ``offset_token`` (``offset <project> <vintage>``) surrendered first, within the offset limit
    offsets: int = 0
    offset_token: str = ""
    #: allowances it surrenders; by default what its obligation leaves after offsets (half of it if short)
    allowances: int | None = None

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}; known: {', '.join(BEHAVIOURS)}")

    def surrenders(self, year: int) -> list[dict[str, Any]]:
        """Its surrender rows: offsets first, then allowances of ``year``."""
        due = self.emissions // 2 if self.behaviour == "short" else self.emissions
        offsets = min(self.offsets, due)
        allowances = due - offsets if self.allowances is None else self.allowances
        rows = [{"enterprise": self.name, "token": self.offset_token, "amount": offsets}] if offsets else []
        if allowances > 0:
            rows.append({"enterprise": self.name, "token": f"allowance {year}", "amount": allowances})
        return rows


@dataclass
class YearRun:
    """The receipts of a year, by operation, for gas accounting."""

    steps: dict[str, list[Receipt]] = field(default_factory=dict)

    def add(self, step: str, receipts: list[Receipt]) -> None:
        self.steps.setdefault(step, []).extend(receipts)


def rules_args(rules: cy.Rules) -> dict[str, Any]:
    """``open_year``'s rules as an operations file states them (the fine in whole currency units)."""
    return {**asdict(rules), "fine_per_tonne": money(rules.fine_per_tonne)}


def benchmark_args(benchmarks: Mapping[int, int]) -> dict[int, Decimal]:
    """Benchmarks (micro-tonnes per unit of output) as an operations file states them (tonnes per unit)."""
    return {sector: Decimal(b) / cy.BENCHMARK_SCALE for sector, b in benchmarks.items()}


def open_and_enrol(op: Operator, run: YearRun, *, regulator: str, year: int, rules: cy.Rules,
                   benchmarks: Mapping[int, int], firms: Sequence[Firm]) -> None:
    """Open ``year`` and enrol the firms (each pre-allocated its share of benchmark x baseline)."""
    run.add("open", op.do("open_year", by=regulator, year=year, rules=rules_args(rules),
                          benchmarks=benchmark_args(benchmarks)))
    run.add("enroll", op.do("allocate", by=regulator, year=year, enterprises=[
        {"enterprise": f.name, "baseline_output": f.baseline_output} for f in firms]))


def verify(op: Operator, run: YearRun, *, regulator: str, verifier: str, year: int, firms: Sequence[Firm]) -> None:
    """Reports (a firm rejected first reports 10% too much, is rejected and reports again), attestation, true-up."""
    reporting = [f for f in firms if f.behaviour != "unverified"]
    if not reporting:
        return
    rejected = [f for f in reporting if f.rejected_first]

    def rows(group: Sequence[Firm], inflate: bool = False) -> list[dict[str, Any]]:
        return [{"enterprise": f.name, "emissions": f.emissions * 11 // 10 if inflate and f.rejected_first
                 else f.emissions, "output": f.output} for f in group]

    run.add("report", op.do("report", year=year, reports=rows(reporting, inflate=True)))
    for firm in rejected:
        run.add("reject", op.do("reject", year=year, verifier=verifier, enterprise=firm.name,
                                reason="figures do not match the monitoring plan"))
    if rejected:
        run.add("report", op.do("report", year=year, reports=rows(rejected)))
    names = [f.name for f in reporting]
    run.add("attest", op.do("attest", year=year, verifier=verifier, enterprises=names))
    run.add("finalize", op.do("true_up", by=regulator, year=year, enterprises=names))


def surrender_and_settle(op: Operator, run: YearRun, *, keeper: str, year: int, firms: Sequence[Firm],
                         settle_batch: int = cy.MAX_SETTLE_BATCH) -> None:
    """Surrender on each firm's schedule (early, on time or short, late), moving the clock past each deadline,
    then settle in batches of ``settle_batch``."""
    for behaviours, deadline in ROUNDS:
        rows = [row for f in firms if f.behaviour in behaviours for row in f.surrenders(year)]
        if rows:
            run.add("surrender", op.do("surrender", year=year, surrenders=rows))
        if deadline is not None:
            op.do("advance_time", to=f"{deadline} {year}")
    run.add("settle", op.do("settle", by=keeper, year=year, batch=settle_batch))


def run_year(op: Operator, *, regulator: str, verifier: str, keeper: str, year: int, rules: cy.Rules,
             benchmarks: Mapping[int, int], firms: Sequence[Firm], settle_batch: int = cy.MAX_SETTLE_BATCH,
             progress: Callable[[str], None] = lambda _: None,
             after_true_up: Callable[[], None] | None = None) -> YearRun:
    """Run ``year`` from opening to settlement. A firm's verified emissions must not exceed its final
    allocation unless it is short: every firm surrenders from what it was allocated. ``after_true_up`` runs
    once the allocations are final and before anyone surrenders (a trading session)."""
    run = YearRun()
    progress(f"opening {year} and enrolling {len(firms)} enterprises")
    open_and_enrol(op, run, regulator=regulator, year=year, rules=rules, benchmarks=benchmarks, firms=firms)
    progress("reports, verification and finalisation")
    verify(op, run, regulator=regulator, verifier=verifier, year=year, firms=firms)
    if after_true_up is not None:
        after_true_up()
    progress("surrender and settlement")
    surrender_and_settle(op, run, keeper=keeper, year=year, firms=firms, settle_batch=settle_batch)
    return run
