"""The command line from a folder whose path has a dot and a space, with an empty home folder: `--help` of every
command, and a deployment and a trace on the live network (`local-live`, anvil: what is under test is the command
line, not the node)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import REGULATOR_KEY, TEST_KEY, cli

COMMANDS = ("demo", "scenarios", "story", "deploy", "ops", "trace", "audit", "bench")


def test_the_command_line_works_in_a_folder_whose_path_has_a_dot_and_a_space(live_anvil, records, tmp_path):
    """`brownie run` imported a script by its path turned into a module name, so every `make demo`, `deploy`, `ops`,
    `trace`, `audit` and `bench` failed in a clone at a path with a dot (`/home/jane.doe/...`). `carbon-market`
    loads the project by its path: here from a copy of it at `x.y z/carbon`, with an empty home folder."""
    root = Path(__file__).resolve().parents[2]
    clone = tmp_path / "x.y z" / "carbon"
    clone.mkdir(parents=True)
    for name in ("contracts", "interfaces", "build"):
        shutil.copytree(root / name, clone / name)
    shutil.copy(root / "brownie-config.yaml", clone / "brownie-config.yaml")
    (clone / "node_modules").symlink_to(root / "node_modules")
    brownie_home = clone / ".toolchain" / "brownie-home" / ".brownie"
    brownie_home.mkdir(parents=True)
    shutil.copy(root / "network-config.yaml", brownie_home / "network-config.yaml")
    home = tmp_path / "empty home"
    program = Path(sys.executable).parent / "carbon-market"
    for command in ("", *COMMANDS):
        helped = subprocess.run([str(program), *([command] if command else []), "--help"], capture_output=True,
                                text=True, cwd=clone, env={**os.environ, "HOME": str(home)}, timeout=60)
        assert helped.returncode == 0 and helped.stdout.startswith("usage: carbon-market"), helped.stderr
    keys = {"DEPLOYER_PRIVATE_KEY": TEST_KEY, "REGULATOR_PRIVATE_KEY": REGULATOR_KEY, "HOME": str(home)}
    deployed = cli(records, "deploy", cwd=clone, UPGRADEABLE="0", **keys)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deployed the suite on local-live (chain id 31338)" in deployed.stdout
    record = json.loads((records / "local-live-31338.json").read_text())
    traced = cli(records, "trace", "account", record["regulator"], cwd=clone, HOME=str(home))
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "ParticipantRegistry.ParticipantOnboarded(account=" + record["regulator"] in traced.stdout
    assert not home.exists()  # nothing was written to the user's home folder
