"""Gas ceilings of benchmarks/targets.json, measured by the same code as `make bench`."""

from __future__ import annotations

import pytest

from carbon_market import bench


@pytest.fixture(scope="module")
def measured(accounts):
    results = bench.measure_gas(accounts)
    bench.measure_compliance(accounts, results)
    bench.measure_market(accounts, results)
    bench.measure_block_trade(accounts, results)
    bench.measure_call_auction(accounts, results)
    bench.measure_primary_auction(accounts, results, bids=500)  # make bench: 5,000
    return results


#: what proxies add to the hot path (``upgradeable.<op>.extra``) is measured and checked by `make bench` alone: it
#: deploys two more suites, and the targets here are the contracts' own
@pytest.mark.parametrize("operation", sorted(op for op in bench.load_targets() if not op.startswith("upgradeable.")))
def test_gas_within_target(measured, operation):
    assert measured.gas[operation] <= bench.load_targets()[operation]


def test_the_largest_clearing_transaction_is_within_target(measured):
    assert measured.scale["call_auction_2000.max_tx_gas"] <= bench.load_targets(section="scale")[
        "call_auction_2000.max_tx_gas"]
    for figure in ("max_clear_tx_gas", "max_tx_gas"):
        assert measured.scale[f"primary_auction_500.{figure}"] <= bench.load_targets(section="scale")[
            f"primary_auction_5000.{figure}"]


def test_settling_a_thousand_enterprises_is_bounded(accounts):
    """The costliest outcome for every one of 1,000 enterprises: settlement takes ceil(1000 / 200)
    transactions and none comes near a block (measure_scale also checks that all 1,000 were settled)."""
    results = bench.Results()
    bench.measure_scale(accounts, results)
    assert results.scale["settle_1000_worst.transactions"] == 5
    ceilings = bench.load_targets(section="scale")
    assert results.scale["settle_1000_worst.max_tx_gas"] <= ceilings["settle_1000_worst.max_tx_gas"]
    assert results.scale["enroll_1000.max_tx_gas"] <= ceilings["enroll_1000.max_tx_gas"]
