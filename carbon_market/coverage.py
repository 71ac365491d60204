"""`make coverage`: statement and branch coverage of the project's contracts, per source file.

Brownie traces every transaction of a ``brownie test --coverage`` run (on an anvil that records steps) and
evaluates which statements ran and which way each branch went. Its own summary cannot be used with the
compiled brownie 1.22 wheel (it fails merging the evaluations), so the test session hands the raw
evaluation to :func:`save_evaluation` and this module reports it: a branch counts twice, once per direction
taken, as lcov does; a statement or branch inlined into several contracts (a library's internal function,
an inherited one) counts once, covered if any contract covered it.

``python -m carbon_market.coverage [--min-branches PCT]`` prints the table, writes ``reports/coverage.md`` and
``reports/coverage-summary.json``, and exits 1 when a contract's branch coverage is under the minimum.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

EVALUATION = Path("reports/coverage-evaluation.json")
SUMMARY = Path("reports/coverage-summary.json")
TABLE = Path("reports/coverage.md")
BUILD = Path("build/contracts")
#: sources measured: the project's deployable contracts and libraries, not test helpers nor dependencies
INCLUDED, EXCLUDED = "contracts/", "contracts/test/"
MIN_BRANCHES = 95.0

Sets = list[set[int]]  # statements run, branches taken true, branches taken false


def save_evaluation(evaluations: dict[str, dict[str, dict[str, Any]]], path: Path = EVALUATION) -> int:
    """Merge brownie's per-transaction evaluations (hash -> contract -> source id -> 3 sets) into one per
    contract and write it; returns the number of transactions."""
    merged: dict[str, dict[str, Sets]] = defaultdict(lambda: defaultdict(lambda: [set(), set(), set()]))
    for per_tx in evaluations.values():
        for contract, sources in per_tx.items():
            for source_id, sets in sources.items():
                target = merged[contract][source_id]
                for i in range(3):
                    target[i].update(int(x) for x in sets[i])
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = {c: {s: [sorted(x) for x in sets] for s, sets in srcs.items()} for c, srcs in merged.items()}
    path.write_text(json.dumps(plain))
    return len(evaluations)


@dataclass
class FileCoverage:
    """Coverage of one source file."""

    source: str
    statements_hit: int = 0
    statements: int = 0
    branch_directions_hit: int = 0
    branch_directions: int = 0
    uncovered: list[str] | None = None

    @property
    def statement_pct(self) -> float:
        return 100.0 * self.statements_hit / self.statements if self.statements else 100.0

    @property
    def branch_pct(self) -> float:
        return 100.0 * self.branch_directions_hit / self.branch_directions if self.branch_directions else 100.0


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def measure(evaluation: dict[str, dict[str, Sets]], build: Path = BUILD) -> list[FileCoverage]:
    """Coverage per source file of the project, from an evaluation and the build's coverage maps."""
    # (source, offsets) -> hit flags, so that code inlined into several contracts counts once
    statements: dict[tuple[str, tuple[int, int]], bool] = {}
    branches: dict[tuple[str, tuple[int, int]], list[bool]] = {}
    where: dict[tuple[str, tuple[int, int]], str] = {}
    for artifact in sorted(build.glob("*.json")):
        data = json.loads(artifact.read_text())
        cmap = data.get("coverageMap")
        if not cmap or not data.get("deployedBytecode"):
            continue
        hits = evaluation.get(data["contractName"], {})
        for source_id, fns in cmap["statements"].items():
            source = data["allSourcePaths"][source_id]
            run = set(hits.get(source_id, [[], [], []])[0])
            for fn, items in fns.items():
                for index, (start, stop) in items.items():
                    key = (source, (start, stop))
                    statements[key] = statements.get(key, False) or int(index) in run
                    where.setdefault(key, fn)
        for source_id, fns in cmap["branches"].items():
            source = data["allSourcePaths"][source_id]
            sets = hits.get(source_id, [[], [], []])
            true, false = set(sets[1]), set(sets[2])
            for fn, items in fns.items():
                for index, (start, stop, _jump) in items.items():
                    key = (source, (start, stop))
                    seen = branches.setdefault(key, [False, False])
                    seen[0] = seen[0] or int(index) in true
                    seen[1] = seen[1] or int(index) in false
                    where.setdefault(key, fn)
    files: dict[str, FileCoverage] = {}

    def file(source: str) -> FileCoverage:
        return files.setdefault(source, FileCoverage(source, uncovered=[]))

    texts: dict[str, str] = {}

    def describe(key: tuple[str, tuple[int, int]], what: str) -> str:
        source, (start, _stop) = key
        if source not in texts:
            texts[source] = Path(source).read_text() if Path(source).exists() else ""
        return f"{source}:{_line(texts[source], start)} {where[key]} {what}"

    for key, hit in statements.items():
        if not _measured(key[0]):
            continue
        f = file(key[0])
        f.statements += 1
        f.statements_hit += hit
        if not hit:
            f.uncovered.append(describe(key, "statement never ran"))
    for key, (t, fl) in branches.items():
        if not _measured(key[0]):
            continue
        f = file(key[0])
        f.branch_directions += 2
        f.branch_directions_hit += t + fl
        if not (t and fl):
            f.uncovered.append(describe(key, "branch only went " + ("true" if t else "false" if fl else "nowhere")))
    return sorted(files.values(), key=lambda f: f.source)


def _measured(source: str) -> bool:
    return source.startswith(INCLUDED) and not source.startswith(EXCLUDED)


def render(files: list[FileCoverage], minimum: float) -> str:
    """A markdown table: each file's statements and branches, the total, and the uncovered places."""
    rows = ["| contract | statements | branches |", "|---|---:|---:|"]
    total = FileCoverage("total")
    for f in files:
        rows.append(f"| {f.source} | {f.statements_hit}/{f.statements} ({f.statement_pct:.1f}%) | "
                    f"{f.branch_directions_hit}/{f.branch_directions} ({f.branch_pct:.1f}%) |")
        total.statements += f.statements
        total.statements_hit += f.statements_hit
        total.branch_directions += f.branch_directions
        total.branch_directions_hit += f.branch_directions_hit
    rows.append(f"| **total** | {total.statements_hit}/{total.statements} ({total.statement_pct:.1f}%) | "
                f"{total.branch_directions_hit}/{total.branch_directions} ({total.branch_pct:.1f}%) |")
    rows.append("")
    rows.append(f"Branches count once per direction (taken, not taken); minimum per contract {minimum:.0f}%.")
    misses = [u for f in files for u in (f.uncovered or [])]
    if misses:
        rows += ["", "Not covered:", ""] + [f"- {m}" for m in misses]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-branches", type=float, default=MIN_BRANCHES)
    args = parser.parse_args(argv)
    if not EVALUATION.exists():
        print(f"coverage: {EVALUATION} is missing: run `make coverage`", file=sys.stderr)
        return 2
    files = measure(json.loads(EVALUATION.read_text()))
    text = render(files, args.min_branches)
    TABLE.write_text(text)
    SUMMARY.write_text(json.dumps([{**asdict(f), "statement_pct": f.statement_pct, "branch_pct": f.branch_pct}
                                   for f in files], indent=1))
    print(text, end="")
    low = [f for f in files if f.branch_pct < args.min_branches]
    for f in low:
        print(f"coverage: {f.source} covers {f.branch_pct:.1f}% of branches, under {args.min_branches:.0f}%",
              file=sys.stderr)
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
