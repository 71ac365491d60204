"""Custom errors of the contracts: readable messages for people, exact matching for tests.

Brownie decodes a custom error it knows from the compiled project as ``"Name: arg, arg"``; this module
parses that form, so that tests assert a revert by error name and arguments and the command line prints
one clear line.
"""

from __future__ import annotations

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


def _normalise(value: Any) -> str:
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    return str(value).lower()


class RevertMismatch(AssertionError):
    """The call reverted, but not with the expected error."""


@contextmanager
def reverts(error: str, *args: Any) -> Iterator[None]:
    """Assert that the block reverts with custom error ``error`` and, if given, these arguments.

    Arguments compare by value: accounts and contracts by address (case-insensitive), enums and integers
    by integer value; :data:`ANY` matches anything.
    """
    try:
        yield
    except VirtualMachineError as exc:
        got = decode(exc)
        if got.name != error:
            raise RevertMismatch(f"expected {error}, got {got}") from exc
        if args:
            want = [_normalise(a) for a in args]
            have = [a.lower() for a in got.args]
            same = len(want) == len(have) and all(
                a is ANY or w == h for a, w, h in zip(args, want, have)
            )
            if not same:
                raise RevertMismatch(f"expected {error}({', '.join(want)}), got {got}") from exc
        return
    raise AssertionError(f"expected a revert with {error}, but the call succeeded")
