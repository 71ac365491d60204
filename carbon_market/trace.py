"""Traceability: the history of an order, a token id, an account or a compliance report, rebuilt from the suite's
events alone (no storage is read), so that anyone holding the chain can check it. ``carbon-market trace`` prints
them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from carbon_market.codec import Event
from carbon_market.compliance import Outcome, ReportState
from carbon_market.history import Book, replay
from carbon_market.ids import Kind, decode
from carbon_market.suite import Suite, events

ZERO = "0x" + "0" * 40
#: the allowance's own records of what a transfer to or from nobody means
ALLOWANCE_RECORDS = ("Issued", "Surrendered", "Retired", "Invalidated", "ClawedBack")


def suite_events(suite: Suite, from_block: int = 0, to_block: int | str = "latest") -> list[Event]:
    """Every event of every contract of the suite, in chain order."""
    found = [e for name in ("registry", "allowance", "credit", "money", "compliance", "offsets", "market", "desk")
             for e in events(getattr(suite, name), from_block, to_block)]
    return sorted(found, key=lambda e: (e.block, e.log_index))


def rebuild_book(market: Any, instrument: int, from_block: int, to_block: int | str = "latest") -> Book:
    """Replay the market's events for ``instrument`` from ``from_block`` (the market's deployment, or a block
    before which the instrument had no orders)."""
    return replay(events(market, from_block, to_block), instrument)


def order_history(suite: Suite, order_id: int, from_block: int = 0) -> list[Event]:
    """An order's life: placed, each fill, suspension, claims, cancellation."""
    return [e for e in events(suite.market, from_block) if int(e.fields.get("orderId", -1)) == order_id]


@dataclass(frozen=True)
class UnitHistory:
    """A token id's movements (mints, transfers, burns) with the allowance's own records of each, and the
    balances they add up to."""

    events: list[Event]
    balances: dict[str, int]
    minted: int
    burned: int


def unit_history(suite: Suite, token_id: int, from_block: int = 0) -> UnitHistory:
    chosen: list[Event] = []
    balances: Counter[str] = Counter()
    minted = burned = 0
    for e in events(suite.allowance, from_block):
        moves = list(_moves(e, token_id))
        if moves or (e.name in ALLOWANCE_RECORDS and int(e.fields["id"]) == token_id):
            chosen.append(e)
        for source, target, amount in moves:
            if source == ZERO:
                minted += amount
            else:
                balances[source] -= amount
            if target == ZERO:
                burned += amount
            else:
                balances[target] += amount
    return UnitHistory(chosen, {k: v for k, v in balances.items() if v}, minted, burned)


def _moves(e: Event, token_id: int):
    if e.name == "TransferSingle" and int(e.fields["id"]) == token_id:
        yield str(e.fields["from"]), str(e.fields["to"]), int(e.fields["value"])
    elif e.name == "TransferBatch":
        for i, v in zip(e.fields["ids"], e.fields["values"]):
            if int(i) == token_id:
                yield str(e.fields["from"]), str(e.fields["to"]), int(v)


def account_history(suite: Suite, account: Any, from_block: int = 0) -> list[Event]:
    """Every event of the suite that names ``account`` in any field."""
    return naming(suite_events(suite, from_block), account)


def naming(events: list[Event], account: Any) -> list[Event]:
    """The events that name ``account`` in any field."""
    address = str(account).lower()
    return [e for e in events if any(_names(v, address) for v in e.fields.values())]


def _names(value: Any, address: str) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_names(v, address) for v in value)
    return isinstance(value, str) and value.lower() == address


@dataclass(frozen=True)
class ReportHistory:
    """An enterprise's compliance year from the events alone: every event of the year that names it (and the
    allowance and credit events of the same transactions), and the record they add up to."""

    events: list[Event]
    record: dict[str, Any]


def report_history(suite: Suite, year: int, enterprise: Any, from_block: int = 0) -> ReportHistory:
    """The life of ``enterprise``'s report for ``year``: enrolment and pre-allocation, each version submitted,
    rejected or attested, finalisation and true-up, every surrender, and settlement with its credit."""
    address = str(enterprise).lower()
    own = [e for e in events(suite.compliance, from_block)
           if int(e.fields.get("year", -1)) == year and str(e.fields.get("enterprise", "")).lower() == address]
    txs = {e.tx for e in own}
    related = [e for name in ("allowance", "credit") for e in events(getattr(suite, name), from_block)
               if e.tx in txs and any(_names(v, address) for v in e.fields.values())]
    chosen = sorted(own + related, key=lambda e: (e.block, e.log_index))
    return ReportHistory(chosen, _report_record(chosen, address))


def _report_record(chosen: list[Event], address: str) -> dict[str, Any]:
    """The record the events add up to; credit is what the credit token's own events say was minted and burned
    for the enterprise in the year's transactions (the accuracy reward at finalisation, settlement's)."""
    record: dict[str, Any] = {"state": ReportState.NONE, "versions": 0, "rejections": 0, "allocated": 0,
                              "verifiedEmissions": 0, "verifiedOutput": 0, "allowancesSurrendered": 0,
                              "offsetsSurrendered": 0, "outcome": Outcome.PENDING, "shortfall": 0, "fine": 0,
                              "creditRewarded": 0, "creditBurned": 0}
    for e in chosen:
        f = e.fields
        if e.contract == "CreditToken":
            if e.name in ("Rewarded", "Penalized") and str(f["account"]).lower() == address:
                key, amount = ("creditRewarded", f["amount"]) if e.name == "Rewarded" else ("creditBurned", f["burned"])
                record[key] += int(amount)
        elif e.name == "PreAllocated":
            record.update(state=ReportState.ENROLLED, allocated=int(f["preAllocation"]))
        elif e.name == "ReportSubmitted":
            record.update(state=ReportState.SUBMITTED, versions=record["versions"] + 1)
        elif e.name == "ReportRejected":
            record.update(state=ReportState.REJECTED, rejections=record["rejections"] + 1)
        elif e.name == "ReportAttested":
            record["state"] = ReportState.ATTESTED
        elif e.name == "ReportFinalized":
            record.update(state=ReportState.FINALIZED, verifiedEmissions=int(f["emissions"]),
                          verifiedOutput=int(f["output"]))
        elif e.name == "TrueUp":
            record["allocated"] = int(f["entitlement"])
        elif e.name == "UnitsSurrendered":
            kind = "offsets" if decode(int(f["id"])).kind is Kind.OFFSET else "allowances"
            record[f"{kind}Surrendered"] += int(f["amount"])
        elif e.name == "EnterpriseSettled":
            record.update(outcome=Outcome(int(f["outcome"])), shortfall=int(f["shortfall"]), fine=int(f["fine"]))
    return record
