"""`make lint`: the Python package checked by ruff and mypy (settings in pyproject.toml), then Slither over the
project's contracts (dependencies and contracts/test excluded), compiled as the build compiles them (solc 0.8.30
through the solc-js wrapper, optimizer at 20,000 runs, cancun). Fails on any ruff or mypy finding, on any high or
medium Slither finding, on any other Slither finding whose detector is not acknowledged, with its reason, in
lint/acknowledged.txt, and on any change of an upgradeable part's storage that would break a deployed proxy's state
(toolchain/storage_layout.py). Runs in its own virtual environment (.venv-lint, pinned in requirements-lint.txt)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import storage_layout  # toolchain/, beside this file

ROOT = Path(__file__).resolve().parents[1]
SOLC = ROOT / ".toolchain" / "solcx" / "solc-v0.8.30"
BLOCKING = ("High", "Medium")


def acknowledged() -> dict[str, str]:
    lines = (ROOT / "lint" / "acknowledged.txt").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def findings() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        subprocess.run([str(Path(sys.executable).parent / "slither"), "contracts/", "--solc-standard-json",
                        "--solc", str(SOLC), "--solc-remaps", "@openzeppelin=node_modules/@openzeppelin",
                        "--solc-args", "--optimize --optimize-runs 20000 --evm-version cancun",
                        "--filter-paths", "node_modules|contracts/test", "--exclude-dependencies",
                        "--json", str(out)], cwd=ROOT, capture_output=True, text=True)
        report = json.loads(out.read_text()) if out.exists() else {}
    if not report.get("success"):
        sys.exit(f"lint: slither did not run: {report.get('error') or 'no report written'}")
    return report.get("results", {}).get("detectors", [])


def python_checks() -> int:
    """ruff over the package and the toolchain, mypy over the package and the coverage tool; the number of tools
    that found something."""
    bin_dir = Path(sys.executable).parent
    failed = 0
    for name, command in (("ruff", [str(bin_dir / "ruff"), "check", "carbon_market", "toolchain"]),
                          ("mypy", [str(bin_dir / "mypy"), "carbon_market", "toolchain/coverage.py"])):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        print(f"{name}: {(done.stdout.strip().splitlines() or ['(no output)'])[-1]}")
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            failed += 1
    return failed


def main() -> int:
    python_failed = python_checks()
    layout_breaks = storage_layout.check()
    known, found = acknowledged(), findings()
    counts = Counter((f["impact"], f["check"]) for f in found)
    failing = [f for f in found if f["impact"] in BLOCKING or f["check"] not in known]
    for (impact, check), n in sorted(counts.items()):
        state = "BLOCKING" if impact in BLOCKING else ("acknowledged" if check in known else "NOT ACKNOWLEDGED")
        print(f"{impact:13} {check:26} {n:3}  {state}")
    for f in failing:
        print(f"\n{f['impact']} {f['check']}: {f['description'].strip()}")
    print(f"\nslither: {len(found)} findings, {len(failing)} blocking "
          f"({sum(n for (i, _), n in counts.items() if i in BLOCKING)} high or medium)")
    return 1 if failing or python_failed or layout_breaks else 0


if __name__ == "__main__":
    sys.exit(main())
