"""How long to wait before trying again: the outbox's sends and the inbox's events back off alike."""

from __future__ import annotations

from datetime import timedelta


def backoff(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """`base` after the first failed attempt, doubling after each one, never more than `cap`."""
    delay: timedelta = base * (2 ** max(0, attempts - 1))
    return min(cap, delay)
