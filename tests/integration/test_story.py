"""`make story` as a test: the pilot year of ``operations/pilot-2026`` runs through the operations runner, and the
story told from the chain's events is what the chain's storage holds."""

from __future__ import annotations

import contextlib
import io

import pytest

from carbon_market import commands
from carbon_market.compliance import Outcome, enterprise_year, year_totals
from carbon_market.market import Side

INSTRUMENT = 1
YEAR = 2026


@pytest.fixture(scope="module")
def story(accounts, tmp_path_factory):
    out, folder = io.StringIO(), tmp_path_factory.mktemp("story")
    saved, commands.STORY_OUT = commands.STORY_OUT, folder
    try:
        with contextlib.redirect_stdout(out):
            assert commands.run_story(accounts) == 0
    finally:
        commands.STORY_OUT = saved
    return out.getvalue(), folder


@pytest.fixture(scope="module")
def suite(story):
    from brownie import Compliance, Market

    return Compliance[-1], Market[-1]


def test_the_call_auction_told_is_the_one_on_chain(story, suite):
    text, _ = story
    auction = suite[1].auction(INSTRUMENT, 1)
    assert (int(auction["volume"]), int(auction["priceTick"])) == (170, 5_980)
    assert bool(auction["rationing"]) and Side(auction["rationed"]) == Side.BUY
    assert "call auction round 1: one price, 59.80 tCNY/t, for 170 lots; the longer side rationed" in text


def test_the_trades_told_are_the_files(story):
    text, _ = story
    assert "block 1: huaneng sold 100 lots to datang at 63.00 tCNY/t" in text
    assert "conch's report version 0 rejected by verifier; it reported again" in text
    assert "cancelled: conch (20 lots returned)" in text


def test_each_enterprise_told_from_events_matches_its_record(story, accounts, suite):
    text, _ = story
    compliance = suite[0]
    names = {"huaneng": 6, "conch": 7, "datang": 8, "jidong": 9, "guodian": 10}  # the file's {node: N}
    for name, index in names.items():
        r = enterprise_year(compliance, YEAR, accounts[index])
        row = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
        assert row.split()[1:7] == [f"{r['allocated']:,}", f"{r['verifiedEmissions']:,}",
                                    f"{r['allowancesSurrendered']:,}", f"{r['offsetsSurrendered']:,}",
                                    r["outcome"].name.lower(), f"{r['shortfall']:,}"]
    counts = year_totals(compliance, YEAR)["outcomes"]
    assert (counts[Outcome.EARLY], counts[Outcome.ON_TIME], counts[Outcome.LATE], counts[Outcome.SHORT]) == (1, 2, 1, 1)
    assert "early 1, late 1, on_time 2, short 1" in text


def test_the_story_writes_the_audit(story):
    text, folder = story
    assert (folder / "audit.html").is_file() and (folder / "compliance.csv").is_file()
    assert "5 compliance records" in text
