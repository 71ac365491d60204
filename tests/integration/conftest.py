"""The live-network path: `local-live` in network-config.yaml (chain id 31338, port 8546), served by each node
implementation in turn (anvil, Hardhat's node: :mod:`tests.integration.nodes`) with a testnet-like profile, reached
as brownie reaches a testnet (through a proxy that refuses the signing methods: keys from the environment, every
transaction waited for), and the project's commands run against it as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.nodes import NODES, LocalNode
from tests.integration.rpc_proxy import Proxy

PORT, CHAIN_ID = 8546, 31338
#: the first key of anvil's public test mnemonic; passed through the environment only
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
REGULATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#: anvil's test keys 2, 3 and 4 (public), for the participants of the live operations file
PARTICIPANT_KEYS = ("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
                    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
                    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a")


@dataclass
class LiveChain:
    """A node started for the tests and the proxy in front of it (what the harness reaches)."""

    node: LocalNode
    proxy: Proxy

    @property
    def kind(self) -> str:
        return self.node.kind


@pytest.fixture(scope="module", params=NODES)
def live_chain(request, tmp_path_factory):
    """`local-live` on each node implementation in turn (a module's tests run on anvil, then on Hardhat's node),
    reached through the keys-only proxy."""
    yield from _live(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def live_anvil(tmp_path_factory):
    """`local-live` on anvil alone, for tests of the command line rather than of the node."""
    yield from _live("anvil", tmp_path_factory)


def _live(kind: str, tmp_path_factory) -> Iterator[LiveChain]:
    node = LocalNode(kind, CHAIN_ID, tmp_path_factory.mktemp(kind)).start()
    proxy = Proxy(PORT, f"127.0.0.1:{node.port}").start()
    try:
        yield LiveChain(node, proxy)
    finally:
        proxy.stop()
        node.stop()


@pytest.fixture
def records(tmp_path):
    return tmp_path / "deployments"


def cli(records: Path, command: str, *args: str, cwd: Path | None = None, network: str = "local-live",
        **env: str) -> subprocess.CompletedProcess:
    """``carbon-market <command> <args> --network <network>`` (default `local-live`) with deployment records kept in
    ``records``, run from ``cwd`` (default: here); the keys and switches the project reads come only from ``env``."""
    program = Path(sys.executable).parent / "carbon-market"
    environment = {**os.environ, "CARBON_MARKET_DEPLOYMENTS": str(records), **env}
    for name in ("DEPLOYER_PRIVATE_KEY", "REGULATOR_PRIVATE_KEY", "REDEPLOY", "JOURNAL", "CARBON_MARKET_CRASH_AFTER",
                 "UPGRADEABLE", "GOVERNANCE_APPROVERS", "GOVERNANCE_THRESHOLD", "GOVERNANCE_DELAY"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([str(program), command, *args, "--network", network],
                          capture_output=True, text=True, env=environment, timeout=600, cwd=cwd)


