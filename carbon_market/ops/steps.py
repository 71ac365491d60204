"""What each operation does on chain, written once: onboarding, money, offsets, the compliance year (opening,
enrolment, reports, verification, true-up, surrender, settlement), listing and approvals, orders, call auctions,
claims and block trades. The operations runner, the compliance year, the simulation and the bench all run these
(:mod:`carbon_market.ops.senders`).

A step is a generator: it yields a :class:`Tx`, or a list of independent ones (a batch), and is sent back its
:class:`Receipt` (or their list); the sender decides how they go out (one by one, in JSON-RPC batches, or through
the journal, which knows whether a transaction was sent already).

Two rules keep every step safe to re-run:

* an action that is idempotent by nature (granting a role, approving a spender, listing a token) is yielded only
  if the chain does not show it done already;
* every other action is yielded unconditionally under a label unique within its step (``place o3``,
  ``issue row 2``), so that the journal recognises it; loops (clearing, settlement) test the chain before each
  round, so a round already done is simply not needed again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from eth_utils import keccak

from carbon_market import compliance as cy
from carbon_market import governance, settings
from carbon_market.auctions import AuctionRules, sealing_deposit
from carbon_market.bids import commitment, salt_for
from carbon_market.ids import allowance_id, offset_id
from carbon_market.market import Phase, call_order_id, max_fills_in
from carbon_market.ops.node import Node, OpsError, Receipt, Signer
from carbon_market.ops.spec import Token, When
from carbon_market.roles import Status
from carbon_market.suite import Suite, onboarding
from carbon_market.upgrade import proxy_admin_of

#: participants per ``onboardBatch``
ONBOARD_BATCH = 50
#: orders per claim transaction (the largest of a 300-enterprise planning run: 3.3 million gas)
CLAIM_BATCH = 150
#: attestations per verifier transaction, a multicall of ``attest`` (the largest of that run: 5.6 million gas)
ATTEST_BATCH = 150


@dataclass(frozen=True)
class Tx:
    label: str
    signer: str  # an account name of the file
    method: Any  # a brownie contract method: its address and ABI encoding only; it never sends
    args: tuple[Any, ...]


@dataclass
class Run:
    """What the steps work with: the chain, the suite, who signs, and the references made so far."""

    node: Node
    suite: Suite
    signers: dict[str, Signer]
    #: reference -> (kind of thing, the account that owns it), as parsing found them (``Plan.refs``)
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    refs: dict[str, int] = field(default_factory=dict)
    #: token id -> the market's instrument for it, once found (a listing is never undone)
    listed: dict[int, int] = field(default_factory=dict)
    #: the orders this run saw rest (placed, under an id) and has not claimed, cancelled, returned or recovered
    #: since: live without a read. Another run's orders are read (a re-run reads them all); one that another party
    #: took out of the market meanwhile fails the claim (``Market__UnknownOrder``), and a re-run leaves it out
    resting: set[int] = field(default_factory=set)

    def address(self, name: str) -> str:
        return self.signers[name].address

    def owner(self, ref: str) -> str:
        """The account that placed an order or proposed a block."""
        return self.owners[ref][1]

    def ref(self, name: str) -> int:
        if name not in self.refs:
            raise OpsError(f"{name} was not made by an earlier step of this run")
        return self.refs[name]

    def token_id(self, token: Token) -> int:
        if token.kind == "allowance":
            return allowance_id(token.vintage)
        project = token.project if isinstance(token.project, int) else self.ref(token.project)
        return offset_id(project, token.vintage)

    def instrument(self, token: Token) -> int:
        """The market's instrument for ``token``; raises if it is not listed. The newest first: the token a step
        trades is most often the one listed last (this year's vintage)."""
        market, wanted = self.suite.market, self.token_id(token)
        if wanted in self.listed:
            return self.listed[wanted]
        for number in range(int(self.node.read(market.instrumentCount)), 0, -1):
            if int(self.node.read(market.instrument, number)["tokenId"]) == wanted:
                self.listed[wanted] = number
                return number
        raise OpsError(f"{token} is not listed on the market (a list step comes first)")

    def moment(self, when: When) -> int:
        if when.deadline:
            rules = cy.Rules.from_chain(self.node.read(self.suite.compliance.rules, when.year))
            return getattr(rules, when.deadline) + 1
        return when.absolute or self.node.timestamp() + when.relative


Steps = Generator[Any, Any, None]  # yields a Tx or a list of them; is sent a Receipt or a list of them


def drive(steps: Steps, send: Callable[[list[Tx]], list[Receipt]]) -> list[Receipt]:
    """Run one step's generator: ``send`` what it yields (a transaction, or a list of independent ones) and hand
    back the receipt (or the list of receipts). Its receipts, in the order sent."""
    return drive_together([steps], send)[0]


def drive_together(steps: list[Steps], send: Callable[..., list[Receipt]], *,
                   in_turn: bool = False) -> list[list[Receipt]]:
    """Run independent steps' generators: what each yields first goes out in one ``send`` (on a development chain,
    one block), then the rest of each step on its own; each step's receipts. Every step reads what it needs before
    anything is sent, so no step may depend on another's transactions: traders' cancels and other traders' new
    orders may go together. One signer's own transactions run in the order sent (their nonces): a call's close and
    its claims may go together, the exchange's both, when the close clears the call in one transaction (a call's
    orders stay until claimed, so the claims read before the close name the same orders).

    ``in_turn``: each step's first transactions run after the steps' before it, whoever signs them (``send``'s
    ``turns``: :func:`carbon_market.bulk.send`), still in one send: a call opened and the orders that enter it,
    reports and their attestation and true-up. A step's reads still come before anything is sent: it must not read
    what an earlier step changes."""
    firsts: list[Any] = []
    for step in steps:
        try:
            firsts.append(next(step))
        except StopIteration:
            firsts.append(None)
    batches = [[] if item is None else item if isinstance(item, list) else [item] for item in firsts]
    combined = [tx for batch in batches for tx in batch]
    if not combined:
        receipts: list[Receipt] = []
    elif in_turn:
        receipts = send(combined, turns=list(accumulate(len(batch) for batch in batches))[:-1])
    else:
        receipts = send(combined)
    out: list[list[Receipt]] = []
    for step, item, batch in zip(steps, firsts, batches, strict=True):
        mine, receipts = receipts[:len(batch)], receipts[len(batch):]
        out.append(list(mine))
        if item is None:
            continue
        try:
            item = step.send(mine if isinstance(item, list) else mine[0])
            while True:
                batch = item if isinstance(item, list) else [item]
                got = send(batch) if batch else []
                out[-1] += got
                item = step.send(got if isinstance(item, list) else got[0])
        except StopIteration:
            pass
    return out


def _document(text: str, fallback: str) -> bytes:
    return keccak(text=text or fallback)


def onboard(run: Run, a: dict[str, Any]) -> Steps:
    batch = []
    for span, group in _numbered(a["participants"], ONBOARD_BATCH):
        entries = [onboarding(run.address(r["account"]), r["roles"], region=r["region"], sector=r["sector"],
                              identity=r["identity"] or r["account"]) for r in group]
        batch.append(Tx(f"onboard rows {span}", a["by"], run.suite.registry.onboardBatch, (entries,)))
    yield batch


def issue_money(run: Run, a: dict[str, Any]) -> Steps:
    yield [Tx(f"issue row {row}", a["by"], run.suite.money.issue, (run.address(p["account"]), p["amount"]))
           for row, p in enumerate(a["payments"], 1)]


def register_project(run: Run, a: dict[str, Any]) -> Steps:
    receipt = yield Tx(f"register {a['ref']}", a["by"], run.suite.offsets.registerProject,
                       (run.address(a["developer"]), _document(a["document"], a["ref"])))
    run.refs[a["ref"]] = int(receipt.event("ProjectRegistered")["project"])


def issue_offsets(run: Run, a: dict[str, Any]) -> Steps:
    project = a["project"] if isinstance(a["project"], int) else run.ref(a["project"])
    offsets = run.suite.offsets
    receipt = yield Tx("request", a["developer"], offsets.requestIssuance,
                       (project, a["vintage"], a["amount"], _document(a["document"], f"project {project}")))
    claim = int(receipt.event("IssuanceRequested")["claimId"])
    yield Tx("attest", a["verifier"], offsets.attestIssuance, (claim,))


def open_year(run: Run, a: dict[str, Any]) -> Steps:
    r = dict(a["rules"])
    r["early_deadline"], r["deadline"] = run.moment(r["early_deadline"]), run.moment(r["deadline"])
    rules = cy.Rules(**r)
    yield Tx(f"open {a['year']}", a["by"], run.suite.compliance.openYear,
             (a["year"], rules.as_tuple(), list(a["benchmarks"]), list(a["benchmarks"].values())))


def allocate(run: Run, a: dict[str, Any]) -> Steps:
    """Enrol the enterprises of the year; each gets its pre-allocation (rules' share of benchmark x baseline)."""
    yield [Tx(f"enroll rows {span}", a["by"], run.suite.compliance.enroll,
              (a["year"], [run.address(r["enterprise"]) for r in group], [r["baseline_output"] for r in group]))
           for span, group in _numbered(a["enterprises"], cy.ENROLL_BATCH)]


def report(run: Run, a: dict[str, Any]) -> Steps:
    yield [Tx(f"report row {row}", r["enterprise"], run.suite.compliance.submitReport,
              (a["year"], r["emissions"], r["output"], _document(r["document"], f"report of {r['enterprise']}")))
           for row, r in enumerate(a["reports"], 1)]


def reject(run: Run, a: dict[str, Any]) -> Steps:
    yield Tx(f"reject {a['enterprise']}", a["verifier"], run.suite.compliance.reject,
             (a["year"], run.address(a["enterprise"]), _document(a["reason"], "rejected")))


def attest(run: Run, a: dict[str, Any]) -> Steps:
    """The verifier attests the listed reports, up to :data:`ATTEST_BATCH` in one transaction (a multicall)."""
    compliance, names = run.suite.compliance, a["enterprises"]
    yield [_together(f"attest {_span(group)}", a["verifier"], compliance,
                     [(compliance.attest, (a["year"], run.address(name))) for name in group])
           for group in _chunks(names, ATTEST_BATCH)]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _numbered(items: list[Any], size: int) -> list[tuple[str, list[Any]]]:
    """:func:`_chunks` with each chunk's rows, counted from one ("51-100"), for its transaction's name."""
    return [(f"{start + 1}-{start + len(chunk)}", chunk)
            for start, chunk in zip(range(0, len(items), size), _chunks(items, size), strict=True)]


def _span(names: list[str]) -> str:
    """How a label names a group: ``alpha``, or ``alpha..omega (24)``."""
    return names[0] if len(names) == 1 else f"{names[0]}..{names[-1]} ({len(names)})"


def _together(label: str, signer: str, contract: Any, calls: list[tuple[Any, tuple[Any, ...]]]) -> Tx:
    """One transaction of ``signer``'s for ``calls`` of ``contract``: the call itself if there is one, else the
    contract's ``multicall`` of them (each runs as the signer, all or nothing)."""
    if len(calls) == 1:
        return Tx(label, signer, *calls[0])
    return Tx(label, signer, contract.multicall, ([method.encode_input(*args) for method, args in calls],))


def true_up(run: Run, a: dict[str, Any]) -> Steps:
    """Finalise attested reports: each enterprise's allocation is trued up to benchmark x verified output."""
    yield [Tx(f"true-up {span}", a["by"], run.suite.compliance.finalize, (a["year"], [run.address(n) for n in group]))
           for span, group in _numbered(a["enterprises"], cy.MAX_BATCH)]


def list_token(run: Run, a: dict[str, Any]) -> Steps:
    """Appoint the exchange (if not yet), list the token (if not yet), and approve the traders."""
    market, exchange = run.suite.market, run.address(a["exchange"])
    role = run.node.read(market.EXCHANGE_ROLE)
    if not run.node.read(market.hasRole, role, exchange):
        yield Tx("grant exchange role", a["regulator"], market.grantRole, (role, exchange))
    if run.node.read(market.feeRecipient).lower() != exchange.lower():
        yield Tx("fees to exchange", a["exchange"], market.setFeeRecipient, (exchange,))
    try:
        run.instrument(a["token"])
    except OpsError:
        yield Tx(f"list {a['token']}", a["exchange"], market.list,
                 (run.token_id(a["token"]), a["lot"], a["tick"], a["reference"]))
    yield from approve(run, a)


def approve(run: Run, a: dict[str, Any]) -> Steps:
    """Let each trader's allowances and money be moved by the market and the block-trade desk (if not yet)."""
    s, batch = run.suite, []
    spenders = ((s.market, "market"), (s.desk, "desk"))
    views = [view for name in a["traders"] for spender, _ in spenders
             for view in ((s.allowance.isApprovedForAll, run.address(name), spender.address),
                          (s.money.allowance, run.address(name), spender.address))]
    answers = iter(run.node.read_many(views))
    for name in a["traders"]:
        for spender, who in spenders:
            if not next(answers):
                batch.append(Tx(f"{name} lets the {who} move units", name, s.allowance.setApprovalForAll,
                                (spender.address, True)))
            if int(next(answers)) < 2**255:
                batch.append(Tx(f"{name} lets the {who} move money", name, s.money.approve,
                                (spender.address, 2**256 - 1)))
    yield batch


def open_call(run: Run, a: dict[str, Any]) -> Steps:
    yield Tx("open call", a["exchange"], run.suite.market.openCall, (run.instrument(a["token"]),))


def t_plus_one(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator switches the T+1 rule of a listed token (units bought on a day are sold from the next)."""
    state = "on" if a["on"] else "off"
    yield Tx(f"T+1 {state}", a["by"], run.suite.market.setTPlusOne, (run.instrument(a["token"]), a["on"]))


def call_auction(run: Run, a: dict[str, Any]) -> Steps:
    """Close the open call and clear it, in as many transactions of ``steps`` steps as it takes."""
    market, instrument = run.suite.market, run.instrument(a["token"])
    yield Tx("close call", a["exchange"], market.closeCall, (instrument, a["steps"]))
    round_ = 0
    while int(run.node.read(market.instrument, instrument)["phase"]) == Phase.CLEARING:
        round_ += 1
        yield Tx(f"clear #{round_}", a["exchange"], market.advanceClearing, (instrument, a["steps"]))


def place(run: Run, a: dict[str, Any]) -> Steps:
    """Orders, each its trader's own transaction. The phase they enter is read (a call's orders pass no bound),
    unless ``in_call`` says it: yes when the call is opened in the same block, just before them
    (:meth:`~carbon_market.ops.senders.Operator.in_turn`). Those orders are named before they are sent
    (:func:`_fresh_call_ids`), so that a clearing and a claim may follow them in the same block; each receipt then
    says the id it got, which stands."""
    market, instrument = run.suite.market, run.instrument(a["token"])
    if a["in_call"] is None:
        bound = max_fills_in(int(run.node.read(market.instrument, instrument)["phase"]))
    else:
        bound = max_fills_in(Phase.CALL if a["in_call"] else Phase.CONTINUOUS)
    named = _fresh_call_ids(run, instrument, a["orders"]) if a["in_call"] else {}
    run.refs.update(named)
    run.resting.update(named.values())
    batch = []
    for o in a["orders"]:
        # unless the order states the most it pays, it pays at most the trader's rate when the step runs
        fee = o["max_fee_bps"]
        if fee is None:
            fee = int(run.node.read(market.feeRateOf, run.address(o["trader"])))
        batch.append(Tx(f"place {o['ref']}", o["trader"], market.place,
                        (instrument, o["side"], o["price"], o["lots"], o["ioc"], bound, fee)))
    receipts = yield batch
    run.resting.difference_update(named.values())
    for o, receipt in zip(a["orders"], receipts):
        order_id = run.refs[o["ref"]] = int(receipt.event("OrderPlaced")["orderId"])
        if order_id:
            run.resting.add(order_id)


def _fresh_call_ids(run: Run, instrument: int, orders: list[dict[str, Any]]) -> dict[str, int]:
    """The ids of ``orders`` entering, in the order listed, a call opened just before them (``MarketIds``): its
    price levels are empty, so an order queues behind the orders listed before it on its side at its price. Entered
    in another order (a node that ran them out of turn), the same ids go to the orders of each price level in the
    order they ran: a claim of all of them still names every one."""
    state = run.node.read(run.suite.market.instrument, instrument)
    tick_size, round_ = int(state["tickSize"]), int(state["round"])
    queued: Counter[tuple[int, int]] = Counter()
    named = {}
    for o in orders:
        level = (int(o["side"]), o["price"] // tick_size)
        named[o["ref"]] = call_order_id(instrument, round_, *level, queued[level])
        queued[level] += 1
    return named


def cancel(run: Run, a: dict[str, Any]) -> Steps:
    batch = []
    for ref in a["orders"]:
        order_id = run.ref(ref)
        if not order_id:
            raise OpsError(f"order {ref} filled in full when it was placed: there is nothing to cancel")
        batch.append(Tx(f"cancel {ref}", run.owner(ref), run.suite.market.cancel, (order_id,)))
    yield batch
    run.resting.difference_update(tx.args[0] for tx in batch)


def claim(run: Run, a: dict[str, Any]) -> Steps:
    """Claim the fills of the listed orders that still have something to claim, each owner's together (a claim
    pays each owner once for a run of its orders), in transactions of up to :data:`CLAIM_BATCH` orders, each named
    by the orders it claims (a re-run claims what is still live, under names of its own)."""
    market, by_owner = run.suite.market, dict[str, list[tuple[str, int]]]()
    for ref, order_id in zip(a["orders"], _live_orders(run, a["orders"], keep_gone=True), strict=True):
        if order_id:
            by_owner.setdefault(run.owner(ref), []).append((ref, order_id))
    live = [item for items in by_owner.values() for item in items]
    yield [Tx(f"claim {_span([ref for ref, _ in chunk])}", a["by"], market.claim,
              ([order_id for _, order_id in chunk],)) for chunk in _chunks(live, CLAIM_BATCH)]
    run.resting.difference_update(order_id for _, order_id in live)


def _live_orders(run: Run, refs: list[str], keep_gone: bool = False) -> list[int]:
    """The order ids of ``refs`` that still exist (one filled in full when placed has none; one already
    returned, recovered or cancelled is gone): what a re-run still has to send. ``keep_gone``: one item per ref,
    0 for those gone. The orders the run saw rest (:attr:`Run.resting`) are live; the others are read, in one
    batch."""
    market = run.suite.market
    ids = [run.ref(ref) for ref in refs]
    unknown = [i for i in ids if i and i not in run.resting]
    orders = run.node.read_many([(market.order, i) for i in unknown]) if unknown else []
    gone = {i for i, order in zip(unknown, orders, strict=True) if not int(str(order["owner"]), 16)}
    live = [i if i and i not in gone else 0 for i in ids]
    return live if keep_gone else [i for i in live if i]


def return_orders(run: Run, a: dict[str, Any]) -> Steps:
    """The exchange returns stale orders (out of the book, or priced outside today's limits) to their owners."""
    ids = _live_orders(run, a["orders"])
    if ids:
        yield Tx(f"return {len(ids)} stale order(s)", a["by"], run.suite.market.returnOrders, (ids,))
        run.resting.difference_update(ids)


def recover_orders(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sends a revoked owner's orders (escrow and proceeds) to a recovery account."""
    ids = _live_orders(run, a["orders"])
    if ids:
        yield Tx(f"recover {len(ids)} order(s)", a["by"], run.suite.market.recoverOrders,
                 (ids, run.address(a["recovery"])))
        run.resting.difference_update(ids)


def recover_blocks(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sends a revoked proposer's open block proposals to a recovery account."""
    desk = run.suite.desk
    ids = [block_id for ref in a["blocks"] if (block_id := run.ref(ref))
           and int(str(run.node.read(desk.blockTrade, block_id)["proposer"]), 16)]
    if ids:
        yield Tx(f"recover {len(ids)} block(s)", a["by"], desk.recoverBlocks, (ids, run.address(a["recovery"])))


def withdraw_fees(run: Run, a: dict[str, Any]) -> Steps:
    """The exchange pays the fees accrued in the market and in the block desk to the fee recipient."""
    yield Tx("withdraw the market's fees", a["by"], run.suite.market.withdrawFees, ())
    yield Tx("withdraw the block desk's fees", a["by"], run.suite.desk.withdrawFees, ())


def block_trade(run: Run, a: dict[str, Any]) -> Steps:
    desk = run.suite.desk
    expiry = run.node.timestamp() + a["expires_in"]
    receipt = yield Tx(f"propose {a['ref']}", a["proposer"], desk.propose,
                       (run.instrument(a["token"]), run.address(a["counterparty"]), a["side"], a["lots"], a["price"],
                        expiry))
    run.refs[a["ref"]] = int(receipt.event("BlockProposed")["blockId"])
    yield Tx(f"accept {a['ref']}", a["counterparty"], desk.accept, (run.refs[a["ref"]],))


def claim_allocation(run: Run, a: dict[str, Any]) -> Steps:
    """Enterprises claim the allowances compliance held for them (one frozen at its true-up, say)."""
    yield [Tx(f"claim allocation of {enterprise}", enterprise, run.suite.compliance.claimAllocation, (a["year"],))
           for enterprise in a["enterprises"]]


def surrender(run: Run, a: dict[str, Any]) -> Steps:
    """Each enterprise surrenders its rows (several vintages, offsets) in one transaction of its own, in the
    order listed."""
    compliance, rows = run.suite.compliance, dict[str, list[tuple[int, dict[str, Any]]]]()
    for row, s in enumerate(a["surrenders"], 1):
        rows.setdefault(s["enterprise"], []).append((row, s))
    yield [_together(f"surrender row{'s' if len(mine) > 1 else ''} {'+'.join(str(row) for row, _ in mine)}",
                     enterprise, compliance,
                     [(compliance.surrender, (a["year"], run.token_id(s["token"]), s["amount"])) for _, s in mine])
           for enterprise, mine in rows.items()]


def credit(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator's own credit awards, each with its reason on chain."""
    yield [Tx(f"award row {row}", a["by"], run.suite.credit.regulatorMint,
              (run.address(award["account"]), award["amount"], award["reason"]))
           for row, award in enumerate(a["awards"], 1)]


def freeze(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator freezes participants (they can neither move units nor trade), each with its reason on chain;
    one already frozen is left as it is."""
    registry, reason = run.suite.registry, _document(a["reason"], "frozen")
    yield [Tx(f"freeze {name}", a["by"], registry.freeze, (run.address(name), reason)) for name in a["accounts"]
           if int(run.node.read(registry.statusOf, run.address(name))) == Status.ACTIVE]


def unfreeze(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator lifts a freeze; one not frozen is left as it is."""
    registry, reason = run.suite.registry, _document(a["reason"], "unfrozen")
    yield [Tx(f"unfreeze {name}", a["by"], registry.unfreeze, (run.address(name), reason)) for name in a["accounts"]
           if int(run.node.read(registry.statusOf, run.address(name))) == Status.FROZEN]


def position_limit(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sets the most units of a listed token an investor may hold (holdings plus open buys)."""
    market, instrument = run.suite.market, run.instrument(a["token"])
    if int(run.node.read(market.positionLimit, instrument)) != a["units"]:
        yield Tx(f"limit {a['token']} to {a['units']}", a["by"], market.setPositionLimit, (instrument, a["units"]))


def pause(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator pauses the market (placing and matching stop; cancelling does not) or resumes it."""
    market = run.suite.market
    if bool(run.node.read(market.paused)) != a["paused"]:
        yield Tx("pause" if a["paused"] else "resume", a["by"], market.setPaused, (a["paused"],))


def advance_time(run: Run, a: dict[str, Any]) -> Steps:
    run.node.advance_to(run.moment(a["to"]))
    yield from ()


def settle(run: Run, a: dict[str, Any]) -> Steps:
    """Settle the year in batches until every enterprise is settled (the first batch is sent even before the
    deadline, so that the contract says why it cannot settle yet)."""
    compliance, round_ = run.suite.compliance, 0
    while (phase := cy.Phase(int(run.node.read(compliance.phase, a["year"])))) != cy.Phase.SETTLED:
        if round_ and phase != cy.Phase.SETTLING:
            break
        round_ += 1
        yield Tx(f"settle #{round_}", a["by"], compliance.settle, (a["year"], a["batch"]))


# ---------------------------------------------------------------- the regulator's instruments

#: what ``IPrimaryAuction.Stage`` calls a final auction
AUCTION_FINAL = (3, 4)


def offer_auction(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator offers allowances of a vintage in a sealed-bid auction whose windows start now."""
    now = run.node.timestamp()
    reference = run.instrument(a["reference"]) if a["reference"] else 0
    rules = AuctionRules(reserve_price=a["reserve_price"], tick_size=a["tick"], commit_end=now + a["commit_for"],
                         reveal_end=now + a["commit_for"] + a["reveal_for"],
                         enterprise_limit_bps=a["enterprise_limit_bps"], investor_limit_bps=a["investor_limit_bps"],
                         forfeit_bps=a["forfeit_bps"], max_discount_bps=a["max_discount_bps"],
                         reference_instrument=reference, cancel_below_minimum=a["cancel_below_minimum"],
                         unsold_to_reserve=a["unsold_to_reserve"])
    receipt = yield Tx(f"offer {a['ref']}", a["by"], run.suite.auction.offer,
                       (a["vintage"], a["volume"], rules.as_tuple()))
    run.refs[a["ref"]] = int(receipt.event("AuctionOffered")["auctionId"])


#: the secret of bids on a development chain whose file's secret is not set: a development chain keeps nothing secret
DEVELOPMENT_BID_SECRET = "a development chain's bids are sealed with a secret everybody knows"


def _salt(run: Run, a: dict[str, Any], bid: dict[str, Any]) -> bytes:
    secret = settings.secret(a["secret"]) or (DEVELOPMENT_BID_SECRET if run.node.development else None)
    if not secret:
        raise OpsError(f"{a['secret']} is not set (environment or .env): it seals the bids")
    return salt_for(secret.encode(), run.ref(a["auction"]), run.address(bid["bidder"]), bid["ref"])


def commit_bids(run: Run, a: dict[str, Any]) -> Steps:
    """Bidders commit to sealed bids (the hash of price, quantity and a salt derived from the step's secret), each
    with a deposit covering it: unless stated, price x quantity rounded up in the 1-2-5 series, so that the deposit
    does not tell the bid (:func:`carbon_market.auctions.sealing_deposit`); they first let the auction take their
    money."""
    auction, aid = run.suite.auction, run.ref(a["auction"])
    yield _money_approvals(run, auction, "auction", [b["bidder"] for b in a["bids"]])
    receipts = yield [Tx(f"commit {b['ref']}", b["bidder"], auction.commit,
                         (aid, commitment(aid, run.address(b["bidder"]), b["price"], b["quantity"], _salt(run, a, b)),
                          sealing_deposit(b["price"] * b["quantity"]) if b["deposit"] is None else b["deposit"]))
                      for b in a["bids"]]
    for b, receipt in zip(a["bids"], receipts, strict=True):
        run.refs[b["ref"]] = int(receipt.event("BidCommitted")["bidId"])


def reveal_bids(run: Run, a: dict[str, Any]) -> Steps:
    """Bidders reveal their bids (the same table as the commitments: a CSV file may serve both)."""
    auction = run.suite.auction
    bids = run.node.read_many([(auction.bid, run.ref(b["ref"])) for b in a["bids"]])
    yield [Tx(f"reveal {b['ref']}", b["bidder"], auction.reveal,
              (run.ref(b["ref"]), b["price"], b["quantity"], _salt(run, a, b)))
           for b, bid in zip(a["bids"], bids, strict=True) if not int(bid["quantity"])]


def clear_auction(run: Run, a: dict[str, Any]) -> Steps:
    """Clear an auction after its reveal window, in as many transactions of ``steps`` price levels as it takes."""
    auction, aid = run.suite.auction, run.ref(a["auction"])
    round_ = 0
    while int(run.node.read(auction.auction, aid)["stage"]) not in AUCTION_FINAL:
        round_ += 1
        yield Tx(f"clear #{round_}", a["by"], auction.clear, (aid, a["steps"]))


def claim_bids(run: Run, a: dict[str, Any]) -> Steps:
    """Settle the listed bids that are not yet settled (winners' allowances minted, deposits returned), in
    batches of the contract's largest, then pay the proceeds to the treasury: with the claims, their signer's
    last transaction (it pays what they took in, nothing if they took nothing), or on its own if nothing was left
    to claim."""
    auction = run.suite.auction
    ids = [run.ref(r) for r in a["bids"]]
    open_ids = [i for i, bid in zip(ids, run.node.read_many([(auction.bid, i) for i in ids]), strict=True)
                if int(bid["deposit"])]
    if not open_ids:
        yield from pay_proceeds(run, a)
        return
    yield [*(Tx(f"claim bids {span}", a["by"], auction.claim, (group,))
             for span, group in _numbered(open_ids, int(run.node.read(auction.MAX_BATCH)))),
           Tx("pay proceeds", a["by"], auction.payProceeds, ())]


def pay_proceeds(run: Run, a: dict[str, Any]) -> Steps:
    """Pay what the auctions took in (prices and forfeits) to the treasury."""
    if int(run.node.read(run.suite.auction.proceeds)):
        yield Tx("pay proceeds", a["by"], run.suite.auction.payProceeds, ())


def supply_rules(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sets the supply reserve's thresholds, shares and schedule."""
    rules = (run.moment(a["origin"]), a["period"], a["first_vintage"], a["vintages"], a["upper"], a["lower"],
             a["intake_bps"], a["release"])
    yield Tx("supply rules", a["by"], run.suite.reserve.setSupplyRules, (rules,))


def compute_supply(run: Run, a: dict[str, Any]) -> Steps:
    """Count the allowances in circulation for the current period (once a period) and move the reserve."""
    reserve = run.suite.reserve
    period = int(run.node.read(reserve.currentPeriod))
    if int(run.node.read(reserve.supply)["lastPeriod"]) <= period:
        yield Tx(f"compute supply of period {period}", a["by"], reserve.computeSupply, ())


def containment(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sets the cost containment reserve's tiers, triggered by a listed token's reference price."""
    tiers = [(t["trigger"], t["per_period"], t["volume"]) for t in a["tiers"]]
    yield Tx("containment tiers", a["by"], run.suite.reserve.setContainment, (run.instrument(a["reference"]), tiers))


def reserve_sale(run: Run, a: dict[str, Any]) -> Steps:
    """Enterprises buy allowances from a containment tier at its trigger price, all in one batch: a buyer that has
    not yet let the reserve take its money approves it first (the same sender: its approval lands first)."""
    reserve = run.suite.reserve
    yield [*_money_approvals(run, reserve, "reserve", [p["buyer"] for p in a["purchases"]]),
           *(Tx(f"row {row}: buy {p['quantity']} from tier {a['tier']}", p["buyer"], reserve.buyFromReserve,
                (a["tier"], a["vintage"], p["quantity"])) for row, p in enumerate(a["purchases"], 1))]


def _money_approvals(run: Run, spender: Any, who: str, names: list[str]) -> list[Tx]:
    """The approvals that let ``spender`` take money from each of ``names`` (once each) that has not yet let it,
    read in one batch."""
    money_token, names = run.suite.money, list(dict.fromkeys(names))
    allowed = run.node.read_many([(money_token.allowance, run.address(name), spender.address) for name in names])
    return [Tx(f"{name} lets the {who} take money", name, money_token.approve, (spender.address, 2**256 - 1))
            for name, amount in zip(names, allowed, strict=True) if int(amount) < 2**255]


def breaker(run: Run, a: dict[str, Any]) -> Steps:
    """The regulator sets a listed token's circuit breaker."""
    guard = (a["limit_hits"], a["move_bps"], a["window"], a["cooling_off"])
    yield Tx(f"breaker of {a['token']}", a["by"], run.suite.breaker.setGuard, (run.instrument(a["token"]), guard))


def observe(run: Run, a: dict[str, Any]) -> Steps:
    """Let the breaker look at each token's last price (it halts a token whose trigger is met)."""
    yield [Tx(f"observe {t}", a["by"], run.suite.breaker.observe, (run.instrument(t),)) for t in a["tokens"]]


def reopen(run: Run, a: dict[str, Any]) -> Steps:
    """End a halt after its cooling-off: the reopening call auction is closed and cleared."""
    market, instrument = run.suite.market, run.instrument(a["token"])
    if int(run.node.read(run.suite.breaker.watch, instrument)["haltedUntil"]):
        yield Tx("reopen", a["by"], run.suite.breaker.resume, (instrument, a["steps"]))
    round_ = 0
    while int(run.node.read(market.instrument, instrument)["phase"]) == Phase.CLEARING:
        round_ += 1
        yield Tx(f"clear #{round_}", a["by"], market.advanceClearing, (instrument, a["steps"]))


def _governed(run: Run, a: dict[str, Any]) -> tuple[governance.Governance, governance.Action]:
    """The suite's timelock and council, and the action the step names (its calls under its name)."""
    timelock = str(run.node.read(run.suite.registry.governor))
    if int(timelock, 16) == 0:
        raise OpsError(f"action {a['action']!r}: the suite is not handed to a governor (a regulator takes governed "
                       f"actions directly)")
    gov = governance.of(run.node.rpc, timelock)
    calls: list[tuple[Any, tuple[Any, ...]]] = []
    for call in a["calls"]:
        if "upgrade" in call:
            part = getattr(run.suite, call["upgrade"])
            calls.append((proxy_admin_of(part).upgradeAndCall, (part.address, call["code"], b"")))
            continue
        target = {"council": gov.council, "timelock": gov.timelock}.get(call["part"]) or getattr(run.suite,
                                                                                                 call["part"])
        function = getattr(target, call["function"], None)
        if function is None or not hasattr(function, "encode_input"):
            raise OpsError(f"action {a['action']!r}: the {call['part']} has no function {call['function']!r}")
        calls.append((function, tuple(run.address(x) if isinstance(x, str) and x in run.signers else x
                                      for x in call["args"])))
    try:
        return gov, governance.action(calls, a["action"])
    except (ValueError, TypeError, OverflowError) as exc:  # arguments the function's ABI cannot take
        raise OpsError(f"action {a['action']!r}: {exc}") from None


def approve_action(run: Run, a: dict[str, Any]) -> Steps:
    """Each approver named approves the action in turn, until it is scheduled (the approval that reaches the
    council's threshold schedules it on the timelock): one who approved already, or an action already scheduled,
    is not sent again."""
    gov, act = _governed(run, a)
    for name in a["approvers"]:
        if int(run.node.read(gov.timelock.getTimestamp, act.id)) != 0:
            return
        if not run.node.read(gov.council.approved, act.id, run.address(name)):
            yield Tx(f"{name} approves {a['action']}", name, gov.council.approve, act.arguments)


def execute_action(run: Run, a: dict[str, Any]) -> Steps:
    """Run a scheduled action once the timelock's delay has passed (anyone may); done already: nothing to send."""
    gov, act = _governed(run, a)
    ready = int(run.node.read(gov.timelock.getTimestamp, act.id))
    if ready == 1:
        return
    if ready == 0:
        threshold = int(run.node.read(gov.council.threshold))
        raise OpsError(f"action {a['action']!r} is not scheduled: it needs {threshold} approvals (approve_action)")
    if run.node.timestamp() < ready:
        when = datetime.fromtimestamp(ready, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        raise OpsError(f"action {a['action']!r} may run from {when} (the timelock's delay), not before; run the "
                       f"file again then")
    yield Tx(f"run {a['action']}", a["by"], gov.timelock.executeBatch, act.execution)


def cancel_action(run: Run, a: dict[str, Any]) -> Steps:
    """An approver cancels a scheduled action (it cannot be approved again: the same calls go under another name)."""
    gov, act = _governed(run, a)
    yield Tx(f"cancel {a['action']}", a["by"], gov.council.cancel, (act.id,))


EXECUTORS: dict[str, Callable[[Run, dict[str, Any]], Steps]] = {
    "onboard": onboard, "issue_money": issue_money, "register_project": register_project,
    "issue_offsets": issue_offsets, "open_year": open_year, "allocate": allocate, "report": report,
    "reject": reject, "attest": attest, "true_up": true_up, "claim_allocation": claim_allocation,
    "list": list_token, "approve": approve,
    "open_call": open_call, "t_plus_one": t_plus_one, "call_auction": call_auction, "place": place,
    "cancel": cancel, "claim": claim,
    "block_trade": block_trade, "return_orders": return_orders, "recover_orders": recover_orders,
    "recover_blocks": recover_blocks, "withdraw_fees": withdraw_fees, "surrender": surrender, "credit": credit,
    "freeze": freeze, "unfreeze": unfreeze, "position_limit": position_limit, "pause": pause,
    "advance_time": advance_time, "settle": settle,
    "offer_auction": offer_auction, "commit_bids": commit_bids, "reveal_bids": reveal_bids,
    "clear_auction": clear_auction, "claim_bids": claim_bids, "pay_proceeds": pay_proceeds,
    "supply_rules": supply_rules, "compute_supply": compute_supply, "containment": containment,
    "reserve_sale": reserve_sale, "breaker": breaker, "observe": observe, "reopen": reopen,
    "approve_action": approve_action, "execute_action": execute_action, "cancel_action": cancel_action,
}
