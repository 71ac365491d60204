"""Stateful tests read the chain after every step: under ``--coverage`` those reads are not traced as
transactions (brownie's ``no_call_coverage``); the unit tests cover the view functions."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/stateful/" in str(item.fspath):
            item.add_marker(pytest.mark.no_call_coverage)
