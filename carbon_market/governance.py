"""Governance of the regulator's powers: several approvers, then a delay, then anyone runs the action.

A suite handed over (``hand_over``) has two more contracts: OpenZeppelin's ``TimelockController`` and the
``RegulatorCouncil`` in front of it. The timelock becomes the registry's governor and admin (the parts' governed
actions: parameters, role grants; and new regulators) and the owner of every part's ProxyAdmin (upgrades); the
council is its only proposer. A governed action is a batch of calls: each approver approves it (``approve``), the
approval that reaches the council's threshold schedules it, and once the timelock's delay has passed anyone runs it
(``execute``); any approver may cancel it meanwhile (``cancel``). A single regulator keeps what cannot wait: pausing
the market, freezing an account, halting an instrument, recovering escrow, enforcing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from carbon_market.failures import CarbonMarketError
from carbon_market.suite import PARTS, Suite, project

ZERO = "0x0000000000000000000000000000000000000000"
NO_PREDECESSOR = b"\0" * 32


class GovernanceError(CarbonMarketError):
    """Governance cannot be set up as asked (too few approvers, a threshold of one)."""


@dataclass(frozen=True)
class Governance:
    """The timelock and the council of a suite handed over."""

    timelock: Any
    council: Any


@dataclass(frozen=True)
class Action:
    """A governed action: calls the timelock makes together, identified with ``salt``."""

    targets: tuple[str, ...]
    values: tuple[int, ...]
    payloads: tuple[bytes, ...]
    salt: bytes

    @property
    def id(self) -> bytes:
        """The timelock's id of the batch (``TimelockController.hashOperationBatch``)."""
        return keccak(encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                             [list(self.targets), list(self.values), list(self.payloads), NO_PREDECESSOR,
                              self.salt]))

    @property
    def arguments(self) -> tuple[list[str], list[int], list[bytes], bytes]:
        """What the council's ``approve`` takes."""
        return list(self.targets), list(self.values), list(self.payloads), self.salt

    @property
    def execution(self) -> tuple[list[str], list[int], list[bytes], bytes, bytes]:
        """What the timelock's ``executeBatch`` takes (no predecessor)."""
        return list(self.targets), list(self.values), list(self.payloads), NO_PREDECESSOR, self.salt


def action(calls: Sequence[tuple[Any, Sequence[Any]]], salt: str) -> Action:
    """An action from ``(contract function, arguments)`` pairs (brownie's ``suite.market.setParams``, say), named by
    ``salt`` (a text, hashed: the same calls under another salt are another action)."""
    return Action(targets=tuple(str(fn._address) for fn, _ in calls), values=tuple(0 for _ in calls),
                  payloads=tuple(bytes.fromhex(fn.encode_input(*args)[2:]) for fn, args in calls),
                  salt=keccak(text=salt))


def check_council(approvers: int, threshold: int) -> None:
    """The council's rule (``Council__BadThreshold``), checked before anything is deployed: more than one approval,
    and no more than its approvers."""
    if threshold < 2 or threshold > approvers:
        raise GovernanceError(f"a council needs a threshold of at least 2 and at most the {approvers} approvers of the "
                              f"council, not {threshold}")


def hand_over(suite: Suite, deployer: Any, approvers: Sequence[Any], threshold: int, delay: int,
              upgradeable: bool) -> Governance:
    """Deploy the timelock (``delay`` seconds) and the council (``threshold`` of ``approvers``), and hand the suite
    to them: the registry's governor and admin, every ProxyAdmin's owner. ``deployer`` (the registry's admin and
    the ProxyAdmins' owner until now) keeps nothing."""
    check_council(len(approvers), threshold)
    contracts, tx = project(), {"from": deployer}
    timelock = contracts.TimelockController.deploy(delay, [], [ZERO], deployer, tx)  # anyone executes
    council = contracts.RegulatorCouncil.deploy(timelock, list(approvers), threshold, tx)
    for role in (timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE()):
        timelock.grantRole(role, council, tx)
    if upgradeable:
        from carbon_market.upgrade import proxy_admin_of

        for part in PARTS:
            proxy_admin_of(getattr(suite, part)).transferOwnership(timelock, tx)
    suite.registry.handOver(timelock, tx)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, tx)
    return Governance(timelock=timelock, council=council)


def approve(governance: Governance, act: Action, approver: Any) -> Any:
    """One approver's approval (the first proposes the action; the one that reaches the threshold schedules it)."""
    return governance.council.approve(*act.arguments, {"from": approver})


def execute(governance: Governance, act: Action, by: Any) -> Any:
    """Run a scheduled action whose delay has passed (anyone may)."""
    return governance.timelock.executeBatch(*act.execution, {"from": by})


def cancel(governance: Governance, act: Action, approver: Any) -> Any:
    """An approver cancels a scheduled action."""
    return governance.council.cancel(act.id, {"from": approver})


#: ``RoleGranted(bytes32,address,address)`` and the timelock's proposer role: the council's grant
ROLE_GRANTED = "0x" + keccak(text="RoleGranted(bytes32,address,address)").hex()
PROPOSER_ROLE = "0x" + keccak(text="PROPOSER_ROLE").hex()


def of(rpc: Callable[[str, list[Any]], Any], timelock: str) -> Governance:
    """The governance of a suite from the chain alone: its timelock (the registry's governor) and the council, the
    account last granted the timelock's proposer role (``rpc``: a JSON-RPC call on the chain to read)."""
    logs = rpc("eth_getLogs", [{"address": timelock, "topics": [ROLE_GRANTED, PROPOSER_ROLE],
                                "fromBlock": "0x0", "toBlock": "latest"}])
    if not logs:
        raise GovernanceError(f"the timelock {timelock} has no proposer: not a governance this project set up")
    council = "0x" + logs[-1]["topics"][2][-40:]
    contracts = project()
    return Governance(timelock=contracts.TimelockController.at(timelock),
                      council=contracts.RegulatorCouncil.at(to_checksum_address(council)))


def ready_at(governance: Governance, act: Action) -> int:
    """When a scheduled action may run (0: not scheduled; 1: done)."""
    return int(governance.timelock.getTimestamp(act.id))
