"""`make coverage`: statement and branch coverage of the project's contracts, per source file.

With ``CARBON_MARKET_COVERAGE=1`` the test session installs a :class:`Collector`: every transaction brownie
confirms and every contract call it makes is traced by the node (``debug_traceTransaction`` on an anvil that
records steps, ``debug_traceCall``), without memory or storage, and each step is mapped through the compiled
program-counter map of the contract whose code runs (libraries included) to the statements it runs and the
way each branch goes, as brownie's own coverage does. Brownie's ``--coverage`` does the same but asks the node
for the memory at every step (about six times the data) and its compiled 1.22 wheel fails merging the results.

The evaluation is reported per source file: a branch counts twice, once per direction taken, as lcov does; a
statement or branch inlined into several contracts (a library's internal function, an inherited one) counts
once, covered if any contract covered it.

``python toolchain/coverage.py [--min-branches PCT]`` prints the table, writes ``reports/coverage.md`` and
``reports/coverage-summary.json``, and exits 1 when a contract's branch coverage is under the minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
CALL_OPS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
TRACE_OPTIONS = {"disableStorage": True, "disableMemory": True, "enableMemory": False}


#: the collector installed in this process, if any (the stateful tests' invariants pause it)
ACTIVE: Collector | None = None


class Collector:
    """Traces what a test session runs and accumulates the coverage evaluation (contract -> source -> sets)."""

    def __init__(self, build: Path = BUILD) -> None:
        self.build = build
        self.evaluation: dict[str, dict[str, Sets]] = defaultdict(lambda: defaultdict(lambda: [set(), set(), set()]))
        self.traced = 0
        #: whether view calls are traced now (see :meth:`calls_untraced`)
        self.tracing_calls = True
        self._maps: dict[str, dict[int, dict[str, Any]] | None] = {}
        self._names: dict[str, tuple[Any, str | None]] = {}

    # ---------------------------------------------------------------- hooks into brownie

    def install(self) -> None:
        """Trace every transaction brownie confirms and every call it makes, from now on."""
        from brownie.network import contract, transaction

        collector = self
        set_from_receipt = transaction.TransactionReceipt._set_from_receipt
        call = contract._ContractMethod.call

        def traced_receipt(receipt_self: Any, receipt: Any) -> None:
            set_from_receipt(receipt_self, receipt)
            if receipt["to"] and not receipt["contractAddress"]:
                collector.trace_transaction(receipt["transactionHash"], receipt["to"])

        def traced_call(method: Any, *args: Any, block_identifier: Any = None, override: Any = None) -> Any:
            if block_identifier is None and override is None and collector.tracing_calls:
                collector.trace_call(method, args)
            return call(method, *args, block_identifier=block_identifier, override=override)

        transaction.TransactionReceipt._set_from_receipt = traced_receipt
        contract._ContractMethod.call = traced_call
        global ACTIVE
        ACTIVE = collector

    @contextmanager
    def calls_untraced(self) -> Iterator[None]:
        """View calls made meanwhile are not traced: a stateful test's invariants read the chain after every step
        to check it, and what coverage measures is what the steps ran (half a step's time was tracing the reads)."""
        before, self.tracing_calls = self.tracing_calls, False
        try:
            yield
        finally:
            self.tracing_calls = before

    def trace_transaction(self, txid: Any, to: str) -> None:
        from brownie import web3

        txid = txid.hex() if hasattr(txid, "hex") else txid
        result = web3.provider.make_request("debug_traceTransaction", (txid, TRACE_OPTIONS)).get("result")
        if result:
            self.evaluate(result["structLogs"], to)

    def trace_call(self, method: Any, args: tuple) -> None:
        from brownie import web3
        from brownie.network.contract import _get_tx

        try:
            args, tx = _get_tx(method._owner, args)
            request = {"to": str(method._address), "data": method.encode_input(*args)}
        except Exception:  # the call itself will raise the same error, with brownie's message
            return
        if tx.get("from"):
            request["from"] = str(tx["from"])
        result = web3.provider.make_request("debug_traceCall", (request, "latest", TRACE_OPTIONS)).get("result")
        if result:
            self.evaluate(result["structLogs"], request["to"])

    # ---------------------------------------------------------------- evaluation

    def evaluate(self, steps: list[dict[str, Any]], to: str) -> None:
        """Add one trace: which statements ran and which way each branch went, in every contract's code."""
        self.traced += 1
        frames: list[tuple[str | None, set[int]]] = [(self._name(to), set())]
        depth = steps[0]["depth"] if steps else 1
        for i, step in enumerate(steps):
            while step["depth"] < depth:  # returned from a call
                frames.pop()
                depth -= 1
            name, active = frames[-1]
            pc_map = self._map(name)
            pc = pc_map.get(step["pc"]) if pc_map else None
            if name is not None and pc is not None and "path" in pc and "fn" in pc:
                sets = self.evaluation[name][pc["path"]]
                if "statement" in pc:
                    sets[0].add(pc["statement"])
                if "branch" in pc:
                    branch = pc["branch"]
                    if pc["op"] != "JUMPI":
                        active.add(branch)
                    elif branch in active and i + 1 < len(steps):
                        # the same directions as brownie: 1 when execution falls through, 2 when it jumps
                        sets[1 if steps[i + 1]["pc"] == step["pc"] + 1 else 2].add(branch)
                        active.discard(branch)
            if step["op"] in CALL_OPS and i + 1 < len(steps) and steps[i + 1]["depth"] > step["depth"]:
                target = "0x" + format(int(step["stack"][-2], 16), "040x")
                frames.append((self._name(target), set()))
                depth += 1
            elif step["op"] in ("CREATE", "CREATE2") and i + 1 < len(steps) and steps[i + 1]["depth"] > step["depth"]:
                frames.append((None, set()))  # constructor code has no runtime map
                depth += 1

    def _name(self, address: str) -> str | None:
        """The contract whose code runs at ``address`` now. A test's snapshot reverted gives an address to whatever
        the next test deploys there (a suite's contracts come from the same nonces in every module), so a name is
        kept only as long as brownie's map holds the same object at that address. A proxy is known by its
        implementation's ABI but runs code of its own (``carbon_market.suite.seen_as`` marks it): its steps map to
        nothing, and the implementation's run in the frame of its delegate call, under the implementation's own
        address."""
        from brownie.network import state
        from eth_utils import to_checksum_address

        key = address.lower()
        current = state._contract_map.get(to_checksum_address(key))
        cached = self._names.get(key)
        if cached is not None and cached[0] is current:
            return cached[1]
        found = current if current is not None else state._find_contract(address)
        name = found._name if found is not None and not found._build.get("proxy") else None
        self._names[key] = (current, name)
        return name

    def _map(self, name: str | None) -> dict[int, dict[str, Any]] | None:
        if name is None:
            return None
        if name not in self._maps:
            artifact = self.build / f"{name}.json"
            data = json.loads(artifact.read_text()) if artifact.exists() else {}
            self._maps[name] = {int(k): v for k, v in data["pcMap"].items()} if data.get("pcMap") else None
        return self._maps[name]

    def save(self, path: Path | None = None) -> None:
        """Write the evaluation to ``path``, by default ``$CARBON_MARKET_COVERAGE_OUT`` or ``EVALUATION`` (sessions run
        at once write files of their own, merged by :func:`load_evaluations`)."""
        path = path or Path(os.environ.get("CARBON_MARKET_COVERAGE_OUT") or EVALUATION)
        path.parent.mkdir(parents=True, exist_ok=True)
        plain = {c: {s: [sorted(x) for x in sets] for s, sets in srcs.items()} for c, srcs in self.evaluation.items()}
        path.write_text(json.dumps(plain))


@dataclass
class FileCoverage:
    """Coverage of one source file."""

    source: str
    statements_hit: int = 0
    statements: int = 0
    branch_directions_hit: int = 0
    branch_directions: int = 0
    uncovered: list[str] = field(default_factory=list)

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
            sets: Sets = hits.get(source_id, [set(), set(), set()])
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


def load_evaluations(folder: Path | None = None) -> dict[str, dict[str, Sets]] | None:
    """The union of every evaluation file in ``folder`` (``coverage-evaluation*.json``: one per traced session), or
    None when there is none."""
    folder = folder or EVALUATION.parent
    paths = sorted(folder.glob(f"{EVALUATION.stem}*.json"))
    if not paths:
        return None
    merged: dict[str, dict[str, Sets]] = defaultdict(lambda: defaultdict(lambda: [set(), set(), set()]))
    for path in paths:
        for contract, sources in json.loads(path.read_text()).items():
            for source, sets in sources.items():
                for into, items in zip(merged[contract][source], sets):
                    into.update(items)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-branches", type=float, default=MIN_BRANCHES)
    args = parser.parse_args(argv)
    evaluation = load_evaluations()
    if evaluation is None:
        print(f"coverage: no {EVALUATION.stem}*.json in {EVALUATION.parent}: run `make coverage`", file=sys.stderr)
        return 2
    files = measure(evaluation)
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
