"""Operations files against the local chain: the pilot year of ``operations/pilot-2026`` run in full and checked
against the chain; a dry run that sends nothing; malformed files refused with a clear error and nothing sent; a
crash injected mid-run and a re-run that completes with no transaction repeated; a chain that lost a run's last
blocks, a transaction the node dropped from its pool, and one stuck behind a nonce the chain lost."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from brownie import web3
from eth_account import Account
from web3 import Web3

from carbon_market import compliance as cy
from carbon_market import ops
from carbon_market.compliance import Outcome
from carbon_market.ids import allowance_id, offset_id
from carbon_market.ops.journal import Journal
from carbon_market.ops.node import Node
from carbon_market.ops.transport import Provider
from carbon_market.roles import Role
from carbon_market.suite import MONEY_UNIT, codec_for, deploy_suite
from carbon_market.trace import suite_events
from tests.integration.nodes import rpc

PILOT = Path(__file__).resolve().parents[2] / "operations" / "pilot-2026"
YEAR = 2026
#: the pilot's transactions, as the full run sends them (a re-run after any crash must add up to the same)
PILOT_TRANSACTIONS = 100


@pytest.fixture(scope="module")
def bare(admin, regulator):
    """A suite with only the regulator onboarded: the operations file does the rest."""
    return deploy_suite(admin, regulator)


@pytest.fixture
def pilot(tmp_path):
    """A copy of the pilot's files, free to be edited."""
    target = tmp_path / "pilot"
    shutil.copytree(PILOT, target)
    return target / "year.yaml"


def run(path: Path, suite, journal: Path | None = None, **options) -> ops.Outcome:
    return ops.operate(ops.load(path), suite, url=web3.provider.endpoint_uri, network="development",
                       development=True, journal=journal, **options)


def nonces(accounts) -> list[int]:
    return [web3.eth.get_transaction_count(str(a)) for a in accounts]


def event_counts(suite, start: int) -> Counter:
    return Counter(f"{e.contract}.{e.name}" for e in suite_events(suite, start))


def test_the_pilot_year_runs_in_full(bare, accounts, pilot, tmp_path):
    start = web3.eth.block_number + 1
    outcome = run(pilot, bare, tmp_path / "journal.jsonl")
    assert outcome.sent == PILOT_TRANSACTIONS and len(outcome.steps) == 40
    s, people = bare, {name: accounts[i] for i, name in enumerate(
        ["admin", "regulator", "verifier", "exchange", "forest", "fund", "huaneng", "conch", "datang", "jidong",
         "guodian"])}

    # onboarding from participants.csv: roles, regions and sectors as written
    record = s.registry.participant(people["conch"])
    assert (record[0], record[2], record[3]) == (Role.ENTERPRISE, 340000, 3011)
    # offsets: project forest-1 registered and 5,000 of vintage 2025 issued to its developer
    assert s.allowance.balanceOf(people["forest"], offset_id(1, 2025)) == 5_000
    # the compliance year: each enterprise's outcome follows its surrender schedule
    outcomes = {n: cy.enterprise_year(s.compliance, YEAR, people[n])["outcome"]
                for n in ("huaneng", "conch", "datang", "jidong", "guodian")}
    assert outcomes == {"huaneng": Outcome.EARLY, "conch": Outcome.ON_TIME, "datang": Outcome.SHORT,
                        "jidong": Outcome.LATE, "guodian": Outcome.ON_TIME}
    assert cy.enterprise_year(s.compliance, YEAR, people["conch"])["rejections"] == 1
    assert int(s.compliance.phase(YEAR)) == cy.Phase.SETTLED
    # trading: 13 orders, one call auction, one cancellation, one block trade at 630.0 a lot
    counts = event_counts(s, start)
    assert counts["Market.OrderPlaced"] == 13 and counts["Market.CallCleared"] == 1
    assert counts["Market.OrderCancelled"] == 1 and counts["BlockTradeDesk.BlockTraded"] == 1
    block = [e for e in suite_events(s, start) if e.name == "BlockTraded"][0].fields
    assert block["price"] == 630 * MONEY_UNIT and block["lots"] == 100
    assert s.money.balanceOf(people["fund"]) < 200_000 * MONEY_UNIT  # it bought
    # the fees accrued where they were earned, then withdrawn to the exchange
    assert (s.market.feesAccrued(), s.desk.feesAccrued()) == (0, 0)
    withdrawn = [e.fields["amount"] for e in suite_events(s, start) if e.name == "FeesWithdrawn"]
    assert len(withdrawn) == 2 and all(amount > 0 for amount in withdrawn)
    # the primary auction: 2,000 t at 58 tCNY/t, the lowest accepted bid; 1,380 t bid above it, the 620 left shared
    # pro rata between the two 500 t bids at it
    auction = s.auction.auction(0)
    assert (auction["stage"], auction["priceTick"] * auction["rules"]["tickSize"], auction["sold"]) == (
        3, 58 * MONEY_UNIT, 2_000)
    won = {e.fields["bidder"]: 0 for e in suite_events(s, start) if e.name == "BidClaimed"}
    for e in suite_events(s, start):
        if e.name == "BidClaimed":
            won[e.fields["bidder"]] += int(e.fields["units"])
    assert {n: won[people[n].address] for n in ("datang", "conch", "fund")} == {
        "datang": 700 + 310, "conch": 600 + 310, "fund": 80}
    assert s.reserve.supply()["lastPeriod"] == 1 and counts["CircuitBreaker.GuardSet"] == 1

    again = run(pilot, bare, tmp_path / "journal.jsonl")
    assert again.sent == 0 and all(r.resumed for r in again.steps)
    assert event_counts(s, start) == counts


def test_a_dry_run_sends_nothing(bare, accounts, pilot):
    before, block = nonces(accounts[:11]), web3.eth.block_number
    outcome = run(pilot, bare, dry_run=True)
    assert outcome.sent == PILOT_TRANSACTIONS and outcome.node.startswith("a fork of development")
    assert nonces(accounts[:11]) == before and web3.eth.block_number == block
    assert int(bare.compliance.phase(YEAR)) == cy.Phase.NONE


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


MALFORMED = [
    ("year.yaml", "  - onboard: {participants: participants.csv}", "  - onboard: {participants: participants.csv",
     "line 18: not valid YAML"),
    ("year.yaml", "  - open_call:", "  - open_auction:", "unknown step 'open_auction'"),
    ("year.yaml", "verifier: verifier, enterprises: [huaneng,", "verifier: verifyer, enterprises: [huaneng,",
     "line 32 (attest): verifier: unknown account 'verifyer'"),
    ("year.yaml", "  - allocate: {year: 2026, enterprises: enterprises.csv}", "  - allocate: {year: 2026}",
     "line 26 (allocate): missing 'enterprises'"),
    ("year.yaml", "  - cancel: {orders: [k-conch]}", "  - cancel: {orders: [k-cement]}",
     "orders: 'k-cement' is not an order defined earlier"),
    ("year.yaml", "token: allowance 2026, lot: 10", "token: allowance 1999, lot: 10",
     "line 38 (list): token: 1999 is outside 2000..2200"),
    ("year.yaml", "regulator: {node: 1}", "regulator: {node: one}", "accounts: account 'regulator'"),
    ("participants.csv", "fund,investor,", "fund,banker,", "participants.csv row 4: roles: unknown role 'banker'"),
    ("call-orders.csv", "c-jidong,jidong,sell,590.0,50", "c-jidong,jidong,sell,590.0,fifty",
     "call-orders.csv row 3: lots: expected a whole number, got 'fifty'"),
    ("call-orders.csv", "c-jidong,jidong,sell,590.0,50", "c-huaneng,jidong,sell,590.0,50",
     "reference 'c-huaneng' is defined twice"),
    ("orders.csv", "ref,trader,side,price,lots,ioc", "ref,trader,side,price,quantity,ioc",
     "orders.csv: columns must be ref, trader, side, price, lots, ioc, max_fee_bps; unknown quantity; missing lots"),
    ("reports.csv", "datang,66000,84000,", "datang,66000,84000.5,", "reports.csv row 3: output: expected a whole"),
    ("orders.csv", "k-fund,fund,buy,603.0,50,no", "k-fund,fund,buy,603.0001234,50,no",
     "price: 603.0001234 is not a non-negative amount with at most 6 decimals"),
]


@pytest.mark.parametrize("name, old, new, message", MALFORMED, ids=[m[3][:40] for m in MALFORMED])
def test_a_malformed_file_is_refused_before_anything_is_sent(bare, pilot, name, old, new, message):
    _edit(pilot.parent / name, old, new)
    block = web3.eth.block_number
    with pytest.raises(ops.SpecError) as refused:
        run(pilot, bare)
    assert message in str(refused.value) + " ".join(refused.value.problems)
    assert web3.eth.block_number == block


def test_a_step_the_chain_would_refuse_is_found_on_the_fork(bare, accounts, pilot):
    """The file is well formed, but one order is priced outside the day's limits: the simulation finds it
    before anything is sent, and the error names the step, the order and the custom error."""
    _edit(pilot.parent / "orders.csv", "k-guodian,guodian,sell,603.0,40", "k-guodian,guodian,sell,700.0,40")
    before, block = nonces(accounts[:11]), web3.eth.block_number
    with pytest.raises(ops.StepFailed) as refused:
        run(pilot, bare)
    message = str(refused.value)
    assert message.startswith("step 16 (place, line 43): place k-guodian: Market__PriceOutOfBand(")
    assert message.endswith("(found on a fork of development: nothing was sent)")
    assert "\n" not in message
    assert nonces(accounts[:11]) == before and web3.eth.block_number == block


def test_an_account_the_node_does_not_hold_is_refused(bare, pilot, monkeypatch):
    _edit(pilot, "fund: {node: 5}", "fund: {key: GREEN_FUND_KEY}")
    monkeypatch.delenv("GREEN_FUND_KEY", raising=False)
    with pytest.raises(ops.OpsError, match="account fund: GREEN_FUND_KEY is not set"):
        run(pilot, bare)


#: where to crash: after the n-th transaction, before its hash or its receipt is recorded. The re-run replays the
#: interrupted step: the transactions it had sent are found in the journal, the last one by its hash or by its
#: sender and nonce (skipped); approvals, which the chain shows done, are not even asked for again.
#: 1: onboard; 26 and 43: approvals of the list step; 48: the second order of the call; 77: the third sealed bid's
#: commitment; 81: the second reveal (which the chain shows done: not asked for again); 96: the first settlement
#: the last step the chain keeps when it loses blocks (the credit awards, after the trading)
LOST_AFTER = 20

CRASHES = [(1, False, 1), (26, True, 0), (43, False, 0), (48, True, 2), (77, True, 3), (81, False, 0), (96, True, 1)]


@pytest.mark.parametrize("after, before_record, skipped", CRASHES)
def test_a_rerun_after_a_crash_completes_without_repeating(bare, pilot, tmp_path, after, before_record, skipped):
    """Crash right after the n-th transaction reached the chain; the two runs send the pilot's transactions
    once."""
    journal = tmp_path / "journal.jsonl"
    start = web3.eth.block_number + 1
    with pytest.raises(ops.InjectedCrash):
        run(pilot, bare, journal, fault=ops.Fault(after, before_record=before_record))
    crashed = Journal.open(journal, {})
    assert len([a for a in crashed.actions.values() if a.done]) == after - 1

    resumed = run(pilot, bare, journal)
    assert resumed.sent == PILOT_TRANSACTIONS - after
    assert sum(r.skipped for r in resumed.steps) == skipped
    counts = event_counts(bare, start)
    assert counts["Market.OrderPlaced"] == 13 and counts["ParticipantRegistry.ParticipantOnboarded"] == 9
    assert counts["Compliance.ReportSubmitted"] == 6 and counts["SettlementToken.MoneyIssued"] == 5
    assert int(bare.compliance.phase(YEAR)) == cy.Phase.SETTLED


def test_a_rerun_after_the_chain_lost_its_last_blocks_sends_what_they_held_again(bare, pilot, tmp_path):
    """The chain goes back to the block that ended step ``LOST_AFTER`` of a finished run (a node restarted on an
    older state, a reorganisation deeper than the confirmations): the re-run finds the journal's last transactions
    gone, sends them again (their nonces are unused: none can land twice) and the year ends as a full run's."""
    journal, start = tmp_path / "journal.jsonl", web3.eth.block_number + 1
    marks: dict[int, str] = {}

    def progress(what: str, total: int):
        def told(step, label):
            if label is None and step.index == LOST_AFTER and what.startswith("running"):
                marks[step.index] = web3.provider.make_request("evm_snapshot", [])["result"]
        return told

    full = run(pilot, bare, journal, progress=progress)
    counts = event_counts(bare, start)
    assert web3.provider.make_request("evm_revert", [marks[LOST_AFTER]])["result"] is True
    lost = [r for r in full.steps if r.step.index > LOST_AFTER]

    again = run(pilot, bare, journal)
    assert again.sent == sum(r.sent for r in lost) > 0
    assert again.lost == again.sent
    assert [r.resumed for r in again.steps] == [r.step.index <= LOST_AFTER for r in again.steps]
    assert event_counts(bare, start) == counts
    assert int(bare.compliance.phase(YEAR)) == cy.Phase.SETTLED
    assert run(pilot, bare, journal).sent == 0


def test_a_transaction_the_node_drops_is_sent_again_in_the_same_run(bare, accounts, pilot, tmp_path):
    """The node drops a transaction of the run from its pool before it is mined (what a node restarted on an older
    state does to one it had accepted): the run notices it is gone within seconds, not after the receipt timeout,
    finds its nonce unused and sends it again. The steps complete, each action once."""
    _keep_steps(pilot, 3)  # onboarding, a project registered, its offsets issued
    url, journal, start = web3.provider.endpoint_uri, tmp_path / "journal.jsonl", web3.eth.block_number + 1
    dropped: list[str] = []

    def drop_the_first_one_seen() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = [tx for txs in rpc(url, "txpool_content")["pending"].values() for tx in txs.values()]
            if pending:
                rpc(url, "anvil_dropTransaction", [pending[0]["hash"]])
                if rpc(url, "eth_getTransactionByHash", [pending[0]["hash"]]) is None:  # not mined meanwhile
                    dropped.append(pending[0]["hash"])
                    return
            time.sleep(0.002)

    rpc(url, "evm_setAutomine", [False])
    rpc(url, "evm_setIntervalMining", [1])  # a block a second: the pool holds each transaction a while
    dropper = threading.Thread(target=drop_the_first_one_seen, daemon=True)
    before = nonces(accounts)
    dropper.start()
    try:
        outcome = run(pilot, bare, journal)
    finally:
        dropper.join()
        rpc(url, "evm_setIntervalMining", [0])
        rpc(url, "evm_setAutomine", [True])
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    done = [e for e in entries if e["event"] == "done"]
    assert len(done) == outcome.sent == len({(e["step"], e["action"]) for e in done}) > 1
    (action,) = {(e["step"], e["action"]) for e in entries if e.get("tx") in dropped}
    assert [e["event"] for e in entries if (e.get("step"), e.get("action")) == action] == [
        "sending", "sent", "sending", "sent", "done"]  # sent twice (its nonce unused), mined once
    assert sum(nonces(accounts)) - sum(before) == outcome.sent  # the dropped one never landed, its resend did
    counts = event_counts(bare, start)
    assert counts["ParticipantRegistry.ParticipantOnboarded"] == 9 and counts["OffsetRegistry.OffsetsIssued"] == 1


def test_a_transaction_behind_a_nonce_the_chain_no_longer_has_is_one_line_not_a_long_wait(bare):
    """A transaction waiting behind a nonce its sender's chain does not have (what a node that lost a run's last
    blocks holds, when the run's next one arrives) stops the wait within seconds, saying what happened."""
    url, node, sender, signed = _a_new_sender(bare, nonce=1)
    tx_hash = rpc(url, "eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()])
    try:
        with pytest.raises(ops.OpsError, match=rf"(?i)waits behind nonce 0 of {sender.address}, which development "
                                               r"no longer has: it lost blocks it had mined"):
            node.wait(tx_hash)
    finally:
        rpc(url, "anvil_dropTransaction", [tx_hash])


def test_a_transaction_whose_nonce_another_one_took_is_one_line_not_a_long_wait(bare):
    """A transaction the node still lists whose nonce its sender has already used (another transaction took it: a
    resend after a restart, another program with the same key) can never be mined: the wait stops within seconds,
    saying so, instead of waiting out the receipt timeout."""
    url, node, sender, signed = _a_new_sender(bare, nonce=0)
    rpc(url, "evm_setAutomine", [False])
    try:
        tx_hash = rpc(url, "eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()])
        rpc(url, "anvil_setNonce", [sender.address, hex(1)])  # nonce 0 taken: the listed transaction cannot be mined
        assert rpc(url, "eth_getTransactionByHash", [tx_hash]) is not None
        with pytest.raises(ops.OpsError, match=rf"(?i){tx_hash} can no longer be mined: nonce 0 of "
                                               rf"{sender.address} was taken by another transaction"):
            node.wait(tx_hash, timeout=30)
    finally:
        rpc(url, "anvil_dropTransaction", [tx_hash])
        rpc(url, "evm_setAutomine", [True])

def _a_new_sender(suite, *, nonce: int) -> tuple[str, Node, Any, Any]:
    """The node's URL, a :class:`Node` on it, a funded new account and its transfer to itself at ``nonce``."""
    url = web3.provider.endpoint_uri
    node = Node(Web3(Provider(url)), codec_for(suite), name="development", development=True)
    sender = Account.create()
    rpc(url, "anvil_setBalance", [sender.address, hex(10**18)])
    signed = sender.sign_transaction({"to": sender.address, "value": 0, "gas": 21_000, "gasPrice": 10**9,
                                      "nonce": nonce, "chainId": web3.eth.chain_id})
    return url, node, sender, signed

def _keep_steps(path: Path, count: int) -> None:
    """Cut an operations file after its first ``count`` steps."""
    head, steps = path.read_text().split("\nsteps:\n")
    kept = steps.split("\n  - ")[:count]
    path.write_text(head + "\nsteps:\n" + "\n  - ".join(kept) + "\n")


def test_a_step_changed_after_it_ran_is_refused(bare, pilot, tmp_path):
    journal = tmp_path / "journal.jsonl"
    with pytest.raises(ops.InjectedCrash):
        run(pilot, bare, journal, fault=ops.Fault(3))
    _edit(pilot.parent / "participants.csv", "Green Fund", "Green Fund II")
    with pytest.raises(ops.OpsError, match=r"step 1 \(onboard, line 17\) was changed after it ran"):
        run(pilot, bare, journal)


def test_a_claim_of_allocations_nobody_holds_is_found_on_the_fork(bare, accounts, pilot):
    """`claim_allocation` reaches `Compliance.claimAllocation`: every enterprise of the pilot is an account
    without code and active at its true-up, so nothing was held for it and the fork refuses the claim."""
    _edit(pilot, "  - true_up: {year: 2026, enterprises: [huaneng, conch, datang, jidong, guodian]}\n",
          "  - true_up: {year: 2026, enterprises: [huaneng, conch, datang, jidong, guodian]}\n"
          "  - claim_allocation: {year: 2026, enterprises: [datang]}\n")
    before = nonces(accounts[:11])
    with pytest.raises(ops.StepFailed) as refused:
        run(pilot, bare)
    assert str(refused.value) == ("step 11 (claim_allocation, line 34): claim allocation of datang: "
                                  "Compliance__NothingToClaim(year=2026, enterprise=datang) "
                                  "(found on a fork of development: nothing was sent)")
    assert nonces(accounts[:11]) == before


def test_returning_an_order_that_can_still_trade_is_found_on_the_fork(bare, accounts, pilot):
    """`return_orders` reaches `Market.returnOrders`: k-datang still rests inside the day's limits (20 of its 50
    lots), so the exchange may not return it, and the fork says so before anything is sent."""
    _edit(pilot, "  - claim: {by: exchange, orders: all}\n",
          "  - claim: {by: exchange, orders: all}\n  - return_orders: {by: exchange, orders: [k-datang]}\n")
    before = nonces(accounts[:11])
    with pytest.raises(ops.StepFailed) as refused:
        run(pilot, bare)
    message = str(refused.value)
    assert message.startswith("step 19 (return_orders, line 46): return 1 stale order(s): Market__OrderTradable(")
    assert message.endswith("(found on a fork of development: nothing was sent)")
    assert nonces(accounts[:11]) == before


def test_under_t_plus_one_a_sell_of_units_bought_today_is_found_on_the_fork(bare, accounts, pilot):
    """`t_plus_one` reaches `Market.setTPlusOne`: the fund bought all it holds in today's call (claimed for it by
    the exchange), so under the rule it may sell none of it today, and the fork says so before anything is sent."""
    _edit(pilot, "  - open_call: {exchange: exchange, token: allowance 2026}\n",
          "  - t_plus_one: {token: allowance 2026}\n  - open_call: {exchange: exchange, token: allowance 2026}\n")
    _edit(pilot, "  - claim: {by: exchange, orders: all}\n",
          "  - claim: {by: exchange, orders: all}\n  - place: {token: allowance 2026, orders: "
          "[{ref: k-fund-sell, trader: fund, side: sell, price: 600, lots: 1}]}\n")
    with pytest.raises(ops.StepFailed) as refused:
        run(pilot, bare)
    message = str(refused.value)
    assert message.startswith("step 20 (place, line 47): place k-fund-sell: Market__BoughtToday(account=fund, "
                              "instrument=1, units=10, sellable=0)"), message
    assert message.endswith("(found on a fork of development: nothing was sent)")


def _bulk_traders(suite, regulator, exchange, issuer, tag, names):
    """An operator sending in bulk for enterprises ``names`` (addresses the node acts for) on a listed allowance:
    the first holds 6 units, the others 1,000 of money each."""
    from carbon_market import bulk
    from carbon_market.ops.senders import Operator

    people = {n: bulk.address_of(f"{tag} {n}") for n in names}
    bulk.act_for(list(people.values()))
    op = Operator(suite, {"regulator": regulator, "exchange": exchange, **people}, sender="bulk")
    op.do("onboard", by="regulator", participants=[{"account": n, "roles": Role.ENTERPRISE} for n in people])
    token = "allowance 2026"
    op.do("list", regulator="regulator", exchange="exchange", token=token, lot=1, tick="0.01", reference=60,
          traders=list(people))
    op.do("issue_money", by="regulator", payments=[{"account": n, "amount": 1_000} for n in names[1:]])
    suite.allowance.mint(people[names[0]], allowance_id(2026), 6, {"from": issuer})
    return op, token


def test_independent_operations_go_out_together_in_one_block(suite, regulator, exchange, issuer):
    """A trader's cancel and other traders' new orders are independent: ``together`` sends them as one batch (one
    block), each operation gets its own receipts, and a trader's own cancel still comes before its new order."""
    from carbon_market.market import Side

    op, token = _bulk_traders(suite, regulator, exchange, issuer, "together", ("p", "q", "r"))
    op.do("place", token=token, orders=[{"ref": "s1", "trader": "p", "side": Side.SELL, "price": "61", "lots": 5}])
    op.do("place", token=token, orders=[{"ref": "b1", "trader": "q", "side": Side.BUY, "price": "59", "lots": 2}])
    sent = op.transactions

    cancelled, placed = op.together(
        ("cancel", {"orders": ["b1"]}),
        ("place", {"token": token, "orders": [
            {"ref": "b2", "trader": "q", "side": Side.BUY, "price": "60", "lots": 1},
            {"ref": "s2", "trader": "p", "side": Side.SELL, "price": "60", "lots": 1}]}))

    assert [r.event("OrderCancelled")["orderId"] for r in cancelled] == [op.ref("b1")]
    assert len(placed) == 2 and {r.block for r in cancelled + placed} == {cancelled[0].block}
    assert cancelled[0].index < placed[0].index  # q's cancel before q's new order: its nonces
    assert op.transactions == sent + 3
    assert int(suite.market.order(op.ref("b1"))["owner"], 16) == 0  # gone
    assert web3.eth.get_block(cancelled[0].block)["transactions"].__len__() == 3


def test_operations_in_turn_run_each_after_the_one_before_in_one_block(suite, regulator, exchange, issuer):
    """The exchange opens a call and other traders' orders enter it: ``in_turn`` sends them as one batch that runs
    in the order listed, whoever signs, in one block (the orders say they are the call's, ``in_call``: the phase
    read before the call opens would say continuous trading); the call then clears them."""
    from carbon_market.market import Side
    from carbon_market.ops.senders import Operator

    op, token = _bulk_traders(suite, regulator, exchange, issuer, "in turn", ("p", "q"))
    opened, placed = op.in_turn(
        ("open_call", {"exchange": "exchange", "token": token}),
        ("place", {"token": token, "in_call": True, "orders": [
            {"ref": "s1", "trader": "p", "side": Side.SELL, "price": "59", "lots": 3},
            {"ref": "b1", "trader": "q", "side": Side.BUY, "price": "61", "lots": 2}]}))

    assert {r.block for r in opened + placed} == {opened[0].block}
    assert opened[0].index == 0 < min(r.index for r in placed)
    cleared = op.do("call_auction", exchange="exchange", token=token)
    assert int(cleared[-1].event("CallCleared")["volume"]) == 2


    # the run saw both orders rest: it claims them without reading them
    reads: list[int] = []
    real = op.run.node.read_many
    op.run.node.read_many = lambda views, block="latest": reads.append(len(views)) or real(views, block)
    claimed = op.do("claim", by="exchange", orders=["s1", "b1"])
    assert reads == [] and len(claimed) == 1 and not op.run.resting
    # a new run given the same references (as a re-run is) reads them first: both gone, nothing to send
    again = Operator(suite, op.people, sender="bulk")
    again.run.refs.update(op.run.refs)
    again.run.owners.update(op.run.owners)  # the parser's references too
    assert again.do("claim", by="exchange", orders=["s1", "b1"]) == []


def test_a_call_round_is_one_block_opened_entered_cleared_and_claimed(suite, regulator, exchange, issuer):
    """A call opened in the orders' block has empty price levels, so the orders' ids follow from its round, their
    side and price and how many of the batch came before them at that price: the claim of the round can name them
    before they are mined, and the whole round (open, enter, clear, claim) is one block."""
    from carbon_market.market import Side

    op, token = _bulk_traders(suite, regulator, exchange, issuer, "one block", ("p", "q", "r"))
    opened, placed, cleared, claimed = op.in_turn(
        ("open_call", {"exchange": "exchange", "token": token}),
        ("place", {"token": token, "in_call": True, "orders": [
            {"ref": "s1", "trader": "p", "side": Side.SELL, "price": "59", "lots": 3},
            {"ref": "b1", "trader": "q", "side": Side.BUY, "price": "61", "lots": 2},
            {"ref": "b2", "trader": "r", "side": Side.BUY, "price": "61", "lots": 1}]}),
        ("call_auction", {"exchange": "exchange", "token": token}),
        ("claim", {"by": "exchange", "orders": ["s1", "b1", "b2"]}))

    assert len({r.block for r in opened + placed + cleared + claimed}) == 1
    assert int(cleared[0].event("CallCleared")["volume"]) == 3
    ids = [int(r.event("OrderPlaced")["orderId"]) for r in placed]
    assert [op.ref(ref) for ref in ("s1", "b1", "b2")] == ids and ids[1] + 1 == ids[2]  # b2 queued behind b1
    paid = {int(e["orderId"]): int(e["lots"]) for r in claimed for e in r.events("OrderClaimed")}
    assert paid == {ids[0]: 3, ids[1]: 2, ids[2]: 1}
    assert all(int(suite.market.order(i)["owner"], 16) == 0 for i in ids) and not op.run.resting
