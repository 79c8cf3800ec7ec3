"""Waiting for something to happen, never for a while.

Tests wait for an observable condition (a call reached a stand-in, a row changed, a line was
printed), checked often, with one generous bound for a busy machine. A passing test never waits the
bound out, so it costs nothing; a failing one says what it waited for and what it saw instead.
`sleep(n)` followed by an assertion is never used: on a slow machine it is too short, on a fast one
it is wasted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PATIENCE = 60.0  # seconds; pytest-timeout (pyproject) ends a test that hangs for longer
POLL = 0.01


def _failure(what: str, seconds: float, seen: Callable[[], object] | None) -> AssertionError:
    report = f"; saw {seen()}" if seen is not None else ""
    return AssertionError(f"{what} not met within {seconds:g} s{report}")


def wait_until(
    check: Callable[[], bool],
    *,
    what: str = "condition",
    seconds: float = PATIENCE,
    seen: Callable[[], object] | None = None,
) -> None:
    """Block until `check()` is true (for tests whose app runs in other threads or processes)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise _failure(what, seconds, seen)
        time.sleep(POLL)


async def until(
    check: Callable[[], bool],
    *,
    what: str = "condition",
    seconds: float = PATIENCE,
    seen: Callable[[], object] | None = None,
) -> None:
    """Wait until `check()` is true without blocking the event loop the app under test runs on."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise _failure(what, seconds, seen)
        await asyncio.sleep(POLL)
