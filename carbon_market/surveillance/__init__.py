"""Surveillance: the supervisor watches the market from the chain's events alone.

- :mod:`.tape`     the market the events describe: participants and their owners, orders, trades, calls,
                   holdings, limits, references, compliance obligations (pure: events in, no chain)
- :mod:`.policy`   the rules' parameters, read from a YAML policy file checked with line numbers
- :mod:`.rules`    the detectors: each a rule of the policy that turns the tape into alerts
- :mod:`.alerts`   alerts with their evidence, case files and the suggested response as an operations file
- :mod:`.monitor`  reading the chain: ``surveil`` over a block range, ``watch`` following new blocks
"""
