"""`make demo`: deploy the suite on the embedded local chain and run a compliance year to settlement."""

from brownie import accounts

from carbon_market import demo


def main() -> None:
    demo.run(accounts)
