"""Participant roles and statuses, as the registry stores them (see ``contracts/libraries/Roles.sol``)."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class Role(IntFlag):
    """Role bits of a participant record; a participant may hold several."""

    REGULATOR = 1 << 0
    VERIFIER = 1 << 1
    ENTERPRISE = 1 << 2
    INVESTOR = 1 << 3
    OFFSET_DEVELOPER = 1 << 4
    EXCHANGE = 1 << 5
    SYSTEM = 1 << 6


ALL_ROLES = Role(0)
for _role in Role:
    ALL_ROLES |= _role


class Status(IntEnum):
    """Life-cycle state of a participant record (``IParticipantRegistry.Status``)."""

    NONE = 0
    ACTIVE = 1
    FROZEN = 2
    REVOKED = 3


def parse_roles(text: str) -> Role:
    """Parse ``"enterprise|offset_developer"`` (or comma-separated) into a role mask."""
    mask = Role(0)
    for name in text.replace(",", "|").split("|"):
        name = name.strip().upper()
        if not name:
            continue
        try:
            mask |= Role[name]
        except KeyError:
            known = ", ".join(str(r.name).lower() for r in Role)
            raise ValueError(f"unknown role {name.lower()!r}; known roles: {known}") from None
    if not mask:
        raise ValueError("no role given")
    return mask


def role_names(mask: int) -> list[str]:
    """The names of the roles in ``mask``, lowest bit first."""
    return [str(r.name).lower() for r in Role if mask & r]
