"""The demonstration session of `make demo`: deploy, onboard every role, issue, trade, retire, summarise."""

from __future__ import annotations

from typing import Any

from carbon_market import ids
from carbon_market.roles import Role, role_names
from carbon_market.suite import MONEY_UNIT, Suite, deploy_suite, onboarding

YEAR = 2026
CEA = ids.allowance_id(YEAR)
CCER = ids.offset_id(1, 2025)
TAG = b"DEMO_ACCURATE_REPORT".ljust(32, b"\0")

# (name, account index, roles, region, sector)
CAST = [
    ("Verifier (third-party agency)", 2, Role.VERIFIER, 110000, 0),
    ("Exchange", 3, Role.EXCHANGE, 310000, 0),
    ("Huaneng Power (enterprise)", 4, Role.ENTERPRISE, 110000, 4411),
    ("Conch Cement (enterprise)", 5, Role.ENTERPRISE, 340000, 3011),
    ("Green Fund (investor)", 6, Role.INVESTOR, 310000, 0),
    ("Forest Carbon Co. (offset developer)", 7, Role.OFFSET_DEVELOPER, 530000, 0),
    ("Issuance desk (system)", 8, Role.SYSTEM, 0, 0),
]


def _say(text: str) -> None:
    print(f"\n== {text}")


def setup_market(accounts: Any) -> tuple[Suite, dict[str, Any]]:
    """Deploy the suite, onboard the cast in one batch and give the issuance desk its roles."""
    admin, regulator = accounts[0], accounts[1]
    suite = deploy_suite(admin, regulator)
    people = {name: accounts[i] for name, i, *_ in CAST}
    suite.registry.onboardBatch(
        [onboarding(accounts[i], roles, region=region, sector=sector, identity=name)
         for name, i, roles, region, sector in CAST],
        {"from": regulator},
    )
    desk = people["Issuance desk (system)"]
    suite.allowance.grantRole(suite.allowance.ISSUER_ROLE(), desk, {"from": regulator})
    suite.credit.grantRole(suite.credit.RULES_ROLE(), desk, {"from": regulator})
    people["Regulator"] = regulator
    return suite, people


def run(accounts: Any) -> None:
    _say("Deploying the registry and the three tokens on the local chain")
    suite, p = setup_market(accounts)
    power, cement = p["Huaneng Power (enterprise)"], p["Conch Cement (enterprise)"]
    fund, forest = p["Green Fund (investor)"], p["Forest Carbon Co. (offset developer)"]
    desk, regulator = p["Issuance desk (system)"], p["Regulator"]

    _say(f"Issuing {ids.decode(CEA)} and {ids.decode(CCER)}")
    suite.allowance.mintBatch([power, cement], CEA, [120_000, 80_000], {"from": desk})
    suite.allowance.mint(forest, CCER, 5_000, {"from": desk})
    for who in (power, cement, fund):
        suite.money.issue(who, 2_000_000 * MONEY_UNIT, {"from": regulator})

    _say("Trading bilaterally (the order book comes with the market contract)")
    price = 62 * MONEY_UNIT
    suite.allowance.safeTransferFrom(power, cement, CEA, 10_000, b"", {"from": power})
    suite.money.transfer(power, 10_000 * price, {"from": cement})
    suite.allowance.safeTransferFrom(forest, fund, CCER, 1_000, b"", {"from": forest})
    suite.money.transfer(forest, 1_000 * 55 * MONEY_UNIT, {"from": fund})

    _say("Retiring offsets voluntarily and rewarding accurate reporting")
    suite.allowance.retire(CCER, 400, fund, "Green Fund 2026 portfolio neutrality", {"from": fund})
    suite.credit.reward(power, 600, TAG, {"from": desk})
    suite.credit.reward(cement, 120, TAG, {"from": desk})

    _say("Freezing the investor: its transfers now revert")
    suite.registry.freeze(fund, b"\x01" * 32, {"from": regulator})
    try:
        suite.allowance.safeTransferFrom(fund, cement, CCER, 1, b"", {"from": fund})
    except Exception as exc:  # the demo shows the decoded custom error
        print(f"   refused: {getattr(exc, 'revert_msg', exc)}")

    print_summary(suite, p)


def print_summary(suite: Suite, people: dict[str, Any]) -> None:
    _say("Summary")
    header = f"{'participant':38} {'roles':18} {'status':7} {'CEA 2026':>9} {'CCER':>6} {'money':>12} {'credit':>6} tier"
    print(header)
    print("-" * len(header))
    for name, who in people.items():
        record = suite.registry.participant(who)
        status = ["none", "active", "frozen", "revoked"][record[1]]
        print(f"{name:38} {'|'.join(role_names(record[0])):18} {status:7} "
              f"{suite.allowance.balanceOf(who, CEA):>9,} {suite.allowance.balanceOf(who, CCER):>6,} "
              f"{suite.money.balanceOf(who) / MONEY_UNIT:>12,.0f} {suite.credit.balanceOf(who):>6} "
              f"{suite.credit.tierOf(who)}")
    for token in (CEA, CCER):
        minted, surrendered, retired, invalidated, _ = suite.allowance.totals(token)
        print(f"{str(ids.decode(token)):32} supply {suite.allowance.totalSupply(token):>8,}  minted {minted:,}"
              f"  retired {retired:,}  surrendered {surrendered:,}  invalidated {invalidated:,}")
    holder, _, beneficiary, amount, token, reason = suite.allowance.retirement(0)
    print(f"retirement #0: {amount} x {ids.decode(token)} by {holder[:10]}… for {beneficiary[:10]}…: {reason!r}")
