"""Custom errors of the contracts: readable messages for people, exact matching for tests.

Brownie decodes a custom error it knows from the compiled project as ``"Name: arg, arg"``; this module
parses that form, so that tests assert a revert by error name and arguments and the command line prints
one clear line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from brownie.exceptions import VirtualMachineError


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: Matches any argument value in :func:`reverts`.
ANY: Any = _Any()


@dataclass(frozen=True)
class DecodedError:
    """A custom error as the chain reported it."""

    name: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


def decode(exc: VirtualMachineError) -> DecodedError:
    """The error name and argument strings of a reverted call or transaction."""
    message = exc.revert_msg or exc.revert_type or str(exc)
    name, sep, rest = message.partition(": ")
    if not sep or " " in name:
        return DecodedError(message, ())
    return DecodedError(name, tuple(a.strip() for a in rest.split(", ")) if rest else ())


def _as_message_part(value: Any) -> str:
    """``value`` as brownie prints a decoded error argument (addresses compare case-insensitively)."""
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, (bytes, bytearray)):
        return str(bytes(value))
    return str(value)


def _pattern(error: str, args: tuple[Any, ...]) -> re.Pattern[str]:
    parts = [".*?" if a is ANY else re.escape(_as_message_part(a)) for a in args]
    return re.compile(re.escape(error) + (": " + ", ".join(parts) if args else "(: .*)?"), re.I | re.S)


class RevertMismatch(AssertionError):
    """The call reverted, but not with the expected error."""


@contextmanager
def reverts(error: str, *args: Any) -> Iterator[None]:
    """Assert that the block reverts with custom error ``error`` and, if given, these arguments.

    Arguments compare by value as brownie prints them: accounts and contracts by address
    (case-insensitive), enums and integers by integer value, ``bytes32`` as ``bytes``; :data:`ANY`
    matches anything.
    """
    try:
        yield
    except VirtualMachineError as exc:
        message = exc.revert_msg or exc.revert_type or str(exc)
        if not _pattern(error, args).fullmatch(message):
            want = ", ".join(_as_message_part(a) for a in args)
            raise RevertMismatch(f"expected {error}({want}), got {message}") from exc
        return
    raise AssertionError(f"expected a revert with {error}, but the call succeeded")
