"""Replace the code of a deployed suite's parts, keeping their state (participants, balances, supply counters,
compliance records, open orders).

Each part of an upgradeable suite (``deploy_suite(upgradeable=True)``) is an ERC-1967 transparent proxy
(``SuiteProxy``); the state lives in the proxy, the code in an implementation it delegates to. An upgrade deploys the
part's new code, constructed as the part was (the same immutables: the other parts' proxies), and the owner of the
proxy's ProxyAdmin points the proxy at it. Which layouts of storage a new version may have is checked by `make lint`
(``toolchain/storage_layout.py``: variables only appended).
"""

from __future__ import annotations

from typing import Any

from carbon_market.failures import CarbonMarketError
from carbon_market.suite import ADMIN_SLOT, IMPLEMENTATION_SLOT, PARTS, Suite, implementation, project, seen_as


class UpgradeError(CarbonMarketError):
    """An upgrade cannot go ahead (a part that is not behind a proxy, an unknown part)."""


def _address_in(contract: str, slot: int) -> str:
    from brownie import web3

    word = web3.eth.get_storage_at(contract, slot)
    return web3.to_checksum_address(bytes(word)[-20:])


def code_of(part: Any) -> str:
    """The implementation a part's proxy delegates to (the zero address when the part is not a proxy)."""
    return _address_in(part.address, IMPLEMENTATION_SLOT)


def proxy_admin_of(part: Any) -> Any:
    """The ProxyAdmin contract that may upgrade a part."""
    admin = _address_in(part.address, ADMIN_SLOT)
    if int(admin, 16) == 0:
        raise UpgradeError(f"{part._name} at {part.address} is not behind a proxy: its code is final "
                           f"(deploy with upgradeable proxies to replace code later)")
    return project().ProxyAdmin.at(admin)


def new_code(suite: Suite, part: str, signer: Any, regulator: Any, container: Any = None) -> Any:
    """Deploy ``part``'s new code (``container``'s, or its own contract's as compiled now), signed by ``signer``
    (anyone may deploy code; only the ProxyAdmin's owner points the proxy at it)."""
    if part not in PARTS:
        raise UpgradeError(f"no part {part!r} in a suite: one of {', '.join(PARTS)}")
    proxy_admin_of(getattr(suite, part))  # a part behind a proxy, or one line
    parts = {name: getattr(suite, name) for name in PARTS}
    return implementation(part, parts, signer, regulator, {"from": signer}, container=container)


def upgrade(suite: Suite, part: str, owner: Any, regulator: Any, container: Any = None) -> tuple[Suite, Any]:
    """Replace ``part``'s code with ``container``'s (or its own contract's, compiled now), signed by ``owner`` (the
    ProxyAdmin's owner). Returns the suite seen through the new code, and the upgrade's receipt."""
    code = new_code(suite, part, owner, regulator, container)
    proxy = getattr(suite, part)
    receipt = proxy_admin_of(proxy).upgradeAndCall(proxy, code, b"", {"from": owner})
    parts = {name: getattr(suite, name) for name in PARTS}
    return Suite(**{**parts, part: seen_as(code, proxy.address, proxy.tx)}), receipt
