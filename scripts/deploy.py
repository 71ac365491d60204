"""`make deploy [NETWORK=name] [REDEPLOY=1]`: deploy and wire the suite on a network and write its record
(see carbon_market.deploy)."""

import os
import sys

from brownie import accounts, chain, network
from brownie._config import CONFIG

from carbon_market.deploy import DeployError, deploy


def main() -> None:
    name = network.show_active()
    try:
        suite, record, new = deploy(accounts, name, chain.id, development=CONFIG.network_type == "development",
                                    redeploy=os.environ.get("REDEPLOY", "") not in ("", "0"))
    except DeployError as exc:
        sys.exit(f"deploy: {exc}")
    print(f"{'deployed' if new else 'reusing'} the suite on {name} (chain id {record.chain_id}), record "
          f"{record.path}, commit {record.commit}")
    for contract, entry in record.contracts.items():
        print(f"  {contract:16} {entry['address']}  block {entry['block']:>6}  gas {entry.get('gas', 0):>10,}")
    print(f"  contract creation gas: {sum(e.get('gas', 0) for e in record.contracts.values()):,}")
