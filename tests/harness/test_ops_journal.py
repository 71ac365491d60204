"""The operations journal and the revert decoder, without a chain: what a crash can leave behind is read back
correctly, a journal of another run is refused, and every kind of revert data reads as one line."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from carbon_market.ops import OpsError
from carbon_market.ops.journal import Journal
from carbon_market.codec import Codec

HEADER = {"file": "year.yaml", "network": "besu-qbft", "chain_id": 1337, "genesis": "0xabc", "registry": "0x1"}


def test_a_journal_reads_back_what_was_written(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, HEADER)
    journal.sending(1, "onboard rows 1-9", "0xA", 7, 100)
    journal.sent(1, "onboard rows 1-9", "0xhash1")
    journal.done(1, "onboard rows 1-9", "0xhash1", 101, 483_011)
    journal.finish(1, "d1", {}, 1)
    journal.sending(2, "register forest-1", "0xA", 8, 101)
    again = Journal.open(path, HEADER)
    assert again.steps[1]["digest"] == "d1"
    assert again.actions[(1, "onboard rows 1-9")].done
    pending = again.actions[(2, "register forest-1")]
    assert (pending.nonce, pending.tx, pending.done) == (8, None, False)


def test_a_lost_transaction_reopens_its_step_and_every_later_one(tmp_path):
    """What the chain lost is sent again: its action is no longer done, its step and the later ones (a move of the
    clock among them) no longer finished; the earlier steps stay finished. Read back the same."""
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, HEADER)
    for step, block in ((1, 101), (2, 102), (4, 104)):
        journal.sending(step, f"action {step}", "0xA", step, block - 1)
        journal.sent(step, f"action {step}", f"0xhash{step}")
        journal.done(step, f"action {step}", f"0xhash{step}", block, 21_000)
        journal.finish(step, f"d{step}", {}, 1)
    journal.finish(3, "d3", {}, 0)  # advance_time: no transaction
    assert [key for key, _ in journal.mined()] == [(4, "action 4"), (2, "action 2"), (1, "action 1")]
    journal.lost(2, "action 2", "0xhash2")
    for read in (journal, Journal.open(path, HEADER)):
        assert sorted(read.steps) == [1]
        lost = read.actions[(2, "action 2")]
        assert (lost.done, lost.mined_in, lost.tx, lost.nonce) == (False, None, "0xhash2", 2)
        assert read.actions[(4, "action 4")].done  # until it is looked for and found lost too


def test_a_last_line_cut_short_by_a_crash_never_happened(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, HEADER)
    journal.sending(1, "open 2026", "0xA", 3, 10)
    with path.open("a") as f:
        f.write('{"event": "sent", "step": 1, "act')
    assert Journal.open(path, HEADER).actions[(1, "open 2026")].tx is None


def test_a_damaged_line_inside_the_journal_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    Journal.open(path, HEADER).sending(1, "open 2026", "0xA", 3, 10)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "not json", lines[1]]) + "\n")
    with pytest.raises(OpsError, match="line 2 is not a journal entry"):
        Journal.open(path, HEADER)


def test_a_journal_of_another_deployment_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    Journal.open(path, HEADER)
    with pytest.raises(OpsError, match="belongs to another run: registry '0x1' there, '0x2' here"):
        Journal.open(path, {**HEADER, "registry": "0x2"})


def test_a_dry_run_journal_is_never_written(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, HEADER, create=False)
    journal.sending(1, "open 2026", "0xA", 3, 10)
    assert not path.exists() and journal.actions[(1, "open 2026")].nonce == 3


def test_a_copy_leaves_the_journal_alone(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, HEADER)
    copy = journal.copy()
    copy.sending(1, "open 2026", "0xA", 3, 10)
    assert journal.actions == {} and len(path.read_text().splitlines()) == 1
    assert json.loads(path.read_text())["event"] == "begin"


ABI = {"Market": [{"type": "error", "name": "Market__PriceOutOfBand", "inputs": [
    {"name": "tick", "type": "uint24"}, {"name": "low", "type": "uint24"}, {"name": "high", "type": "uint24"}]},
    {"type": "error", "name": "Registry__NotActive", "inputs": [{"name": "account", "type": "address"}]}]}


@pytest.mark.parametrize("data, shown", [
    ("0x" + (function_signature_to_4byte_selector("Market__PriceOutOfBand(uint24,uint24,uint24)")
             + encode(["uint24"] * 3, [7000, 5400, 6600])).hex(),
     "Market__PriceOutOfBand(tick=7000, low=5400, high=6600)"),
    ("0x" + (function_signature_to_4byte_selector("Registry__NotActive(address)")
             + encode(["address"], ["0x" + "11" * 20])).hex(),
     "Registry__NotActive(account=0x" + "11" * 20 + ")"),
    ("0x08c379a0" + encode(["string"], ["no"]).hex(), "Error('no')"),
    ("0x4e487b71" + encode(["uint256"], [0x11]).hex(), "Panic(0x11)"),
    ("0x", "reverted without a reason (out of gas, or a call to an address without code)"),
    ("0xdeadbeef", "unknown error 0xdeadbeef"),
])
def test_revert_data_reads_as_one_line(data, shown):
    assert Codec(ABI).error(data) == shown
