"""Base of the stateful tests: a hypothesis state machine over a real chain.

Brownie's `state_machine` fixture does not work with its mypyc build, so the machines are plain
`RuleBasedStateMachine`s: the chain is snapshotted once before the run and reverted at the start of each
example. Every step states the error the model expects (or none) and checks that the chain agrees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from carbon_market.errors import reverts
from carbon_market.roles import Status

SETTINGS = settings(
    max_examples=15, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)


#: status changes to draw; revocation is final, so it is drawn less often than freezing and unfreezing
STATUS_ACTIONS = st.sampled_from(["freeze", "unfreeze", "freeze", "unfreeze", "revoke"])


class ChainMachine(RuleBasedStateMachine):
    """Reverts the chain to the snapshot taken by :func:`run` at the start of every example."""

    def __init__(self) -> None:
        super().__init__()
        chain.revert()

    def check_invariants(self, settings: Any) -> None:
        """Hypothesis checks the invariants after every step; under `make coverage` their reads are not traced
        (what coverage measures is what the steps ran; the reads were half a step's time)."""
        collector = _collector()
        if collector is None:
            super().check_invariants(settings)
            return
        with collector.calls_untraced():
            super().check_invariants(settings)

    @staticmethod
    def expect(error: str | None, call: Callable[..., Any], *args: Any) -> Any:
        """Run ``call(*args)``: it must succeed when ``error`` is None, else revert with ``error``."""
        if error is None:
            return call(*args)
        with reverts(error):
            call(*args)
        return None


def _collector() -> Any:
    """The coverage collector of this session (`make coverage`), or None."""
    if os.environ.get("CARBON_MARKET_COVERAGE") != "1":
        return None
    from toolchain import coverage

    return coverage.ACTIVE


def share_of(balance: int, share: int) -> int:
    """``share`` percent of ``balance``; a share above 100 asks for more than the balance holds."""
    return balance * share // 100 if share <= 100 else balance + share - 100


def run(machine: type[ChainMachine], *, run_settings: settings = SETTINGS, **context: Any) -> None:
    """Give the machine its fixtures as class attributes, snapshot the chain and run it.

    Under `make coverage` the examples are drawn from a fixed seed, so that the figures are the same each run."""
    for key, value in context.items():
        setattr(machine, key, value)
    if os.environ.get("CARBON_MARKET_COVERAGE") == "1":
        run_settings = settings(run_settings, derandomize=True)
    chain.snapshot()
    run_state_machine_as_test(machine, settings=run_settings)


class StatusModel:
    """The registry statuses of the accounts a machine uses, and the regulator's status rules."""

    def __init__(self, accounts: list[Any]) -> None:
        self.status = {a: Status.ACTIVE for a in accounts}

    def active(self, account: Any) -> bool:
        return self.status.get(account, Status.NONE) == Status.ACTIVE

    def change_error(self, account: Any, action: str) -> str | None:
        allowed = {"freeze": (Status.ACTIVE,), "unfreeze": (Status.FROZEN,),
                   "revoke": (Status.ACTIVE, Status.FROZEN)}[action]
        return None if self.status[account] in allowed else "Registry__InvalidStatusChange"

    def apply(self, account: Any, action: str) -> None:
        self.status[account] = {"freeze": Status.FROZEN, "unfreeze": Status.ACTIVE,
                                "revoke": Status.REVOKED}[action]

    def step(self, registry: Any, regulator: Any, account: Any, action: str) -> None:
        """Apply a status change on chain and in the model, or check that it is refused."""
        error = self.change_error(account, action)
        self_call = getattr(registry, action)
        ChainMachine.expect(error, self_call, account, b"\x01" * 32, {"from": regulator})
        if error is None:
            self.apply(account, action)
