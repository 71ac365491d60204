"""Run a whole compliance year on a local chain: open, enrol, report, verify, finalise, surrender on the
firms' schedules, and settle. The demo and the benchmark use it; it moves the chain's clock, so it runs
only where time can be advanced (a development chain)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from brownie import chain, web3

from carbon_market import compliance as cy
from carbon_market.ids import allowance_id

#: when a firm surrenders its obligation: before the early deadline, before the deadline, after it, only
#: partly (short), or never reporting at all (unverified)
BEHAVIOURS = ("early", "on_time", "late", "short", "unverified")


@dataclass(frozen=True)
class Firm:
    """One enterprise's year: its baseline and verified figures, and how it behaves."""

    account: Any
    sector: int
    baseline_output: int
    emissions: int
    output: int
    behaviour: str = "on_time"
    rejected_first: bool = False
    #: offsets (of ``offset_id``) surrendered before allowances, within the year's offset limit
    offsets: int = 0
    offset_id: int = 0

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}; known: {', '.join(BEHAVIOURS)}")


@dataclass
class YearRun:
    """The transactions of a year, by step, for gas accounting."""

    steps: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, step: str, txs: Any) -> None:
        self.steps.setdefault(step, []).extend(txs if isinstance(txs, list) else [txs])


DOCUMENT = b"\x0d" * 32
REJECTION = b"\x0e" * 32


def latest_timestamp() -> int:
    """The timestamp of the chain's latest block."""
    return int(web3.eth.get_block("latest").timestamp)


def sleep_until(timestamp: int) -> None:
    """Mine a block at or after ``timestamp`` (development chains only)."""
    with warnings.catch_warnings():  # brownie's own chain.sleep warns about its internal rpc calls
        warnings.simplefilter("ignore", FutureWarning)
        chain.sleep(max(timestamp - latest_timestamp(), 0))
        chain.mine()


def surrender_rounds(rules: cy.Rules) -> list[tuple[tuple[str, ...], int | None]]:
    """When each behaviour surrenders: (behaviours, the moment the clock moves to afterwards). Early firms
    before the early deadline, on-time and short ones before the deadline, late ones after it."""
    return [(("early",), rules.early_deadline + 1), (("on_time", "short"), rules.deadline + 1), (("late",), None)]


def _report(c: Any, verifier: Any, year: int, firm: Firm, run: YearRun) -> None:
    by_firm = {"from": firm.account}
    if firm.rejected_first:
        run.add("report", c.submitReport(year, firm.emissions * 11 // 10, firm.output, DOCUMENT, by_firm))
        run.add("reject", c.reject(year, firm.account, REJECTION, {"from": verifier}))
    run.add("report", c.submitReport(year, firm.emissions, firm.output, DOCUMENT, by_firm))
    run.add("attest", c.attest(year, firm.account, {"from": verifier}))


def _surrender(c: Any, year: int, firm: Firm, run: YearRun) -> None:
    amount = firm.emissions // 2 if firm.behaviour == "short" else firm.emissions
    by_firm = {"from": firm.account}
    offsets = min(firm.offsets, amount)
    if offsets:
        run.add("surrender_offsets", c.surrender(year, firm.offset_id, offsets, by_firm))
    if amount > offsets:
        run.add("surrender", c.surrender(year, allowance_id(year), amount - offsets, by_firm))


def run_year(
    suite: Any,
    *,
    regulator: Any,
    verifier: Any,
    keeper: Any,
    year: int,
    rules: cy.Rules,
    benchmarks: Mapping[int, int],
    firms: Sequence[Firm],
    settle_batch: int = cy.MAX_SETTLE_BATCH,
    progress: Callable[[str], None] = lambda _: None,
    after_true_up: Callable[[], None] | None = None,
) -> YearRun:
    """Run ``year`` from opening to settlement. A firm's verified emissions must not exceed its final
    allocation unless it is short: every firm surrenders from what it was allocated. ``after_true_up`` runs
    once the allocations are final and before anyone surrenders (a trading session: firms may sell only what
    they will not surrender)."""
    c, run = suite.compliance, YearRun()
    progress(f"opening {year} and enrolling {len(firms)} enterprises")
    cy.open_year(c, regulator, year, rules, benchmarks)
    run.add("enroll", cy.enroll(c, regulator, year, {f.account: f.baseline_output for f in firms}))
    progress("reports, verification and finalisation")
    reporting = [f for f in firms if f.behaviour != "unverified"]
    for firm in reporting:
        _report(c, verifier, year, firm, run)
    run.add("finalize", cy.finalize(c, regulator, year, [f.account for f in reporting]))
    if after_true_up is not None:
        after_true_up()
    progress("surrender")
    for behaviours, until in surrender_rounds(rules):
        for firm in (f for f in firms if f.behaviour in behaviours):
            _surrender(c, year, firm, run)
        if until is not None:
            sleep_until(until)
    progress("settlement")
    run.add("settle", cy.settle_all(c, keeper, year, settle_batch))
    return run
