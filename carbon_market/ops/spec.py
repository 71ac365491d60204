"""Reading an operations file: a YAML document naming the accounts and listing the steps, with CSV files for bulk
lists (participants, reports, orders, surrenders). Everything the file says is checked here, before any chain is
asked anything: each mistake is reported with the file, the line (or the CSV row) and what is wrong, and every
mistake of the file is reported at once.

    accounts:
      regulator: {node: 1}              # an account the node holds (anvil's, a development chain)
      huaneng: {key: HUANENG_KEY}       # a private key from the environment or .env
      fund: {brownie: green-fund}       # a brownie account (keystore)
      observer: 0x5B38...dC4           # an address that never signs
    steps:
      - onboard: {participants: participants.csv}
      - open_year: {year: 2026, rules: {...}, benchmarks: {4411: 0.8}}
      ...

The kinds of step and their fields are in :data:`KINDS`; README.md shows a whole file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from carbon_market import compliance as cy
from carbon_market.auctions import AuctionRules
from carbon_market.failures import CarbonMarketError
from carbon_market.market import Side
from carbon_market.roles import parse_roles
from carbon_market.settings import ADDRESS
from carbon_market.suite import MONEY_UNIT, PARTS

NAME = re.compile(r"^[A-Za-z][\w.-]*$")
DURATION = re.compile(r"^\+?(\d+)\s*([smhd])$")
SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}


class SpecError(CarbonMarketError, ValueError):
    """The operations file is malformed; ``problems`` lists every mistake, each with its place."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{path}: {problems[0]}{more}")


@dataclass(frozen=True)
class AccountSpec:
    """How an account of the file is reached: ``node`` (an index into the node's accounts), ``key`` (the name of
    an environment variable holding a private key), ``brownie`` (a brownie account id) or ``address`` only."""

    name: str
    how: str
    value: str


@dataclass(frozen=True)
class Token:
    """``allowance 2026`` or ``offset <project number or reference> <vintage>``."""

    kind: str
    vintage: int
    project: int | str = 0

    def __str__(self) -> str:
        return f"allowance {self.vintage}" if self.kind == "allowance" else f"offset {self.project} {self.vintage}"


@dataclass(frozen=True)
class When:
    """A moment: an absolute timestamp, ``+<duration>`` after the chain's latest block, or a deadline of a year."""

    absolute: int = 0
    relative: int = 0
    deadline: str = ""
    year: int = 0

    def __str__(self) -> str:
        if self.deadline:
            return f"{self.deadline} {self.year}"
        return f"+{self.relative}s" if self.relative else str(self.absolute)


@dataclass(frozen=True)
class Step:
    index: int
    kind: str
    args: dict[str, Any]
    where: str
    digest: str

    def title(self) -> str:
        return f"step {self.index} ({self.kind}, {self.where})"


@dataclass(frozen=True)
class Plan:
    path: Path
    accounts: dict[str, AccountSpec]
    steps: list[Step]
    digest: str
    #: reference -> (kind of thing, the account that owns it) for orders, block trades and projects
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)


# -- field types: each takes the raw value (and the parsing context) and returns the parsed one or raises
#    ValueError with what is wrong ------------------------------------------------------------------------------

class Context:
    """What parsing knows: the file, its accounts, the references defined so far, the problems found."""

    def __init__(self, path: Path, accounts: dict[str, AccountSpec]) -> None:
        self.path, self.accounts = path, accounts
        self.refs: dict[str, tuple[str, str]] = {}
        self.problems: list[str] = []

    @classmethod
    def for_names(cls, people: Mapping[str, Any]) -> Context:
        """A context for operations composed in Python (no file): ``people`` maps names to addresses."""
        ctx = cls(Path("<operations>"), {})
        ctx.add_names(people)
        return ctx

    def add_names(self, people: Mapping[str, Any]) -> None:
        for name, who in people.items():
            self.accounts[name] = AccountSpec(name, "address", str(getattr(who, "address", who)))


def _int(value: Any, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected a whole number, got {value!r}")
    try:
        number = int(str(value).replace("_", "").replace(",", "").strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None
    if number < low or (high is not None and number > high):
        raise ValueError(f"{number} is outside {low}..{high if high is not None else 'any'}")
    return number


def positive(value: Any, _: Context | None = None) -> int:
    return _int(value, 1, 2**64 - 1)


def natural(value: Any, _: Context | None = None) -> int:
    return _int(value, 0, 2**64 - 1)


def year(value: Any, _: Context | None = None) -> int:
    return _int(value, 2000, 2200)


def money(value: Any, _: Context | None = None) -> int:
    """An amount of the settlement token in whole units with up to 6 decimals (``598.5``) -> base units."""
    try:
        amount = Decimal(str(value).replace("_", "").replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"expected an amount of money, got {value!r}") from None
    units = amount * MONEY_UNIT
    if units != units.to_integral_value() or units < 0:
        raise ValueError(f"{value} is not a non-negative amount with at most 6 decimals")
    return int(units)


def price(value: Any, ctx: Context | None = None) -> int:
    units = money(value, ctx)
    if units == 0:
        raise ValueError("a price must be above zero")
    return units


def text(value: Any, _: Context | None = None) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected text, got {value!r}")
    return "" if value is None else str(value)


def flag(value: Any, _: Context | None = None) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("", "0", "false", "no", "n"):
        return False
    if lowered in ("1", "true", "yes", "y", "ioc"):
        return True
    raise ValueError(f"expected yes or no, got {value!r}")


def side(value: Any, _: Context | None = None) -> Side:
    if isinstance(value, Side):
        return value
    try:
        return Side[str(value).strip().upper()]
    except KeyError:
        raise ValueError(f"side must be buy or sell, not {value!r}") from None


def roles(value: Any, _: Context | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return int(value)  # a role mask (``Role.ENTERPRISE | Role.INVESTOR``)
    return int(parse_roles(str(value)))


def account(value: Any, ctx: Context) -> str:
    name = str(value).strip()
    if name not in ctx.accounts:
        raise ValueError(f"unknown account {name!r} (not under accounts:)")
    return name


def accounts(value: Any, ctx: Context) -> list[str]:
    items = value if isinstance(value, list) else str(value).split()
    if not items:
        raise ValueError("expected at least one account")
    return [account(v, ctx) for v in items]


def project(value: Any, ctx: Context) -> int | str:
    """An offset project: its number, or the reference of a project registered earlier in the file."""
    if str(value).isdigit():
        return positive(value)
    if ctx.refs.get(str(value), ("",))[0] != "project":
        raise ValueError(f"offset project {value!r} is neither a number nor a project registered earlier")
    return str(value)


def token(value: Any, ctx: Context) -> Token:
    if isinstance(value, Token):
        return value
    words = str(value).split()
    if len(words) == 2 and words[0] == "allowance":
        return Token("allowance", year(words[1]))
    if len(words) == 3 and words[0] == "offset":
        return Token("offset", year(words[2]), project(words[1], ctx))
    raise ValueError(f"a token is 'allowance <year>' or 'offset <project> <vintage>', not {value!r}")


def duration(value: Any, _: Context | None = None) -> int:
    match = DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"a duration is a number and s, m, h or d (like 90d), not {value!r}")
    return int(match[1]) * SECONDS[match[2]]


def when(value: Any, ctx: Context | None = None) -> When:
    """``2027-03-31`` (UTC), ``2027-03-31T12:00:00+08:00``, ``+90d`` (after the chain's latest block), a
    timestamp, or ``deadline 2026`` / ``early_deadline 2026`` (the rules of that year)."""
    if isinstance(value, When):
        return value
    raw = str(value).strip()
    words = raw.split()
    if len(words) == 2 and words[0] in ("deadline", "early_deadline"):
        return When(deadline=words[0], year=year(words[1]))
    if raw.startswith("+"):
        return When(relative=duration(raw))
    if raw.isdigit():
        return When(absolute=int(raw))
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"a moment is a date (2027-03-31), +<duration>, a timestamp or 'deadline <year>', "
                         f"not {value!r}") from None
    return When(absolute=int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()))


def new_ref(kind: str, owner_field: str) -> Callable[..., str]:
    """A reference the step defines (an order, a block trade, a project), owned by the row's ``owner_field``."""
    def parse(value: Any, ctx: Context, row: dict[str, Any] | None = None) -> str:
        ref = str(value).strip()
        if not NAME.match(ref):
            raise ValueError(f"a reference is a name (letters, digits, _ . -), not {value!r}")
        if ref in ctx.refs:
            raise ValueError(f"reference {ref!r} is defined twice")
        ctx.refs[ref] = (kind, str((row or {}).get(owner_field, "")).strip())
        return ref
    parse.defines = True  # type: ignore[attr-defined]
    return parse


def earlier_ref(kind: str) -> Callable[..., str]:
    """One reference of ``kind`` defined by an earlier step (an auction, a bid to reveal)."""
    def parse(value: Any, ctx: Context) -> str:
        ref = str(value).strip()
        if ctx.refs.get(ref, ("",))[0] != kind:
            raise ValueError(f"{ref!r} is not a{'n' if kind[0] in 'aeiou' else ''} {kind} defined earlier")
        return ref
    return parse


def env_name(value: Any, _: Context | None = None) -> str:
    """The name of an environment variable (read when the step runs, never written in the file)."""
    name = str(value).strip()
    if not re.match(r"^[A-Z_][A-Z0-9_]*$", name):
        raise ValueError(f"expected the name of an environment variable (like BID_SECRET), not {value!r}")
    return name


def bps(value: Any, _: Context | None = None) -> int:
    return _int(value, 0, 10_000)


def refs(kind: str) -> Callable[..., list[str]]:
    def parse(value: Any, ctx: Context) -> list[str]:
        items = value if isinstance(value, list) else str(value).split()
        if items == ["all"]:
            return [r for r, (k, _) in ctx.refs.items() if k == kind]
        for ref in items:
            if ctx.refs.get(str(ref), ("",))[0] != kind:
                raise ValueError(f"{ref!r} is not a{'n' if kind[0] in 'aeiou' else ''} {kind} defined earlier")
        return [str(r) for r in items]
    return parse


def mapping(**schema: tuple[Callable[..., Any], Any]) -> Callable[..., dict[str, Any]]:
    def parse(value: Any, ctx: Context) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping of {', '.join(schema)}")
        return _fields(value, schema, ctx)
    return parse


#: what a governed action's call may name besides the suite's parts
GOVERNANCE_PARTS = ("council", "timelock")


def calls(value: Any, ctx: Context) -> list[dict[str, Any]]:
    """A governed action's calls, in order: ``{part: market, function: setParams, args: [...]}`` (a part of the
    suite, or the council or the timelock; an argument that names an account of the file is its address), or
    ``{upgrade: market, code: 0x...}`` (the part's ProxyAdmin points its proxy at that code)."""
    if not isinstance(value, list) or not value:
        raise ValueError("expected a list of calls")
    parsed = []
    for i, call in enumerate(value, 1):
        if not isinstance(call, dict):
            raise ValueError(f"call {i}: expected a mapping (part, function, args) or (upgrade, code)")
        if "upgrade" in call:
            if call["upgrade"] not in PARTS or not ADDRESS.match(str(call.get("code", ""))) or len(call) != 2:
                raise ValueError(f"call {i}: an upgrade names a part ({', '.join(PARTS)}) and its new code's address")
            parsed.append({"upgrade": call["upgrade"], "code": str(call["code"])})
            continue
        part, function, args = call.get("part"), call.get("function"), call.get("args", [])
        if part not in PARTS + GOVERNANCE_PARTS or not isinstance(function, str) or not isinstance(args, list) \
                or set(call) - {"part", "function", "args"}:
            raise ValueError(f"call {i}: expected part (one of {', '.join(PARTS + GOVERNANCE_PARTS)}), function "
                             f"and a list of args")
        parsed.append({"part": part, "function": function,
                       "args": [str(a) if isinstance(a, str) and a in ctx.accounts else a for a in args]})
    return parsed


def benchmarks(value: Any, _: Context | None = None) -> dict[int, int]:
    """Sector code -> tonnes of CO2e per unit of output (``{4411: 0.8}``)."""
    if not isinstance(value, dict) or not value:
        raise ValueError("expected sector: tonnes per unit of output, like {4411: 0.8}")
    out = {}
    for sector, tonnes in value.items():
        try:
            units = Decimal(str(tonnes)) * cy.BENCHMARK_SCALE
        except InvalidOperation:
            raise ValueError(f"benchmark of sector {sector}: {tonnes!r} is not a number") from None
        if units <= 0 or units != units.to_integral_value():
            raise ValueError(f"benchmark of sector {sector}: {tonnes} must be above 0 with at most 6 decimals")
        out[_int(sector, 1, 2**16 - 1)] = int(units)
    return out


REQUIRED = object()


def table(**schema: tuple[Callable[..., Any], Any]) -> Callable[..., list[dict[str, Any]]]:
    """Rows: a CSV file (path relative to the operations file) whose header names the columns, or a YAML list
    of mappings. Each row is checked against ``schema``; errors name the row."""
    def parse(value: Any, ctx: Context) -> list[dict[str, Any]]:
        if isinstance(value, str):
            rows, label = _read_csv(ctx.path.parent / value, schema)
        elif isinstance(value, list) and all(isinstance(r, dict) for r in value):
            rows, label = [(i + 1, r) for i, r in enumerate(value)], "item"
        else:
            raise ValueError("expected a CSV file name or a list of mappings")
        if not rows:
            raise ValueError(f"{value if isinstance(value, str) else 'the list'} has no rows")
        parsed = []
        for number, row in rows:
            try:
                parsed.append(_fields(row, schema, ctx))
            except ValueError as exc:
                raise ValueError(f"{value if isinstance(value, str) else 'list'} {label} {number}: {exc}") from None
        return parsed
    return parse


def _read_csv(path: Path, schema: dict[str, Any]) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    if not path.is_file():
        raise ValueError(f"no such CSV file {path}")
    with path.open(newline="") as f:
        reader = csv.DictReader(row for row in f if row.strip() and not row.lstrip().startswith("#"))
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in schema]
        missing = [c for c, (_, default) in schema.items() if default is REQUIRED and c not in header]
        if unknown or missing:
            raise ValueError(f"{path.name}: columns must be {', '.join(schema)}"
                             + (f"; unknown {', '.join(unknown)}" if unknown else "")
                             + (f"; missing {', '.join(missing)}" if missing else ""))
        rows = []
        for number, row in enumerate(reader, 1):
            if None in row or any(v is None for v in row.values()):
                raise ValueError(f"{path.name} row {number}: expected {len(header)} values")
            rows.append((number, {k: v for k, v in row.items() if v.strip() != ""}))
    return rows, "row"


def fields(raw: dict[str, Any], schema: dict[str, tuple[Callable[..., Any], Any]], ctx: Context,
           kind: str) -> dict[str, Any]:
    """One step's fields checked and parsed as a file's would be; raises :class:`SpecError` naming the kind."""
    try:
        return _fields(raw, schema, ctx)
    except ValueError as exc:
        raise SpecError(ctx.path, [f"{kind}: {exc}"]) from None


def _fields(raw: dict[str, Any], schema: dict[str, tuple[Callable[..., Any], Any]], ctx: Context) -> dict[str, Any]:
    unknown = [k for k in raw if k not in schema]
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; fields are {', '.join(schema)}")
    out = {}
    for name, (parse, default) in schema.items():
        if name not in raw or raw[name] is None:
            if default is REQUIRED:
                raise ValueError(f"missing {name!r}")
            out[name] = default
            continue
        try:
            out[name] = parse(raw[name], ctx, raw) if getattr(parse, "defines", False) else parse(raw[name], ctx)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return out


R = REQUIRED
REGULATOR = (account, "regulator")
AUCTION_DEFAULTS = AuctionRules(reserve_price=0, tick_size=1, commit_end=0, reveal_end=0)
RULES = mapping(
    pre_allocation_bps=(lambda v, c: _int(v, 0, 10_000), 7_000),
    offset_limit_bps=(lambda v, c: _int(v, 0, 10_000), 500),
    early_deadline=(when, R), deadline=(when, R), fine_per_tonne=(money, 0),
    reward_early=(natural, 30), reward_on_time=(natural, 20), reward_accurate=(natural, 10),
    penalty_late=(natural, 20), penalty_shortfall=(natural, 50), penalty_rejected=(natural, 5),
    settlement_grace=(natural, 7 * 86_400),
)

#: every kind of step and its fields: name -> (parser, default or REQUIRED)
KINDS: dict[str, dict[str, tuple[Callable[..., Any], Any]]] = {
    "onboard": {"by": REGULATOR, "participants": (table(
        account=(account, R), roles=(roles, R), region=(natural, 0), sector=(natural, 0), identity=(text, "")), R)},
    "issue_money": {"by": REGULATOR, "payments": (table(account=(account, R), amount=(money, R)), R)},
    "register_project": {"by": REGULATOR, "ref": (new_ref("project", "developer"), R),
                         "developer": (account, R), "document": (text, "")},
    "issue_offsets": {"project": (project, R), "vintage": (year, R),
                      "amount": (positive, R), "developer": (account, R), "verifier": (account, R),
                      "document": (text, "")},
    "open_year": {"by": REGULATOR, "year": (year, R), "rules": (RULES, R), "benchmarks": (benchmarks, R)},
    "allocate": {"by": REGULATOR, "year": (year, R),
                 "enterprises": (table(enterprise=(account, R), baseline_output=(natural, R)), R)},
    "report": {"year": (year, R), "reports": (table(
        enterprise=(account, R), emissions=(natural, R), output=(natural, R), document=(text, "")), R)},
    "reject": {"year": (year, R), "verifier": (account, R), "enterprise": (account, R), "reason": (text, "")},
    "attest": {"year": (year, R), "verifier": (account, R), "enterprises": (accounts, R)},
    "true_up": {"by": REGULATOR, "year": (year, R), "enterprises": (accounts, R)},
    "claim_allocation": {"year": (year, R), "enterprises": (accounts, R)},
    "list": {"regulator": REGULATOR, "exchange": (account, R), "token": (token, R), "lot": (positive, R),
             "tick": (price, R), "reference": (price, R), "traders": (accounts, [])},
    "approve": {"traders": (accounts, R)},
    "open_call": {"exchange": (account, R), "token": (token, R)},
    "t_plus_one": {"by": REGULATOR, "token": (token, R), "on": (flag, True)},
    "call_auction": {"exchange": (account, R), "token": (token, R), "steps": (positive, 1_000)},
    "place": {"token": (token, R), "orders": (table(
        ref=(new_ref("order", "trader"), R), trader=(account, R), side=(side, R), price=(price, R),
        lots=(positive, R), ioc=(flag, False), max_fee_bps=(lambda v, c: _int(v, 0, 10_000), None)), R),
              "in_call": (flag, None)},
    "cancel": {"orders": (refs("order"), R)},
    "claim": {"by": (account, R), "orders": (refs("order"), R)},
    "return_orders": {"by": (account, R), "orders": (refs("order"), R)},
    "recover_orders": {"by": REGULATOR, "orders": (refs("order"), R), "recovery": (account, R)},
    "recover_blocks": {"by": REGULATOR, "blocks": (refs("block"), R), "recovery": (account, R)},
    "withdraw_fees": {"by": (account, R)},
    "block_trade": {"ref": (new_ref("block", "proposer"), R), "proposer": (account, R),
                    "counterparty": (account, R), "token": (token, R), "side": (side, R), "lots": (positive, R),
                    "price": (price, R), "expires_in": (duration, 3_600)},
    "surrender": {"year": (year, R), "surrenders": (table(enterprise=(account, R), token=(token, R),
                                                          amount=(positive, R)), R)},
    "credit": {"by": REGULATOR, "awards": (table(account=(account, R), amount=(positive, R), reason=(text, R)), R)},
    "freeze": {"by": REGULATOR, "accounts": (accounts, R), "reason": (text, R)},
    "unfreeze": {"by": REGULATOR, "accounts": (accounts, R), "reason": (text, R)},
    "position_limit": {"by": REGULATOR, "token": (token, R), "units": (natural, R)},
    "pause": {"by": REGULATOR, "paused": (flag, True)},
    "advance_time": {"to": (when, R)},
    "settle": {"by": (account, R), "year": (year, R), "batch": (positive, cy.MAX_SETTLE_BATCH)},
    # the regulator's instruments: primary auctions, the supply reserve, the containment reserve, the breaker
    "offer_auction": {"by": REGULATOR, "ref": (new_ref("auction", "by"), R), "vintage": (year, R),
                      "volume": (positive, R), "reserve_price": (price, R), "tick": (price, MONEY_UNIT // 100),
                      "commit_for": (duration, R), "reveal_for": (duration, R),
                      "enterprise_limit_bps": (bps, AUCTION_DEFAULTS.enterprise_limit_bps),
                      "investor_limit_bps": (bps, AUCTION_DEFAULTS.investor_limit_bps),
                      "forfeit_bps": (bps, AUCTION_DEFAULTS.forfeit_bps),
                      "max_discount_bps": (bps, AUCTION_DEFAULTS.max_discount_bps), "reference": (token, None),
                      "cancel_below_minimum": (flag, True), "unsold_to_reserve": (flag, False)},
    "commit_bids": {"auction": (earlier_ref("auction"), R), "secret": (env_name, R), "bids": (table(
        ref=(new_ref("bid", "bidder"), R), bidder=(account, R), price=(price, R), quantity=(positive, R),
        deposit=(money, None)), R)},
    "reveal_bids": {"auction": (earlier_ref("auction"), R), "secret": (env_name, R), "bids": (table(
        ref=(earlier_ref("bid"), R), bidder=(account, R), price=(price, R), quantity=(positive, R),
        deposit=(money, None)), R)},
    "clear_auction": {"by": (account, R), "auction": (earlier_ref("auction"), R), "steps": (positive, 1_000)},
    "claim_bids": {"by": (account, R), "bids": (refs("bid"), R)},
    "pay_proceeds": {"by": (account, R)},
    "supply_rules": {"by": REGULATOR, "origin": (when, R), "period": (duration, R), "first_vintage": (year, R),
                     "vintages": (positive, R), "upper": (natural, R), "lower": (natural, R),
                     "intake_bps": (bps, 2_400), "release": (natural, R)},
    "compute_supply": {"by": (account, R)},
    "containment": {"by": REGULATOR, "reference": (token, R), "tiers": (table(
        trigger=(price, R), per_period=(positive, R), volume=(positive, R)), R)},
    "reserve_sale": {"tier": (natural, R), "vintage": (year, R),
                     "purchases": (table(buyer=(account, R), quantity=(positive, R)), R)},
    "breaker": {"by": REGULATOR, "token": (token, R), "limit_hits": (natural, 0), "move_bps": (bps, 0),
                "window": (duration, 0), "cooling_off": (duration, R)},
    "observe": {"by": (account, R), "tokens": (lambda v, c: [token(t, c) for t in (v if isinstance(v, list) else [v])],
                                               R)},
    "reopen": {"by": (account, R), "token": (token, R), "steps": (positive, 1_000)},
    # governance of a suite handed to a timelock: a governed action, its approvals, its run, its cancellation
    "approve_action": {"action": (text, R), "approvers": (accounts, R), "calls": (calls, R)},
    "execute_action": {"by": (account, R), "action": (text, R), "calls": (calls, R)},
    "cancel_action": {"by": (account, R), "action": (text, R), "calls": (calls, R)},
}


def _account_spec(name: str, value: Any) -> AccountSpec:
    if not NAME.match(name):
        raise ValueError(f"{name!r} is not a name (letters, digits, _ . -)")
    if isinstance(value, str) and ADDRESS.match(value):
        return AccountSpec(name, "address", value)
    if isinstance(value, int) and not isinstance(value, bool):
        return AccountSpec(name, "node", str(value))
    if isinstance(value, dict) and len(value) == 1:
        (how, ref), = value.items()
        if how == "node" and isinstance(ref, int) and ref >= 0:
            return AccountSpec(name, how, str(ref))
        if how in ("key", "brownie") and isinstance(ref, str) and ref:
            return AccountSpec(name, how, ref)
    raise ValueError(f"account {name!r}: expected an address, {{node: N}}, {{key: ENV_VAR}} or {{brownie: id}}, "
                     f"got {value!r}")


def load(path: str | Path) -> Plan:
    """Read and check an operations file; raises :class:`SpecError` listing every mistake."""
    path = Path(path)
    try:
        text_ = path.read_text()
        node = yaml.compose(text_)
        document = yaml.safe_load(text_)
    except OSError as exc:
        raise SpecError(path, [f"cannot read it ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise SpecError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(document, dict) or set(document) - {"accounts", "steps"} or "steps" not in document:
        raise SpecError(path, ["expected a mapping with accounts: and steps:"])
    ctx = Context(path, {})
    for name, value in (document.get("accounts") or {}).items():
        try:
            ctx.accounts[str(name)] = _account_spec(str(name), value)
        except ValueError as exc:
            ctx.problems.append(f"accounts: {exc}")
    steps = _steps(document["steps"], _step_lines(node), ctx)
    if ctx.problems:
        raise SpecError(path, ctx.problems)
    digest = hashlib.sha256(json.dumps([s.digest for s in steps]).encode()).hexdigest()
    return Plan(path, ctx.accounts, steps, digest, dict(ctx.refs))


def _step_lines(node: Any) -> list[int]:
    for key, value in getattr(node, "value", []):
        if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _steps(raw: Any, lines: list[int], ctx: Context) -> list[Step]:
    if not isinstance(raw, list) or not raw:
        ctx.problems.append("steps: expected a list of steps")
        return []
    steps = []
    for i, item in enumerate(raw):
        where = f"line {lines[i]}" if i < len(lines) else f"step {i + 1}"
        if not isinstance(item, dict) or len(item) != 1:
            ctx.problems.append(f"{where}: a step is one kind with its fields, like '- report: {{...}}'")
            continue
        (kind, fields_), = item.items()
        if kind not in KINDS:
            ctx.problems.append(f"{where}: unknown step {kind!r}; steps are {', '.join(KINDS)}")
            continue
        if not isinstance(fields_, dict):
            ctx.problems.append(f"{where} ({kind}): expected its fields as a mapping, got {fields_!r}")
            continue
        try:
            args = _fields(fields_ or {}, KINDS[kind], ctx)
        except ValueError as exc:
            ctx.problems.append(f"{where} ({kind}): {exc}")
            continue
        digest = hashlib.sha256(json.dumps([kind, args], default=str, sort_keys=True).encode()).hexdigest()
        steps.append(Step(i + 1, kind, args, where, digest))
    return steps
