"""`carbon-market deploy` on a live network (`local-live` in network-config.yaml, chain id 31338, on each node
implementation), reached as brownie reaches a testnet: keys from the environment, signed locally (the endpoint
refuses the signing methods), every transaction waited for. The record is written, reused on a second run,
replaced with REDEPLOY=1; a missing key is one clear line and a non-zero exit."""

from __future__ import annotations

import json
import os
import shutil
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

    fresh = deploy(records, REDEPLOY="1", **keys)
    assert fresh.returncode == 0 and "deployed the suite" in fresh.stdout
    replaced = json.loads((records / "local-live-31338.json").read_text())
    assert replaced["contracts"]["market"]["address"] != record["contracts"]["market"]["address"]


def test_trace_without_a_record_is_one_clear_line(live_chain, records):
    out = cli(records, "trace", "order", "1")
    assert out.returncode != 0
    assert "trace: no deployment record for local-live (chain id 31338)" in out.stderr


def test_missing_key_is_one_clear_line(live_chain, records):
    out = deploy(records)
    assert out.returncode != 0
    assert "deploy: no deployer: set DEPLOYER_PRIVATE_KEY" in out.stderr
    assert not records.exists()


COMMANDS = ("demo", "scenarios", "story", "deploy", "ops", "trace", "audit", "bench")


def test_the_command_line_works_in_a_folder_whose_path_has_a_dot_and_a_space(live_chain, records, tmp_path):
    """`brownie run` imported a script by its path turned into a module name, so every `make demo`, `deploy`, `ops`,
    `trace`, `audit` and `bench` failed in a clone at a path with a dot (`/home/jane.doe/...`). `carbon-market`
    loads the project by its path: here from a copy of it at `x.y z/carbon`, with an empty home folder."""
    root = Path(__file__).resolve().parents[2]
    clone = tmp_path / "x.y z" / "carbon"
    clone.mkdir(parents=True)
    for name in ("contracts", "interfaces", "build"):
        shutil.copytree(root / name, clone / name)
    shutil.copy(root / "brownie-config.yaml", clone / "brownie-config.yaml")
    (clone / "node_modules").symlink_to(root / "node_modules")
    brownie_home = clone / ".toolchain" / "brownie-home" / ".brownie"
    brownie_home.mkdir(parents=True)
    shutil.copy(root / "network-config.yaml", brownie_home / "network-config.yaml")
    home = tmp_path / "empty home"
    program = Path(sys.executable).parent / "carbon-market"
    for command in ("", *COMMANDS):
        helped = subprocess.run([str(program), *([command] if command else []), "--help"], capture_output=True,
                                text=True, cwd=clone, env={**os.environ, "HOME": str(home)}, timeout=60)
        assert helped.returncode == 0 and helped.stdout.startswith("usage: carbon-market"), helped.stderr
    keys = {"DEPLOYER_PRIVATE_KEY": TEST_KEY, "REGULATOR_PRIVATE_KEY": REGULATOR_KEY, "HOME": str(home)}
    deployed = cli(records, "deploy", cwd=clone, **keys)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deployed the suite on local-live (chain id 31338)" in deployed.stdout
    record = json.loads((records / "local-live-31338.json").read_text())
    traced = cli(records, "trace", "account", record["regulator"], cwd=clone, HOME=str(home))
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "ParticipantRegistry.ParticipantOnboarded(account=" + record["regulator"] in traced.stdout
    assert not home.exists()  # nothing was written to the user's home folder


def test_an_unknown_network_is_one_clear_line(records):
    import subprocess
    import sys
    from pathlib import Path

    program = Path(sys.executable).parent / "carbon-market"
    for command in ("surveil", "watch", "trace"):
        args = [command, "account", "0x" + "11" * 20] if command == "trace" else [command]
        out = subprocess.run([str(program), *args, "--network", "nowhere"], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and out.stderr.strip() == (
            "carbon-market: unknown network nowhere: see network-config.yaml"), out.stderr
