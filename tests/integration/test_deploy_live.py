"""`scripts/deploy.py` on a live network: a second anvil with its own chain id (31338, `local-live` in
network-config.yaml), reached as brownie reaches a testnet: keys from the environment, signed locally, every
transaction waited for. The record is written, reused on a second run, replaced with REDEPLOY=1; a missing key is
one clear line and a non-zero exit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PORT, CHAIN_ID = 8546, 31338
#: the first key of anvil's public test mnemonic; passed through the environment only
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
REGULATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def _rpc_ready(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}),
                                    timeout=1) as r:
            return int(json.load(r)["result"], 16) == CHAIN_ID
    except OSError:
        return False


@pytest.fixture(scope="module")
def live_chain():
    anvil = shutil.which("anvil")
    assert anvil, "anvil from node_modules/.bin is on PATH under make"
    proc = subprocess.Popen([anvil, "--port", str(PORT), "--chain-id", str(CHAIN_ID), "--block-time", "1",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if _rpc_ready(f"http://127.0.0.1:{PORT}"):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second anvil did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def records(tmp_path):
    return tmp_path / "deployments"


def brownie_run(records: Path, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    brownie = Path(sys.executable).parent / "brownie"
    environment = {**os.environ, "CARBON_MARKET_DEPLOYMENTS": str(records), **env}
    for name in ("DEPLOYER_PRIVATE_KEY", "REGULATOR_PRIVATE_KEY", "REDEPLOY"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([str(brownie), "run", script, *args, "--network", "local-live"],
                          capture_output=True, text=True, env=environment, timeout=600)


def deploy(records: Path, **env: str) -> subprocess.CompletedProcess:
    return brownie_run(records, "scripts/deploy.py", **env)


def test_deploy_records_reuses_and_redeploys(live_chain, records):
    keys = {"DEPLOYER_PRIVATE_KEY": TEST_KEY, "REGULATOR_PRIVATE_KEY": REGULATOR_KEY}
    first = deploy(records, **keys)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "deployed the suite on local-live (chain id 31338)" in first.stdout
    record = json.loads((records / "local-live-31338.json").read_text())
    assert record["chain_id"] == CHAIN_ID and record["compiler"]["evm_version"] == "cancun"
    assert record["regulator"] != record["deployer"]
    assert set(record["contracts"]) >= {"registry", "market", "desk", "OrderBook"}
    assert all(e["tx"].startswith("0x") and e["block"] > 0 for e in record["contracts"].values())

    again = deploy(records, **keys)
    assert again.returncode == 0 and "reusing the suite" in again.stdout
    assert json.loads((records / "local-live-31338.json").read_text()) == record

    traced = brownie_run(records, "scripts/trace.py", "main", "account", record["regulator"])
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "ParticipantRegistry.ParticipantOnboarded(account=" + record["regulator"] in traced.stdout
    assert "SettlementToken.RoleGranted(" in traced.stdout  # made the money issuer

    fresh = deploy(records, REDEPLOY="1", **keys)
    assert fresh.returncode == 0 and "deployed the suite" in fresh.stdout
    replaced = json.loads((records / "local-live-31338.json").read_text())
    assert replaced["contracts"]["market"]["address"] != record["contracts"]["market"]["address"]


def test_trace_without_a_record_is_one_clear_line(live_chain, records):
    out = brownie_run(records, "scripts/trace.py", "main", "order", "1")
    assert out.returncode != 0
    assert "trace: no deployment record for local-live (chain id 31338)" in out.stderr


def test_missing_key_is_one_clear_line(live_chain, records):
    out = deploy(records)
    assert out.returncode != 0
    assert "deploy: no deployer: set DEPLOYER_PRIVATE_KEY" in out.stderr
    assert not records.exists()
