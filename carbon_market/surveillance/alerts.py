"""An alert and its evidence: the rule, how serious, who, which instrument, the time window, the figures that
tripped it and the events behind it (block, transaction, log index); the regulator's suggested response as an
operations-file fragment; and what ``surveil`` writes (JSON lines, CSV, an HTML report, a case file per alert)."""

from __future__ import annotations

import csv
import hashlib
import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from carbon_market.surveillance.tape import Ref, Tape, Trade


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: str
    summary: str
    accounts: tuple[str, ...]
    instrument: int | None
    first_block: int
    last_block: int
    first_time: int
    last_time: int
    figures: dict[str, Any]
    evidence: tuple[Ref, ...]
    #: the suggested response: steps of an operations file (``freeze``, ``position_limit``, ``pause``)
    response: tuple[dict[str, Any], ...] = field(default=())

    @property
    def id(self) -> str:
        """Stable across runs and as the chain grows: the rule, the accounts, the instrument, and the rule's own key
        for what it found (a position, an order, a trade) or else the first event behind it."""
        first = self.evidence[0] if self.evidence else None
        found = self.figures.get("key", f"{first.tx}:{first.log_index}" if first else "")
        key = f"{self.rule}|{','.join(self.accounts)}|{self.instrument}|{found}"
        return f"{self.rule}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"

    def record(self) -> dict[str, Any]:
        """The alert as one JSON object."""
        return {"id": self.id, "rule": self.rule, "severity": self.severity, "summary": self.summary,
                "accounts": list(self.accounts), "instrument": self.instrument,
                "window": {"blocks": [self.first_block, self.last_block], "times": [self.first_time, self.last_time]},
                "figures": {k: v for k, v in self.figures.items() if k != "key"},
                "evidence": [{"block": r.block, "tx": r.tx, "log_index": r.log_index, "event": r.event}
                             for r in self.evidence],
                "response": list(self.response)}


def make(rule: str, policy: dict[str, Any], summary: str, accounts: Sequence[str], instrument: int | None,
         evidence: Sequence[Ref], tape: Tape, figures: dict[str, Any],
         response: Sequence[dict[str, Any]] = ()) -> Alert:
    """An alert whose window is the span of its evidence."""
    refs = tuple(sorted(set(evidence), key=lambda r: (r.block, r.log_index)))
    blocks = [r.block for r in refs] or [0]
    return Alert(rule, policy["severity"], summary, tuple(sorted(set(accounts))), instrument, min(blocks), max(blocks),
                 tape.time_of(min(blocks)), tape.time_of(max(blocks)), figures, refs, tuple(response))


def freeze(accounts: Sequence[str], reason: str) -> dict[str, Any]:
    return {"freeze": {"accounts": list(accounts), "reason": reason}}


# -- writing ---------------------------------------------------------------------------------------------------

def write_jsonl(alerts: Sequence[Alert], path: Path, *, append: bool = False) -> None:
    with path.open("a" if append else "w") as f:
        for a in alerts:
            f.write(json.dumps(a.record()) + "\n")


def write_csv(alerts: Sequence[Alert], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "rule", "severity", "accounts", "instrument", "first_block", "last_block",
                         "first_time", "last_time", "figures", "evidence", "summary"])
        for a in alerts:
            writer.writerow([a.id, a.rule, a.severity, " ".join(a.accounts), a.instrument or "", a.first_block,
                             a.last_block, a.first_time, a.last_time, json.dumps(a.record()["figures"]),
                             len(a.evidence), a.summary])


def ops_fragment(alert: Alert, names: dict[str, str], regulator: dict[str, Any] | str) -> str:
    """The suggested response as an operations file ``carbon-market ops --dry-run`` checks: the accounts it names
    (by address; the regulator as given) and its steps."""
    accounts: dict[str, Any] = {"regulator": regulator}
    steps = []
    for step in alert.response:
        (kind, args), = step.items()
        args = dict(args)
        if "accounts" in args:
            named = []
            for address in args["accounts"]:
                name = names.get(address.lower()) or f"a{address[2:10].lower()}"
                accounts[name] = _checksum(address)
                named.append(name)
            args["accounts"] = named
        steps.append({kind: {"by": "regulator", **args}})
    return yaml.safe_dump({"accounts": accounts, "steps": steps}, sort_keys=False)


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def case_file(alert: Alert, history: dict[str, list[str]], fragment: str) -> str:
    """A case file: the alert, its evidence, the history of every account involved, the suggested response."""
    lines = [f"# {alert.id}: {alert.rule} ({alert.severity})", "", alert.summary, "",
             f"- accounts: {', '.join(alert.accounts)}", f"- instrument: {alert.instrument or '-'}",
             f"- blocks {alert.first_block} to {alert.last_block}, times {alert.first_time} to {alert.last_time}",
             "", "## Figures", ""]
    lines += [f"- {k}: {v}" for k, v in alert.record()["figures"].items()]
    lines += ["", "## Evidence (block, transaction, log index, event)", ""]
    lines += [f"- {r.block} {r.tx} {r.log_index} {r.event}" for r in alert.evidence]
    for account, events in history.items():
        lines += ["", f"## Trace of {account}", "", "```", *events, "```"]
    lines += ["", "## Suggested response", "",
              "Check it first: `carbon-market ops <this file> --dry-run`, then run it without `--dry-run`.", "",
              "```yaml", fragment.rstrip(), "```", ""]
    return "\n".join(lines)


def report_html(alerts: Sequence[Alert], tape: Tape, flagged: set[tuple[str, int]], title: str) -> str:
    """The HTML report: counts per rule, the alerts, a table per rule, and each instrument's price path with the
    flagged trades marked."""
    by_rule = Counter(a.rule for a in alerts)
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}.high,.critical{color:#b00}</style>",
             f"<h1>{html.escape(title)}</h1>", f"<p>{tape.events:,} events read, {len(tape.trades):,} trades, "
             f"{len(alerts)} alerts</p>", "<h2>Alerts per rule</h2><table><tr><th>rule</th><th>alerts</th></tr>"]
    parts += [f"<tr><td>{r}</td><td>{n}</td></tr>" for r, n in sorted(by_rule.items())]
    parts.append("</table>")
    for number in sorted(tape.instruments):
        parts.append(f"<h2>Price path of instrument {number}</h2>" + _price_svg(tape, number, flagged))
    for rule in sorted(by_rule):
        parts.append(f"<h2>{html.escape(rule)}</h2><table><tr><th>id</th><th>severity</th><th>accounts</th>"
                     "<th>instrument</th><th>blocks</th><th>figures</th><th>summary</th></tr>")
        for a in (a for a in alerts if a.rule == rule):
            figures = ", ".join(f"{k}={v}" for k, v in a.record()["figures"].items())
            parts.append(f"<tr class='{a.severity}'><td>{a.id}</td><td>{a.severity}</td>"
                         f"<td>{html.escape(' '.join(a.accounts))}</td><td>{a.instrument or ''}</td>"
                         f"<td>{a.first_block}-{a.last_block}</td><td>{html.escape(figures)}</td>"
                         f"<td>{html.escape(a.summary)}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def _price_svg(tape: Tape, instrument: int, flagged: set[tuple[str, int]], width: int = 800,
               height: int = 240) -> str:
    trades: list[Trade] = [t for t in tape.trades if t.instrument == instrument and t.kind != "call"]
    if not trades:
        return "<p>no trades</p>"
    prices = [t.price for t in trades]
    low, high = min(prices), max(prices)
    span = (high - low) or 1

    def point(i: int, price: int) -> tuple[float, float]:
        return 10 + i * (width - 20) / max(len(trades) - 1, 1), height - 10 - (price - low) * (height - 20) / span

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, t.price) for i, t in enumerate(trades)))
    marks = "".join(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#b00'><title>{t.ref.tx}</title></circle>"
                    for i, t in enumerate(trades) if (t.ref.tx, t.ref.log_index) in flagged
                    for x, y in [point(i, t.price)])
    return (f"<svg width='{width}' height='{height}' style='border:1px solid #ccc'>"
            f"<polyline fill='none' stroke='#36c' points='{path}'/>{marks}</svg>"
            f"<p>{len(trades)} trades from {low:,} to {high:,} money units per lot; red: trades behind an alert</p>")
