"""Deploy and wire the contract suite, on whatever network brownie is connected to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from carbon_market.roles import Role

DEFAULT_BASE_URI = "ipfs://carbon-market/"
#: A balance of at least 100, 500, 2,000 credit reaches tier 1, 2, 3.
DEFAULT_TIER_THRESHOLDS: tuple[int, ...] = (100, 500, 2_000)
DEFAULT_MONEY = ("Digital Yuan (test)", "tCNY")
#: The settlement token's decimals (``SettlementToken.decimals``).
MONEY_DECIMALS = 6
MONEY_UNIT = 10**MONEY_DECIMALS


@dataclass(frozen=True)
class Suite:
    """The deployed contracts of one market."""

    registry: Any
    allowance: Any
    credit: Any
    money: Any


def project() -> Any:
    """The loaded brownie project, whose attributes are the contract containers."""
    import brownie

    loaded = brownie.project.get_loaded_projects()
    if not loaded:
        raise RuntimeError("no brownie project is loaded: run through `brownie run` or `brownie test`")
    return loaded[0]


def identity_hash(document: str | bytes) -> bytes:
    """The keccak-256 hash under which a participant's identity documents are registered."""
    return keccak(document.encode() if isinstance(document, str) else document)


def onboarding(
    account: Any, roles: int, *, region: int = 0, sector: int = 0, identity: str | bytes = b""
) -> tuple[str, int, bytes, int, int]:
    """An ``IParticipantRegistry.Onboarding`` tuple for ``onboard``, ``onboardBatch`` and ``update``."""
    address = account.address if hasattr(account, "address") else str(account)
    doc = identity or f"identity documents of {address}"
    return (address, int(roles), identity_hash(doc), region, sector)


def deploy_suite(
    admin: Any,
    regulator: Any,
    *,
    base_uri: str = DEFAULT_BASE_URI,
    tier_thresholds: Sequence[int] = DEFAULT_TIER_THRESHOLDS,
    money: tuple[str, str] = DEFAULT_MONEY,
) -> Suite:
    """Deploy the registry and the three tokens, onboard ``regulator`` and make it the money issuer."""
    contracts = project()
    registry = contracts.ParticipantRegistry.deploy(admin, {"from": admin})
    registry.onboard(
        onboarding(regulator, Role.REGULATOR, identity="regulator"), {"from": admin}
    )
    allowance = contracts.CarbonAllowance.deploy(registry, base_uri, {"from": admin})
    credit = contracts.CreditToken.deploy(registry, list(tier_thresholds), {"from": admin})
    money_token = contracts.SettlementToken.deploy(registry, *money, {"from": admin})
    money_token.grantRole(money_token.ISSUER_ROLE(), regulator, {"from": regulator})
    return Suite(registry=registry, allowance=allowance, credit=credit, money=money_token)
