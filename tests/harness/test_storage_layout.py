"""The storage-layout gate (toolchain/storage_layout.py), as a table: which changes of a contract's storage a proxy's
state survives, compiled by the build's compiler; then the next versions the upgrade test installs. (That the suite's
code matches its records is the gate itself, which `make lint` runs.)"""

from __future__ import annotations

import pytest

from toolchain import storage_layout
from toolchain.storage_layout import breaks, compiled

PAIR = "uint128 x; uint128 y;"
GROWN = "uint128 x; uint128 y; uint256 z;"
#: S is held as a mapping's value, P in place (in the contract's own slots)
FIRST = "uint256 a; address b; bool c; mapping(address => S) byOwner; P inPlace;"
#: name: (S's members, P's members, variables, what the gate says of it against FIRST; None: a valid upgrade)
VERSIONS = {
    "Same": (PAIR, PAIR, FIRST, None),
    "Appended": (PAIR, PAIR, FIRST + " uint256 added;", None),
    "GrownInMapping": (GROWN, PAIR, FIRST, None),
    "Swapped": (PAIR, PAIR, "address b; uint256 a; bool c; mapping(address => S) byOwner; P inPlace;",
                "a (slot 0, offset 0) is now b (slot 0, offset 0)"),
    "Inserted": (PAIR, PAIR, "uint256 added; " + FIRST, "a (slot 0, offset 0) is now added (slot 0, offset 0)"),
    "Retyped": (PAIR, PAIR, "uint128 a; address b; bool c; mapping(address => S) byOwner; P inPlace;",
                "a: type uint256 is now uint128"),
    "Renamed": (PAIR, PAIR, "uint256 amount; address b; bool c; mapping(address => S) byOwner; P inPlace;",
                "a (slot 0, offset 0) is now amount (slot 0, offset 0)"),
    "Repacked": (PAIR, PAIR, "uint256 a; address b; uint256 c; mapping(address => S) byOwner; P inPlace;",
                 "c (slot 1, offset 20) is now c (slot 2, offset 0)"),
    "Removed": (PAIR, PAIR, "uint256 a; address b; bool c; mapping(address => S) byOwner;",
                "inPlace (slot 3) is gone"),
    "GrownInPlace": (PAIR, GROWN, FIRST, "inPlace: struct V.P grew where it is stored in place"),
    "MemberSwapped": ("uint128 y; uint128 x;", PAIR, FIRST, "byOwner: member x (slot 0, offset 0) is now y"),
}


def _source() -> str:
    contracts = [f"contract V_First {{ struct S {{ {PAIR} }} struct P {{ {PAIR} }} {FIRST} }}"]
    contracts += [f"contract V_{name} {{ struct S {{ {s} }} struct P {{ {p} }} {variables} }}"
                  for name, (s, p, variables, _) in VERSIONS.items()]
    return "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\n" + "\n".join(contracts) + "\n"


@pytest.fixture(scope="module")
def layouts():
    return compiled({"versions.sol": _source()})


def _shapes(layout):
    """The struct labels carry their contract's name (``struct V_First.S``): the table compares versions declared
    as different contracts, so the name is left out (``struct V.S``)."""
    import json
    import re

    return json.loads(re.sub(r"struct V_\w+\.", "struct V.", json.dumps(layout)))


@pytest.mark.parametrize("name", VERSIONS)
def test_what_a_new_version_may_change(layouts, name):
    expected = VERSIONS[name][3]
    found = breaks(_shapes(layouts["V_First"]), _shapes(layouts[f"V_{name}"]))
    if expected is None:
        assert found == []
    else:
        assert found and expected in found[0], found


def test_the_next_versions_used_by_the_upgrade_test_are_valid_upgrades():
    """contracts/test/UpgradedSuite.sol: what test_upgrade.py upgrades to may replace what the records hold; the
    registry's appends a variable."""
    import json

    path = "contracts/test/UpgradedSuite.sol"
    text = (storage_layout.ROOT / path).read_text()
    nexts = compiled({path: text})
    for name, layout in nexts.items():
        recorded = json.loads((storage_layout.RECORDS / f"{name.removesuffix('V2')}.json").read_text())
        assert breaks(recorded, layout) == [], name
    assert len(nexts["ParticipantRegistryV2"]) == len(
        json.loads((storage_layout.RECORDS / "ParticipantRegistry.json").read_text())) + 1
