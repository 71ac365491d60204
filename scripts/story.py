"""`make story`: deploy the suite on the embedded local chain and tell one compliance year of five named
enterprises, with a trading session, to settlement."""

from brownie import accounts

from carbon_market import demo


def main() -> None:
    demo.run(accounts)
