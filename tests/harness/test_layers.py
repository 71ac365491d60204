"""The package in layers, checked from its imports: domain code (no brownie, no chain), chain plumbing, the
operations, the applications. A module imports only from its own layer or the layers below it, and domain
modules load without brownie or web3."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "carbon_market"

DOMAIN, PLUMBING, OPERATIONS, APPLICATIONS = range(4)
#: every module of the package and its layer (a new module must say where it belongs)
LAYERS = {
    "carbon_market": DOMAIN, "roles": DOMAIN, "ids": DOMAIN, "compliance": DOMAIN, "market": DOMAIN,
    "history": DOMAIN, "failures": DOMAIN, "settings": DOMAIN, "sim": DOMAIN, "sim.model": DOMAIN,
    "auctions": DOMAIN, "bids": PLUMBING,
    "codec": PLUMBING, "bulk": PLUMBING, "receipts": PLUMBING, "clock": PLUMBING, "suite": PLUMBING,
    "errors": PLUMBING, "deploy": PLUMBING, "upgrade": PLUMBING, "governance": PLUMBING, "ops.node": PLUMBING, "ops.journal": PLUMBING,
    "ops.transport": PLUMBING,
    "ops": OPERATIONS, "ops.spec": OPERATIONS, "ops.steps": OPERATIONS, "ops.senders": OPERATIONS,
    "ops.runner": OPERATIONS, "year": OPERATIONS,
    "cli": APPLICATIONS, "commands": APPLICATIONS, "console": APPLICATIONS, "story": APPLICATIONS,
    "trace": APPLICATIONS, "audit": APPLICATIONS, "bench": APPLICATIONS,
    "sim.chain": APPLICATIONS, "sim.scenarios": APPLICATIONS, "sim.report": APPLICATIONS, "sim.zi": APPLICATIONS,
    "sim.planning": DOMAIN, "sim.years": APPLICATIONS, "sim.study": APPLICATIONS, "sim.dashboard": APPLICATIONS,
    "surveillance": APPLICATIONS, "surveillance.tape": APPLICATIONS, "surveillance.policy": APPLICATIONS,
    "surveillance.rules": APPLICATIONS, "surveillance.alerts": APPLICATIONS, "surveillance.monitor": APPLICATIONS,
}
NAMES = ("domain", "chain plumbing", "operations", "applications")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    name = ".".join(p for p in parts if p != "__init__")
    return name or "carbon_market"


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports (at any depth of the file: imports inside functions count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("carbon_market"):
            base = node.module.removeprefix("carbon_market").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if candidate in LAYERS else base or "carbon_market")
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("carbon_market.") for a in node.names if a.name.startswith("carbon_market.")}
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert sorted(_module(p) for p in MODULES) == sorted(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=_module)
def test_a_module_imports_nothing_from_a_layer_above_it(path):
    here = LAYERS[_module(path)]
    above = {m: NAMES[LAYERS[m]] for m in _imports(path) if LAYERS[m] > here}
    assert not above, f"{_module(path)} ({NAMES[here]}) imports {above}"


def test_domain_modules_load_without_brownie_or_web3():
    domain = [f"carbon_market.{m}" if m != "carbon_market" else m for m, layer in LAYERS.items() if layer == DOMAIN]
    code = (f"import sys\nfor m in {domain!r}: __import__(m)\n"
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'brownie', 'web3', 'eth_abi'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
