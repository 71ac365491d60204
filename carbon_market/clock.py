"""The chain's clock on the connected development chain (brownie's connection): read it, and move it forward."""

from __future__ import annotations

import warnings


def latest_timestamp() -> int:
    """The timestamp of the chain's latest block."""
    from brownie import web3

    return int(web3.eth.get_block("latest").timestamp)


def sleep_until(timestamp: int) -> None:
    """Mine a block at or after ``timestamp`` (development chains only)."""
    from brownie import chain

    with warnings.catch_warnings():  # brownie's own chain.sleep warns about its internal rpc calls
        warnings.simplefilter("ignore", FutureWarning)
        chain.sleep(max(timestamp - latest_timestamp(), 0))
        chain.mine()
