"""Run groups of tests at once, each in its own brownie session against its own chain, and report each group.

    parallel_tests.py [--brownie PATH] NETWORK=PATHS [NETWORK=PATHS ...]

Each group is ``NETWORK=PATHS``: the brownie network it launches (a development network of its own, so a port of
its own: see network-config.yaml) and the test paths or pytest options it runs, separated by spaces. A group's
output goes to ``reports/tests-<network>.log``; when it ends, its summary line and its time are printed, and the
whole log of a group that failed. The exit status is non-zero when any group failed.

A group on a ``coverage`` network (an anvil that records every step) traces what it runs (``CARBON_MARKET_COVERAGE=1``)
into an evaluation file of its own, ``reports/coverage-evaluation-<network>.json``, which
``toolchain/coverage.py`` merges.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPORTS = Path("reports")


#: how many of a group's slowest tests its summary names (where a long run's time goes, in CI's own output)
SLOWEST = 8
#: seconds between two progress lines
PROGRESS_EVERY = 120
#: a line of pytest's progress: one character per test, then the share done
PROGRESS_LINE = re.compile(r"^(?:\S+\.py )?\s*([.FEsxX]+)\s*(\[\s*\d+%\])?$")


def _done(log: Path) -> int:
    """How many tests a group's log reports run so far."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return sum(len(m.group(1)) for m in map(PROGRESS_LINE.match, (line.strip() for line in lines)) if m)


def _slowest(lines: list[str]) -> list[str]:
    """The lines of pytest's ``--durations`` table in a group's log (the slowest tests and their seconds)."""
    start = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
    if start is None:
        return []
    table = []
    for line in lines[start + 1:]:
        if not re.match(r"^\d+\.\d+s ", line.strip()):
            break
        table.append(line.strip())
    return table


def _wait_until_loaded(proc: subprocess.Popen, log: Path, patience: float = 600.0) -> None:
    """Wait until a group has loaded the project (pytest has collected its tests) before starting the next: brownie's
    first load after a compilation tidies the build folder, and a second session loading it meanwhile can find an
    artifact gone."""
    deadline = time.monotonic() + patience
    while proc.poll() is None and time.monotonic() < deadline:
        if "collected " in log.read_text(errors="replace"):
            return
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brownie", default="brownie", help="the brownie executable")
    parser.add_argument("groups", nargs="+", metavar="NETWORK=PATHS")
    args = parser.parse_args(argv)
    REPORTS.mkdir(exist_ok=True)
    running = {}
    started = time.monotonic()
    for group in args.groups:
        network, _, paths = group.partition("=")
        env = dict(os.environ, PYTHONUNBUFFERED="1")  # the log follows the run, for the progress lines
        if network.startswith("coverage"):
            env["CARBON_MARKET_COVERAGE"] = "1"
            env["CARBON_MARKET_COVERAGE_OUT"] = str(REPORTS / f"coverage-evaluation-{network}.json")
        log = REPORTS / f"tests-{network}.log"
        command = [args.brownie, "test", *shlex.split(paths), "--network", network, f"--durations={SLOWEST}"]
        print(f"[{network}] {' '.join(shlex.split(paths))} (log: {log})", flush=True)
        handle = log.open("w")
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        running[network] = (proc, handle, log)
        _wait_until_loaded(proc, log)
    failed = []
    reported = time.monotonic()
    while running:
        time.sleep(1)
        if time.monotonic() - reported >= PROGRESS_EVERY:
            reported = time.monotonic()
            print("  ".join(f"[{network}] {_done(log)} tests" for network, (_, _, log) in running.items()), flush=True)
        for network, (proc, handle, log) in list(running.items()):
            if proc.poll() is None:
                continue
            handle.close()
            del running[network]
            minutes, seconds = divmod(int(time.monotonic() - started), 60)
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            summary = next((line for line in reversed(lines) if " in " in line and ("passed" in line or "failed" in line
                            or "error" in line)), lines[-1] if lines else "(no output)")
            print(f"[{network}] {summary.strip('= ')} -- done after {minutes}m{seconds:02d}s", flush=True)
            for line in _slowest(lines):
                print(f"[{network}]   {line}", flush=True)
            if proc.returncode != 0:
                failed.append(network)
                print(log.read_text(errors="replace"), flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
