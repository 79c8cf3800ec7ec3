"""The platforms' sending rates, and a limiter that spaces messages to stay under them.

- Slack: about one message per second per channel (chat.postMessage's special limit).
- Telegram: about 30 messages per second per bot overall, 20 per minute per group (a negative
  chat id), about one per second per private chat.
- Console: no limit.

Messages are spaced evenly (no bursts): a message may start at the latest of the "next free
moment" of each rate it falls under, and sending it moves those moments on by one interval per
platform message it makes (a text with a file is two). A 429's Retry-After holds the row's rates
until then, so the rest waits too.

Two layers. A worker's `Limiter` plans its batch (which row goes when, in order, and which rows wait
for a later tick); it is local and cheap. The `RateGate` is the truth every worker shares: right
before a send, the worker takes the rates' next free moment in the database (one short transaction,
rows locked in key order), and waits and asks again when another worker took it first. So N workers
together keep each limit, and a send that started late never squeezes the next one closer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.db import SessionFactory, transaction
from storage.models import RateBooking


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    interval: timedelta  # the minimum time between two messages under this rate


SLACK_PER_CHANNEL = timedelta(seconds=1)
TELEGRAM_OVERALL = timedelta(microseconds=33_334)  # 30 per second, rounded up so 30 never fit in < 1 s
# 20 per minute, with a margin: the jitter between our send and its arrival must never put two
# messages closer than Telegram's 3 s.
TELEGRAM_PER_GROUP = timedelta(seconds=3.25)
TELEGRAM_PER_PRIVATE_CHAT = timedelta(seconds=1)


def platform_rates(platform: str, workspace: str, chat: str) -> tuple[Rate, ...]:
    """The rates one message to (platform, workspace, chat) falls under."""
    if platform == "slack":
        return (Rate(f"slack:{workspace}:{chat}", SLACK_PER_CHANNEL),)
    if platform == "telegram":
        per_chat = TELEGRAM_PER_GROUP if chat.startswith("-") else TELEGRAM_PER_PRIVATE_CHAT
        return (Rate(f"telegram:{workspace}", TELEGRAM_OVERALL), Rate(f"telegram:{workspace}:{chat}", per_chat))
    return ()


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

    def book(self, rates: Sequence[Rate], at: datetime, *, parts: int = 1) -> None:
        for rate in rates:
            self._free[rate.key] = max(self._free.get(rate.key, at), at) + rate.interval * parts

    def hold(self, rates: Sequence[Rate], until: datetime) -> None:
        """The platform said "retry after": nothing under these rates starts before `until`."""
        for rate in rates:
            self._held[rate.key] = max(self._held.get(rate.key, until), until)

    def held_until(self, rates: Sequence[Rate], now: datetime) -> datetime:
        moment = now
        for rate in rates:
            moment = max(moment, self._held.get(rate.key, now))
        return moment


class RateGate:
    """The rates' next free moments, in the database every worker shares."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def take(self, rates: Sequence[Rate], now: datetime, *, parts: int = 1) -> datetime | None:
        """Start now (None) and move the rates on by `parts` intervals; or the moment to ask again."""
        if not rates:
            return None
        with transaction(self.sessions) as session:
            rows = _locked(session, rates, now)
            moment = max([now, *(row.free_at for row in rows), *(row.held_until or now for row in rows)])
            if moment > now:
                return moment
            for rate, row in zip(sorted(rates, key=lambda r: r.key), rows, strict=True):
                row.free_at = now + rate.interval * parts
                session.add(row)
        return None

    def hold(self, rates: Sequence[Rate], until: datetime) -> None:
        with transaction(self.sessions) as session:
            for row in _locked(session, rates, until):
                row.held_until = max(row.held_until or until, until)
                session.add(row)


def _locked(session: Session, rates: Sequence[Rate], now: datetime) -> list[RateBooking]:
    """The rates' rows, created when missing, locked in key order (so two workers never deadlock)."""
    keys = sorted({rate.key for rate in rates})
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # On SQLite this insert also takes the write lock, so reading and moving on are one step there too.
    session.execute(make(RateBooking).values([{"key": key, "free_at": now} for key in keys]).on_conflict_do_nothing())
    query = select(RateBooking).where(col(RateBooking.key).in_(keys)).order_by(col(RateBooking.key))
    return list(session.exec(query.with_for_update()).all())
