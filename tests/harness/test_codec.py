"""The codec's fast path: a static word is sliced and read as eth_abi reads it; everything else goes to eth_abi."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode

from carbon_market.codec import _event_decoder, _word_decoder


@pytest.mark.parametrize("kind, value", [
    ("uint256", 2**256 - 1), ("uint8", 3), ("uint48", 2**48 - 1), ("int256", -5), ("int24", -(2**23)),
    ("address", "0x" + "ab" * 20), ("bool", True), ("bool", False), ("bytes32", b"\x01" * 32), ("bytes4", b"abcd"),
])
def test_a_static_word_reads_as_eth_abi_reads_it(kind, value):
    word = encode([kind], [value])
    assert _word_decoder(kind)(word) == decode([kind], word)[0]


@pytest.mark.parametrize("kind", ["uint256[]", "uint256[3]", "address[]", "(uint8,uint16)", "string", "bytes"])
def test_arrays_tuples_and_dynamic_kinds_are_left_to_eth_abi(kind):
    assert _word_decoder(kind) is None


def test_an_event_mixing_words_and_arrays_decodes_whole():
    """The case that broke: a uint256[] beside words (CreditToken's TierThresholdsChanged)."""
    item = {"inputs": [{"name": "by", "type": "address", "indexed": True},
                       {"name": "old", "type": "uint256[]", "indexed": False},
                       {"name": "count", "type": "uint8", "indexed": False},
                       {"name": "new", "type": "uint256[]", "indexed": False}]}
    data = encode(["uint256[]", "uint8", "uint256[]"], [[1, 2], 7, [3]])
    topic = encode(["address"], ["0x" + "cd" * 20])
    fields = _event_decoder(item)([b"\0" * 32, topic], data)
    assert {k: v for k, v in fields.items() if k != "by"} == {"old": [1, 2], "count": 7, "new": [3]}
    assert fields["by"].lower() == "0x" + "cd" * 20
