"""`make deploy [NETWORK=name] [REDEPLOY=1]`: deploy and wire the suite on a network and write its record
(see carbon_market.deploy)."""

import os
import sys

from brownie import accounts

from carbon_market.cli import run_deploy


def main() -> None:
    code = run_deploy(accounts, redeploy=os.environ.get("REDEPLOY", "") not in ("", "0"))
    if code:
        sys.exit(code)
