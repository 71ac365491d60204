"""The libraries under the book, through a test-only harness (contracts/test/PriceBitmapHarness.sol): the price
bitmap against a Python sorted set, and the order-id layout against the one the harness decodes by
(`carbon_market.history.OrderKey`) and the README documents."""

from __future__ import annotations

import pytest
from brownie import PriceBitmapHarness
from brownie.test import given, strategy
from hypothesis import settings

from carbon_market.history import OrderKey
from carbon_market.market import Side

NONE = 2**256 - 1
MAX_TICK = 2**24 - 1
#: ticks at the edges of the bitmap's words (256 ticks a leaf, 65,536 a middle word) and a few inside
EDGES = (0, 1, 254, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 131_071, 6_000, 6_001, MAX_TICK - 256,
         MAX_TICK - 1, MAX_TICK)


@pytest.fixture(scope="module")
def harness(admin):
    return PriceBitmapHarness.deploy({"from": admin})


def _above(ticks: set[int], tick: int) -> int:
    return min((t for t in ticks if t >= tick), default=NONE)


def _below(ticks: set[int], tick: int) -> int:
    return max((t for t in ticks if t <= tick), default=NONE)


@given(ops=strategy("uint8[]", max_length=24), picks=strategy("uint8[]", min_length=24, max_length=24),
       queries=strategy("uint8[]", min_length=6, max_length=6))
@settings(max_examples=25)
def test_the_bitmap_is_a_sorted_set(harness, admin, ops, picks, queries):
    """Random adds and removals over two sets (two bases), at ticks on and around the words' edges; then the
    nearest tick at or above and at or below each query agrees with the sorted set, and neither set sees the
    other's ticks."""
    model: dict[int, set[int]] = {1: set(), 2: set()}
    for op, pick in zip(ops, picks):
        base = 1 + op % 2
        tick = EDGES[pick % len(EDGES)]
        if op % 3 == 2 and tick in model[base]:
            harness.unset(base, tick, {"from": admin})
            model[base].discard(tick)
        elif op % 3 != 2 and tick not in model[base]:
            harness.set(base, tick, {"from": admin})
            model[base].add(tick)
    for base, ticks in model.items():
        for q in queries:
            tick = EDGES[q % len(EDGES)]
            assert harness.atOrAbove(base, tick) == _above(ticks, tick)
            assert harness.atOrBelow(base, tick) == _below(ticks, tick)


def test_above_the_highest_tick_there_is_nothing(harness, admin):
    harness.set(3, MAX_TICK, {"from": admin})
    assert harness.atOrAbove(3, MAX_TICK) == MAX_TICK
    assert harness.atOrAbove(3, MAX_TICK + 1) == NONE
    assert harness.atOrBelow(3, MAX_TICK) == MAX_TICK
    assert harness.atOrAbove(4, 0) == NONE and harness.atOrBelow(4, MAX_TICK) == NONE


def test_removing_the_last_tick_of_a_word_clears_the_words_above(harness, admin):
    """The middle and root words lose their bit when the leaf under them empties, and only then."""
    for tick in (256, 300, 65_536):
        harness.set(5, tick, {"from": admin})
    harness.unset(5, 256, {"from": admin})
    assert harness.atOrAbove(5, 0) == 300
    harness.unset(5, 300, {"from": admin})
    assert harness.atOrAbove(5, 0) == 65_536
    harness.unset(5, 65_536, {"from": admin})
    assert harness.atOrAbove(5, 0) == NONE and harness.atOrBelow(5, MAX_TICK) == NONE


@given(call=strategy("bool"), instrument=strategy("uint32"), round_=strategy("uint32"),
       side=strategy("uint8", max_value=1), tick=strategy("uint24"), position=strategy("uint32"))
@settings(max_examples=60)
def test_an_order_id_says_where_the_order_is(harness, call, instrument, round_, side, tick, position):
    """`levelKey << 32 | position`, with the level key `call << 89 | instrument << 57 | round << 25 | side << 24 |
    tick`, decodes on chain and in Python (`OrderKey`) to what made it (a continuous id has no round)."""
    round_ = round_ if call else 0
    key = harness.levelKey(call, instrument, round_, side, tick)
    assert key == (int(call) << 89) | (instrument << 57) | (round_ << 25) | (side << 24) | tick
    order_id = (key << 32) | position
    assert tuple(harness.decode(order_id)) == (call, instrument, round_, side, tick)
    assert tuple(harness.level(order_id)) == (instrument, side, tick)
    assert OrderKey.of(order_id) == OrderKey(instrument, Side(side), tick, round_)
