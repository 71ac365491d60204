"""Every setting the harness takes from its environment, read in one place and only when asked (never at import):
what the README's settings table documents. The project's ``.env`` is read once, the environment winning over it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from carbon_market.failures import BadInput

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class Settings:
    #: where deployment records are kept
    deployments: Path
    #: where ``ops`` keeps its journals unless one is named
    journals: Path
    #: the journal ``ops`` writes (``JOURNAL=``), if named
    journal: str
    #: deploy afresh even where a record exists
    redeploy: bool
    #: stop ``ops`` after this many transactions (fault injection, for the recovery tests)
    crash_after: int | None
    #: blocks a transaction of ``deploy`` or ``ops`` must have on top of it, itself included, on a live network
    confirmations: int = 1
    #: ``deploy`` puts each part behind a proxy whose code can be replaced: yes, no, or None (on live networks only)
    upgradeable: bool | None = None
    #: ``deploy`` hands the suite to a timelock whose council is these approvers (none: every regulator governs)
    approvers: tuple[str, ...] = ()
    #: how many of the approvers approve a governed action
    threshold: int = 2
    #: how long the timelock holds an approved action, in seconds
    delay: int = 2 * 86_400


_dotenv_read = False


def _read_dotenv() -> None:
    global _dotenv_read
    if not _dotenv_read:
        from dotenv import load_dotenv

        load_dotenv(Path(".env"), override=False)  # the environment wins over the file
        _dotenv_read = True


def secret(name: str) -> str | None:
    """A key or account name (``DEPLOYER_PRIVATE_KEY``, a participant's key variable) from the environment or
    the project's ``.env``; None when neither sets it."""
    _read_dotenv()
    return os.environ.get(name) or None


def current() -> Settings:
    """The settings as the environment gives them now."""
    crash = os.environ.get("CARBON_MARKET_CRASH_AFTER", "")
    return Settings(deployments=Path(os.environ.get("CARBON_MARKET_DEPLOYMENTS") or "deployments"),
                    journals=Path(os.environ.get("CARBON_MARKET_JOURNALS") or "journals"),
                    journal=os.environ.get("JOURNAL", ""),
                    redeploy=os.environ.get("REDEPLOY", "") not in ("", "0"),
                    crash_after=int(crash) if crash.isdigit() else None,
                    confirmations=_whole("CONFIRMATIONS", 1), upgradeable=_yes_or_no("UPGRADEABLE"),
                    approvers=_addresses("GOVERNANCE_APPROVERS"), threshold=_whole("GOVERNANCE_THRESHOLD", 2),
                    delay=_whole("GOVERNANCE_DELAY", 2 * 86_400))


def _addresses(name: str) -> tuple[str, ...]:
    found = tuple(a.strip() for a in os.environ.get(name, "").split(",") if a.strip())
    bad = [a for a in found if not ADDRESS.match(a)]
    if bad:
        raise BadInput(f"{name} must be addresses separated by commas, not {', '.join(bad)}")
    return found


def _yes_or_no(name: str) -> bool | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if text not in ("0", "1"):
        raise BadInput(f"{name} must be 1 (behind proxies) or 0 (code final), not {text!r}")
    return text == "1"


def _whole(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"{name} must be a whole number of 1 or more, not {text!r}")
    return int(text)
