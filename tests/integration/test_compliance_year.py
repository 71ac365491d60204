"""A whole compliance year, from opening to settlement, with five enterprises in two sectors, an offset
project, and the next year's pre-allocation from the verified figures less the carried debt."""

from __future__ import annotations

import pytest

from carbon_market.compliance import Outcome, Phase, enterprise_year, entitlement, pre_allocation, year_totals
from carbon_market.ids import allowance_id, offset_id
from carbon_market.roles import Role
from carbon_market.suite import onboarding
from carbon_market.clock import sleep_until
from carbon_market.year import benchmark_args, rules_args
from tests.conftest import BEIJING, BENCHMARKS, CEMENT, DOC, POWER, SHANGHAI, WHY, YEAR, operator

A26, A27 = allowance_id(YEAR), allowance_id(YEAR + 1)
OFFSETS = offset_id(1, 2025)

# name: (sector, baseline output, reported emissions, verified output)
PLAN = {
    "early": (POWER, 100_000, 82_000, 105_000),
    "on_time": (CEMENT, 60_000, 50_000, 58_000),
    "short": (POWER, 80_000, 75_000, 80_000),
    "late": (CEMENT, 40_000, 36_000, 42_000),
    "corrected": (POWER, 50_000, 41_000, 52_000),
}


@pytest.fixture(scope="module")
def firms(suite, regulator, newcomers):
    regions = {POWER: BEIJING, CEMENT: SHANGHAI}
    accounts = dict(zip(PLAN, newcomers[:5], strict=True))
    suite.registry.onboardBatch(
        [onboarding(accounts[n], Role.ENTERPRISE, sector=PLAN[n][0], region=regions[PLAN[n][0]]) for n in PLAN],
        {"from": regulator})
    return accounts


def test_whole_year(suite, regulator, verifier, dave, outsider, firms, rules):
    c, a, credit = suite.compliance, suite.allowance, suite.credit
    benchmarks = {POWER: BENCHMARKS[POWER], CEMENT: BENCHMARKS[CEMENT]}
    op = operator(suite, regulator=regulator, outsider=outsider, **firms)  # the harness's year operations
    op.do("open_year", by="regulator", year=YEAR, rules=rules_args(rules), benchmarks=benchmark_args(benchmarks))
    op.do("allocate", by="regulator", year=YEAR,
          enterprises=[{"enterprise": n, "baseline_output": PLAN[n][1]} for n in PLAN])
    assert year_totals(c, YEAR)["enterprises"] == 5
    for name, (sector, base, _, _) in PLAN.items():
        assert a.balanceOf(firms[name], A26) == pre_allocation(benchmarks[sector], base, rules.pre_allocation_bps)

    # offsets: Dave's project issues 3,000 t of vintage 2025; the corrected firm buys 2,000
    suite.offsets.registerProject(dave, DOC, {"from": regulator})
    suite.offsets.requestIssuance(1, 2025, 3_000, DOC, {"from": dave})
    suite.offsets.attestIssuance(0, {"from": verifier})
    a.safeTransferFrom(dave, firms["corrected"], OFFSETS, 2_000, b"", {"from": dave})

    # reports: one rejected and corrected, the others attested at once
    for name, (_, _, emissions, output) in PLAN.items():
        first = emissions + 5_000 if name == "corrected" else emissions
        c.submitReport(YEAR, first, output, DOC, {"from": firms[name]})
    c.reject(YEAR, firms["corrected"], WHY, {"from": verifier})
    c.submitReport(YEAR, PLAN["corrected"][2], PLAN["corrected"][3], DOC, {"from": firms["corrected"]})
    for name in PLAN:
        c.attest(YEAR, firms[name], {"from": verifier})
    op.do("true_up", by="regulator", year=YEAR, enterprises=list(PLAN))
    for name, (sector, _, emissions, output) in PLAN.items():
        record = enterprise_year(c, YEAR, firms[name])
        assert record["obligation"] == emissions
        assert record["allocated"] == entitlement(benchmarks[sector], output)
        assert a.balanceOf(firms[name], A26) == record["allocated"]
    assert enterprise_year(c, YEAR, firms["corrected"])["reports"] == 2

    # allowances move to where they are short: the early firm has 84,000 for 82,000; the short firm buys 2,000
    a.safeTransferFrom(firms["early"], firms["short"], A26, 2_000, b"", {"from": firms["early"]})
    c.surrender(YEAR, A26, 82_000, {"from": firms["early"]})  # before the early deadline
    sleep_until(rules.early_deadline + 1)
    c.surrender(YEAR, A26, 49_300, {"from": firms["on_time"]})  # entitlement 49,300 of 50,000 ...
    a.safeTransferFrom(firms["late"], firms["on_time"], A26, 700, b"", {"from": firms["late"]})
    c.surrender(YEAR, A26, 700, {"from": firms["on_time"]})  # ... completed with bought units
    c.surrender(YEAR, A26, 66_000, {"from": firms["short"]})  # of 75,000: 9,000 short
    c.surrender(YEAR, OFFSETS, 2_000, {"from": firms["corrected"]})  # offsets within 5% of 41,000
    c.surrender(YEAR, A26, 39_000, {"from": firms["corrected"]})
    assert c.offsetLimit(YEAR, firms["corrected"]) == 2_050
    sleep_until(rules.deadline + 1)
    late_held = a.balanceOf(firms["late"], A26)
    assert late_held == 35_000
    a.safeTransferFrom(dave, firms["late"], OFFSETS, 1_000, b"", {"from": dave})
    c.surrender(YEAR, A26, 35_000, {"from": firms["late"]})
    c.surrender(YEAR, OFFSETS, 1_000, {"from": firms["late"]})  # after the deadline: late

    txs = op.do("settle", by="outsider", year=YEAR, batch=2)
    assert len(txs) == 3 and c.phase(YEAR) == Phase.SETTLED
    outcomes = {n: enterprise_year(c, YEAR, firms[n])["outcome"] for n in PLAN}
    assert outcomes == {"early": Outcome.EARLY, "on_time": Outcome.ON_TIME, "short": Outcome.SHORT,
                        "late": Outcome.LATE, "corrected": Outcome.ON_TIME}

    # credit: accurate reporting at finalisation, then the settlement rule; the corrected firm was penalised
    # for its rejection while it held nothing, so it owed the penalty and its on-time reward paid it (issue 20:
    # a penalty is never forgiven); the short and late firms owe what their balance could not cover
    r = rules
    expected_credit = {
        "early": r.reward_accurate + r.reward_early,
        "on_time": r.reward_accurate + r.reward_on_time,
        "short": max(r.reward_accurate - r.penalty_shortfall, 0),
        "late": max(r.reward_accurate - r.penalty_late, 0),
        "corrected": r.reward_on_time - r.penalty_rejected,
    }
    assert {n: credit.balanceOf(firms[n]) for n in PLAN} == expected_credit
    assert {n: credit.owedOf(firms[n]) for n in PLAN} == {
        "early": 0, "on_time": 0, "short": max(r.penalty_shortfall - r.reward_accurate, 0),
        "late": max(r.penalty_late - r.reward_accurate, 0), "corrected": 0}
    short = enterprise_year(c, YEAR, firms["short"])
    assert (short["shortfall"], short["fine"]) == (9_000, 9_000 * r.fine_per_tonne)
    assert c.debtOf(firms["short"]) == 9_000

    # what surrender burned equals what the year counted
    totals = year_totals(c, YEAR)
    surrendered = sum(enterprise_year(c, YEAR, firms[n])["allowancesSurrendered"] for n in PLAN)
    offsets_used = sum(enterprise_year(c, YEAR, firms[n])["offsetsSurrendered"] for n in PLAN)
    assert a.totals(A26)[1] == surrendered == totals["allowancesSurrendered"]
    assert a.totals(OFFSETS)[1] == offsets_used == totals["offsetsSurrendered"] == 3_000
    assert totals["verifiedEmissions"] == sum(p[2] for p in PLAN.values())
    assert totals["outcomes"][Outcome.ON_TIME] == 2

    # the next year pre-allocates from the verified output, less the carried debt
    next_rules = r.replace(early_deadline=r.deadline + 300 * 86_400, deadline=r.deadline + 365 * 86_400)
    op.do("open_year", by="regulator", year=YEAR + 1, rules=rules_args(next_rules),
          benchmarks=benchmark_args(benchmarks))
    op.do("allocate", by="regulator", year=YEAR + 1, enterprises=[{"enterprise": n, "baseline_output": 0} for n in PLAN])
    short_pre = pre_allocation(benchmarks[POWER], PLAN["short"][3], r.pre_allocation_bps)
    assert a.balanceOf(firms["short"], A27) == short_pre - 9_000
    assert c.debtOf(firms["short"]) == 0
    early = enterprise_year(c, YEAR + 1, firms["early"])
    assert early["baselineOutput"] == PLAN["early"][3]
