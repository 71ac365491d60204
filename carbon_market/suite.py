"""Deploy and wire the contract suite, on whatever network brownie is connected to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from carbon_market.codec import Codec, Event
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
    compliance: Any
    offsets: Any
    market: Any
    desk: Any
    reserve: Any
    auction: Any
    breaker: Any


def project() -> Any:
    """The loaded brownie project, whose attributes are the contract containers."""
    import brownie

    loaded = brownie.project.get_loaded_projects()
    if not loaded:
        raise RuntimeError("no brownie project is loaded: run through `brownie run` or `brownie test`")
    return loaded[0]


def codec_for(suite: Suite) -> Codec:
    """Every custom error of the project, and the events of the suite's contracts."""
    codec = Codec({name: c.abi for name, c in project().dict().items()})
    for name in Suite.__dataclass_fields__:
        contract = getattr(suite, name)
        codec.watch(contract._name, contract.address)
    return codec


def events(contract: Any, from_block: int, to_block: int | str = "latest") -> list[Event]:
    """A deployed contract's events in chain order, decoded with its ABI (read over brownie's connection)."""
    from brownie import web3

    codec = Codec({contract._name: contract.abi})
    codec.watch(contract._name, contract.address)
    return codec.logs(web3, contract.address, from_block, to_block)


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
    """Deploy the registry, the three tokens, the compliance and offset contracts, and wire them.

    ``regulator`` is onboarded and made the money issuer; the compliance contract is registered as a system
    participant holding the allowance's issuer and surrender roles and the credit's rules role; the offset
    registry is registered and holds the allowance's issuer role; the market (with its linked libraries) is
    registered as a system participant, its fees going to the regulator until an exchange is appointed; so is
    the block-trade desk, which trades the market's instruments under the market's rules. The supply reserve
    and the primary auction are registered system participants that mint allowances (issuer role); the regulator
    is the auctioneer and, until it sets another, the auctions' treasury. The circuit breaker is a registered system
    participant holding the market's exchange role (a halt is a call phase).
    """
    contracts = project()
    tx = {"from": admin}
    registry = contracts.ParticipantRegistry.deploy(admin, tx)
    registry.onboard(onboarding(regulator, Role.REGULATOR, identity="regulator"), tx)
    allowance = contracts.CarbonAllowance.deploy(registry, base_uri, tx)
    credit = contracts.CreditToken.deploy(registry, list(tier_thresholds), tx)
    money_token = contracts.SettlementToken.deploy(registry, *money, tx)
    contracts.ComplianceLogic.deploy(tx)  # linked into Compliance by brownie
    compliance = contracts.Compliance.deploy(registry, allowance, credit, tx)
    offsets = contracts.OffsetRegistry.deploy(registry, allowance, tx)
    for library in (contracts.CallAuction, contracts.OrderBook, contracts.MarketParams):
        library.deploy(tx)  # linked into Market by brownie (CallAuction into OrderBook too, so first)
    market = contracts.Market.deploy(registry, allowance, money_token, credit, regulator, tx)
    desk = contracts.BlockTradeDesk.deploy(registry, market, allowance, money_token, credit, tx)
    reserve = contracts.SupplyReserve.deploy(registry, allowance, money_token, market, tx)
    auction = contracts.PrimaryAuction.deploy(registry, allowance, money_token, market, reserve, regulator, tx)
    breaker = contracts.CircuitBreaker.deploy(registry, market, tx)

    by_regulator = {"from": regulator}
    registry.onboardBatch(
        [onboarding(compliance, Role.SYSTEM, identity="compliance contract"),
         onboarding(offsets, Role.SYSTEM, identity="offset registry contract"),
         onboarding(market, Role.SYSTEM, identity="market contract"),
         onboarding(desk, Role.SYSTEM, identity="block trade desk contract"),
         onboarding(reserve, Role.SYSTEM, identity="supply reserve contract"),
         onboarding(auction, Role.SYSTEM, identity="primary auction contract"),
         onboarding(breaker, Role.SYSTEM, identity="circuit breaker contract")],
        by_regulator,
    )
    market.setDesk(desk, by_regulator)  # the desk's escrowed proposals count towards investors' positions
    money_token.grantRole(money_token.ISSUER_ROLE(), regulator, by_regulator)
    for role in (allowance.ISSUER_ROLE(), allowance.SURRENDER_ROLE()):
        allowance.grantRole(role, compliance, by_regulator)
    allowance.grantRole(allowance.ISSUER_ROLE(), offsets, by_regulator)
    credit.grantRole(credit.RULES_ROLE(), compliance, by_regulator)
    for minter in (reserve, auction):
        allowance.grantRole(allowance.ISSUER_ROLE(), minter, by_regulator)
    reserve.setAuction(auction, by_regulator)
    auction.grantRole(auction.AUCTIONEER_ROLE(), regulator, by_regulator)
    market.grantRole(market.EXCHANGE_ROLE(), breaker, by_regulator)  # halts open a call; resuming closes it
    return Suite(registry=registry, allowance=allowance, credit=credit, money=money_token,
                 compliance=compliance, offsets=offsets, market=market, desk=desk, reserve=reserve, auction=auction,
                 breaker=breaker)
