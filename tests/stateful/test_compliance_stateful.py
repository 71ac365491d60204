"""Stateful test of a compliance year against a Python model of Compliance.

Random reports, attestations and rejections, finalisations (with true-up), transfers, surrenders, time
steps and settlement batches. Invariants after every step: no enterprise-year is settled twice, offsets
used never exceed the limit, the units burned by surrender equal the sum surrendered, the credit minted and
burned equal the model's, and balances, debts and outcomes equal the model's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from carbon_market.compliance import Outcome, ReportState, enterprise_year, entitlement, offset_limit
from carbon_market.ids import allowance_id, offset_id
from carbon_market.roles import Role
from carbon_market.suite import onboarding
from carbon_market.clock import sleep_until
from tests.conftest import BENCHMARKS, DOC, POWER, WHY, YEAR
from tests.stateful.machine import ChainMachine, run, share_of

A26 = allowance_id(YEAR)
OFFSET = offset_id(3, 2025)
BASELINE = 2_000
START_OFFSETS = 100
BENCH = BENCHMARKS[POWER]
firms = st.sampled_from(range(3))
shares = st.integers(min_value=0, max_value=110)


@dataclass
class Firm:
    state: ReportState = ReportState.ENROLLED
    rejections: int = 0
    reported: tuple[int, int] = (0, 0)
    emissions: int = 0
    allocated: int = 0
    allowances: int = 0
    offsets: int = START_OFFSETS
    surrendered: int = 0
    offsets_used: int = 0
    completed_phase: int | None = None
    outcome: Outcome = Outcome.PENDING
    credit: int = 0
    owed: int = 0  # credit owed from penalties beyond the balance
    reported_phase: int = 0  # when the enterprise submitted its latest report
    finalized_phase: int = 0
    debt: int = 0


class ComplianceMachine(ChainMachine):
    suite = regulator = verifier = keeper = year_rules = None
    enterprises: list = []

    def __init__(self) -> None:
        super().__init__()
        pre = BENCH * BASELINE * self.year_rules.pre_allocation_bps // (10**6 * 10_000)
        self.firm = {e: Firm(allocated=pre, allowances=pre) for e in self.enterprises}
        self.phase = 0  # 0 before the early deadline, 1 before the deadline, 2 after it
        self.settled: list = []
        self.settle_events: Counter = Counter()
        self.minted = self.burned = 0

    # ------------------------------------------------------------ model helpers

    def _reward(self, f: Firm, amount: int) -> None:
        collected = min(f.owed, amount)  # what is owed is collected first
        f.owed -= collected
        f.credit += amount - collected
        self.minted += amount
        self.burned += collected

    def _penalize(self, f: Firm, amount: int) -> None:
        burned = min(f.credit, amount)
        f.credit -= burned
        f.owed += amount - burned
        self.burned += burned

    def _common_error(self, f: Firm, allowed: tuple[ReportState, ...]) -> str | None:
        if f.outcome != Outcome.PENDING:
            return "Compliance__AlreadySettled"
        return None if f.state in allowed else "Compliance__InvalidState"

    # ------------------------------------------------------------ rules

    @rule(who=firms, emissions=st.integers(0, 3_000), output=st.integers(0, 3_000))
    def submit(self, who, emissions, output):
        e = self.enterprises[who]
        f = self.firm[e]
        error = self._common_error(f, (ReportState.ENROLLED, ReportState.REJECTED))
        self.expect(error, self.suite.compliance.submitReport, YEAR, emissions, output, DOC, {"from": e})
        if error is None:
            f.state, f.reported, f.reported_phase = ReportState.SUBMITTED, (emissions, output), self.phase

    @rule(who=firms, accept=st.booleans())
    def review(self, who, accept):
        e = self.enterprises[who]
        f = self.firm[e]
        error = self._common_error(f, (ReportState.SUBMITTED,))
        c = self.suite.compliance
        if accept:
            self.expect(error, c.attest, YEAR, e, {"from": self.verifier})
        else:
            self.expect(error, c.reject, YEAR, e, WHY, {"from": self.verifier})
        if error is None:
            f.state = ReportState.ATTESTED if accept else ReportState.REJECTED
            f.rejections += 0 if accept else 1

    @rule(who=firms)
    def finalize(self, who):
        e = self.enterprises[who]
        f = self.firm[e]
        error = self._common_error(f, (ReportState.ATTESTED,))
        self.expect(error, self.suite.compliance.finalize, YEAR, [e], {"from": self.regulator})
        if error is not None:
            return
        f.state, (f.emissions, output) = ReportState.FINALIZED, f.reported
        f.finalized_phase = self.phase
        if f.emissions == 0:  # complete when the enterprise reported, however late the finalisation
            f.completed_phase = f.reported_phase
        final = entitlement(BENCH, output)
        if final > f.allocated:
            top_up = final - f.allocated
            paid = min(f.debt, top_up)
            f.debt -= paid
            f.allowances += top_up - paid
        elif final < f.allocated:
            excess = f.allocated - final
            clawed = min(f.allowances, excess)
            f.allowances -= clawed
            f.debt += excess - clawed
        f.allocated = final
        if f.rejections == 0:
            self._reward(f, self.year_rules.reward_accurate)
        else:
            self._penalize(f, self.year_rules.penalty_rejected)

    @rule(src=firms, dst=firms, share=shares)
    def transfer(self, src, dst, share):
        a, b = self.enterprises[src], self.enterprises[dst]
        amount = share_of(self.firm[a].allowances, share)
        error = "ERC1155InsufficientBalance" if amount > self.firm[a].allowances else None
        self.expect(error, self.suite.allowance.safeTransferFrom, a, b, A26, amount, b"", {"from": a})
        if error is None:
            self.firm[a].allowances -= amount
            self.firm[b].allowances += amount

    @rule(who=firms, use_offsets=st.booleans(), share=shares)
    def surrender(self, who, use_offsets, share):
        e = self.enterprises[who]
        f = self.firm[e]
        remaining = f.emissions - f.surrendered - f.offsets_used
        amount = share_of(remaining, share)
        held = f.offsets if use_offsets else f.allowances
        limit = offset_limit(f.emissions, self.year_rules.offset_limit_bps)
        error = self._common_error(f, (ReportState.FINALIZED,))
        if error is None:
            if amount == 0 or amount > remaining:
                error = "Compliance__ExceedsObligation"
            elif use_offsets and f.offsets_used + amount > limit:
                error = "Compliance__OffsetLimitExceeded"
            elif amount > held:
                error = "Allowance__InsufficientBalance"
        token = OFFSET if use_offsets else A26
        self.expect(error, self.suite.compliance.surrender, YEAR, token, amount, {"from": e})
        if error is not None:
            return
        if use_offsets:
            f.offsets -= amount
            f.offsets_used += amount
        else:
            f.allowances -= amount
            f.surrendered += amount
        if amount == remaining:
            f.completed_phase = self.phase

    @rule()
    def advance_time(self):
        if self.phase == 2:
            return
        self.phase += 1
        target = self.year_rules.early_deadline if self.phase == 1 else self.year_rules.deadline
        sleep_until(target + 1)

    @rule(count=st.integers(1, 3))
    def settle(self, count):
        pending = [e for e in self.enterprises if e not in self.settled]  # roster order
        everyone = len(pending)
        # the keeper settles inside the grace window: its batch stops before a report awaiting the verifier or the
        # regulator
        awaiting = [i for i, e in enumerate(pending) if self.firm[e].state in (ReportState.SUBMITTED,
                                                                              ReportState.ATTESTED)]
        pending = pending[:awaiting[0]] if awaiting else pending
        error = ("Compliance__DeadlineNotPassed" if self.phase < 2
                 else "Compliance__NothingToSettle" if not everyone
                 else "Compliance__AwaitingFinalization" if not pending else None)
        tx = self.expect(error, self.suite.compliance.settle, YEAR, count, {"from": self.keeper})
        if error is not None:
            return
        for event in tx.events["EnterpriseSettled"]:
            self.settle_events[event["enterprise"]] += 1
        for e in pending[:count]:
            self._settle(e)

    def _settle(self, e) -> None:
        f = self.firm[e]
        r = self.year_rules
        self.settled.append(e)
        if f.state != ReportState.FINALIZED:
            f.outcome, shortfall = Outcome.UNVERIFIED, entitlement(BENCH, BASELINE)
        else:
            shortfall = f.emissions - f.surrendered - f.offsets_used
            # late only by the enterprise's own doing: finalised in time, or reported after the deadline
            own = f.finalized_phase < 2 or f.reported_phase == 2
            f.outcome = (Outcome.SHORT if shortfall else Outcome.LATE if f.completed_phase == 2 and own
                         else Outcome.EARLY if f.completed_phase == 0 else Outcome.ON_TIME)
        f.debt += shortfall
        if f.outcome in (Outcome.SHORT, Outcome.UNVERIFIED):
            self._penalize(f, r.penalty_shortfall)
        elif f.outcome == Outcome.LATE:
            self._penalize(f, r.penalty_late)
        else:
            self._reward(f, r.reward_early if f.outcome == Outcome.EARLY else r.reward_on_time)

    # ------------------------------------------------------------ invariants

    @invariant()
    def never_settled_twice(self):
        assert all(n == 1 for n in self.settle_events.values())
        assert set(self.settle_events) == set(self.settled)

    @invariant()
    def ledger_matches_model(self):
        c, a, credit = self.suite.compliance, self.suite.allowance, self.suite.credit
        firms_ = [self.firm[e] for e in self.enterprises]
        balances = a.balanceOfBatch(self.enterprises * 2, [A26] * 3 + [OFFSET] * 3)
        assert list(balances) == [f.allowances for f in firms_] + [f.offsets for f in firms_]
        assert [credit.balanceOf(e) for e in self.enterprises] == [f.credit for f in firms_]
        assert credit.totalSupply() == self.minted - self.burned
        assert [c.debtOf(e) for e in self.enterprises] == [f.debt for f in firms_]
        surrendered = a.totals(A26)[1], a.totals(OFFSET)[1]
        assert surrendered == (sum(f.surrendered for f in firms_), sum(f.offsets_used for f in firms_))
        for e, f in zip(self.enterprises, firms_, strict=True):
            record = enterprise_year(c, YEAR, e)
            assert (record["state"], record["outcome"]) == (f.state, f.outcome)
            assert (record["allowancesSurrendered"], record["offsetsSurrendered"]) == (f.surrendered, f.offsets_used)
            assert record["offsetsSurrendered"] <= offset_limit(record["verifiedEmissions"],
                                                                self.year_rules.offset_limit_bps)


def test_compliance_stateful(year_open, regulator, verifier, issuer, outsider, newcomers, rules):
    enterprises = list(newcomers[7:10])
    year_open.registry.onboardBatch([onboarding(e, Role.ENTERPRISE, sector=POWER) for e in enterprises],
                                    {"from": regulator})
    year_open.compliance.enroll(YEAR, enterprises, [BASELINE] * len(enterprises), {"from": regulator})
    year_open.allowance.mintBatch(enterprises, OFFSET, [START_OFFSETS] * 3, {"from": issuer})
    run(ComplianceMachine, suite=year_open, regulator=regulator, verifier=verifier, keeper=outsider,
        year_rules=rules, enterprises=enterprises)
