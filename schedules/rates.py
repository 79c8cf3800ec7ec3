"""The platforms' sending rates, and a limiter that spaces messages to stay under them.

- Slack: about one message per second per channel (chat.postMessage's special limit).
- Telegram: about 30 messages per second per bot overall, 20 per minute per group (a negative
  chat id), about one per second per private chat.
- Console: no limit.

The limiter spaces messages evenly (no bursts): a message may start at the latest of the "next free
moment" of each rate it falls under, and booking it moves those moments on by one interval. A 429's
Retry-After holds the row's rates until then, so the rest of a batch waits too. The limiter is per
worker process; with several workers on one bot, each drains at the full rate (run one worker per
bot, or give each a share with `scale`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    interval: timedelta  # the minimum time between two messages under this rate


SLACK_PER_CHANNEL = timedelta(seconds=1)
TELEGRAM_OVERALL = timedelta(microseconds=33_334)  # 30 per second, rounded up so 30 never fit in < 1 s
TELEGRAM_PER_GROUP = timedelta(seconds=3)  # 20 per minute
TELEGRAM_PER_PRIVATE_CHAT = timedelta(seconds=1)


def platform_rates(platform: str, workspace: str, chat: str, *, scale: float = 1.0) -> tuple[Rate, ...]:
    """The rates one message to (platform, workspace, chat) falls under; `scale` > 1 slows them."""
    rates: tuple[Rate, ...]
    if platform == "slack":
        rates = (Rate(f"slack:{workspace}:{chat}", SLACK_PER_CHANNEL),)
    elif platform == "telegram":
        per_chat = TELEGRAM_PER_GROUP if chat.startswith("-") else TELEGRAM_PER_PRIVATE_CHAT
        rates = (
            Rate(f"telegram:{workspace}", TELEGRAM_OVERALL),
            Rate(f"telegram:{workspace}:{chat}", per_chat),
        )
    else:
        rates = ()
    return tuple(Rate(rate.key, rate.interval * scale) for rate in rates)


class Limiter:
    """Next free moment per rate key. Not thread-safe: one dispatcher (one event loop) owns it."""

    def __init__(self) -> None:
        self._free: dict[str, datetime] = {}
        self._held: dict[str, datetime] = {}

    def earliest(self, rates: Sequence[Rate], now: datetime) -> datetime:
        moment = now
        for rate in rates:
            moment = max(moment, self._free.get(rate.key, now), self._held.get(rate.key, now))
        return moment

    def book(self, rates: Sequence[Rate], at: datetime) -> None:
        for rate in rates:
            self._free[rate.key] = max(self._free.get(rate.key, at), at) + rate.interval

    def hold(self, rates: Sequence[Rate], until: datetime) -> None:
        """The platform said "retry after": nothing under these rates starts before `until`."""
        for rate in rates:
            self._held[rate.key] = max(self._held.get(rate.key, until), until)

    def held_until(self, rates: Sequence[Rate], now: datetime) -> datetime:
        moment = now
        for rate in rates:
            moment = max(moment, self._held.get(rate.key, now))
        return moment
