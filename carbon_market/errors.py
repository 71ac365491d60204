"""Custom errors of the contracts as brownie raises them: readable messages for people, exact matching for tests.

Brownie turns a revert's data into text (``"Name: arg, arg"``) and drops the data. :func:`install` (run by the
command line and the test conftest, like :func:`carbon_market.receipts.install`) makes it keep the data beside the
text, so that :func:`decode` reads the error with the project's one codec (:mod:`carbon_market.codec`): typed
values by argument name, printed as the operations runner prints them. :func:`reverts` asserts a revert by name
and typed arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from brownie.exceptions import VirtualMachineError

from carbon_market.codec import Codec, render


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: Matches any argument value in :func:`reverts`.
ANY: Any = _Any()
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class RevertText(str):
    """Brownie's text for a revert, with the revert data it was made from (``data``)."""

    data: str = ""


def install() -> None:
    """Make brownie keep each revert's data beside its text (once; safe to call again)."""
    import brownie.exceptions
    import brownie.network.contract
    import brownie.network.transaction

    original = brownie.exceptions.decode_typed_error
    if getattr(original, "_carbon_market_fix", False):
        return

    def decode_typed_error(data: str) -> str:
        text = RevertText(original(data))
        text.data = data if isinstance(data, str) else "0x" + bytes(data).hex()
        return text

    decode_typed_error._carbon_market_fix = True  # type: ignore[attr-defined]
    for module in (brownie.exceptions, brownie.network.contract, brownie.network.transaction):
        module.decode_typed_error = decode_typed_error  # type: ignore[attr-defined]


@cache
def _codec() -> Codec:
    from carbon_market.suite import project

    return Codec({name: c.abi for name, c in project().dict().items()})


@dataclass(frozen=True)
class DecodedError:
    """A custom error as the chain reported it: its name, its arguments as brownie printed them, and (when the
    revert data was kept) its typed values by argument name."""

    name: str
    args: tuple[str, ...]
    values: tuple[tuple[str, Any], ...] | None = field(default=None)

    def __str__(self) -> str:
        if self.values is not None:
            return f"{self.name}({', '.join(f'{k}={render(v)}' for k, v in self.values)})"
        return f"{self.name}({', '.join(self.args)})"


def decode(exc: VirtualMachineError) -> DecodedError:
    """The error of a reverted call or transaction: through the codec from its data when brownie kept it, else
    from brownie's text."""
    message = exc.revert_msg or exc.revert_type or str(exc)
    data = getattr(exc.revert_msg, "data", "")
    if data and len(data) >= 10:
        name, values = _codec().error_parts(bytes.fromhex(data[2:]))
        if values is not None:
            return DecodedError(name, tuple(render(v) for _, v in values), tuple(values))
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


def same(expected: Any, actual: Any) -> bool:
    """Whether a decoded argument is the one a test expects: accounts and contracts by address (any case), enums
    and integers by value, bytes by bytes, tuples element by element; :data:`ANY` matches anything."""
    if expected is ANY:
        return True
    if hasattr(expected, "address"):
        expected = expected.address
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, int):
        return isinstance(expected, int) and int(expected) == actual
    if isinstance(actual, (bytes, bytearray)):
        return isinstance(expected, (bytes, bytearray)) and bytes(expected) == bytes(actual)
    if isinstance(actual, (list, tuple)):
        return (isinstance(expected, (list, tuple)) and len(expected) == len(actual)
                and all(same(e, a) for e, a in zip(expected, actual)))
    if isinstance(actual, str) and ADDRESS.match(actual):
        return str(expected).lower() == actual.lower()
    return str(expected) == str(actual)


def matches(decoded: DecodedError, error: str, args: tuple[Any, ...]) -> bool:
    """Whether ``decoded`` is ``error`` with ``args`` (no arguments given: any)."""
    if decoded.values is None:
        return bool(_pattern(error, args).fullmatch(f"{decoded.name}: {', '.join(decoded.args)}"
                                                    if decoded.args else decoded.name))
    if decoded.name != error:
        return False
    return not args or (len(args) == len(decoded.values)
                        and all(same(e, v) for e, (_, v) in zip(args, decoded.values)))


class RevertMismatch(AssertionError):
    """The call reverted, but not with the expected error."""


@contextmanager
def reverts(error: str, *args: Any) -> Iterator[None]:
    """Assert that the block reverts with custom error ``error`` and, if given, these arguments (all of them;
    compared as :func:`same` says)."""
    try:
        yield
    except VirtualMachineError as exc:
        decoded = decode(exc)
        if not matches(decoded, error, args):
            want = ", ".join("ANY" if a is ANY else _as_message_part(a) for a in args)
            raise RevertMismatch(f"expected {error}({want}), got {decoded}") from exc
        return
    raise AssertionError(f"expected a revert with {error}, but the call succeeded")
