"""The inbox: nothing is lost after the ack.

An incoming event (a Slack event, command or interaction; a Telegram update) is stored before the
platform gets its acknowledgement, under its platform id (`receive`); a repeated delivery finds the
row there and is acknowledged without being processed again. The process that stored it processes
it at once, holding a lease on the row; how the attempt ended is then recorded (`settled`):

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, insert, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from bot.backoff import backoff
from bot.config import Settings
from bot.ports import Clock
from storage.db import SessionFactory, transaction
from storage.models import InboxEvent, InboxStatus

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


def receive(
    sessions: SessionFactory, *, key: str, platform: str, payload: dict[str, Any], now: datetime, policy: InboxPolicy
) -> Attempt | None:
    """Store an event before its ack, claimed by the caller; None when its key was stored before (a
    repeated delivery). Raises SQLAlchemyError when the database is unreachable: then do not ack."""
    until = now + policy.lease
    values = {"key": key[:200], "platform": platform, "payload": payload, "received_at": now, "claimed_until": until}
    statement = insert(InboxEvent).values(status=InboxStatus.processing, attempts=1, **values)
    try:
        with transaction(sessions) as session:  # one statement, no unit of work: it sits on the ack's path
            row_id = session.execute(statement.returning(col(InboxEvent.id))).scalar_one()
    except IntegrityError:
        return None
    return Attempt(id=row_id, number=1, platform=platform, payload=payload, claimed_until=until)


async def stored(
    sessions: SessionFactory,
    *,
    key: str,
    platform: str,
    payload: dict[str, Any],
    clock: Clock,
    policy: InboxPolicy,
) -> Attempt | None:
    """`receive`, on a worker thread: the event loop goes on acknowledging other requests."""
    now = clock.now()
    call = functools.partial(receive, sessions, key=key, platform=platform, payload=payload, now=now, policy=policy)
    return await asyncio.to_thread(call)


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
