"""The surveillance policy: which rules run and their parameters, from a YAML file checked like an operations
file (every mistake at once, each with its line). A rule the file does not name runs with its defaults; a rule
given ``enabled: no`` does not run.

    wash: {min_lots: 1}
    spoofing: {large_multiple: 10, max_life: 10m}
    compliance_risk: {days_before: 30, severity: critical}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from carbon_market.failures import BadInput
from carbon_market.ops.spec import duration, flag, natural

SEVERITIES = ("info", "low", "medium", "high", "critical")


def _severity(value: Any) -> str:
    if str(value) not in SEVERITIES:
        raise ValueError(f"severity is one of {', '.join(SEVERITIES)}, not {value!r}")
    return str(value)


def _share(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 100:
        raise ValueError(f"{value!r} is not a percentage above 0 and at most 100")
    return number


def _ratio(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} is not a ratio above 0 and at most 1")
    return number


def _count(value: Any) -> int:
    return natural(value)


#: every rule, its parameters (parser, default) and what it watches
RULES: dict[str, dict[str, tuple[Callable[[Any], Any], Any]]] = {
    "wash": {"severity": (_severity, "high"), "min_lots": (_count, 1)},
    "circular": {"severity": (_severity, "high"), "window": (duration, 86_400), "max_length": (_count, 4),
                 "min_lots": (_count, 1)},
    "spoofing": {"severity": (_severity, "high"), "large_multiple": (_count, 10), "min_large_lots": (_count, 20),
                 "max_life": (duration, 600), "ratio": (_ratio, 0.9), "ratio_min_orders": (_count, 20),
                 "ratio_min_multiple": (_count, 3), "opposite_trade": (flag, True),
                 "near_ticks": (_count, 1)},
    "marking_close": {"severity": (_severity, "medium"), "close_minutes": (_count, 30),
                      "threshold_bps": (_count, 300), "call_threshold_bps": (_count, 500)},
    "concentration": {"severity": (_severity, "info"), "large_holder_pct": (_share, 10),
                      "volume_share_pct": (_share, 25), "min_volume_lots": (_count, 100)},
    "limits": {"severity": (_severity, "medium"), "warn_pct": (_share, 80), "price_at_limit": (flag, True)},
    "compliance_risk": {"severity": (_severity, "high"), "days_before": (_count, 30)},
}


@dataclass(frozen=True)
class Policy:
    path: str
    rules: dict[str, dict[str, Any]]  # the rules that run, each with every parameter

    def __getitem__(self, rule: str) -> dict[str, Any]:
        return self.rules[rule]


def default() -> Policy:
    """Every rule with its defaults."""
    return Policy("(defaults)", {rule: {k: d for k, (_, d) in params.items()} for rule, params in RULES.items()})


def load(path: str | Path | None) -> Policy:
    """The policy of ``path`` (None: the defaults); raises :class:`BadInput` listing every mistake with its line."""
    if path is None:
        return default()
    path = Path(path)
    try:
        text = path.read_text()
        node, document = yaml.compose(text), yaml.safe_load(text)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BadInput(f"{path}: {f'line {mark.line + 1}: ' if mark else ''}not valid YAML") from None
    document = document or {}
    if not isinstance(document, dict):
        raise BadInput(f"{path}: expected a mapping of rules ({', '.join(RULES)})")
    lines = {getattr(k, "value", ""): k.start_mark.line + 1 for k, _ in getattr(node, "value", [])}
    problems, rules = [], {}
    for rule, params in RULES.items():
        given = document.get(rule) or {}
        where = f"line {lines.get(rule, '?')} ({rule})"
        if not isinstance(given, dict):
            problems.append(f"{where}: expected its parameters as a mapping")
            continue
        unknown = [k for k in given if k not in params and k != "enabled"]
        if unknown:
            problems.append(f"{where}: unknown parameter {unknown[0]!r}; parameters are {', '.join(params)}")
        values = {}
        for name, (parse, fallback) in params.items():
            try:
                values[name] = parse(given[name]) if name in given else fallback
            except (ValueError, TypeError) as exc:
                problems.append(f"{where}: {name}: {exc}")
        try:
            enabled = flag(given.get("enabled", True))
        except ValueError as exc:
            problems.append(f"{where}: enabled: {exc}")
            continue
        if enabled:
            rules[rule] = values
    unknown_rules = [r for r in document if r not in RULES]
    problems += [f"line {lines.get(r, '?')}: unknown rule {r!r}; rules are {', '.join(RULES)}" for r in unknown_rules]
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise BadInput(f"{path}: {problems[0]}{more}")
    return Policy(str(path), rules)
