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
    found = [e for name in Suite.__dataclass_fields__ for e in events(getattr(suite, name), from_block, to_block)]
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


@dataclass(frozen=True)
class AuctionHistory:
    """A primary auction from its events alone: offered, each commitment and reveal, the clearing, each claim; and
    what they add up to (units minted, money paid to the treasury, refunded, forfeited, held)."""

    events: list[Event]
    record: dict[str, Any]


def auction_history(suite: Suite, auction_id: int, from_block: int = 0) -> AuctionHistory:
    chosen = [e for e in events(suite.auction, from_block) if int(e.fields.get("auctionId", -1)) == auction_id
              or (e.name == "SettlementHeld" and int(e.fields["bidId"]) >> 32 == auction_id)]
    return AuctionHistory(chosen, auction_record(chosen))


def auction_record(chosen: list[Event]) -> dict[str, Any]:
    """What an auction's events add up to."""
    r: dict[str, Any] = {"vintage": 0, "volume": 0, "state": "open", "commitments": 0, "deposits": 0,
                         "revealed": 0, "demand": 0, "price": 0, "sold": 0, "unsold": 0, "minted": 0, "paid": 0,
                         "refunded": 0, "forfeited": 0, "held": 0}
    for e in chosen:
        f = e.fields
        if e.name == "AuctionOffered":
            r.update(vintage=int(f["vintage"]), volume=int(f["volume"]))
        elif e.name == "BidCommitted":
            r.update(commitments=r["commitments"] + 1, deposits=r["deposits"] + int(f["deposit"]))
        elif e.name == "BidRevealed":
            r.update(revealed=r["revealed"] + 1, demand=r["demand"] + int(f["quantity"]))
        elif e.name == "AuctionCleared":
            r.update(state="cleared", price=int(f["price"]), sold=int(f["sold"]), unsold=int(f["unsold"]))
        elif e.name == "AuctionCancelled":
            r.update(state="cancelled", price=int(f["price"]), unsold=int(f["unsold"]))
        elif e.name == "BidClaimed":
            r.update(minted=r["minted"] + int(f["units"]), paid=r["paid"] + int(f["paid"]),
                     refunded=r["refunded"] + int(f["refund"]), forfeited=r["forfeited"] + int(f["forfeited"]))
        elif e.name == "SettlementHeld":
            r["held"] += int(f["units"])
    return r


#: the events that move allowances into, out of or around the supply and containment reserves
RESERVE_EVENTS = ("SupplyComputed", "AuctionOffered", "AuctionCleared", "AuctionCancelled", "ReserveSold")
#: the columns of a reserve movement (each event fills its own; the others stay empty)
RESERVE_COLUMNS = ("block", "tx", "event", "period", "circulation", "intake", "release", "auction", "requested",
                   "volume", "withheld", "released", "carried", "unsold", "to", "buyer", "tier", "vintage", "quantity",
                   "price", "reserve")


def reserve_movements(suite: Suite, from_block: int = 0, to_block: int | str = "latest") -> list[dict[str, Any]]:
    """The reserves' movements from the events alone, each with the supply reserve's balance after it: intakes and
    releases at each period's computation, what auctions withheld, took back or left unsold, containment sales."""
    found = sorted((e for c in (suite.reserve, suite.auction) for e in events(c, from_block, to_block)
                    if e.name in RESERVE_EVENTS), key=lambda e: (e.block, e.log_index))
    rows, reserve = [], 0
    for e in found:
        f = e.fields
        row: dict[str, Any] = dict.fromkeys(RESERVE_COLUMNS, "") | {"block": e.block, "tx": e.tx, "event": e.name}
        if e.name == "SupplyComputed":
            reserve = int(f["reserve"])
            row.update(period=int(f["period"]), circulation=int(f["circulation"]), intake=int(f["intake"]),
                       release=int(f["release"]))
        elif e.name == "AuctionOffered":
            row.update(auction=int(f["auctionId"]), requested=int(f["requested"]), volume=int(f["volume"]),
                       withheld=int(f["withheld"]), released=int(f["released"]), carried=int(f["carried"]))
        elif e.name in ("AuctionCleared", "AuctionCancelled"):
            to_reserve = bool(f["unsoldToReserve"])
            reserve += int(f["unsold"]) if to_reserve else 0
            row.update(auction=int(f["auctionId"]), unsold=int(f["unsold"]),
                       to="supply reserve" if to_reserve else "next auction")
        else:
            row.update(buyer=str(f["buyer"]), tier=int(f["tier"]), vintage=int(f["vintage"]),
                       quantity=int(f["quantity"]), price=int(f["price"]))
        row["reserve"] = reserve
        rows.append(row)
    return rows
