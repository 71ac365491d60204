"""The storage-layout gate of the upgradeable suite (run by `make lint`; `make layouts` records).

A part of an upgradeable suite keeps its state in its proxy and reads it with whatever code the proxy delegates to,
so a new version must find every variable where the deployed version left it. The compiler says where each variable
lives (solc's ``storageLayout``, compiled as the build compiles); ``contracts/layouts/<Contract>.json`` records the
layout of the code deployed suites run. The gate fails when the compiled code:

- removes, renames, moves or retypes a recorded variable (a type compared by its shape: sizes, members, keys);
- grows a struct stored in place (in a contract's own slots or in an array, where the next value follows it);

and accepts variables appended after the recorded ones and members appended to a struct held only as a mapping's
value (each value has slots of its own). OpenZeppelin's ``Initializable`` keeps its flag in a namespaced slot
(ERC-7201), outside this linear layout. The recorded layouts change only by ``make layouts`` (``--record``), which a
change of layout must come with, reviewed in the diff, before any suite of the new layout is deployed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOLC = ROOT / ".toolchain" / "solcx" / "solc-v0.8.30"
RECORDS = ROOT / "contracts" / "layouts"
#: the parts of a suite, each a contract behind a proxy (``carbon_market.suite.PARTS``)
PARTS = ("ParticipantRegistry", "CarbonAllowance", "CreditToken", "SettlementToken", "Compliance", "OffsetRegistry",
         "Market", "BlockTradeDesk", "SupplyReserve", "PrimaryAuction", "CircuitBreaker")

Layout = list[dict[str, Any]]


def compiled(sources: dict[str, str], contracts: dict[str, str] | None = None) -> dict[str, Layout]:
    """The storage layout of each contract (name -> source path) of ``sources`` (path -> text), compiled with the
    build's settings (solc 0.8.30, optimizer at 20,000 runs, cancun)."""
    wanted = contracts or {name: path for path in sources for name in _declared(sources[path])}
    selection: dict[str, dict[str, list[str]]] = {}
    for name, path in wanted.items():
        selection.setdefault(path, {})[name] = ["storageLayout"]
    request = {
        "language": "Solidity",
        "sources": {path: {"content": text} for path, text in sources.items()},
        "settings": {"optimizer": {"enabled": True, "runs": 20000}, "evmVersion": "cancun",
                     "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
                     "outputSelection": selection},
    }
    done = subprocess.run([str(SOLC), "--standard-json"], input=json.dumps(request), capture_output=True, text=True,
                          cwd=ROOT, check=True)
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise SystemExit("storage layout: the contracts do not compile:\n" + "\n".join(errors))
    return {name: shape(output["contracts"][path][name]["storageLayout"]) for name, path in wanted.items()}


def _declared(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("contract ")]


def shape(layout: dict[str, Any]) -> Layout:
    """A layout as variables (label, slot, offset, type) whose types are described by their shape, without the
    compiler's AST ids (which change with any edit of the sources)."""
    types = layout.get("types") or {}
    return [{"label": v["label"], "slot": int(v["slot"]), "offset": v["offset"], "type": _type(v["type"], types)}
            for v in layout["storage"]]


def _type(type_id: str, types: dict[str, Any]) -> dict[str, Any]:
    t = types[type_id]
    described: dict[str, Any] = {"label": t["label"], "bytes": int(t["numberOfBytes"]), "encoding": t["encoding"]}
    if "members" in t:
        described["members"] = [{"label": m["label"], "slot": int(m["slot"]), "offset": m["offset"],
                                 "type": _type(m["type"], types)} for m in t["members"]]
    if "key" in t:
        described["key"] = _type(t["key"], types)
        described["value"] = _type(t["value"], types)
    if "base" in t:
        described["base"] = _type(t["base"], types)
    return described


def breaks(recorded: Layout, current: Layout) -> list[str]:
    """What in ``current`` breaks the state a proxy holds under ``recorded``; empty when it may upgrade it."""
    found = []
    for i, old in enumerate(recorded):
        if i >= len(current):
            found.append(f"{old['label']} (slot {old['slot']}) is gone")
            continue
        new = current[i]
        if (new["label"], new["slot"], new["offset"]) != (old["label"], old["slot"], old["offset"]):
            found.append(f"{old['label']} (slot {old['slot']}, offset {old['offset']}) is now {new['label']} "
                         f"(slot {new['slot']}, offset {new['offset']})")
        else:
            found += [f"{old['label']}: {why}" for why in _type_breaks(old["type"], new["type"], in_place=True)]
    return found


def _type_breaks(old: dict[str, Any], new: dict[str, Any], in_place: bool) -> list[str]:
    if old == new:
        return []
    if old["encoding"] != new["encoding"] or old["label"] != new["label"]:
        return [f"type {old['label']} is now {new['label']}"]
    if "members" in old:
        kept, added = new["members"][:len(old["members"])], new["members"][len(old["members"]):]
        found = [f"member {o['label']} (slot {o['slot']}, offset {o['offset']}) is now {n['label']} (slot "
                 f"{n['slot']}, offset {n['offset']})" for o, n in zip(old["members"], kept)
                 if (o["label"], o["slot"], o["offset"]) != (n["label"], n["slot"], n["offset"])]
        if len(kept) < len(old["members"]):
            found.append(f"{old['label']} lost members")
        found += [why for o, n in zip(old["members"], kept) for why in _type_breaks(o["type"], n["type"], True)]
        if added and in_place:
            found.append(f"{old['label']} grew where it is stored in place (the next value follows it)")
        return found
    if "key" in old:
        return _type_breaks(old["key"], new["key"], True) + _type_breaks(old["value"], new["value"], False)
    if "base" in old:
        return _type_breaks(old["base"], new["base"], True) + (
            [f"{old['label']} changed size"] if old["bytes"] != new["bytes"] and old["encoding"] == "inplace" else [])
    return [f"type {old['label']} changed size ({old['bytes']} to {new['bytes']} bytes)"]


def parts() -> dict[str, Layout]:
    """The compiled layout of every part of the suite."""
    sources = {f"contracts/{name}.sol": (ROOT / "contracts" / f"{name}.sol").read_text() for name in PARTS}
    return compiled(sources, {name: f"contracts/{name}.sol" for name in PARTS})


def check() -> int:
    """Compare every part with its record; the number of breaks (one line each)."""
    current, failed = parts(), 0
    for name, layout in current.items():
        path = RECORDS / f"{name}.json"
        if not path.exists():
            print(f"storage layout: {name} has no record in {path.relative_to(ROOT)}: run `make layouts`")
            failed += 1
            continue
        for why in breaks(json.loads(path.read_text()), layout):
            print(f"storage layout: {name}: {why}")
            failed += 1
    print(f"storage layout: {len(current)} parts, {sum(len(v) for v in current.values())} variables, "
          f"{failed} breaks")
    return failed


def record() -> None:
    RECORDS.mkdir(exist_ok=True)
    for name, layout in parts().items():
        (RECORDS / f"{name}.json").write_text(json.dumps(layout, indent=1) + "\n")
        print(f"recorded {name}: {len(layout)} variables")


if __name__ == "__main__":
    if "--record" in sys.argv[1:]:
        record()
    else:
        sys.exit(1 if check() else 0)
