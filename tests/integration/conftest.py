"""The live-network path: a second anvil with its own chain id (31338, `local-live` in network-config.yaml),
reached as brownie reaches a testnet (keys from the environment, every transaction waited for), and the project's
scripts run against it as an operator runs them."""

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
#: anvil's test keys 2, 3 and 4 (public), for the participants of the live operations file
PARTICIPANT_KEYS = ("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
                    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
                    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a")


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


def cli(records: Path, command: str, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``carbon-market <command> <args> --network local-live`` with deployment records kept in ``records``, run
    from ``cwd`` (default: here); the keys and switches the project reads come only from ``env``."""
    program = Path(sys.executable).parent / "carbon-market"
    environment = {**os.environ, "CARBON_MARKET_DEPLOYMENTS": str(records), **env}
    for name in ("DEPLOYER_PRIVATE_KEY", "REGULATOR_PRIVATE_KEY", "REDEPLOY", "JOURNAL", "CARBON_MARKET_CRASH_AFTER"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([str(program), command, *args, "--network", "local-live"],
                          capture_output=True, text=True, env=environment, timeout=600, cwd=cwd)


