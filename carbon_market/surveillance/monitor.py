"""Surveillance on a chain: read the suite's events (through the one codec) and their blocks' times, build the
tape, run the policy's rules. :func:`surveil` judges a block range and writes its reports; :func:`watch` follows
new blocks, a number of confirmations behind the head, and keeps a checkpoint so that a restart resumes without
missing or repeating an alert."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbon_market.codec import Event
from carbon_market.failures import BadInput
from carbon_market.suite import Suite
from carbon_market.surveillance import alerts as reports
from carbon_market.surveillance.alerts import Alert
from carbon_market.surveillance.policy import Policy
from carbon_market.surveillance.rules import Window, detect
from carbon_market.surveillance.tape import Tape
from carbon_market.trace import naming, suite_events

#: block timestamps per JSON-RPC batch
TIMES_BATCH = 500


def block_times(blocks: set[int]) -> dict[int, int]:
    """The timestamp of each block (JSON-RPC batches over brownie's connection)."""
    from brownie import web3

    wanted, out = sorted(blocks), {}
    for start in range(0, len(wanted), TIMES_BATCH):
        chunk = wanted[start:start + TIMES_BATCH]
        answers = web3.provider.make_batch_request([("eth_getBlockByNumber", [hex(b), False]) for b in chunk])
        out.update({b: int(a["result"]["timestamp"], 16) for b, a in zip(chunk, answers)})
    return out


def read(suite: Suite, to_block: int) -> tuple[Tape, list[Event]]:
    """The tape of the suite's events up to ``to_block`` (positions and obligations need its whole history)."""
    events = suite_events(suite, 0, to_block)
    tape = Tape.build(events, block_times({e.block for e in events} | {to_block}))
    return tape, events


@dataclass
class Surveyed:
    alerts: list[Alert]
    tape: Tape
    events: list[Event]
    written: list[Path] = field(default_factory=list)


def check_range(from_block: int, to_block: int | None) -> tuple[int, int]:
    """The block range, checked against the chain; raises :class:`BadInput` for one beyond it."""
    from brownie import web3

    latest = web3.eth.block_number
    end = latest if to_block is None else to_block
    if not 0 <= from_block <= end:
        raise BadInput(f"the block range {from_block} to {end} is empty or starts below 0")
    if end > latest:
        raise BadInput(f"block {end} is beyond the chain's latest block {latest}")
    return from_block, end


def surveil(suite: Suite, policy: Policy, from_block: int, to_block: int) -> Surveyed:
    tape, events = read(suite, to_block)
    return Surveyed(detect(tape, policy, Window(from_block, to_block)), tape, events)


def write(result: Surveyed, out: Path, *, regulator: Any, title: str,
          names: dict[str, str] | None = None) -> list[Path]:
    """``alerts.jsonl``, ``alerts.csv``, ``report.html`` and a case file per alert (``cases/<id>.md``, with its
    suggested response ready to check as ``cases/<id>.yaml``) into ``out``, written whole or not at all."""
    staging = out.with_name(f".{out.name}.writing")
    if staging.exists():
        _remove(staging)
    (staging / "cases").mkdir(parents=True)
    reports.write_jsonl(result.alerts, staging / "alerts.jsonl")
    reports.write_csv(result.alerts, staging / "alerts.csv")
    flagged = {(r.tx, r.log_index) for a in result.alerts for r in a.evidence}
    (staging / "report.html").write_text(reports.report_html(result.alerts, result.tape, flagged, title))
    for alert in result.alerts:
        fragment = reports.ops_fragment(alert, names or {}, regulator)
        history = {a: [str(e) for e in naming(result.events, a)][-40:] for a in alert.accounts}
        (staging / "cases" / f"{alert.id}.md").write_text(reports.case_file(alert, history, fragment))
        if alert.response:
            (staging / "cases" / f"{alert.id}.yaml").write_text(fragment)
    if out.exists():
        _remove(out)
    os.replace(staging, out)
    return [out / "alerts.jsonl", out / "alerts.csv", out / "report.html", out / "cases"]


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder)


# -- watching ---------------------------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    """Where a watch stopped: the chain and deployment it watches, the last block judged, the alerts given."""

    path: Path
    chain: dict[str, Any]
    last_block: int
    seen: list[str]

    @classmethod
    def open(cls, path: Path, chain: dict[str, Any], start: int) -> Checkpoint:
        if not path.exists():
            return cls(path, chain, start - 1, [])
        try:
            saved = json.loads(path.read_text())
            last, seen, theirs = int(saved["last_block"]), list(saved["seen"]), saved["chain"]
        except (OSError, ValueError, KeyError, TypeError):
            raise BadInput(f"{path} is not a watch checkpoint (delete it to start afresh)") from None
        if theirs != chain:
            raise BadInput(f"{path} is the checkpoint of another chain or deployment ({theirs}); give another "
                           f"--checkpoint, or delete it to start afresh")
        return cls(path, chain, last, seen)

    def save(self) -> None:
        """Written whole: a crash leaves the old checkpoint or the new one, never half of one."""
        staging = self.path.with_name(self.path.name + ".writing")
        staging.write_text(json.dumps({"chain": self.chain, "last_block": self.last_block, "seen": self.seen}))
        os.replace(staging, self.path)


def given_in(out: Path) -> set[str]:
    """The ids of the alerts already in a JSON-lines file (a line cut short by a crash does not count)."""
    if not out.exists():
        return set()
    ids = set()
    for line in out.read_text().splitlines():
        try:
            ids.add(json.loads(line)["id"])
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def chain_identity(suite: Suite) -> dict[str, Any]:
    from brownie import web3

    return {"chain_id": int(web3.eth.chain_id), "genesis": web3.eth.get_block(0).hash.hex(),
            "registry": suite.registry.address}


def watch(suite: Suite, policy: Policy, *, checkpoint: Path, out: Path, confirmations: int, start: int = 0,
          poll: float = 1.0, until_block: int | None = None, polls: int | None = None,
          say: Callable[[Alert, int], None] = lambda alert, head: None) -> list[Alert]:
    """Follow the chain: at each poll judge the blocks up to ``confirmations`` behind the head, give the alerts not
    given before (``say``, and appended to ``out``), save the checkpoint. Stops once ``until_block`` is judged or
    after ``polls`` polls (None: never)."""
    from brownie import web3

    mark = Checkpoint.open(checkpoint, chain_identity(suite), start)
    mark.seen += sorted(given_in(out) - set(mark.seen))  # given but not checkpointed before a crash
    given, rounds = [], 0
    while True:
        head = web3.eth.block_number - confirmations
        if head > mark.last_block:
            result = surveil(suite, policy, start, head)
            fresh = [a for a in result.alerts if a.id not in set(mark.seen)]
            if fresh:
                reports.write_jsonl(fresh, out, append=True)
            for alert in fresh:
                say(alert, head)
            given += fresh
            mark.seen += [a.id for a in fresh]
            mark.last_block = head
            mark.save()
        rounds += 1
        if (until_block is not None and mark.last_block >= until_block) or (polls is not None and rounds >= polls):
            return given
        time.sleep(poll)
