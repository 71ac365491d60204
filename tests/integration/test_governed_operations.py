"""Upgrades and governance from the command line, as operators run them on a live network (`local-governed`: anvil
mining on arrival, keys from the environment): `deploy` hands the suite to a timelock whose council is three
approvers (two to approve, an hour's delay); an operations file's `approve_action` schedules a parameter change
and `execute_action` runs it once the hour has passed (and, before, says when it may, sending nothing);
`upgrade market` deploys the new code and prints the governed action, which the approvers' file schedules and runs.
Without governance, `upgrade` replaces the code at once and records it; a suite without proxies says its code is
final. The governed test moves the node's clock past the timelock's delay (an hour, twice), so it runs last: brownie
waits far longer for each transaction of a later deployment on a chain whose blocks are ahead of the wall clock
(74 s for a deployment of 6 s)."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_utils import keccak

from carbon_market.suite import IMPLEMENTATION_SLOT
from tests.integration.conftest import CHAIN_ID, PARTICIPANT_KEYS
from tests.integration.conftest import cli as live_cli
from tests.integration.nodes import rpc
from tests.integration.test_operations_live import KEYS
from tests.integration.test_rpc_faults import OnArrival

NETWORK, NODE_PORT = "local-governed", 8586
HOUR = 3_600
APPROVERS = [Account.from_key(KEYS["REGULATOR_PRIVATE_KEY"]).address,
             *(Account.from_key(k).address for k in PARTICIPANT_KEYS[1:])]
GOVERNED = {**KEYS, "GOVERNANCE_APPROVERS": ",".join(APPROVERS), "GOVERNANCE_THRESHOLD": "2",
            "GOVERNANCE_DELAY": str(HOUR)}
ACCOUNTS = """
accounts:
  regulator: {key: OPS_REGULATOR_KEY}
  deputy: {key: OPS_ALPHA_KEY}
  keeper: {key: OPS_BETA_KEY}
"""
FEE_30 = {"part": "market", "function": "setParams", "args": [[30, 1000, 3000, 100, 1000, 1, [0, 1000, 2500, 5000], 2]]}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    started = OnArrival("anvil", CHAIN_ID, tmp_path_factory.mktemp("governed"), port=NODE_PORT).start()
    try:
        yield started
    finally:
        started.stop()


def cli(records, command, *args, **env):
    return live_cli(records, command, *args, network=NETWORK, **env)


def ops_file(folder, name: str, steps: list[dict]) -> str:
    path = folder / f"{name}.yaml"
    path.write_text(ACCOUNTS + "steps:\n" + "".join(f"  - {json.dumps(step)}\n" for step in steps))
    return str(path)


def later(node, seconds: int) -> None:
    rpc(node.url, "evm_increaseTime", [seconds])
    rpc(node.url, "evm_mine", [])


def market_fee(node, record: dict) -> int:
    """The market's fee (the first word of `params()`), asked of the node."""
    data = "0x" + keccak(text="params()")[:4].hex()
    answer = rpc(node.url, "eth_call", [{"to": record["contracts"]["market"]["address"], "data": data}, "latest"])
    return int(str(answer)[2:66], 16)


def code_of(node, address: str) -> str:
    word = str(rpc(node.url, "eth_getStorageAt", [address, hex(IMPLEMENTATION_SLOT), "latest"]))
    return "0x" + word[-40:].lower()


def test_without_governance_upgrade_replaces_the_code_at_once(node, tmp_path):
    records = tmp_path / "deployments"
    bad = cli(records, "deploy", UPGRADEABLE="maybe", **KEYS)
    assert bad.returncode == 2 and "UPGRADEABLE must be 1" in bad.stderr and not records.exists()
    assert cli(records, "deploy", **KEYS).returncode == 0
    path = next(records.glob(f"{NETWORK}-*.json"))
    record = json.loads(path.read_text())
    assert record["upgradeable"] and record["governance"] == {}
    before = {p: code_of(node, record["contracts"][p]["address"]) for p in ("market", "desk")}
    done = cli(records, "upgrade", "market", "desk", **KEYS)
    assert done.returncode == 0, done.stderr
    after = json.loads(path.read_text())
    for part in ("market", "desk"):
        now = code_of(node, record["contracts"][part]["address"])
        assert now != before[part] and after["contracts"][part]["implementation"].lower() == now

    # a suite deployed without proxies (UPGRADEABLE=0): its record says so, and upgrade refuses before any chain work
    path.write_text(json.dumps({**after, "upgradeable": False}))
    final = cli(records, "upgrade", "market", **KEYS)
    assert final.returncode == 2 and "deployed without proxies: its code is final" in final.stderr
    assert "Traceback" not in final.stderr


def test_a_governed_parameter_change_and_upgrade_from_operations_files(node, tmp_path):
    records = tmp_path / "deployments"
    done = cli(records, "deploy", **GOVERNED)
    assert done.returncode == 0, done.stderr
    record = json.loads(next(records.glob(f"{NETWORK}-*.json")).read_text())
    assert record["upgradeable"] and record["governance"]["approvers"] == APPROVERS

    fee = {"action": "fee to 30 bps", "calls": [FEE_30]}
    approve = ops_file(tmp_path, "approve", [{"approve_action": {**fee, "approvers": ["regulator", "deputy"]}}])
    execute = ops_file(tmp_path, "execute", [{"execute_action": {**fee, "by": "keeper"}}])
    early = cli(records, "ops", execute, **GOVERNED)
    assert early.returncode != 0 and "is not scheduled: it needs 2 approvals" in early.stderr
    assert "Traceback" not in early.stderr
    assert cli(records, "ops", approve, **GOVERNED).returncode == 0
    waiting = cli(records, "ops", execute, **GOVERNED)
    assert waiting.returncode != 0 and "(the timelock's delay), not before" in waiting.stderr
    assert market_fee(node, record) == 20
    later(node, HOUR)
    ran = cli(records, "ops", execute, "--journal", str(tmp_path / "execute.json"), **GOVERNED)
    assert ran.returncode == 0, ran.stderr
    assert market_fee(node, record) == 30

    market = record["contracts"]["market"]["address"]
    before = code_of(node, market)
    printed = cli(records, "upgrade", "market", **GOVERNED)
    assert printed.returncode == 0, printed.stderr
    step = json.loads(printed.stdout[printed.stdout.index("\n[") + 1:])[0]["approve_action"]
    code = step["calls"][0]["code"]
    assert step["calls"] == [{"upgrade": "market", "code": code}] and code.lower() != before
    assert code_of(node, market) == before  # nothing changes until the council has approved and the delay passed
    action = {"action": step["action"], "calls": step["calls"]}
    upgrade = ops_file(tmp_path, "upgrade", [{"approve_action": {**action, "approvers": ["deputy", "keeper"]}}])
    assert cli(records, "ops", upgrade, **GOVERNED).returncode == 0
    later(node, HOUR)
    run = ops_file(tmp_path, "run-upgrade", [{"execute_action": {**action, "by": "regulator"}}])
    assert cli(records, "ops", run, **GOVERNED).returncode == 0
    assert code_of(node, market) == code.lower()
    assert market_fee(node, record) == 30  # the state stayed
