"""Two fixes for brownie 1.22.2 on anvil: waiting for a receipt, and moving the clock.

Brownie decides that a transaction was dropped when the sender's nonce has moved past it while the node has
no receipt for it yet (``TransactionReceipt._await_confirmation``: nonce first, receipt second, then
``Tx dropped without known replacement``). Anvil advances the nonce while a block is still being written,
so on a loaded machine a large transaction (an enrolment batch, a batch of onboardings) is sometimes
declared dropped although it is being mined. Brownie also sleeps a whole second whenever the receipt is
not there at its first look, which is what makes transactions signed here so slow on a local chain.

:func:`install` wraps that method: on a development chain it first polls for the receipt with a short,
growing interval (up to :data:`PATIENCE` seconds), then hands over to brownie, which then finds the
receipt at its first look. On live networks nothing changes.

Brownie's ``Rpc`` (``chain.sleep``, ``chain.mine``, snapshots and reverts) checks who called it with
``inspect.stack()``, which reads the source lines of every frame on the stack: 26 ms to 120 ms a call, most of a
simulated year's clock moves and a fifth of a test's isolation. :func:`install` gives it the frames alone
(:class:`_Frames`), which is all it looks at.

Installed by the command line (:func:`carbon_market.cli.connect`) and the tests' configuration.
"""

from __future__ import annotations

import importlib
import sys
import time
from types import FrameType, SimpleNamespace
from typing import Any

from brownie._config import CONFIG
from brownie.network.transaction import TransactionReceipt
from brownie.network.web3 import web3

#: seconds to wait for a receipt on a development chain before brownie's own logic takes over
PATIENCE = 60.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.25


def _receipt_ready(txid: str) -> bool:
    try:
        receipt = web3.eth.get_transaction_receipt(txid)
    except Exception:  # TransactionNotFound, or a node that answers "unknown" while the block is written
        return False
    return receipt is not None and receipt.get("blockHash") is not None


def wait_for_receipt(txid: str, patience: float = PATIENCE) -> bool:
    """Poll until the node has a receipt for ``txid``; False if ``patience`` seconds pass first."""
    deadline, pause = time.monotonic() + patience, _FIRST_PAUSE
    while not _receipt_ready(txid):
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
    return True


class _Frames:
    """What brownie's ``Rpc`` asks of :mod:`inspect` (whether ``chain`` called it): the frames on the call stack,
    innermost first, without their source lines."""

    @staticmethod
    def stack() -> list[SimpleNamespace]:
        frame: FrameType | None = sys._getframe(1)
        frames = []
        while frame is not None:
            frames.append(SimpleNamespace(frame=frame))
            frame = frame.f_back
        return frames


def install() -> None:
    """Wrap ``TransactionReceipt._await_confirmation`` once, and give brownie's ``Rpc`` :class:`_Frames` (see the
    module's documentation)."""
    # set on the module itself: the attribute ``brownie.network.rpc`` is brownie's Rpc instance, not the module
    setattr(importlib.import_module("brownie.network.rpc"), "inspect", _Frames)  # noqa: B010
    original = TransactionReceipt._await_confirmation
    if getattr(original, "_carbon_market_fix", False):
        return

    def _await_confirmation(self: Any, block_number: Any = None, required_confs: int = 1) -> None:
        if CONFIG.network_type == "development" and required_confs > 0:
            wait_for_receipt(self.txid)
        original(self, block_number, required_confs)

    _await_confirmation._carbon_market_fix = True  # type: ignore[attr-defined]
    TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]
