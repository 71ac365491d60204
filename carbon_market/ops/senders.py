"""Three ways to send the same operations (:mod:`carbon_market.ops.steps`):

* **direct**: one brownie transaction at a time, for tests and measurements that inspect each receipt;
* **bulk**: every batch a step yields goes out at once through :mod:`carbon_market.bulk` (JSON-RPC batches,
  receipts checked together), for the simulation and the bench;
* **journaled**: the operations runner (:mod:`carbon_market.ops.runner`), for operators.

An :class:`Operator` runs operations by kind with the arguments an operations file gives them, in the file's own
vocabulary (``token: allowance 2026``, prices in whole currency units, account names), checked by the same parser
(:mod:`carbon_market.ops.spec`): a composition in Python (a compliance year, a simulated market) says what an
operator's file would say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from carbon_market import bulk
from carbon_market.ops.node import LazyLogs, Node, Receipt, Signer
from carbon_market.ops.spec import KINDS, Context, fields
from carbon_market.ops.steps import EXECUTORS, Run, Steps, Tx, drive, drive_together
from carbon_market.suite import MONEY_UNIT, Suite, codec_for

#: sends a batch of a step's transactions and returns their receipts, in the batch's order (``turns``: where a turn
#: of the batch starts, :func:`carbon_market.bulk.send`)
Send = Callable[..., list[Receipt]]

#: gas limits of the bulk sender where the default would not do (batches of many enterprises)
HEAVY_GAS = {"onboardBatch": 15_000_000, "enroll": 9_500_000, "finalize": 15_000_000, "settle": 15_000_000,
             "closeCall": 15_000_000, "advanceClearing": 15_000_000, "Market.claim": 15_000_000,
             "Compliance.multicall": 15_000_000,
             # a claim of up to 200 bids (about 35,000 gas each) and a clearing of 1,000 price levels
             "PrimaryAuction.claim": 15_000_000, "PrimaryAuction.clear": 15_000_000}


def money(units: int) -> str:
    """An amount in base units as an operations file writes it (whole currency units, up to 6 decimals)."""
    return str(Decimal(units) / MONEY_UNIT)


class Operator:
    """Operations on one suite, by kind, with one sender. ``people`` names the accounts (brownie accounts or
    addresses the node signs for); the names are what the operations' arguments use."""

    def __init__(self, suite: Suite, people: Mapping[str, Any], *, sender: str = "direct") -> None:
        from brownie import network, web3

        self.suite, self.people = suite, dict(people)
        signers = {name: Signer(name, str(getattr(who, "address", who))) for name, who in self.people.items()}
        node = Node(web3, codec_for(suite), name=network.show_active() or "development", development=True)
        self.run = Run(node, suite, signers)
        self.context = Context.for_names(signers)
        self.run.owners = self.context.refs
        self._senders: dict[str, Send] = {"direct": self._direct, "bulk": self._bulk}
        self.send = self._senders[sender]
        self.transactions = 0

    def add(self, people: Mapping[str, Any]) -> None:
        """Name more accounts."""
        self.people.update(people)
        for name, who in people.items():
            self.run.signers[name] = Signer(name, str(getattr(who, "address", who)))
        self.context.add_names(people)

    def do(self, kind: str, *, via: str | None = None, **args: Any) -> list[Receipt]:
        """Run one operation (through the sender ``via``, ``direct`` or ``bulk``, if not the operator's own); its
        receipts, in the order they were sent."""
        return drive(self._steps(kind, args), self._counted(self.send if via is None else self._senders[via]))

    def together(self, *operations: tuple[str, dict[str, Any]]) -> list[list[Receipt]]:
        """Independent operations (``(kind, arguments)``) whose first transactions go out as one batch
        (:func:`~carbon_market.ops.steps.drive_together`: none may depend on another's transactions); each one's
        receipts."""
        return drive_together([self._steps(kind, args) for kind, args in operations], self._counted(self.send))

    def in_turn(self, *operations: tuple[str, dict[str, Any]]) -> list[list[Receipt]]:
        """Operations whose first transactions go out as one batch and run in the order listed, each operation's
        after the one's before it (:func:`~carbon_market.ops.steps.drive_together`'s ``in_turn``: on anvil, in
        one block): a call opened and the orders placed into it, reports and their attestation. An operation's
        reads come before anything is sent: it must not read what an earlier one changes."""
        return drive_together([self._steps(kind, args) for kind, args in operations], self._counted(self.send),
                              in_turn=True)

    def _steps(self, kind: str, args: dict[str, Any]) -> Steps:
        return EXECUTORS[kind](self.run, fields(args, KINDS[kind], self.context, kind))

    def _counted(self, sender: Send) -> Send:
        def send(batch: list[Tx], turns: Sequence[int] = ()) -> list[Receipt]:
            got = sender(batch, turns)
            self.transactions += len(got)
            return got

        return send

    def ref(self, name: str) -> int:
        """What an earlier operation made under ``name`` (an order id, a block id, a project number)."""
        return self.run.ref(name)

    # -- senders ---------------------------------------------------------------------------------------------

    def _direct(self, batch: list[Tx], turns: Sequence[int] = ()) -> list[Receipt]:
        """One at a time, each mined before the next is sent: every turn after the one before it."""
        from brownie import accounts, web3

        out = []
        for tx in batch:
            who = self.people.get(tx.signer)
            account = who if hasattr(who, "balance") else accounts.at(self.run.address(tx.signer), force=True)
            sent = tx.method(*tx.args, {"from": account})
            out.append(Receipt(sent.txid, int(sent.block_number), int(sent.gas_used),
                               self.run.node.codec.decode_logs(web3, sent.logs), int(sent.txindex), raw=sent))
        return out

    def _bulk(self, batch: list[Tx], turns: Sequence[int] = ()) -> list[Receipt]:
        from brownie import web3

        # a brownie account that signs here carries its key; any other name goes out as its address (held by the node)
        calls = [bulk.call(tx.method, *tx.args, sender=self.people.get(tx.signer, self.run.address(tx.signer)),
                           gas=gas_limit(tx.method._name)) for tx in batch]
        decode = self.run.node.codec.decode_logs
        return [Receipt(r["transactionHash"], int(r["blockNumber"], 16), int(r["gasUsed"], 16),
                        LazyLogs(partial(decode, web3, r["logs"])), int(r["transactionIndex"], 16), raw=r)
                for r in bulk.send(calls, turns=turns)]


def gas_limit(method: str) -> int:
    """The gas limit the bulk sender gives a call of ``method`` (``Contract.function``)."""
    return HEAVY_GAS.get(method, HEAVY_GAS.get(method.rsplit(".", 1)[-1], bulk.DEFAULT_GAS))


def executed(receipts: Sequence[Receipt]) -> list[int]:
    """The positions of ``receipts`` in the order the chain executed them (between senders of one bulk batch,
    not necessarily the order they were sent in)."""
    return sorted(range(len(receipts)), key=lambda i: (receipts[i].block, receipts[i].index))
