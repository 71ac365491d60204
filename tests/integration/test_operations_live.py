"""The command line on a live network (`local-live`, on each node implementation): `carbon-market ops`, `trace` and
`audit` as an operator runs them, with keys from the environment. A malformed file and a step the
chain would refuse are one clear line and a non-zero exit with nothing sent; a dry run sends nothing; a run killed
after a transaction reached the chain is continued by the next run without repeating it."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from eth_account import Account

from tests.integration.conftest import PARTICIPANT_KEYS, PORT, REGULATOR_KEY, TEST_KEY, cli

KEYS = {"DEPLOYER_PRIVATE_KEY": TEST_KEY, "REGULATOR_PRIVATE_KEY": REGULATOR_KEY, "OPS_REGULATOR_KEY": REGULATOR_KEY,
        "OPS_VERIFIER_KEY": PARTICIPANT_KEYS[0], "OPS_ALPHA_KEY": PARTICIPANT_KEYS[1],
        "OPS_BETA_KEY": PARTICIPANT_KEYS[2]}
ALPHA = Account.from_key(PARTICIPANT_KEYS[1]).address

YEAR_FILE = """
accounts:
  regulator: {key: OPS_REGULATOR_KEY}
  verifier: {key: OPS_VERIFIER_KEY}
  alpha: {key: OPS_ALPHA_KEY}
  beta: {key: OPS_BETA_KEY}
steps:
  - onboard:
      participants: [{account: verifier, roles: verifier, region: 110000},
                     {account: alpha, roles: enterprise, region: 110000, sector: 4411},
                     {account: beta, roles: enterprise, region: 310000, sector: 3011}]
  - open_year: {year: 2026, rules: {early_deadline: +60d, deadline: +90d, fine_per_tonne: 100},
                benchmarks: {4411: 0.8, 3011: 0.85}}
  - allocate: {year: 2026, enterprises: [{enterprise: alpha, baseline_output: 10000},
                                         {enterprise: beta, baseline_output: 5000}]}
  - report: {year: 2026, reports: [{enterprise: alpha, emissions: 7900, output: 10100},
                                   {enterprise: beta, emissions: 4200, output: 5050}]}
  - attest: {year: 2026, verifier: verifier, enterprises: [alpha, beta]}
  - true_up: {year: 2026, enterprises: [alpha, beta]}
"""


def rpc(method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.load(r)["result"]


def paid_for(done: list[dict], printed: str) -> None:
    """Every transaction is EIP-1559 (type 2), priced from the node: its ceiling covers its block's base fee (not
    zero); what the run paid is printed in the chain's currency."""
    for entry in done:
        tx = rpc("eth_getTransactionByHash", [entry["tx"]])
        block = rpc("eth_getBlockByNumber", [tx["blockNumber"], False])
        receipt = rpc("eth_getTransactionReceipt", [entry["tx"]])
        base = int(block["baseFeePerGas"], 16)
        assert tx["type"] == "0x2" and int(tx["maxFeePerGas"], 16) >= base > 0
        assert int(receipt["effectiveGasPrice"], 16) == base + min(int(tx["maxPriorityFeePerGas"], 16),
                                                                   int(tx["maxFeePerGas"], 16) - base)
    fee = re.search(r"sent 2 transactions, [\d,]+ gas, fees (\d+\.\d+) in the chain's currency", printed)
    assert fee and float(fee.group(1)) > 0, printed


def sent_by(address: str) -> int:
    return int(rpc("eth_getTransactionCount", [address, "latest"]), 16)


@pytest.fixture(scope="module")
def folder(live_chain, tmp_path_factory):
    return tmp_path_factory.mktemp(f"live-ops-{live_chain.kind}")


def ops(folder: Path, name: str, *options: str, **env: str):
    return cli(folder / "deployments", "ops", str(folder / name), *options,
                       CARBON_MARKET_JOURNALS=str(folder / "journals"), **KEYS, **env)


def test_the_command_line_on_a_live_network(live_chain, folder):
    deployed = cli(folder / "deployments", "deploy", UPGRADEABLE="0", **KEYS)  # proxies: test_deploy_live.py
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    (folder / "year.yaml").write_text(YEAR_FILE)
    (folder / "broken.yaml").write_text(YEAR_FILE.replace("verifier: verifier, enterprises", "verifier: auditor, "
                                                                                             "enterprises"))
    regulator = Account.from_key(REGULATOR_KEY).address
    before = sent_by(regulator)

    broken = ops(folder, "broken.yaml")
    assert broken.returncode == 2
    assert broken.stderr.strip().splitlines()[-1] == (
        f"ops: {folder / 'broken.yaml'}: line 18 (attest): verifier: unknown account 'auditor' (not under accounts:)")

    dry = ops(folder, "year.yaml", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "dry run on a fork of local-live at block" in dry.stdout and "would send 7 transactions" in dry.stdout
    assert sent_by(regulator) == before and not (folder / "journals").exists()

    crashed = ops(folder, "year.yaml", CARBON_MARKET_CRASH_AFTER="5")
    assert crashed.returncode != 0 and "injected crash after transaction 5" in crashed.stdout + crashed.stderr
    assert sent_by(regulator) == before + 3  # onboard, open, allocate; then the two reports

    misconfigured = ops(folder, "year.yaml", CONFIRMATIONS="none")
    assert misconfigured.returncode == 2
    assert misconfigured.stderr.strip() == "ops: CONFIRMATIONS must be a whole number of 1 or more, not 'none'"

    resumed = ops(folder, "year.yaml", CONFIRMATIONS="3")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "local-live: 6 steps, sent 2 transactions" in resumed.stdout
    assert "step 4 (report, line 16)" in resumed.stdout and "(2 found in the journal)" in resumed.stdout
    done = [json.loads(line) for journal in (folder / "journals").glob("*.jsonl")
            for line in journal.read_text().splitlines() if '"done"' in line]
    assert int(rpc("eth_blockNumber", []), 16) >= max(e["block"] for e in done) + 2  # three blocks deep
    paid_for(done, resumed.stdout)
    again = ops(folder, "year.yaml")
    assert "sent 0 transactions" in again.stdout and again.stdout.count("done by an earlier run") == 6
    assert sent_by(regulator) == before + 4  # onboard, open, allocate, true-up: once each

    (folder / "attest-again.yaml").write_text(YEAR_FILE.split("  - onboard:")[0] + (
        "  - attest: {year: 2026, verifier: verifier, enterprises: [alpha]}\n"))
    refused = ops(folder, "attest-again.yaml")
    assert refused.returncode == 1
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("ops: step 1 (attest, line 8): attest alpha: Compliance__")
    assert line.endswith("(found on a fork of local-live: nothing was sent)")

    traced = cli(folder / "deployments", "trace", "report", f"2026:{ALPHA}")
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "Compliance.ReportAttested(" in traced.stdout and "Compliance.TrueUp(" in traced.stdout
    assert f"report 2026 of {ALPHA}: state finalized, versions 1, rejections 0, allocated 8,080" in traced.stdout

    audited = cli(folder / "deployments", "audit", "--block", "latest", "--out", str(folder / "audit"))
    assert audited.returncode == 0, audited.stdout + audited.stderr
    report = json.loads((folder / "audit" / "audit.json").read_text())
    assert [(c["enterprise"], c["state"], c["verifiedEmissions"]) for c in report["compliance"]] == [
        (ALPHA, "finalized", 7_900), (Account.from_key(PARTICIPANT_KEYS[2]).address, "finalized", 4_200)]
    assert {r["sector"]: r["verifiedEmissions"] for r in report["by_sector"] if r["verifiedEmissions"]} == {
        3011: 4_200, 4411: 7_900}

    wrong = cli(folder / "deployments", "trace", "report", "2026:alpha")
    assert wrong.returncode == 2 and "trace: 'alpha' is not an address" in wrong.stderr

    # surveillance of the same deployment: the reports, then each bad input one line and nothing written
    surveyed = cli(folder / "deployments", "surveil", "--out", str(folder / "surveillance"))
    assert surveyed.returncode == 0, surveyed.stdout + surveyed.stderr
    assert "alerts (" in surveyed.stdout and (folder / "surveillance" / "report.html").is_file()
    beyond = cli(folder / "deployments", "surveil", "--to-block", "99999999", "--out", str(folder / "beyond"))
    assert beyond.returncode == 2 and "surveil: block 99999999 is beyond the chain's latest block" in beyond.stderr
    (folder / "policy.yaml").write_text("wash: {min_lots: many}\n")
    policy = cli(folder / "deployments", "surveil", "--policy", str(folder / "policy.yaml"), "--out",
                 str(folder / "bad"))
    assert policy.returncode == 2 and "line 1 (wash): min_lots: expected a whole number" in policy.stderr
    assert not (folder / "beyond").exists() and not (folder / "bad").exists()
    latest = int(rpc("eth_blockNumber", []), 16)
    watched = cli(folder / "deployments", "watch", "--until-block", str(latest - 1), "--poll", "0.2",
                  "--checkpoint", str(folder / "watch.json"), "--out", str(folder / "watch.jsonl"))
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert json.loads((folder / "watch.json").read_text())["last_block"] >= latest - 1
    again = cli(folder / "deployments", "watch", "--until-block", str(latest - 1), "--poll", "0.2",
                "--checkpoint", str(folder / "watch.json"), "--out", str(folder / "watch.jsonl"))
    assert again.returncode == 0 and not [line for line in again.stdout.splitlines()
                                          if line.startswith("block ")]  # nothing given twice

    (folder / "clock.yaml").write_text(YEAR_FILE.split("  - onboard:")[0] + "  - advance_time: {to: deadline 2026}\n")
    clock = ops(folder, "clock.yaml")
    assert clock.returncode == 2
    assert ("ops: step 1 (advance_time, line 8): local-live is a live network and its clock cannot be moved"
            in clock.stderr)
