"""Printing for the demo and scripts: headlines and lines of the story, and brownie's per-transaction lines
hidden while the story goes on."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import TextIO

#: where the story goes while :func:`quiet` hides everything else (the output before the outermost ``quiet``)
_story: list[TextIO] = []


def _out() -> TextIO:
    return _story[0] if _story else sys.stdout


def say(text: str) -> None:
    """A headline of the story."""
    print(f"\n== {text}", file=_out(), flush=True)


def show(text: str = "") -> None:
    """A line of the story."""
    print(text, file=_out(), flush=True)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide brownie's per-transaction lines; :func:`say` and :func:`show` still print."""
    _story.append(sys.stdout)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        _story.pop()
