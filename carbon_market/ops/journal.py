"""The journal of an operations run: one JSON line per event, appended and flushed to disk before the next
thing happens, so that a run killed at any point can be continued without repeating a transaction.

For each transaction the journal records, in order:

* ``sending``: the step, the action (a label unique within its step), the sender and the nonce it is about to use,
  and the latest block;
* ``sent``: its hash, once the node accepted it;
* ``done``: its block and gas, once mined;
* ``lost``: the chain no longer has it (a node restarted on an older state, a reorganisation deeper than the
  confirmations), found at the start of a later run: its step and every later one are no longer finished (a
  step without transactions, such as a move of the clock, runs again too).

A step whose transactions are all done gets a ``step`` line with the references it created (order ids, block
trade ids, project numbers) and a digest of its text. On a re-run, finished steps are skipped (their digest must
not have changed); a transaction with ``sending`` but no ``done`` is looked for on chain by its sender and nonce:
if it was mined it is taken as done, if the nonce is still unused it is sent again. A lost transaction is looked
for the same way, so it too is sent again only while its nonce is unused: no action can land twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbon_market.ops.node import OpsError


@dataclass
class Pending:
    """A transaction of the journal: announced (``nonce``), perhaps sent (``tx``), perhaps mined (``done``)."""

    sender: str
    nonce: int
    block: int
    tx: str | None = None
    #: the block it was mined in, once mined
    mined_in: int | None = None

    @property
    def done(self) -> bool:
        return self.mined_in is not None


@dataclass
class Journal:
    """The journal of one operations file on one deployment. ``path=None`` keeps it in memory only (the
    simulation on a fork works on such a copy)."""

    path: Path | None
    header: dict[str, Any]
    actions: dict[tuple[int, str], Pending] = field(default_factory=dict)
    steps: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path | None, header: dict[str, Any], *, create: bool = True) -> Journal:
        """The journal at ``path``, created with ``header`` if new (or kept in memory, if not ``create`` or
        ``path`` is None); an existing one must have the same header."""
        if path is None or (not create and not path.exists()):
            return cls(None, header)
        journal = cls(path, header)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            journal._write({"event": "begin", **header})
            return journal
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            try:
                journal._replay(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines):
                    break  # a last line cut short by a crash: it never happened
                raise OpsError(f"{path} line {number} is not a journal entry ({exc})") from exc
        return journal

    def copy(self) -> Journal:
        """An in-memory copy (for a simulation that must not write the real journal)."""
        return Journal(None, dict(self.header), {k: Pending(**vars(v)) for k, v in self.actions.items()},
                       {k: dict(v) for k, v in self.steps.items()})

    def _replay(self, entry: dict[str, Any]) -> None:
        kind = entry["event"]
        if kind == "begin":
            mismatch = {k: (entry.get(k), v) for k, v in self.header.items() if entry.get(k) != v}
            if mismatch:
                raise OpsError(f"{self.path} belongs to another run: " +
                               ", ".join(f"{k} {a!r} there, {b!r} here" for k, (a, b) in mismatch.items()))
        elif kind == "step":
            self.steps[entry["step"]] = entry
        else:
            key = (entry["step"], entry["action"])
            if kind == "sending":
                self.actions[key] = Pending(entry["from"], entry["nonce"], entry["block"])
            elif kind == "sent":
                self.actions[key].tx = entry["tx"]
            elif kind == "done":
                pending = self.actions[key]
                pending.tx, pending.mined_in = entry["tx"], entry["block"]
            elif kind == "lost":  # the chain lost its last blocks: this step and every later one run again
                self.actions[key].mined_in = None
                self.steps = {index: s for index, s in self.steps.items() if index < entry["step"]}

    def _write(self, entry: dict[str, Any]) -> None:
        if entry["event"] != "begin":
            self._replay(entry)
        if self.path is None:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def sending(self, step: int, action: str, sender: str, nonce: int, block: int) -> None:
        self._write({"event": "sending", "step": step, "action": action, "from": sender, "nonce": nonce,
                     "block": block})

    def sent(self, step: int, action: str, tx: str) -> None:
        self._write({"event": "sent", "step": step, "action": action, "tx": tx})

    def done(self, step: int, action: str, tx: str, block: int, gas: int) -> None:
        self._write({"event": "done", "step": step, "action": action, "tx": tx, "block": block, "gas": gas})

    def lost(self, step: int, action: str, tx: str) -> None:
        self._write({"event": "lost", "step": step, "action": action, "tx": tx})

    def mined(self) -> list[tuple[tuple[int, str], Pending]]:
        """The actions recorded as mined, the latest block first."""
        done = [(key, p) for key, p in self.actions.items() if p.done]
        return sorted(done, key=lambda item: item[1].mined_in or 0, reverse=True)

    def finish(self, step: int, digest: str, refs: dict[str, int], transactions: int) -> None:
        self._write({"event": "step", "step": step, "digest": digest, "refs": refs, "transactions": transactions})
