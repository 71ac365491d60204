"""The chain's clock on the connected development chain (brownie's connection): read it, and move it forward."""

from __future__ import annotations

import warnings

from carbon_market.market import session_open, trading_day


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


def next_session() -> None:
    """Mine a block at the opening of the next trading day's session (development chains only): the chain's clock
    starts at the wall clock, and a simulation that moved it by whole days would trade at whatever hour it began,
    near a close as often as not."""
    sleep_until(next_session_open(latest_timestamp()))


def next_session_open(timestamp: int) -> int:
    """The opening of the trading day's session after the day of ``timestamp``."""
    return session_open(trading_day(timestamp) + 1)
