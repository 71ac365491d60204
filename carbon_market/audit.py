"""The audit report: the market as it stood at one block. Who takes part (roles, status, region, sector), what each
holds (every token id, money, credit and its tier), every trade (continuous fills, call auction clearings, block
trades), each enterprise's compliance status per year, and totals by region and by sector; written as one JSON
document, CSV tables and a readable HTML page.

Who took part, what was traded and which years and token ids exist come from the events up to the block; balances
and compliance records are read at that block, so the report is the same whenever it is made.
"""

from __future__ import annotations

import csv
import html
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from carbon_market import bulk
from carbon_market.codec import Event
from carbon_market.compliance import ENTERPRISE_YEAR_FIELDS, Outcome, ReportState
from carbon_market.history import OrderKey
from carbon_market.ids import decode
from carbon_market.market import Side
from carbon_market.roles import Role, Status, role_names
from carbon_market.suite import MONEY_UNIT, Suite, events
from carbon_market.trace import auction_record, reserve_movements

#: the compliance figures summed by region and by sector
TOTALED = ("allocated", "verifiedEmissions", "allowancesSurrendered", "offsetsSurrendered", "shortfall", "fine")


@dataclass
class Audit:
    network: str
    chain_id: int
    block: int
    timestamp: int
    participants: list[dict[str, Any]]
    holdings: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    compliance: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    by_sector: list[dict[str, Any]]
    auctions: list[dict[str, Any]]
    reserve: list[dict[str, Any]]

    TABLES = ("participants", "holdings", "trades", "compliance", "by_region", "by_sector", "auctions", "reserve")


def build(suite: Suite, block: int, *, network: str = "", chain_id: int = 0) -> Audit:
    """The audit at ``block`` (the suite's events up to it, its state at it)."""
    from brownie import web3

    timestamp = int(web3.eth.get_block(block).timestamp)
    registry_events = events(suite.registry, 0, block)
    people = list(dict.fromkeys(str(e.fields["account"]) for e in registry_events
                                if e.name == "ParticipantOnboarded"))
    participants = _participants(suite, people, block)
    holdings = _holdings(suite, events(suite.allowance, 0, block), block)
    trades = _trades(suite, events(suite.market, 0, block), events(suite.desk, 0, block))
    compliance = _compliance(suite, events(suite.compliance, 0, block), participants, block)
    return Audit(network, chain_id, block, timestamp, participants, holdings, trades, compliance,
                 _totals(participants, compliance, "region"), _totals(participants, compliance, "sector"),
                 _auctions(events(suite.auction, 0, block)), reserve_movements(suite, 0, block))


def _auctions(auction_events: list[Event]) -> list[dict[str, Any]]:
    """One row per primary auction, from its events (money in tCNY)."""
    by_auction: dict[int, list[Event]] = {}
    for e in auction_events:
        if "auctionId" in e.fields:
            by_auction.setdefault(int(e.fields["auctionId"]), []).append(e)
    rows = []
    for auction_id, chosen in sorted(by_auction.items()):
        r = auction_record(chosen)
        for key in ("deposits", "price", "paid", "refunded", "forfeited"):
            r[key] = r[key] / MONEY_UNIT
        rows.append({"auction": auction_id, **r})
    return rows


def _participants(suite: Suite, people: list[str], block: int) -> list[dict[str, Any]]:
    views = [v for p in people for v in ((suite.registry.participant, p), (suite.credit.balanceOf, p),
                                         (suite.credit.tierOf, p), (suite.money.balanceOf, p))]
    values = bulk.read(views, block=block)
    out = []
    for i, address in enumerate(people):
        record, credit, tier, money = values[4 * i:4 * i + 4]
        out.append({"address": address, "roles": "|".join(role_names(int(record[0]))),
                    "status": Status(int(record[1])).name.lower(), "region": int(record[2]),
                    "sector": int(record[3]), "credit": int(credit), "tier": int(tier),
                    "money": int(money) / MONEY_UNIT, "system": bool(int(record[0]) & Role.SYSTEM)})
    return out


def _holdings(suite: Suite, allowance_events: list[Event], block: int) -> list[dict[str, Any]]:
    """Every non-zero balance of every token id, read at ``block``, for every account the transfers name."""
    pairs: set[tuple[str, int]] = set()
    for e in allowance_events:
        if e.name in ("TransferSingle", "TransferBatch"):
            ids = [e.fields["id"]] if e.name == "TransferSingle" else e.fields["ids"]
            for who in (e.fields["from"], e.fields["to"]):
                if int(str(who), 16):
                    pairs.update((str(who), int(i)) for i in ids)
    ordered = sorted(pairs, key=lambda p: (p[1], p[0]))
    balances = bulk.read([(suite.allowance.balanceOf, who, token) for who, token in ordered], block=block)
    return [{"holder": who, "token": str(decode(token)), "token_id": hex(token), "amount": int(amount)}
            for (who, token), amount in zip(ordered, balances) if int(amount)]


def _trades(suite: Suite, market_events: list[Event], desk_events: list[Event]) -> list[dict[str, Any]]:
    owners = {int(e.fields["orderId"]): str(e.fields["owner"]) for e in market_events
              if e.name == "OrderPlaced" and int(e.fields["orderId"])}
    listed = {int(e.fields["instrument"]): (int(e.fields["tokenId"]), int(e.fields["lotSize"]),
                                            int(e.fields["tickSize"]))
              for e in market_events if e.name == "InstrumentListed"}
    out = []
    for e in sorted(market_events + desk_events, key=lambda e: (e.block, e.log_index)):
        f = e.fields
        if e.name == "OrderFilled":
            maker, key = owners.get(int(f["orderId"]), "?"), OrderKey.of(int(f["orderId"]))
            buyer, seller = (maker, str(f["taker"])) if key.side == Side.BUY else (str(f["taker"]), maker)
            out.append(_trade(e, "continuous", listed[key.instrument], buyer, seller, int(f["price"]), int(f["lots"])))
        elif e.name == "CallCleared" and int(f["volume"]):
            ins = listed[int(f["instrument"])]
            out.append(_trade(e, f"call auction round {f['round']}", ins, "(call)", "(call)",
                              int(f["priceTick"]) * ins[2], int(f["volume"])))
        elif e.name == "BlockTraded":
            out.append(_trade(e, f"block {f['blockId']}", listed[int(f["instrument"])], str(f["buyer"]),
                              str(f["seller"]), int(f["price"]), int(f["lots"])))
    return out


def _trade(e: Event, kind: str, instrument: tuple[int, int, int], buyer: str, seller: str, price: int,
           lots: int) -> dict[str, Any]:
    token, lot_size, _ = instrument
    return {"block": e.block, "tx": e.tx, "kind": kind, "token": str(decode(token)), "buyer": buyer,
            "seller": seller, "lots": lots, "tonnes": lots * lot_size, "price_per_lot": price / MONEY_UNIT,
            "value": lots * price / MONEY_UNIT}


def _compliance(suite: Suite, compliance_events: list[Event], participants: list[dict[str, Any]],
                block: int) -> list[dict[str, Any]]:
    enrolled = list(dict.fromkeys((int(e.fields["year"]), str(e.fields["enterprise"])) for e in compliance_events
                                  if e.name == "PreAllocated"))
    records = bulk.read([(suite.compliance.enterpriseYear, y, who) for y, who in enrolled], block=block)
    where = {p["address"]: p for p in participants}
    out = []
    for (year, who), values in zip(enrolled, records):
        r = dict(zip(ENTERPRISE_YEAR_FIELDS, values, strict=True))
        out.append({"year": year, "enterprise": who, "region": where.get(who, {}).get("region", 0),
                    "sector": where.get(who, {}).get("sector", 0),
                    "state": ReportState(int(r["state"])).name.lower(),
                    "outcome": Outcome(int(r["outcome"])).name.lower(),
                    **{k: int(r[k]) for k in ("allocated", "verifiedEmissions", "verifiedOutput", "obligation",
                                              "allowancesSurrendered", "offsetsSurrendered", "shortfall",
                                              "creditRewarded", "creditBurned", "rejections")},
                    "fine": int(r["fine"]) / MONEY_UNIT})
    return out


def _totals(participants: list[dict[str, Any]], compliance: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    groups: dict[int, dict[str, Any]] = defaultdict(lambda: {"participants": 0, "enterprises": 0, "credit": 0,
                                                             "money": 0.0, **{k: 0 for k in TOTALED},
                                                             "outcomes": defaultdict(int)})
    for p in participants:
        if p["system"] or "regulator" in p["roles"]:
            continue
        g = groups[p[by]]
        g["participants"] += 1
        g["enterprises"] += "enterprise" in p["roles"]
        g["credit"] += p["credit"]
        g["money"] += p["money"]
    for c in compliance:
        g = groups[c[by]]
        for k in TOTALED:
            g[k] += c[k]
        g["outcomes"][c["outcome"]] += 1
    return [{by: key, **{k: round(v, 6) if isinstance(v, float) else v for k, v in g.items() if k != "outcomes"},
             "outcomes": ", ".join(f"{o} {n}" for o, n in sorted(g["outcomes"].items()))}
            for key, g in sorted(groups.items())]


# -------------------------------------------------------------------------------------------------- writing


def write(audit: Audit, out: Path) -> list[Path]:
    """``audit.json``, one CSV per table and ``audit.html`` in ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "audit.json"]
    written[0].write_text(json.dumps(asdict(audit), indent=2) + "\n")
    for name in Audit.TABLES:
        rows = getattr(audit, name)
        path = out / f"{name}.csv"
        with path.open("w", newline="") as f:
            if rows:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        written.append(path)
    page = out / "audit.html"
    page.write_text(_html(audit))
    return [*written, page]


TITLES = {"participants": "Participants: roles, credit and money", "holdings": "Holdings by token id",
          "trades": "Trades", "compliance": "Compliance status by enterprise and year",
          "by_region": "Totals by region", "by_sector": "Totals by sector",
          "auctions": "Primary auctions (money in tCNY)",
          "reserve": "Reserve movements (units; the supply reserve's balance after each)"}


def _html(audit: Audit) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Carbon market audit at block {audit.block}"
             "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #bbb;padding:.25em .6em;font-size:90%}td.n{text-align:right}"
             "th{background:#eef}</style></head><body>",
             f"<h1>Carbon market audit</h1><p>Network {html.escape(audit.network)} (chain id {audit.chain_id}), "
             f"block {audit.block}, timestamp {audit.timestamp}.</p>"]
    for name in Audit.TABLES:
        rows = getattr(audit, name)
        parts.append(f"<h2>{TITLES[name]} ({len(rows)})</h2>")
        if not rows:
            parts.append("<p>None.</p>")
            continue
        head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
        body = "".join("<tr>" + "".join(_cell(v) for v in r.values()) + "</tr>" for r in rows)
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, (int, float)):
        return f"<td class='n'>{value:,}</td>"
    return f"<td>{html.escape(str(value))}</td>"
