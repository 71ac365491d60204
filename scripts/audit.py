"""`make audit [BLOCK=n] [OUT=folder] NETWORK=<name>`: write the audit report of a deployed suite at a block
(positions, trades, compliance status, credit, by region and by sector) as JSON, CSV and HTML (see
carbon_market.audit)."""

import sys

from brownie import accounts

from carbon_market.cli import run_audit


def main(block: str = "latest", out: str = "") -> None:
    code = run_audit(block, out, accounts)
    if code:
        sys.exit(code)
