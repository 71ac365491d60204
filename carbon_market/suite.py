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


#: the parts of a suite in deployment order (each one's constructor takes parts before it)
PARTS = ("registry", "allowance", "credit", "money", "compliance", "offsets", "market", "desk", "reserve", "auction",
         "breaker")
#: the libraries linked into a part's code, deployed (in this order) before it
LIBRARIES = {"compliance": ("ComplianceLogic",), "market": ("CallAuction", "OrderBook", "MarketParams")}
#: ERC-1967's slots: a proxy's implementation and its admin (the ProxyAdmin contract that may upgrade it)
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
ADMIN_SLOT = 0xB53127684A568B3173AE13B9F8A6016E243E63B6E8EE1178D6A717850B5D6103


@dataclass(frozen=True)
class Options:
    """What a deployment may choose."""

    base_uri: str = DEFAULT_BASE_URI
    tier_thresholds: Sequence[int] = DEFAULT_TIER_THRESHOLDS
    money: tuple[str, str] = DEFAULT_MONEY


def constructor(part: str, parts: dict[str, Any], admin: Any, regulator: Any,
                options: Options = Options()) -> tuple[str, tuple[Any, ...], tuple[Any, ...]]:
    """(contract, constructor arguments, ``initialize`` arguments) of a suite part, from the parts deployed before
    it. The constructor takes the immutables (the parts it calls) and what
    ``initialize`` takes, which it runs itself; a proxy runs ``initialize`` on its own storage."""
    p, o = parts, options
    tiers = list(o.tier_thresholds)
    table: dict[str, tuple[str, tuple[Any, ...], tuple[Any, ...]]] = {
        "registry": ("ParticipantRegistry", (), (admin,)),
        "allowance": ("CarbonAllowance", (p.get("registry"),), (o.base_uri,)),
        "credit": ("CreditToken", (p.get("registry"),), (tiers,)),
        "money": ("SettlementToken", (p.get("registry"),), tuple(o.money)),
        "compliance": ("Compliance", (p.get("registry"), p.get("allowance"), p.get("credit")), ()),
        "offsets": ("OffsetRegistry", (p.get("registry"), p.get("allowance")), ()),
        "market": ("Market", (p.get("registry"), p.get("allowance"), p.get("money"), p.get("credit")), (regulator,)),
        "desk": ("BlockTradeDesk", (p.get("registry"), p.get("market"), p.get("allowance"), p.get("money"),
                                    p.get("credit")), ()),
        "reserve": ("SupplyReserve", (p.get("registry"), p.get("allowance"), p.get("money"), p.get("market")), ()),
        "auction": ("PrimaryAuction", (p.get("registry"), p.get("allowance"), p.get("money"), p.get("market"),
                                       p.get("reserve")), (regulator,)),
        "breaker": ("CircuitBreaker", (p.get("registry"), p.get("market")), ()),
    }
    name, immutables, init = table[part]
    return name, immutables + init, init


def implementation(part: str, parts: dict[str, Any], admin: Any, regulator: Any, tx: dict[str, Any],
                   options: Options = Options(), container: Any = None) -> Any:
    """Deploy the code of a suite part (``container``, or the part's own contract), its libraries first: the
    contract itself in a direct deployment, the implementation behind its proxy otherwise."""
    contracts = project()
    name, args, _ = constructor(part, parts, admin, regulator, options)
    for library in LIBRARIES.get(part, ()):
        getattr(contracts, library).deploy(tx)  # linked by brownie (CallAuction into OrderBook too, so first)
    code = container if container is not None else getattr(contracts, name)  # an empty container is falsy
    return code.deploy(*args, tx)


def _behind_proxy(code: Any, owner: Any, init: tuple[Any, ...], tx: dict[str, Any]) -> Any:
    """A transparent proxy of ``code`` (OpenZeppelin's: its own ProxyAdmin, owned by ``owner``, alone may upgrade
    it), initialized in its constructor, seen through the part's ABI. The proxy's code is not the implementation's,
    so brownie gets no source map to trace it with."""
    data = code.initialize.encode_input(*init)
    proxy = project().SuiteProxy.deploy(code, owner, data, tx)
    return seen_as(code, proxy.address, proxy.tx)


def seen_as(code: Any, address: str, tx: Any = None) -> Any:
    """The contract at ``address`` (a proxy) through the ABI of ``code`` (its implementation), in brownie's map of
    contracts, where events and reverts at that address are decoded. The proxy's code is not the implementation's,
    so brownie gets no source map to trace it with."""
    from brownie.network.contract import ProjectContract
    from brownie.network.state import _add_contract, _find_contract, _remove_contract

    known = _find_contract(address)
    if known is not None:
        _remove_contract(known)
    build = dict(code._build)
    build.pop("pcMap", None)
    build["proxy"] = True  # for the coverage tool: this code is not the build's
    seen = ProjectContract(project(), build, address, None, tx)
    _add_contract(seen)
    return seen


def deploy_suite(
    admin: Any,
    regulator: Any,
    *,
    base_uri: str = DEFAULT_BASE_URI,
    tier_thresholds: Sequence[int] = DEFAULT_TIER_THRESHOLDS,
    money: tuple[str, str] = DEFAULT_MONEY,
    upgradeable: bool = False,
) -> Suite:
    """Deploy the registry, the three tokens, the compliance and offset contracts, and wire them.

    ``upgradeable``: each part behind a transparent proxy whose admin (a ProxyAdmin owned by ``admin``) may replace
    its code keeping its storage (`carbon_market.upgrade`); a call costs the proxy's hop, about 5,000 gas the
    first time in a transaction (README). Otherwise the contracts themselves, whose code is final.

    ``regulator`` is onboarded and made the money issuer; the compliance contract is registered as a system
    participant holding the allowance's issuer and surrender roles and the credit's rules role; the offset
    registry is registered and holds the allowance's issuer role; the market (with its linked libraries) is
    registered as a system participant, its fees going to the regulator until an exchange is appointed; so is
    the block-trade desk, which trades the market's instruments under the market's rules. The supply reserve
    and the primary auction are registered system participants that mint allowances (issuer role); the regulator
    is the auctioneer and, until it sets another, the auctions' treasury. The circuit breaker is a registered system
    participant holding the market's exchange role (a halt is a call phase).
    """
    tx = {"from": admin}
    options = Options(base_uri=base_uri, tier_thresholds=tuple(tier_thresholds), money=money)
    parts: dict[str, Any] = {}
    for part in PARTS:
        code = implementation(part, parts, admin, regulator, tx, options)
        init = constructor(part, parts, admin, regulator, options)[2]
        parts[part] = _behind_proxy(code, admin, init, tx) if upgradeable else code
        if part == "registry":
            parts[part].onboard(onboarding(regulator, Role.REGULATOR, identity="regulator"), tx)
    registry, allowance, credit, money_token, compliance, offsets, market, desk, reserve, auction, breaker = (
        parts[part] for part in PARTS)
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
