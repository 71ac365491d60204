"""`make demo`: on the embedded local chain, a compliance year of 50 enterprises under every policy scenario, the
comparison printed and the HTML report with its plots written to out/simulation (see carbon_market.sim)."""

import sys

from brownie import accounts

from carbon_market.cli import run_scenarios


def main(enterprises: str = "50") -> None:
    code = run_scenarios(enterprises, "", "", accounts)
    if code:
        sys.exit(code)
