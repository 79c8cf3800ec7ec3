"""The inbox: nothing is lost after the ack.

An incoming event (a Slack event, command or interaction; a Telegram update) is stored before the
platform gets its acknowledgement, under its platform id (`receive`; a `Receiver` writes the events
arriving together in one transaction); a repeated delivery finds the row there and is acknowledged
without being processed again. The process that stored it processes it at once, holding a lease on
the row; how the attempt ended is then recorded (`settled`):

- it worked: the row is `done` and its payload (the person's text) is emptied;
- it failed (any exception, the database dropping mid-way included): the row waits for its next
  attempt, later each time (`InboxPolicy`); the worker's `retry_inbox` job (schedules/inbox.py)
  claims it then and gives it to the platform's `Replay`, which processes it the same way;
- the last attempt failed: the row is `failed` and the adapter apologises to the person.

While the database is unreachable the end of an attempt cannot be written: `settled` keeps trying
while the lease lasts, and a process that died (or gave up) leaves the row to be claimed again once
its lease has passed. When the database is unreachable at the moment of the ack, nothing can be
stored: adapters then refuse the delivery (HTTP 503), and Slack and Telegram deliver it again later.

An event is processed again only after an attempt failed, and the whole turn runs again: a
database failure before the turn committed rolls it back, so the person gets the answer once. A
turn that failed after its work was committed or part of its answer sent (Slack or Telegram
refusing a reply) may repeat that part; so may a process lost after answering and before recording
the end (the outbox's window, kept small by settling right after each turn).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot.backoff import backoff
from bot.config import Settings
from bot.ports import Clock
from storage.db import SessionFactory, transaction
from storage.models import InboxEvent, InboxStatus
from storage.queries import insert_new

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than any processing takes; then a claim may be taken over
BACKOFF_CAP = timedelta(minutes=5)  # with 6 attempts, the last one within ~5 minutes: Slack's response_url lives 30


@dataclass(frozen=True, slots=True)
class InboxPolicy:
    attempts: int = 6
    retry: timedelta = timedelta(seconds=10)
    lease: timedelta = LEASE

    def next_try(self, attempts: int) -> timedelta:
        return backoff(attempts, base=self.retry, cap=BACKOFF_CAP)


def inbox_policy(settings: Settings) -> InboxPolicy:
    return InboxPolicy(attempts=settings.inbox_attempts, retry=timedelta(seconds=settings.inbox_retry_seconds))


class Outcome(Enum):
    done = "done"
    retry = "retry"  # failed; the worker tries again later
    gave_up = "gave_up"  # the last attempt failed: apologise
    lost = "lost"  # not recorded (the database is away, or the claim was taken over): the lease decides


@dataclass(eq=False)
class Attempt:
    """One attempt at processing a stored event. `number` is the row's attempt count when it was
    claimed: recording the end only works while the row still carries it (the claim is ours)."""

    id: int
    number: int
    platform: str
    payload: dict[str, Any]
    claimed_until: datetime
    error: BaseException | None = None
    outcome: Outcome | None = None

    def failed(self, error: BaseException) -> None:
        self.error = self.error or error


# Processes a stored event again (in the worker) and settles the attempt; one per platform, in Deps.
Replay = Callable[[Attempt], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Arrival:
    """An event as it arrives: its platform id (`key`) and what it takes to process it again."""

    key: str
    platform: str
    payload: dict[str, Any]


def receive(
    sessions: SessionFactory, arrivals: Sequence[Arrival], *, now: datetime, policy: InboxPolicy
) -> list[Attempt | None]:
    """Store events before their acks, in one transaction, each claimed by its caller; None for one
    whose key was stored before (a repeated delivery). Raises SQLAlchemyError when the database is
    unreachable: then do not ack."""
    until = now + policy.lease
    rows = [
        {
            "key": arrival.key[:200],
            "platform": arrival.platform,
            "payload": arrival.payload,
            "status": InboxStatus.processing,
            "attempts": 1,
            "received_at": now,
            "claimed_until": until,
        }
        for arrival in arrivals
    ]
    with transaction(sessions) as session:
        ids = insert_new(session, InboxEvent, rows, key="key")
    attempts: list[Attempt | None] = []
    for arrival in arrivals:
        row_id = ids.pop(arrival.key[:200], None)  # popped: the same key twice here is a repeat too
        found = None if row_id is None else Attempt(row_id, 1, arrival.platform, arrival.payload, until)
        attempts.append(found)
    return attempts


@dataclass
class _Batch:
    waiting: list[tuple[Arrival, asyncio.Future[Attempt | None]]] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None  # writes while some are waiting, then ends


class Receiver:
    """Stores what arrives while an earlier store is being written in one transaction after it (one
    thread hop, one commit): in a burst, an ack waits for a few inserts rather than one per request."""

    def __init__(self, sessions: SessionFactory, clock: Clock, settings: Settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = weakref.WeakKeyDictionary()

    async def receive(self, arrival: Arrival) -> Attempt | None:
        """`receive` for one event; raises SQLAlchemyError when the database is unreachable."""
        loop = asyncio.get_running_loop()
        batch = self._batches.setdefault(loop, _Batch())
        done: asyncio.Future[Attempt | None] = loop.create_future()
        batch.waiting.append((arrival, done))
        if batch.writer is None:
            batch.writer = loop.create_task(self._write(batch))
        return await done

    async def _write(self, batch: _Batch) -> None:
        try:
            while batch.waiting:
                taken, batch.waiting = batch.waiting, []
                policy = inbox_policy(self.settings)
                call = functools.partial(
                    receive, self.sessions, [a for a, _ in taken], now=self.clock.now(), policy=policy
                )
                try:
                    results = await asyncio.to_thread(call)
                except Exception as error:  # the database is away: every one of them is refused
                    for _, done in taken:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for (_, done), attempt in zip(taken, results, strict=True):
                    if not done.done():  # its request is gone: the worker takes the row up after its lease
                        done.set_result(attempt)
        finally:
            batch.writer = None


def _ending(attempt: Attempt, *, now: datetime, policy: InboxPolicy) -> tuple[Outcome, dict[str, Any]]:
    """The outcome of an attempt that ended, and the row's new values."""
    if attempt.error is None:
        return Outcome.done, {"status": InboxStatus.done, "payload": {}, "last_error": None}
    reason = type(attempt.error).__name__  # never the message: it may quote the person's text
    if attempt.number >= policy.attempts:
        return Outcome.gave_up, {"status": InboxStatus.failed, "payload": {}, "last_error": reason}
    at = now + policy.next_try(attempt.number)
    return Outcome.retry, {"status": InboxStatus.pending, "next_attempt_at": at, "last_error": reason}


def settle(sessions: SessionFactory, attempt: Attempt, *, now: datetime, policy: InboxPolicy) -> Outcome:
    """Write how the attempt ended (see the module docstring), if the claim is still ours."""
    outcome, values = _ending(attempt, now=now, policy=policy)
    ours = (
        col(InboxEvent.id) == attempt.id,
        col(InboxEvent.status) == InboxStatus.processing,
        col(InboxEvent.attempts) == attempt.number,
    )
    with transaction(sessions) as session:
        statement = update(InboxEvent).where(*ours).values(claimed_until=None, **values)
        changed = cast(CursorResult[Any], session.execute(statement)).rowcount
    return outcome if changed else Outcome.lost


async def settled(
    attempt: Attempt, *, sessions: SessionFactory, clock: Clock, policy: InboxPolicy, pause: float = 0.5
) -> Outcome:
    """Record the end of the attempt, once. While the database is unreachable, try again until the
    lease runs out (the person is waiting for this answer); after that the row is claimed again."""
    if attempt.outcome is not None:
        return attempt.outcome
    while True:
        try:
            outcome = await asyncio.to_thread(settle, sessions, attempt, now=clock.now(), policy=policy)
            break
        except SQLAlchemyError:
            if clock.now() + timedelta(seconds=pause) >= attempt.claimed_until:
                log.warning("could not record inbox event %s; it is taken up again after its lease", attempt.id)
                outcome = Outcome.lost
                break
            log.warning("the database is unreachable: recording inbox event %s again in %g s", attempt.id, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
    if attempt.error is not None:
        log.info("inbox event %s failed (attempt %d): %s", attempt.id, attempt.number, outcome.value)
    attempt.outcome = outcome
    return outcome
