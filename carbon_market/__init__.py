"""Harness of the permissioned carbon-allowance market.

One package that the brownie scripts, the tests and the command line all use:

- :mod:`carbon_market.roles`   participant role flags and statuses (mirrors ``Roles.sol``)
- :mod:`carbon_market.ids`     token-id encoding of allowances and offsets (mirrors ``AllowanceId.sol``)
- :mod:`carbon_market.suite`   deploy and wire the contract suite
- :mod:`carbon_market.errors`  custom-error decoding and the ``reverts`` test helper
- :mod:`carbon_market.bulk`    many transactions at once (JSON-RPC batches), for set-ups and simulations
- :mod:`carbon_market.receipts` a fix for brownie's receipt wait on anvil, installed by the entry points
- :mod:`carbon_market.cli`     the command line, ``carbon-market`` (imports no brownie until a command runs)
- :mod:`carbon_market.bench`   gas and throughput measurements (``make bench``)
- :mod:`carbon_market.demo`    the demonstration session (``make demo``)
"""

__version__ = "0.1.0"
