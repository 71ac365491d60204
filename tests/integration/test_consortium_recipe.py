"""The README's consortium recipe, checked against the node run in Besu's place (Besu cannot be installed from the
registries these machines reach: see the README). The recipe's chain: no fees (a zero base fee, validators taking a
gas price of 0), a block a second, the contract size limit of 24,576 bytes, chain id 1337, reached at
`BESU_RPC_URL` as the network `besu-qbft` with keys only. Here that is anvil with those settings behind the
keys-only proxy, and signers that hold no currency at all: the deployment and a year's operations file go through,
every transaction at a gas price of 0 (`gas_price: 0` in the network's entry), and nothing is paid."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_utils import keccak

from tests.integration.conftest import PORT, cli
from tests.integration.nodes import LocalNode, rpc
from tests.integration.rpc_proxy import Proxy
from tests.integration.test_operations_live import YEAR_FILE

CHAIN_ID = 1337
#: signers with no currency: the deployer, the regulator and the year's participants
KEYS = {name: "0x" + keccak(text=f"consortium-{name}").hex().removeprefix("0x")
        for name in ("DEPLOYER_PRIVATE_KEY", "REGULATOR_PRIVATE_KEY", "OPS_VERIFIER_KEY", "OPS_ALPHA_KEY",
                     "OPS_BETA_KEY")}
KEYS["OPS_REGULATOR_KEY"] = KEYS["REGULATOR_PRIVATE_KEY"]


class ZeroFeeChain(LocalNode):
    """Anvil as the recipe's chain: no base fee, a block a second, the 24,576-byte contract limit."""

    def command(self) -> list[str]:
        return [*super().command()[:5], "--block-time", "1", "--block-base-fee-per-gas", "0",
                "--code-size-limit", "24576", "--silent"]


@pytest.fixture(scope="module")
def consortium(tmp_path_factory):
    node = ZeroFeeChain("anvil", CHAIN_ID, tmp_path_factory.mktemp("consortium")).start()
    proxy = Proxy(PORT, f"127.0.0.1:{node.port}").start()
    try:
        yield node
    finally:
        proxy.stop()
        node.stop()


def test_the_consortium_recipe_deploys_and_runs_a_year_without_fees(consortium, tmp_path):
    signers = {name: Account.from_key(key).address for name, key in KEYS.items()}
    assert {int(str(rpc(consortium.url, "eth_getBalance", [a, "latest"])), 16) for a in signers.values()} == {0}
    env = {**KEYS, "BESU_RPC_URL": f"http://127.0.0.1:{PORT}", "CARBON_MARKET_JOURNALS": str(tmp_path / "journals")}

    deployed = cli(tmp_path / "deployments", "deploy", network="besu-qbft", **env)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deployed the suite on besu-qbft (chain id 1337)" in deployed.stdout
    record = json.loads((tmp_path / "deployments" / "besu-qbft-1337.json").read_text())
    assert record["fees"] == 0

    (tmp_path / "year.yaml").write_text(YEAR_FILE)
    operated = cli(tmp_path / "deployments", "ops", str(tmp_path / "year.yaml"), network="besu-qbft", **env)
    assert operated.returncode == 0, operated.stdout + operated.stderr
    assert "besu-qbft: 6 steps, sent 7 transactions" in operated.stdout

    sent = [record["contracts"]["market"]["tx"]] + [
        json.loads(line)["tx"] for journal in (tmp_path / "journals").glob("*.jsonl")
        for line in journal.read_text().splitlines() if '"done"' in line]
    assert len(sent) == 8
    assert {int(str(rpc(consortium.url, "eth_getTransactionByHash", [h])["gasPrice"]), 16) for h in sent} == {0}
    assert {int(str(rpc(consortium.url, "eth_getBalance", [a, "latest"])), 16) for a in signers.values()} == {0}
