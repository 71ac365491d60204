"""The harness's own failures: one root, :class:`CarbonMarketError`, whose message is one line meant for whoever runs
the command and whose ``exit_code`` is what the command line exits with. Pure: imports nothing of brownie."""

from __future__ import annotations

#: exit codes of ``carbon-market``: something the chain refused, and a bad input (file, argument, key, record)
REFUSED, BAD_INPUT = 1, 2


class CarbonMarketError(Exception):
    """A command cannot go on; the message says why in the project's words."""

    exit_code = BAD_INPUT


class BadInput(CarbonMarketError):
    """An argument of a command is not what it takes (the message says what it takes)."""
