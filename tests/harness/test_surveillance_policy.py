"""The surveillance policy file: the project's own policy reads, defaults fill what a file leaves out, a rule can be
turned off, and every mistake is one line naming its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbon_market.failures import BadInput
from carbon_market.surveillance import policy

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_projects_policy_runs_every_rule():
    loaded = policy.load(ROOT / "policies" / "surveillance.yaml")
    assert set(loaded.rules) == set(policy.RULES)
    assert loaded["spoofing"]["max_life"] == 600 and loaded["circular"]["window"] == 86_400


def test_a_rule_left_out_runs_with_its_defaults_and_one_can_be_turned_off(tmp_path):
    loaded = policy.load(_write(tmp_path, "wash: {min_lots: 3}\nlimits: {enabled: no}\n"))
    assert loaded["wash"] == {"severity": "high", "min_lots": 3}
    assert "limits" not in loaded.rules and loaded["spoofing"] == policy.default()["spoofing"]


@pytest.mark.parametrize("text, message", [
    ("wash: {min_lots: -1}\n", "line 1 (wash): min_lots: -1 is outside"),
    ("wash: {min_lot: 1}\n", "line 1 (wash): unknown parameter 'min_lot'"),
    ("# a comment\nwahs: {}\n", "line 2: unknown rule 'wahs'"),
    ("spoofing:\n  max_life: soon\n", "line 1 (spoofing): max_life: a duration is"),
    ("concentration: {large_holder_pct: 150}\n", "large_holder_pct: 150 is not a percentage"),
    ("wash: {severity: urgent}\n", "severity is one of info, low, medium, high, critical"),
    ("wash: [1, 2]\n", "line 1 (wash): expected its parameters as a mapping"),
    ("wash: {min_lots: 1\n", "not valid YAML"),
    ("- wash\n", "expected a mapping of rules"),
])
def test_a_malformed_policy_is_one_line_with_its_place(tmp_path, text, message):
    with pytest.raises(BadInput) as raised:
        policy.load(_write(tmp_path, text))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_policy_file_is_named(tmp_path):
    with pytest.raises(BadInput, match="cannot read it"):
        policy.load(tmp_path / "nowhere.yaml")
