"""`make scenarios [N=50] [SCENARIOS="baseline,continuous only"] [OUT=folder]`: simulate compliance years on the
real contracts under several policies and write the comparison (see carbon_market.sim)."""

import sys

from brownie import accounts

from carbon_market.cli import run_scenarios


def main(enterprises: str = "50", names: str = "", out: str = "") -> None:
    code = run_scenarios(enterprises, names, out, accounts)
    if code:
        sys.exit(code)
