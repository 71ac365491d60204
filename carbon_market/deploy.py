"""Deploy the suite on whatever network brownie is connected to, with a record per chain.

Who signs: on a development chain, the node's first two unlocked accounts (admin, regulator). On a live network,
keys from the environment or a ``.env`` file in the project (``DEPLOYER_PRIVATE_KEY``, ``REGULATOR_PRIVATE_KEY``;
read with python-dotenv, brownie's own loader, without making the file compulsory for every brownie command) or
brownie accounts by name (``DEPLOYER_ACCOUNT``, ``REGULATOR_ACCOUNT``); a key always signs here, even where the node
holds the same address, and no unlocked account is assumed. Every transaction waits for its receipt (brownie's
``required_confs=1`` on live networks, EIP-1559 fees from the node: brownie's ``priority_fee: auto``) and the record
is written once the last is ``CONFIRMATIONS`` blocks deep. The record gives what the deployment cost in fees.

On a live network each part stands behind a proxy whose code the deployer (the owner of its ProxyAdmin) can
replace keeping its state (``carbon_market.upgrade``); on a development chain the parts are the contracts themselves,
whose code is final. ``UPGRADEABLE=1`` or ``0`` chooses either anywhere. With ``GOVERNANCE_APPROVERS`` (addresses),
the suite is then handed to a timelock (``GOVERNANCE_DELAY`` seconds, two days unless set) whose council is those
approvers, ``GOVERNANCE_THRESHOLD`` of them (2 unless set) to approve a governed action (``carbon_market.governance``);
the deployer keeps nothing.

The record (``deployments/<network>-<chain id>.json``) holds every address (for a proxied part, the proxy's, its
implementation's and its ProxyAdmin's), the deployment transactions and blocks, the compiler settings and the git
commit. Deploying again with a record reuses it (after checking that
code is still there) unless ``redeploy`` is asked for.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from carbon_market import settings
from carbon_market.failures import CarbonMarketError
from carbon_market.suite import LIBRARIES, PARTS, Suite, deploy_suite, project


class DeployError(CarbonMarketError):
    """A deployment cannot go ahead (missing key, stale record, wrong network)."""


@dataclass
class Record:
    network: str
    chain_id: int
    deployer: str
    regulator: str
    commit: str
    compiler: dict[str, Any]
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> address, tx, block, contract
    #: what the deployment cost its signers, in the chain currency's smallest unit (every transaction's fee)
    fees: int = 0
    #: each part behind a proxy whose code can be replaced
    upgradeable: bool = False
    #: the timelock and council the suite was handed to, with the approvers, threshold and delay (empty: none)
    governance: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return record_path(self.network, self.chain_id)


def record_path(network: str, chain_id: int) -> Path:
    return settings.current().deployments / f"{network}-{chain_id}.json"


def load(network: str, chain_id: int) -> Record | None:
    path = record_path(network, chain_id)
    if not path.exists():
        return None
    try:
        return Record(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise DeployError(f"{path} is not a deployment record ({exc}); "
                          "move it away or deploy again with REDEPLOY=1") from exc


def commit() -> str:
    """The git commit of the code being deployed (``-dirty`` if the work tree differs)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _compiler() -> dict[str, Any]:
    config = yaml.safe_load(Path("brownie-config.yaml").read_text())["compiler"]
    solc = config["solc"]
    return {"solc": solc["version"], "optimizer_runs": solc["optimizer"]["runs"],
            "evm_version": config["evm_version"]}


def signers(accounts: Any, development: bool) -> tuple[Any, Any]:
    """(deployer, regulator) for this network; see the module's documentation."""
    if development:
        return accounts[0], accounts[1]
    deployer = _signer(accounts, "DEPLOYER")
    if deployer is None:
        raise DeployError("no deployer: set DEPLOYER_PRIVATE_KEY (environment or .env) or DEPLOYER_ACCOUNT")
    return deployer, _signer(accounts, "REGULATOR") or deployer


def _signer(accounts: Any, who: str) -> Any:
    key, name = settings.secret(f"{who}_PRIVATE_KEY"), settings.secret(f"{who}_ACCOUNT")
    if key:
        return keyed(accounts, key)
    if name:
        return accounts.load(name)
    return None


def keyed(accounts: Any, key: str) -> Any:
    """A brownie account that signs with ``key`` here. ``accounts.add`` hands back the node's unlocked account
    when the node holds the same address (a development node's test mnemonic), which then sends with
    ``eth_sendTransaction``, a method public endpoints refuse: the key must sign, whatever the node holds."""
    from brownie.network.account import LocalAccount
    from eth_account import Account

    signer = Account.from_key(key)
    held = next((a for a in accounts if isinstance(a, LocalAccount) and a.address == signer.address), None)
    if held is None:
        held = LocalAccount(signer.address, signer, signer.key)
        accounts._accounts.append(held)
    return held


def attach(record: Record) -> Suite:
    """The suite of a record, after checking that each address still holds code."""
    from brownie import web3

    _without_brownie_artifacts()
    contracts = project()
    parts = {}
    for name in PARTS:
        entry = record.contracts.get(name)
        if entry is None:
            raise DeployError(f"{record.path}: the record has no {name} (deployed by an older version of the "
                              f"project); deploy again with REDEPLOY=1")
        if web3.eth.get_code(entry["address"]) in (b"", "0x"):
            raise DeployError(f"{record.path}: {name} at {entry['address']} has no code on this chain "
                              f"(a restarted local chain?); deploy again with REDEPLOY=1")
        parts[name] = getattr(contracts, entry["contract"]).at(entry["address"])
    return Suite(**parts)


def deploy(accounts: Any, network: str, chain_id: int, *, development: bool,
           redeploy: bool = False) -> tuple[Suite, Record, bool]:
    """The suite on this chain: the recorded one, or a new one (then recorded). Returns (suite, record, new).
    On a development chain a record whose contracts are gone (the chain was restarted) is replaced. Behind proxies
    on a live network unless ``UPGRADEABLE`` says otherwise."""
    _without_brownie_artifacts()
    existing = None if redeploy else load(network, chain_id)
    if existing is not None:
        try:
            return attach(existing), existing, False
        except DeployError:
            if not development:
                raise
    from brownie import web3

    deployer, regulator = signers(accounts, development)
    chosen = settings.current()
    upgradeable = not development if chosen.upgradeable is None else chosen.upgradeable
    if chosen.approvers:
        from carbon_market.governance import GovernanceError, check_council

        try:
            check_council(len(chosen.approvers), chosen.threshold)
        except GovernanceError as exc:
            raise DeployError(f"GOVERNANCE_THRESHOLD: {exc}; nothing was deployed") from None
    payers = {str(deployer), str(regulator)}
    before = sum(web3.eth.get_balance(a) for a in payers)
    try:
        suite = deploy_suite(deployer, regulator, upgradeable=upgradeable)
        governance = _governed(suite, deployer, chosen, upgradeable)
    except ValueError as exc:  # brownie's form of a transaction the node refused (funds, nonce, price)
        raise DeployError(f"the node refused a deployment transaction: {exc}; nothing was recorded: fix that and "
                          f"deploy again") from None
    entries = _entries(suite, upgradeable)
    if not development:
        _confirmed(max(e["block"] for e in entries.values()), chosen.confirmations)
    record = Record(network=network, chain_id=chain_id, deployer=str(deployer), regulator=str(regulator),
                    commit=commit(), compiler=_compiler(), contracts=entries,
                    fees=before - sum(web3.eth.get_balance(a) for a in payers), upgradeable=upgradeable,
                    governance=governance)
    chosen.deployments.mkdir(exist_ok=True)
    record.path.write_text(json.dumps(asdict(record), indent=2) + "\n")
    return suite, record, True


def _governed(suite: Suite, deployer: Any, chosen: settings.Settings, upgradeable: bool) -> dict[str, Any]:
    """Hand the suite to a timelock and council when approvers are set; what the record keeps of them."""
    if not chosen.approvers:
        return {}
    from carbon_market.governance import hand_over

    governance = hand_over(suite, deployer, chosen.approvers, chosen.threshold, chosen.delay, upgradeable)
    return {"timelock": governance.timelock.address, "council": governance.council.address,
            "approvers": list(chosen.approvers), "threshold": chosen.threshold, "delay": chosen.delay}


def _confirmed(block: int, confirmations: int, timeout: float = 600) -> None:
    """Wait until ``block`` has ``confirmations`` blocks on top of it, itself included (brownie waited for one)."""
    import time

    from brownie import web3

    from carbon_market.ops.node import deep

    if not deep(lambda: int(web3.eth.block_number), block, confirmations, time.monotonic() + timeout):
        raise DeployError(f"block {block} was not {confirmations} blocks deep after {timeout:.0f} s; the "
                          f"record is not written: deploy again")


def _without_brownie_artifacts() -> None:
    """Brownie keeps deployment artifacts of live networks (``build/deployments`` and its database); the records
    replace them. Its compiled 1.22 build fails to save some of them (``TypeError: dict object expected; got
    Sources`` in a background thread), and a saved one whose chain was reset stops brownie from connecting at
    all (``ContractNotFound``). So the deployment saves neither."""
    from brownie.network import contract

    contract._add_deployment = lambda *args, **kwargs: None
    contract.ProjectContract._save_deployment = lambda self: None


def _entries(suite: Suite, upgradeable: bool) -> dict[str, dict[str, Any]]:
    from brownie.network import state

    from carbon_market.upgrade import code_of, proxy_admin_of

    contracts = project()
    deployed = [(name, getattr(suite, name)) for name in PARTS]
    deployed += [(name, getattr(contracts, name)[-1]) for libraries in LIBRARIES.values() for name in libraries]
    entries = {name: {"contract": c._name, "address": c.address, "tx": c.tx.txid, "block": c.tx.block_number,
                      "gas": c.tx.gas_used} for name, c in deployed}
    for name in PARTS if upgradeable else ():
        part = getattr(suite, name)
        code = state._find_contract(code_of(part))  # deployed by this process: brownie knows its transaction
        entries[name] |= {"implementation": code.address, "implementation_gas": code.tx.gas_used,
                          "proxy_admin": proxy_admin_of(part).address}
    return entries
