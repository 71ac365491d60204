"""Gas ceilings of benchmarks/targets.json, measured by the same code as `make bench`."""

from __future__ import annotations

import pytest

from carbon_market import bench


@pytest.fixture(scope="module")
def measured(accounts):
    results = bench.measure_gas(accounts)
    bench.measure_compliance(accounts, results)
    return results


@pytest.mark.parametrize("operation", sorted(bench.load_targets()))
def test_gas_within_target(measured, operation):
    assert measured.gas[operation] <= bench.load_targets()[operation]
