"""`make trace WHAT=order|unit|account|report ID=... [FROM=block] NETWORK=<name>`: print the history of an order, a
token id, an account or an enterprise's report of a year (ID=<year>:<address>) on a deployed suite, rebuilt from
events alone (see carbon_market.trace). The suite is the one in the network's deployment record (`make deploy`)."""

import sys

from brownie import accounts

from carbon_market.cli import run_trace


def main(what: str = "", ident: str = "", from_block: str = "0") -> None:
    code = run_trace(what, ident, from_block, accounts)
    if code:
        sys.exit(code)
