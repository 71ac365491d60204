"""`scripts/deploy.py` on a live network: a second anvil with its own chain id (31338, `local-live` in
network-config.yaml), reached as brownie reaches a testnet: keys from the environment, signed locally, every
transaction waited for. The record is written, reused on a second run, replaced with REDEPLOY=1; a missing key is
one clear line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.conftest import CHAIN_ID, REGULATOR_KEY, TEST_KEY, brownie_run

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
