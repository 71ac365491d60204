"""`make bench`: measure gas and throughput on the local chain into benchmarks/results.json."""

import sys

from brownie import accounts

from carbon_market import bench


def main() -> None:
    code = bench.run(accounts)
    if code:
        sys.exit(code)
