"""The nodes the live-network tests run against, started and stopped by the tests, with a testnet-like profile.

Two implementations that share no engine code: **anvil** (foundry, Rust, revm) and **Hardhat's node** (EDR,
Nomic Foundation's Rust engine; `toolchain/hardhat.config.js`), both from the npm lockfile. Each is started with
the same profile: a block every second whatever arrives (no mining on arrival), EIP-1559 fees from a base fee of
1 gwei that moves with every block, chain id 31338. The harness never talks to the node directly: it goes through
:class:`tests.integration.rpc_proxy.Proxy` on the port of `local-live` (8546), which refuses the signing methods,
so every transaction is signed with a key (and which injects the RPC faults of the fault tests).

Anvil keeps its state in a file (``--state``: loaded at start, written at exit), so it can be restarted in the
middle of a run and carry on where it was; Hardhat's node keeps state only in memory (a restart is a new chain), so
the restart test runs on anvil alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODES = ("anvil", "hardhat")
#: the node's own port; the proxy listens on `local-live`'s (8546)
NODE_PORT = 8556
BLOCK_SECONDS = 1


def rpc(url: str, method: str, params: list | None = None, timeout: float = 2) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return json.load(r)["result"]


@dataclass
class LocalNode:
    """One node of ``kind`` on ``port`` (state kept in ``folder`` where the node can keep it)."""

    kind: str
    chain_id: int
    folder: Path
    port: int = NODE_PORT
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "anvil":
            return [_tool("anvil"), "--port", str(self.port), "--chain-id", str(self.chain_id),
                    "--block-time", str(BLOCK_SECONDS), "--state", str(self.folder / "anvil-state.json"),
                    "--silent"]
        return [_tool("hardhat"), "node", "--config", str(ROOT / "toolchain" / "hardhat.config.js"),
                "--hostname", "127.0.0.1", "--port", str(self.port)]

    def start(self) -> LocalNode:
        environment = {**os.environ, "CARBON_MARKET_CHAIN_ID": str(self.chain_id),
                       "CARBON_MARKET_BLOCK_MS": str(BLOCK_SECONDS * 1000),
                       "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "DO_NOT_TRACK": "1"}
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / f"{self.kind}.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=environment,
                                        cwd=ROOT)  # Hardhat runs only from inside the project
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} stopped at start: {(self.folder / f'{self.kind}.log').read_text()}")
            try:
                if int(str(rpc(self.url, "eth_chainId")), 16) == self.chain_id:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} did not answer on {self.url} within a minute")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # anvil writes its state file on the way out
            self.process.wait(timeout=30)
            self.process = None

    def restart(self, down: float = 1.0) -> None:
        """Stop the node, leave it down ``down`` seconds, start it again (anvil: on the state it wrote)."""
        self.stop()
        time.sleep(down)
        self.start()


def _tool(name: str) -> str:
    found = shutil.which(name) or str(ROOT / "node_modules" / ".bin" / name)
    if not Path(found).exists():
        raise RuntimeError(f"{name} is not installed: make installs it from the npm lockfile")
    return found
