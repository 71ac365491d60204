"""The compliance year's domain: rules, enums and formulas that mirror ``Compliance.sol``, and its records read by
field name. What the year's operations do on chain is in :mod:`carbon_market.ops.steps`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import Any

BPS = 10_000
#: Benchmarks are micro-tonnes of CO2e per unit of output.
BENCHMARK_SCALE = 10**6
#: ``Compliance.MAX_BATCH`` and ``Compliance.MAX_SETTLE_BATCH``.
MAX_BATCH = 100
MAX_SETTLE_BATCH = 200
#: enrolments per transaction the harness sends: about 165,000 gas each, so a batch stays under 9,000,000
ENROLL_BATCH = 50
DAY = 86_400


class ReportState(IntEnum):
    NONE = 0
    ENROLLED = 1
    SUBMITTED = 2
    ATTESTED = 3
    REJECTED = 4
    FINALIZED = 5


class Outcome(IntEnum):
    PENDING = 0
    EARLY = 1
    ON_TIME = 2
    LATE = 3
    SHORT = 4
    UNVERIFIED = 5


class ReviewStatus(IntEnum):
    PENDING = 0
    ATTESTED = 1
    REJECTED = 2


class Phase(IntEnum):
    NONE = 0
    OPEN = 1
    SETTLING = 2
    SETTLED = 3


@dataclass(frozen=True)
class Rules:
    """``ICompliance.Rules``; the defaults follow China's national ETS (70% pre-allocation, 5% offsets)."""

    pre_allocation_bps: int = 7_000
    offset_limit_bps: int = 500
    early_deadline: int = 0
    deadline: int = 0
    fine_per_tonne: int = 0
    reward_early: int = 30
    reward_on_time: int = 20
    reward_accurate: int = 10
    penalty_late: int = 20
    penalty_shortfall: int = 50
    penalty_rejected: int = 5
    #: seconds after the deadline in which only the regulator settles an enterprise awaiting finalisation
    settlement_grace: int = 7 * DAY

    def as_tuple(self) -> tuple[int, ...]:
        return astuple(self)

    @classmethod
    def from_chain(cls, values: Sequence[int] | Mapping[str, int]) -> Rules:
        """From a ``rules(year)`` view (a sequence) or a decoded ``YearOpened`` event (a mapping by field name)."""
        if isinstance(values, Mapping):
            values = list(values.values())
        return cls(*(int(v) for v in values))

    def replace(self, **changes: int) -> Rules:
        return Rules(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def default_rules(now: int, *, early_days: int = 60, deadline_days: int = 90, fine_per_tonne: int = 0) -> Rules:
    """Rules whose early deadline and deadline lie ``early_days`` and ``deadline_days`` after ``now``."""
    return Rules(early_deadline=now + early_days * DAY, deadline=now + deadline_days * DAY,
                 fine_per_tonne=fine_per_tonne)


def pre_allocation(benchmark: int, output: int, share_bps: int) -> int:
    """``Compliance``'s pre-allocation: share x benchmark x output, rounded down."""
    return benchmark * output * share_bps // (BENCHMARK_SCALE * BPS)


def entitlement(benchmark: int, output: int) -> int:
    """``Compliance``'s final allocation at true-up: benchmark x verified output, rounded down."""
    return benchmark * output // BENCHMARK_SCALE


def offset_limit(emissions: int, limit_bps: int) -> int:
    return emissions * limit_bps // BPS


#: The fields of ``ICompliance.EnterpriseYear``, in order.
ENTERPRISE_YEAR_FIELDS = (
    "state", "outcome", "rejections", "completedAt", "baselineOutput", "allocated", "debtDeducted",
    "clawedBack", "verifiedEmissions", "verifiedOutput", "obligation", "allowancesSurrendered",
    "offsetsSurrendered", "shortfall", "fine", "creditRewarded", "creditBurned", "reports",
)
#: The fields of ``ICompliance.YearTotals``, in order.
YEAR_TOTALS_FIELDS = (
    "openedAt", "enterprises", "settled", "finalized", "allocated", "clawedBack", "verifiedEmissions",
    "allowancesSurrendered", "offsetsSurrendered", "shortfall", "creditRewarded", "creditBurned", "fines",
    "outcomes",
)


def enterprise_year(compliance: Any, year: int, enterprise: Any) -> dict[str, Any]:
    """``enterpriseYear`` as a dict, with ``state`` and ``outcome`` as enums."""
    record = dict(zip(ENTERPRISE_YEAR_FIELDS, compliance.enterpriseYear(year, enterprise), strict=True))
    record["state"] = ReportState(record["state"])
    record["outcome"] = Outcome(record["outcome"])
    return record


def year_totals(compliance: Any, year: int) -> dict[str, Any]:
    """``yearTotals`` as a dict; ``outcomes`` maps each :class:`Outcome` to its count."""
    totals = dict(zip(YEAR_TOTALS_FIELDS, compliance.yearTotals(year), strict=True))
    totals["outcomes"] = {Outcome(i): int(n) for i, n in enumerate(totals["outcomes"]) if i}
    return totals
