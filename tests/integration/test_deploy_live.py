"""`carbon-market deploy` on a live network (`local-live` in network-config.yaml, chain id 31338, on each node
implementation), reached as brownie reaches a testnet: keys from the environment, signed locally (the endpoint
refuses the signing methods), every transaction waited for. The record is written, reused on a second run,
replaced with REDEPLOY=1; a missing key is one clear line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from tests.integration.conftest import CHAIN_ID, PORT, REGULATOR_KEY, TEST_KEY, cli
from tests.integration.nodes import rpc

URL = f"http://127.0.0.1:{PORT}"

def deploy(records: Path, **env: str) -> subprocess.CompletedProcess:
    return cli(records, "deploy", **env)


def test_deploy_records_reuses_and_redeploys(live_chain, records):
    keys = {"DEPLOYER_PRIVATE_KEY": TEST_KEY, "REGULATOR_PRIVATE_KEY": REGULATOR_KEY}
    first = deploy(records, **keys)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "deployed the suite on local-live (chain id 31338)" in first.stdout
    record = json.loads((records / "local-live-31338.json").read_text())
    assert record["chain_id"] == CHAIN_ID and record["compiler"]["evm_version"] == "cancun"
    assert record["regulator"] != record["deployer"]
    assert set(record["contracts"]) >= {"registry", "market", "desk", "OrderBook"}
    # behind proxies, the default on a live network: each part's proxy, its code and its ProxyAdmin recorded
    assert record["upgradeable"] and all(
        record["contracts"][part].keys() >= {"implementation", "implementation_gas", "proxy_admin"}
        for part in ("registry", "market", "desk"))
    assert "(the parts' proxies and their code)" in first.stdout
    assert all(e["tx"].startswith("0x") and e["block"] > 0 for e in record["contracts"].values())
    # priced as on a testnet: EIP-1559 transactions, a base fee that moves from block to block, fees paid
    blocks = sorted({e["block"] for e in record["contracts"].values()})
    bases = {int(rpc(URL, "eth_getBlockByNumber", [hex(b), False])["baseFeePerGas"], 16) for b in blocks}
    assert len(bases) > 1 and min(bases) > 0
    assert {rpc(URL, "eth_getTransactionByHash", [e["tx"]])["type"] for e in record["contracts"].values()} == {"0x2"}
    assert record["fees"] > 0 and f"the deployment paid fees {Decimal(record['fees']).scaleb(-18):f}" in first.stdout

    again = deploy(records, **keys)
    assert again.returncode == 0 and "reusing the suite" in again.stdout
    assert json.loads((records / "local-live-31338.json").read_text()) == record

    traced = cli(records, "trace", "account", record["regulator"])
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "ParticipantRegistry.ParticipantOnboarded(account=" + record["regulator"] in traced.stdout
    assert "SettlementToken.RoleGranted(" in traced.stdout  # made the money issuer

    assert live_chain.proxy.refused == []  # nothing asked the node to sign

    fresh = deploy(records, REDEPLOY="1", UPGRADEABLE="0", **keys)  # and the contracts themselves, code final
    assert fresh.returncode == 0 and "deployed the suite" in fresh.stdout
    replaced = json.loads((records / "local-live-31338.json").read_text())
    assert replaced["contracts"]["market"]["address"] != record["contracts"]["market"]["address"]
    assert not replaced["upgradeable"] and "implementation" not in replaced["contracts"]["market"]


def test_trace_without_a_record_is_one_clear_line(live_chain, records):
    out = cli(records, "trace", "order", "1")
    assert out.returncode != 0
    assert "trace: no deployment record for local-live (chain id 31338)" in out.stderr


def test_missing_key_is_one_clear_line(live_chain, records):
    out = deploy(records)
    assert out.returncode != 0
    assert "deploy: no deployer: set DEPLOYER_PRIVATE_KEY" in out.stderr
    assert not records.exists()


def test_a_deployer_without_funds_is_one_clear_line(live_chain, records):
    """A refused transaction (here: no currency for the fees) was a traceback reported as a defect of the harness."""
    out = deploy(records, DEPLOYER_PRIVATE_KEY="0x" + "77" * 32)
    assert out.returncode == 2, out.stdout + out.stderr
    line = out.stderr.strip()
    assert line.startswith("deploy: the node refused a deployment transaction: ") and "\n" not in line, line
    assert line.endswith("; nothing was recorded: fix that and deploy again")
    assert not (records / "local-live-31338.json").exists()


def test_an_unknown_network_is_one_clear_line(records):
    import subprocess
    from pathlib import Path

    program = Path(sys.executable).parent / "carbon-market"
    for command in ("surveil", "watch", "trace"):
        args = [command, "account", "0x" + "11" * 20] if command == "trace" else [command]
        out = subprocess.run([str(program), *args, "--network", "nowhere"], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and out.stderr.strip() == (
            "carbon-market: unknown network nowhere: see network-config.yaml"), out.stderr
