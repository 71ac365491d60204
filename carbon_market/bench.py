"""Gas and throughput, measured fresh on the connected (local) chain; written to ``benchmarks/``.

``results.json`` has the shape ``{"gas": {op: int}, "throughput": {path: float}}``; ``results.md`` is the
same as a table beside the targets of ``targets.json``. A figure above its target fails the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbon_market.ids import allowance_id
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, Suite, deploy_suite, onboarding

BENCH_DIR = Path("benchmarks")
YEAR = allowance_id(2026)
TAG = b"BENCH".ljust(32, b"\0")


@dataclass
class Results:
    gas: dict[str, int] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, tx: Any) -> None:
        self.gas[name] = int(tx.gas_used)


def _setup(accounts: Any) -> tuple[Suite, list[Any]]:
    admin, regulator, issuer = accounts[0], accounts[1], accounts[2]
    suite = deploy_suite(admin, regulator)
    suite.registry.onboard(onboarding(issuer, Role.SYSTEM), {"from": regulator})
    suite.allowance.grantRole(suite.allowance.ISSUER_ROLE(), issuer, {"from": regulator})
    suite.credit.grantRole(suite.credit.RULES_ROLE(), issuer, {"from": regulator})
    return suite, [admin, regulator, issuer]


def measure_gas(accounts: Any) -> Results:
    """One transaction per operation, each in the state the operation's name describes."""
    suite, (_, regulator, issuer) = _setup(accounts)
    a, b, c, d = accounts[3:7]
    results = Results()
    results.record("registry.onboard", suite.registry.onboard(
        onboarding(a, Role.ENTERPRISE, region=110000, sector=4411), {"from": regulator}))
    suite.registry.onboardBatch([onboarding(x, Role.ENTERPRISE) for x in (b, c, d)], {"from": regulator})
    results.record("allowance.mint_new_holder", suite.allowance.mint(a, YEAR, 1_000, {"from": issuer}))
    suite.allowance.mint(c, YEAR, 1, {"from": issuer})
    results.record("allowance.transfer_new_holder",
                   suite.allowance.safeTransferFrom(a, b, YEAR, 10, b"", {"from": a}))
    results.record("allowance.transfer_existing_holder",
                   suite.allowance.safeTransferFrom(a, c, YEAR, 10, b"", {"from": a}))
    results.record("allowance.retire",
                   suite.allowance.retire(YEAR, 5, d, "bench retirement", {"from": a}))
    results.record("credit.mint", suite.credit.reward(d, 100, TAG, {"from": issuer}))
    suite.money.issue(a, 1_000 * MONEY_UNIT, {"from": regulator})
    results.record("money.transfer_new_holder", suite.money.transfer(b, MONEY_UNIT, {"from": a}))
    return results


def _rate(count: int, send: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    for i in range(count):
        send(i)
    return count / (time.perf_counter() - start)


def measure_throughput(accounts: Any, results: Results, count: int = 100) -> None:
    """Sequential allowance transfers, each waiting for its receipt, through brownie's contract objects."""
    suite, (_, regulator, issuer) = _setup(accounts)
    a, b = accounts[3], accounts[4]
    suite.registry.onboardBatch([onboarding(x, Role.ENTERPRISE) for x in (a, b)], {"from": regulator})
    suite.allowance.mint(a, YEAR, count, {"from": issuer})
    transfer = suite.allowance.safeTransferFrom
    results.throughput["brownie_sequential"] = round(
        _rate(count, lambda _: transfer(a, b, YEAR, 1, b"", {"from": a, "required_confs": 1})), 1)


def load_targets(path: Path = BENCH_DIR / "targets.json") -> dict[str, int]:
    return {k: int(v) for k, v in json.loads(path.read_text())["gas"].items()}


def write(results: Results, targets: dict[str, int], out: Path = BENCH_DIR) -> list[str]:
    """Write ``results.json`` and ``results.md``; return the operations that are over their target."""
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(
        json.dumps({"gas": results.gas, "throughput": results.throughput}, indent=2) + "\n")
    over = [op for op, ceiling in targets.items() if results.gas.get(op, ceiling + 1) > ceiling]
    lines = ["| operation | gas | target | |", "|---|---:|---:|---|"]
    for op, gas in results.gas.items():
        target = targets.get(op)
        verdict = "" if target is None else ("OVER" if op in over else "ok")
        lines.append(f"| {op} | {gas:,} | {'' if target is None else f'{target:,}'} | {verdict} |")
    lines += ["", "| throughput path | tx/s |", "|---|---:|"]
    lines += [f"| {path} | {rate:.1f} |" for path, rate in results.throughput.items()]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return over


def run(accounts: Any) -> int:
    """Measure everything, write the files, and return a process exit code (1 if a target is missed)."""
    results = measure_gas(accounts)
    measure_throughput(accounts, results)
    over = write(results, load_targets())
    for op in over:
        print(f"bench: {op} is over its target")
    return 1 if over else 0
