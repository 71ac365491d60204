"""Token ids of the carbon allowance (ERC-1155), as ``contracts/libraries/AllowanceId.sol`` lays them out.

    bits 255..248  kind      1 = allowance of a compliance year, 2 = verified offset
    bits 247..232  vintage   the compliance year, or the year of the reductions
    bits 231..64   zero
    bits  63..0    project   0 for allowances; the offset project's number otherwise
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

KIND_SHIFT = 248
VINTAGE_SHIFT = 232
PROJECT_MASK = (1 << 64) - 1
RESERVED_MASK = ((1 << VINTAGE_SHIFT) - 1) ^ PROJECT_MASK
MIN_VINTAGE = 2000
MAX_VINTAGE = 2200


class Kind(IntEnum):
    ALLOWANCE = 1
    OFFSET = 2


@dataclass(frozen=True)
class TokenId:
    """A decoded token id."""

    kind: Kind
    vintage: int
    project: int = 0

    @property
    def value(self) -> int:
        return encode(self.kind, self.vintage, self.project)

    def __str__(self) -> str:
        if self.kind is Kind.ALLOWANCE:
            return f"allowance {self.vintage}"
        return f"offset project {self.project} vintage {self.vintage}"


def _check_vintage(vintage: int) -> None:
    if not MIN_VINTAGE <= vintage <= MAX_VINTAGE:
        raise ValueError(f"vintage {vintage} outside {MIN_VINTAGE}..{MAX_VINTAGE}")


def allowance_id(vintage: int) -> int:
    """The id of compliance year ``vintage``'s allowances."""
    _check_vintage(vintage)
    return (Kind.ALLOWANCE << KIND_SHIFT) | (vintage << VINTAGE_SHIFT)


def offset_id(project: int, vintage: int) -> int:
    """The id of offsets of ``project`` with reductions of year ``vintage``."""
    _check_vintage(vintage)
    if not 0 < project <= PROJECT_MASK:
        raise ValueError(f"offset project {project} must be in 1..2**64-1")
    return (Kind.OFFSET << KIND_SHIFT) | (vintage << VINTAGE_SHIFT) | project


def encode(kind: Kind | int, vintage: int, project: int = 0) -> int:
    """Encode any kind; raises ``ValueError`` for a combination the contract would reject."""
    if Kind(kind) is Kind.ALLOWANCE:
        if project:
            raise ValueError("allowances have no project")
        return allowance_id(vintage)
    return offset_id(project, vintage)


def is_valid(token_id: int) -> bool:
    """Whether ``token_id`` is well formed (the contract's ``AllowanceId.isValid``)."""
    if not 0 <= token_id < 1 << 256:
        return False
    kind = token_id >> KIND_SHIFT
    vintage = (token_id >> VINTAGE_SHIFT) & 0xFFFF
    project = token_id & PROJECT_MASK
    if token_id & RESERVED_MASK or not MIN_VINTAGE <= vintage <= MAX_VINTAGE:
        return False
    if kind == Kind.ALLOWANCE:
        return project == 0
    if kind == Kind.OFFSET:
        return project != 0
    return False


def decode(token_id: int) -> TokenId:
    """Split a token id into kind, vintage and project; raises ``ValueError`` if malformed."""
    if not is_valid(token_id):
        raise ValueError(f"not a valid allowance or offset id: {token_id:#x}")
    return TokenId(
        Kind(token_id >> KIND_SHIFT), (token_id >> VINTAGE_SHIFT) & 0xFFFF, token_id & PROJECT_MASK
    )
