"""RPC faults between the command line and the chain: the fault kinds of the proxy (tests/integration/rpc_proxy.py)
injected as an operator runs the commands: `deploy` through all six at once, the operations file (`ops`, checked on
a fork then sent with its journal) and the watcher through each kind in turn, a node restarted in the middle of
an operations file, and a chain that lost the last blocks of one.

Each command either completes or stops with one line (no traceback) and completes when run again; then the chain
is counted: every signer's transactions (its nonce) against what a run without faults sends. The figure of the
fault matrix: runs x fault kinds, actions duplicated (goal 0), actions lost (goal 0).

The node here mines each transaction on arrival (anvil, its state in a file so that it can be restarted): what is
under test is the connection, and a block a second would make the matrix a quarter of an hour long. The block a
second is the profile of the live-network tests (test_deploy_live.py, test_operations_live.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from tests.integration.conftest import CHAIN_ID
from tests.integration.conftest import cli as live_cli
from tests.integration.nodes import LocalNode, rpc
from tests.integration.rpc_proxy import KINDS, Fault, Proxy
from tests.integration.test_operations_live import KEYS, YEAR_FILE

#: a live network of its own (network-config.yaml), so that this module runs beside the other live-network tests
NETWORK, PORT, NODE_PORT = "local-faults", 8566, 8576
#: every 8th request faulted (a rate limit, which asks for a second's pause, every 16th); a delay is 0.3 s
EVERY, DELAY = {"rate_limit": 16}, 0.3
#: the deployment's two signers
DEPLOYERS = {name: Account.from_key(KEYS[name]).address for name in ("DEPLOYER_PRIVATE_KEY", "REGULATOR_PRIVATE_KEY")}
ROLES = ("VERIFIER", "ALPHA", "BETA")


class OnArrival(LocalNode):
    """Anvil mining on arrival, its state kept in a file across restarts."""

    def command(self) -> list[str]:
        return [*super().command()[:5], "--state", str(self.folder / "anvil-state.json"), "--silent"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = OnArrival("anvil", CHAIN_ID, tmp_path_factory.mktemp("faults"), port=NODE_PORT).start()
    proxy = Proxy(PORT, f"127.0.0.1:{node.port}").start()
    try:
        yield node, proxy
    finally:
        proxy.stop()
        node.stop()


def sent(node: LocalNode, signers: dict[str, str]) -> dict[str, int]:
    """Each signer's transactions so far (its nonce), asked of the node itself (not through the faults)."""
    return {name: int(str(rpc(node.url, "eth_getTransactionCount", [address, "latest"])), 16)
            for name, address in signers.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before}


def cli(records: Path, command: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return live_cli(records, command, *args, network=NETWORK, **env)


def until_done(run, tries: int = 3) -> tuple[subprocess.CompletedProcess, int]:
    """Run a command until it completes; each stop must be one clear line. Returns the last run and its number."""
    for attempt in range(1, tries + 1):
        out = run()
        if out.returncode == 0:
            return out, attempt
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in out.stderr and "defect" not in out.stderr, out.stderr
    raise AssertionError(f"did not complete in {tries} runs: {out.stderr}")


@dataclass
class Year:
    """The year's operations file for ``year``, with participants of its own (new keys, funded on the node), so
    that each test runs it on the one deployment."""

    folder: Path
    year: int
    keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = {"OPS_REGULATOR_KEY": KEYS["REGULATOR_PRIVATE_KEY"]}
        self.keys |= {f"OPS_{role}_KEY": "0x" + keccak(text=f"{self.year}-{role}").hex().removeprefix("0x")
                      for role in ROLES}
        (self.folder / "year.yaml").write_text(YEAR_FILE.replace("2026", str(self.year)))

    @property
    def signers(self) -> dict[str, str]:
        return {name: Account.from_key(key).address for name, key in self.keys.items()}

    def fund(self, node: LocalNode) -> None:
        for role in ROLES:
            rpc(node.url, "anvil_setBalance", [self.signers[f"OPS_{role}_KEY"], hex(10**18)])

    def run(self, records: Path, *options: str) -> subprocess.CompletedProcess:
        return cli(records, "ops", str(self.folder / "year.yaml"), *options,
                   CARBON_MARKET_JOURNALS=str(self.folder / "j"), **{**KEYS, **self.keys})

    def done(self) -> list[dict]:
        return [e for e in journal_lines(self.folder / "j") if e.get("event") == "done"]


def journal_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for journal in folder.glob("*.jsonl") for line in journal.read_text().splitlines()]


@pytest.fixture(scope="module")
def deployment(chain, tmp_path_factory):
    """One deployment without faults (its records folder), what it sent per signer, and what the year's file
    sends per signer."""
    node, _ = chain
    folder = tmp_path_factory.mktemp("baseline")
    before = sent(node, DEPLOYERS)
    assert cli(folder / "deployments", "deploy", **KEYS).returncode == 0
    deployed = delta(before, sent(node, DEPLOYERS))
    year = Year(folder, 2026)
    year.fund(node)
    before = sent(node, year.signers)
    assert year.run(folder / "deployments").returncode == 0
    return folder / "deployments", deployed, delta(before, sent(node, year.signers))


def test_a_deployment_through_every_fault_at_once(chain, deployment, tmp_path):
    """All six kinds on one schedule (each every few requests): the deployment completes, each of its
    transactions once."""
    node, proxy = chain
    _, deployed, _ = deployment
    proxy.inject(*(Fault(kind, every=every, delay=DELAY) for kind, every in zip(KINDS, (13, 17, 19, 37, 23, 29),
                                                                                 strict=True)))
    try:
        before = sent(node, DEPLOYERS)
        out, runs = until_done(lambda: cli(tmp_path / "deployments", "deploy", **KEYS))
    finally:
        injected = proxy.injected
        proxy.inject()
    assert f"deployed the suite on {NETWORK}" in out.stdout
    assert delta(before, sent(node, DEPLOYERS)) == deployed  # no transaction twice, none missing
    assert all(n > 0 for n in injected.values()), injected
    print(f"deploy through {injected}: {runs} run(s), 0 duplicated, 0 lost")


@pytest.mark.parametrize("kind", KINDS)
def test_every_action_once_through_a_fault(chain, deployment, tmp_path, kind):
    """The operations file (checked on a fork, then sent with its journal) and the watcher, through one kind."""
    node, proxy = chain
    records, _, operations = deployment
    year = Year(tmp_path, 2027 + KINDS.index(kind))
    year.fund(node)
    start = int(str(rpc(node.url, "eth_blockNumber")), 16)
    proxy.inject(Fault(kind, every=EVERY.get(kind, 8), delay=DELAY))
    try:
        before = sent(node, year.signers)
        operated, runs = until_done(lambda: year.run(records))
        after = sent(node, year.signers)
        latest = int(str(rpc(node.url, "eth_blockNumber")), 16) - 1  # one confirmation: no block comes after
        until_done(lambda: cli(records, "watch", "--from-block", str(start), "--until-block", str(latest),
                               "--poll", "0.1", "--checkpoint", str(tmp_path / "watch.json"),
                               "--out", str(tmp_path / "alerts.jsonl")))
    finally:
        injected = proxy.injected[kind]
        proxy.inject()
    assert injected > 10  # the fault was met, many times
    assert delta(before, after) == operations  # no transaction twice, none missing
    assert "6 steps" in operated.stdout
    done = year.done()
    assert len(done) == sum(operations.values())
    assert len({(e["step"], e["action"]) for e in done}) == len(done)  # the journal holds each action once
    assert json.loads((tmp_path / "watch.json").read_text())["last_block"] == latest
    alerts = (tmp_path / "alerts.jsonl").read_text().splitlines() if (tmp_path / "alerts.jsonl").exists() else []
    assert len(alerts) == len(set(alerts))
    print(f"fault {kind}: {injected} injected, ops in {runs} run(s), 0 duplicated, 0 lost")


def test_a_node_restarted_in_the_middle_of_a_run(chain, deployment, tmp_path):
    """The node stops for two seconds while the operations file is being sent and comes back on its saved state:
    the run carries on (or stops with one line and the next run finishes), and every action happens once."""
    node, _ = chain
    records, _, operations = deployment
    year = Year(tmp_path, 2035)
    year.fund(node)
    before = sent(node, year.signers)
    running = _running_until(records, year, mined=1)
    node.restart(down=2.0)
    _, err = running.communicate(timeout=300)
    carried_on = running.returncode == 0
    if not carried_on:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        until_done(lambda: year.run(records))
    assert delta(before, sent(node, year.signers)) == operations
    assert len(year.done()) == sum(operations.values())
    print(f"restart: {'the run carried on' if carried_on else 'the run stopped with one line, the next finished'}, "
          f"0 duplicated, 0 lost")


def test_a_chain_that_lost_the_last_blocks_of_a_run(chain, deployment, tmp_path):
    """After the operations file ran, the chain goes back to a block in its middle (a reorganisation deeper than
    the confirmations; a node restored from an older backup): the next run finds the journal's last transactions
    gone, says so, and sends them again; every action happens once on the chain that remains. (Anvil's own state
    file is no way to go back: a node loaded twice from one comes back with another genesis block, which makes it
    another chain with a journal of its own.)"""
    node, _ = chain
    records, _, operations = deployment
    year = Year(tmp_path, 2036)
    year.fund(node)
    before = sent(node, year.signers)
    running = _running_until(records, year, mined=3)
    saved = rpc(node.url, "evm_snapshot")
    _, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    assert rpc(node.url, "evm_revert", [saved]) is True
    kept = sum(delta(before, sent(node, year.signers)).values())
    assert kept < sum(operations.values())  # the chain lost the run's last transactions
    found = f"the chain no longer has {sum(operations.values()) - kept} of the journal's mined transactions"
    journal = journal_lines(year.folder / "j")
    dry = year.run(records, "--dry-run")
    assert dry.returncode == 0 and found in dry.stdout and "they would be sent again" in dry.stdout, dry.stderr
    assert journal_lines(year.folder / "j") == journal
    out, runs = until_done(lambda: year.run(records))
    assert found in out.stdout and "they were sent again" in out.stdout
    assert delta(before, sent(node, year.signers)) == operations
    print(f"the last blocks lost: {sum(operations.values()) - kept} transactions lost, sent again in "
          f"{runs} run(s), 0 duplicated")


def _running_until(records: Path, year: Year, *, mined: int) -> subprocess.Popen:
    """The year's file running in the background, once its journal has ``mined`` transactions mined."""
    running = _background(records, year)
    deadline = time.monotonic() + 120
    while len(_safe(year.done)) < mined:
        assert running.poll() is None and time.monotonic() < deadline, running.communicate()
        time.sleep(0.02)
    return running


def _background(records: Path, year: Year) -> subprocess.Popen:
    program = Path(sys.executable).parent / "carbon-market"
    environment = {**os.environ, "CARBON_MARKET_DEPLOYMENTS": str(records),
                   "CARBON_MARKET_JOURNALS": str(year.folder / "j"), **KEYS, **year.keys}
    return subprocess.Popen([str(program), "ops", str(year.folder / "year.yaml"), "--network", NETWORK],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def _safe(read) -> list:
    try:
        return read()
    except (OSError, ValueError):  # a line being written
        return []
