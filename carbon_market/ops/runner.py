"""Running an operations file: check it, simulate every pending step on a fork of the chain, then send for real
with a journal, so that a run that stops anywhere can be continued and never repeats a transaction.

:func:`operate` is what ``carbon-market ops`` calls; :func:`execute` runs the steps on one node (the fork or the
real chain) and is where the journal is consulted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from carbon_market import settings
from carbon_market.failures import REFUSED
from carbon_market.ops.journal import Journal, Pending
from carbon_market.ops.node import Dropped, Node, OpsError, Receipt, Reverted, Signer, fork
from carbon_market.ops.spec import AccountSpec, Plan, Step
from carbon_market.ops.steps import EXECUTORS, Run, Tx, drive
from carbon_market.ops.transport import Provider
from carbon_market.suite import Suite, codec_for

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
#: times a transaction the node dropped (a restart, an eviction from its pool) is sent again within one run
RESENDS = 2


class StepFailed(OpsError):
    """A step cannot be carried out; the message names the step, the transaction and the decoded error."""

    exit_code = REFUSED


class InjectedCrash(BaseException):
    """Raised by a :class:`Fault` to stop a run as a crash would (tests of recovery)."""


@dataclass
class Fault:
    """Stop the run right after the ``after``-th transaction sent on the real chain, before its hash
    (``before_record=True``) or its receipt is written to the journal: the two places a crash hurts most."""

    after: int
    before_record: bool = False
    sent: int = 0


@dataclass
class StepResult:
    step: Step
    sent: int = 0
    skipped: int = 0
    gas: int = 0
    #: what the step's transactions cost, in the chain currency's smallest unit
    fee: int = 0
    refs: dict[str, int] = field(default_factory=dict)
    resumed: bool = False  # finished by an earlier run


@dataclass
class Outcome:
    node: str
    steps: list[StepResult]
    #: transactions the journal had as mined that the chain no longer had (sent again, or to be on a dry run)
    lost: int = 0

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.steps)

    @property
    def gas(self) -> int:
        return sum(s.gas for s in self.steps)

    @property
    def fee(self) -> int:
        return sum(s.fee for s in self.steps)


def signers(plan: Plan, node: Node, accounts: Any = None) -> dict[str, Signer]:
    """Every account of the file, resolved on ``node``: node-held ones by index, keys from the environment (or
    the project's ``.env``), brownie accounts by id. Raises listing every account that cannot be resolved."""
    held = node.rpc("eth_accounts", [])
    out, problems = {}, []
    for name, spec in plan.accounts.items():
        try:
            out[name] = _signer(spec, held, accounts)
        except (ValueError, OpsError) as exc:
            problems.append(f"account {name}: {exc}")
    if problems:
        raise OpsError("; ".join(problems))
    return out


def _signer(spec: AccountSpec, held: list[str], accounts: Any) -> Signer:
    if spec.how == "address":
        return Signer(spec.name, Web3.to_checksum_address(spec.value))
    if spec.how == "node":
        index = int(spec.value)
        if index >= len(held):
            raise OpsError(f"the node holds {len(held)} accounts, not {index + 1}")
        return Signer(spec.name, Web3.to_checksum_address(held[index]))
    if spec.how == "key":
        key = settings.secret(spec.value)
        if not key:
            raise OpsError(f"{spec.value} is not set (environment or .env)")
        from eth_account import Account

        return Signer(spec.name, Account.from_key(key).address, key)
    if accounts is None:
        raise OpsError("brownie accounts are not available here")
    loaded = accounts.load(spec.value)
    return Signer(spec.name, loaded.address, loaded.private_key)


class Runner:
    """Runs a plan's steps on one node against one journal."""

    def __init__(self, run: Run, plan: Plan, journal: Journal, *, fault: Fault | None = None,
                 progress: Callable[[Step, str | None], None] = lambda step, label: None) -> None:
        """``progress(step, label)`` is told of each transaction, and ``progress(step, None)`` of each step
        finished (or found finished in the journal)."""
        self.run, self.plan, self.journal, self.fault, self.progress = run, plan, journal, fault, progress

    def execute(self) -> Outcome:
        results = []
        for step in self.plan.steps:
            finished = self.journal.steps.get(step.index)
            if finished is not None:
                if finished["digest"] != step.digest:
                    raise OpsError(f"{step.title()} was changed after it ran (journal {self.journal.path}); "
                                   f"restore it, or start a new journal")
                self.run.refs.update(finished["refs"])
                results.append(StepResult(step, refs=finished["refs"], resumed=True))
            else:
                results.append(self._step(step))
            self.progress(step, None)
        return Outcome(self.run.node.name, results)

    def _step(self, step: Step) -> StepResult:
        result, before = StepResult(step), set(self.run.refs)
        labels: set[str] = set()
        current: list[Tx] = []

        def send(batch: list[Tx]) -> list[Receipt]:
            receipts = []
            for tx in batch:
                if tx.label in labels:  # the journal tells a step's transactions apart by their labels
                    raise AssertionError(f"{step.kind} yielded two transactions labelled {tx.label!r}")
                labels.add(tx.label)
                current[:] = [tx]
                self.progress(step, tx.label)
                receipts.append(self._transact(step, tx, result))
            return receipts

        try:
            drive(EXECUTORS[step.kind](self.run, step.args), send)
        except Reverted as exc:
            raise StepFailed(self._failure(step, current[0] if current else None, exc.error)) from None
        except OpsError as exc:
            raise StepFailed(self._failure(step, current[0] if current else None, str(exc))) from None
        result.refs = {r: v for r, v in self.run.refs.items() if r not in before}
        self.journal.finish(step.index, step.digest, result.refs, result.sent + result.skipped)
        return result

    def _failure(self, step: Step, tx: Tx | None, error: str) -> str:
        names = {s.address.lower(): n for n, s in self.run.signers.items()}
        error = ADDRESS.sub(lambda m: names.get(m[0].lower(), m[0]), error)
        return f"{step.title()}{': ' + tx.label if tx else ''}: {error}"

    def _transact(self, step: Step, tx: Tx, result: StepResult) -> Receipt:
        """Send ``tx`` once: found in the journal and on chain, or sent; one the node drops is looked for again
        by its sender and nonce and sent again while its nonce is unused (:data:`RESENDS` times)."""
        for _ in range(RESENDS):
            try:
                return self._send_once(step, tx, result)
            except Dropped:
                continue
        return self._send_once(step, tx, result)

    def _send_once(self, step: Step, tx: Tx, result: StepResult) -> Receipt:
        node, key = self.run.node, (step.index, tx.label)
        pending = self.journal.actions.get(key)
        if pending is not None:
            found = self._recover(pending)
            if found is not None:
                receipt = node.wait(found)
                if not pending.done:
                    self.journal.done(step.index, tx.label, found, receipt.block, receipt.gas_used)
                result.skipped += 1
                return receipt
        signer = self.run.signers[tx.signer]
        prepared = node.prepare(signer, tx.method, tx.args)
        self.journal.sending(step.index, tx.label, signer.address, prepared["nonce"], node.block_number())
        tx_hash = node.broadcast(signer, prepared)
        self._maybe_crash(before_record=True)
        self.journal.sent(step.index, tx.label, tx_hash)
        self._maybe_crash(before_record=False)
        receipt = node.wait(tx_hash, prepared)
        self.journal.done(step.index, tx.label, tx_hash, receipt.block, receipt.gas_used)
        result.sent += 1
        result.gas += receipt.gas_used
        result.fee += receipt.fee
        return receipt

    def _recover(self, pending: Pending) -> str | None:
        """The hash of a journalled transaction that reached the chain, or None if it never did (send it again)."""
        node = self.run.node
        listed = node.rpc("eth_getTransactionByHash", [pending.tx]) if pending.tx else None
        if listed is not None and listed.get("blockNumber") is not None:
            return pending.tx
        # its nonce mined (the journal's transaction, or the same action sent again), else still in the pool
        found = node.find_sent(pending.sender, pending.nonce, pending.block)
        if found is not None:
            return found
        if listed is not None:
            return pending.tx
        if node.nonce(pending.sender, "pending") > pending.nonce:
            raise OpsError(f"nonce {pending.nonce} of {pending.sender} was used by a transaction this run did not "
                           f"send; look at the chain before running again")
        return None

    def _maybe_crash(self, *, before_record: bool) -> None:
        fault = self.fault
        if fault is None or self.run.node.fork or fault.before_record != before_record:
            return
        fault.sent += 1
        if fault.sent == fault.after:
            raise InjectedCrash(f"injected crash after transaction {fault.sent}")


def reconcile(journal: Journal, node: Node) -> int:
    """Mark lost the journal's mined transactions that the chain no longer has, so that the run sends them again
    (each only while its nonce is unused). A node restarted on an older state, or a reorganisation deeper than the
    confirmations, takes the chain's last blocks: the journal's transactions are looked for from the latest back,
    until one is found in the block the journal names. Returns how many were lost."""
    lost = 0
    for (step, action), pending in journal.mined():
        receipt = node.rpc("eth_getTransactionReceipt", [pending.tx])
        if receipt is None:
            journal.lost(step, action, str(pending.tx))
            lost += 1
        elif int(receipt["blockNumber"], 16) == pending.mined_in:
            break
    return lost


def journal_path(plan: Plan, header: dict[str, Any]) -> Path:
    """One journal per file, chain and deployment: a restarted development chain has a new genesis block even
    where the suite's addresses come out the same."""
    chain = f"{header['network']}-{header['chain_id']}-{header['genesis'][2:10]}"
    return settings.current().journals / f"{plan.path.stem}.{chain}-{header['registry'][2:10].lower()}.jsonl"


def check_clock(plan: Plan, node: Node, journal: Journal) -> None:
    moved = [s for s in plan.steps if s.kind == "advance_time" and s.index not in journal.steps]
    if moved and not node.development:
        raise OpsError(f"{moved[0].title()}: {node.name} is a live network and its clock cannot be moved; "
                       f"run the steps after it once that time has come, from a file without advance_time")


def operate(plan: Plan, suite: Suite, *, url: str, network: str, development: bool, dry_run: bool = False,
            journal: Path | None = None, accounts: Any = None, fault: Fault | None = None,
            progress: Callable[[str, int], Callable[[Step, str | None], None]] | None = None,
            gas_price: int | None = None) -> Outcome:
    """Check ``plan`` against the chain at ``url`` (brownie network ``network``) by running every pending step
    on a fork of it; unless ``dry_run``, then run it for real. The journal is ``journal``, or on a live network
    one under the journals folder (:mod:`carbon_market.settings`) per file and deployment (on a development
    chain, which lives as long as the command, it is kept in memory unless a path is given). Raises
    :class:`OpsError` (or its :class:`StepFailed`) with one line for the operator; when the simulation fails
    nothing has been sent. ``gas_price`` fixes the price (the network's setting), else the node prices it."""
    node = Node(Web3(Provider(url)), codec_for(suite), name=network, development=development,
                confirmations=1 if development else settings.current().confirmations, gas_price=gas_price)
    people = signers(plan, node, accounts)
    header = {"file": plan.path.name, "network": network, "chain_id": node.chain_id,
              "genesis": node.rpc("eth_getBlockByNumber", ["0x0", False])["hash"], "registry": suite.registry.address}
    if journal is None and not development:
        journal = journal_path(plan, header)
    book = Journal.open(journal, header, create=not dry_run)
    if dry_run:
        book = book.copy()  # a dry run writes nothing, not even what it finds lost
    lost = reconcile(book, node)
    check_clock(plan, node, book)
    bar = progress or (lambda what, total: lambda step, label: None)
    pending = len(plan.steps)
    with fork(node, url) as sandbox:
        try:
            rehearsal = Runner(Run(sandbox, suite, people, plan.refs), plan, book.copy(),
                               progress=bar(f"checking on a fork of {network}", pending)).execute()
        except StepFailed as exc:
            raise StepFailed(f"{exc} (found on a fork of {network}: nothing was sent)") from None
    if dry_run:
        rehearsal.lost = lost
        return rehearsal
    outcome = Runner(Run(node, suite, people, plan.refs), plan, book, fault=fault,
                     progress=bar(f"running on {network}", pending)).execute()
    outcome.lost = lost
    return outcome
