"""The demonstration session of `make demo`: a compliance year from opening to settlement.

Deploy the suite, onboard every role, open 2026 with sector benchmarks, issue offsets from a verified
project, run reports (one rejected and corrected), verification, true-up, a bilateral trade, surrender on
five different schedules, settlement in batches, and print each enterprise's outcome."""

from __future__ import annotations

from typing import Any

from carbon_market import compliance as cy
from carbon_market import ids, session
from carbon_market.console import quiet, say
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, Suite, deploy_suite, onboarding
from carbon_market.year import DOCUMENT, Firm, latest_timestamp, run_year

YEAR = 2026
POWER, CEMENT = 4411, 3011
BENCHMARKS = {POWER: cy.benchmark_units(0.8), CEMENT: cy.benchmark_units(0.85)}
SECTORS = {POWER: "power", CEMENT: "cement"}
OFFSETS = ids.offset_id(1, 2025)

#: credit needed for tiers 1, 2, 3 in the pilot: an accurate report (10) earns tier 1 and its fee discount and
#: access to block trades
PILOT_TIERS = (10, 50, 200)

# name, account index, roles, region, sector
CAST = [
    ("Verifier (third-party agency)", 2, Role.VERIFIER, 110000, 0),
    ("Exchange", 3, Role.EXCHANGE, 310000, 0),
    ("Forest Carbon Co. (offset developer)", 4, Role.OFFSET_DEVELOPER, 530000, 0),
    ("Green Fund (investor)", 5, Role.INVESTOR, 310000, 0),
    ("Huaneng Power", 6, Role.ENTERPRISE, 110000, POWER),
    ("Conch Cement", 7, Role.ENTERPRISE, 340000, CEMENT),
    ("Datang Power", 8, Role.ENTERPRISE, 130000, POWER),
    ("Jidong Cement", 9, Role.ENTERPRISE, 130000, CEMENT),
    ("Guodian Power", 10, Role.ENTERPRISE, 440000, POWER),
]

# name: (baseline output, verified emissions, verified output, behaviour, first report rejected, offsets)
PLAN = {
    "Huaneng Power": (100_000, 80_000, 105_000, "early", False, 0),
    "Conch Cement": (60_000, 48_000, 58_000, "on_time", True, 2_000),
    "Datang Power": (80_000, 66_000, 84_000, "short", False, 0),
    "Jidong Cement": (40_000, 33_000, 41_000, "late", False, 0),
    "Guodian Power": (50_000, 39_000, 52_000, "on_time", False, 0),
}


def setup_market(accounts: Any) -> tuple[Suite, dict[str, Any]]:
    """Deploy the suite and onboard the cast in one batch."""
    admin, regulator = accounts[0], accounts[1]
    suite = deploy_suite(admin, regulator, tier_thresholds=PILOT_TIERS)
    suite.registry.onboardBatch(
        [onboarding(accounts[i], roles, region=region, sector=sector, identity=name)
         for name, i, roles, region, sector in CAST],
        {"from": regulator},
    )
    people = {name: accounts[i] for name, i, *_ in CAST}
    people["Regulator"] = regulator
    return suite, people


def _issue_offsets(suite: Suite, people: dict[str, Any]) -> None:
    regulator, verifier = people["Regulator"], people["Verifier (third-party agency)"]
    forest = people["Forest Carbon Co. (offset developer)"]
    suite.offsets.registerProject(forest, DOCUMENT, {"from": regulator})
    suite.offsets.requestIssuance(1, 2025, 5_000, DOCUMENT, {"from": forest})
    suite.offsets.attestIssuance(0, {"from": verifier})
    # a bilateral sale of offsets to Conch Cement, paid in the settlement token
    buyer = people["Conch Cement"]
    suite.money.issue(buyer, 200_000 * MONEY_UNIT, {"from": regulator})
    suite.allowance.safeTransferFrom(forest, buyer, OFFSETS, 2_000, b"", {"from": forest})
    suite.money.transfer(forest, 2_000 * 45 * MONEY_UNIT, {"from": buyer})


def _firms(people: dict[str, Any]) -> list[Firm]:
    sector = {name: s for name, _, _, _, s in CAST}
    return [Firm(people[name], sector[name], base, emissions, output, behaviour, rejected, offsets, OFFSETS)
            for name, (base, emissions, output, behaviour, rejected, offsets) in PLAN.items()]


def run(accounts: Any) -> None:
    say("Deploying the registry, the three tokens, compliance and offsets; onboarding every role")
    with quiet():
        suite, people = setup_market(accounts)
        rules = cy.default_rules(latest_timestamp(), fine_per_tonne=100 * MONEY_UNIT)
    say("Issuing 5,000 verified offsets of project 1 (vintage 2025); Conch Cement buys 2,000")
    with quiet():
        _issue_offsets(suite, people)
    say(f"Compliance year {YEAR}: 70% pre-allocation, reports, verification, true-up, surrender, settlement")
    with quiet():
        run_year(suite, regulator=people["Regulator"], verifier=people["Verifier (third-party agency)"],
                 keeper=people["Exchange"], year=YEAR, rules=rules, benchmarks=BENCHMARKS,
                 firms=_firms(people), settle_batch=2,
                 after_true_up=lambda: session.run(suite, people, YEAR))
    print_outcomes(suite, people)


def print_outcomes(suite: Suite, people: dict[str, Any]) -> None:
    c = suite.compliance
    say(f"Outcome of {YEAR}, per enterprise")
    header = (f"{'enterprise':15} {'sector':6} {'allocated':>9} {'emitted':>8} {'allow.':>7} {'offsets':>7} "
              f"{'outcome':10} {'short':>6} {'fine (tCNY)':>12} {'credit':>6} {'debt':>6}")
    print(header)
    print("-" * len(header))
    sector = {name: s for name, _, _, _, s in CAST}
    for name in PLAN:
        r = cy.enterprise_year(c, YEAR, people[name])
        print(f"{name:15} {SECTORS[sector[name]]:6} {r['allocated']:>9,} {r['obligation']:>8,} "
              f"{r['allowancesSurrendered']:>7,} {r['offsetsSurrendered']:>7,} {r['outcome'].name.lower():10} "
              f"{r['shortfall']:>6,} {r['fine'] / MONEY_UNIT:>12,.0f} {suite.credit.balanceOf(people[name]):>6} "
              f"{c.debtOf(people[name]):>6,}")
    t = cy.year_totals(c, YEAR)
    counts = ", ".join(f"{o.name.lower()} {n}" for o, n in t["outcomes"].items() if n)
    print(f"\nyear {YEAR}: {t['enterprises']} enterprises, {t['verifiedEmissions']:,} t verified, "
          f"{t['allowancesSurrendered']:,} allowances and {t['offsetsSurrendered']:,} offsets surrendered, "
          f"{t['shortfall']:,} t short; credit +{t['creditRewarded']} -{t['creditBurned']} at settlement; {counts}")
    supply = suite.allowance.totals(ids.allowance_id(YEAR))
    print(f"allowances {YEAR}: minted {supply[0]:,}, surrendered {supply[1]:,}, clawed back {supply[4]:,}, "
          f"in circulation {suite.allowance.totalSupply(ids.allowance_id(YEAR)):,}")
