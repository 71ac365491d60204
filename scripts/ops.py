"""`make ops FILE=operations/pilot-2026.yaml [DRY_RUN=1] [NETWORK=name]`: run an operations file on a network's
deployed suite (see carbon_market.ops); on the development chain the suite is deployed first."""

import sys

from brownie import accounts

from carbon_market.cli import run_operations


def main(path: str = "", *options: str) -> None:
    code = run_operations(path, options, accounts)
    if code:
        sys.exit(code)
