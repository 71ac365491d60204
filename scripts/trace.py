"""`make trace WHAT=order|unit|account ID=<order id, token id or address> [FROM=block] NETWORK=<name>`: print the
history of an order, a token id or an account on a deployed suite, rebuilt from events alone (see
carbon_market.trace). The suite is the one in the network's deployment record (`make deploy`)."""

import sys

from brownie import chain, network

from carbon_market import trace
from carbon_market.deploy import DeployError, attach, load


def main(what: str = "", ident: str = "", from_block: str = "0") -> None:
    name = network.show_active()
    record = load(name, chain.id)
    if record is None:
        sys.exit(f"trace: no deployment record for {name} (chain id {chain.id}); run make deploy NETWORK={name}")
    try:
        suite = attach(record)
    except DeployError as exc:
        sys.exit(f"trace: {exc}")
    start = int(from_block or 0)
    if what == "order":
        lines = trace.order_history(suite, int(ident, 0), start)
    elif what == "unit":
        history = trace.unit_history(suite, int(ident, 0), start)
        lines = [*history.events, *(f"balance {holder}: {amount:,}" for holder, amount in history.balances.items()),
                 f"minted {history.minted:,}, burned {history.burned:,}"]
    elif what == "account":
        lines = trace.account_history(suite, ident, start)
    else:
        sys.exit(f"trace: WHAT must be order, unit or account, not {what!r}")
    for line in lines:
        print(line)
