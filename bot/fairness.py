"""Fair turns for the work that follows an acknowledgement, so one person's flood never makes others wait.

Each person's requests run one at a time, in the order they came (a person's conversation is a
sequence anyway); at most `overall` requests of different people run at once, and a person whose
turn comes next is not held up by another person's queue. A person gets a budget — at most
`per_minute` and `per_hour` requests, and at most `queued` waiting at once — beyond which a request
is refused at once, before any database work; the caller then answers "slow down" (once a
minute, not once per refused request, so a flood does not turn into a flood of answers).

The scheduler holds no platform object: Slack listeners and Telegram's update processor both use
it, keyed by the person's platform identity. It counts per process; web processes are stateless
and Slack and Telegram each deliver one person's requests to whichever process answers, so a budget
is per process, which bounds the work each process does for one person.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum


class Turn(Enum):
    run = "run"  # do the work now
    refused = "refused"  # over budget: drop it, say nothing (the person was told recently)
    refused_tell = "refused_tell"  # over budget: drop it and tell the person to slow down


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int = 30
    per_hour: int = 300
    queued: int = 5  # waiting (not yet running) requests of one person
    overall: int = 4  # requests running at once, all people together (worker threads do the work)


@dataclass
class _Person:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    admitted: deque[float] = field(default_factory=deque)
    waiting: int = 0
    told_at: float = float("-inf")


class FairScheduler:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        counted: Callable[[Turn], None] = lambda _verdict: None,
    ) -> None:
        self.limits = limits or Limits()
        self._now = now
        self._counted = counted  # each verdict, for /metrics: how much of a flood was refused
        self._people: dict[str, _Person] = {}
        self._running: asyncio.Semaphore | None = None  # made on first use, inside the running loop

    def _admit(self, person: _Person) -> Turn:
        now = self._now()
        while person.admitted and person.admitted[0] <= now - 3600:
            person.admitted.popleft()
        last_minute = sum(1 for moment in person.admitted if moment > now - 60)
        over = (
            person.waiting >= self.limits.queued
            or last_minute >= self.limits.per_minute
            or len(person.admitted) >= self.limits.per_hour
        )
        if not over:
            person.admitted.append(now)
            return Turn.run
        if person.told_at <= now - 60:
            person.told_at = now
            return Turn.refused_tell
        return Turn.refused

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[Turn]:
        """`async with scheduler.turn(person) as turn:` — work only when `turn is Turn.run`."""
        verdict, release = await self.enter(key)
        try:
            if verdict is not Turn.run:
                yield verdict
                return
            async with self.running():
                yield Turn.run
        finally:
            release()

    async def enter(self, key: str) -> tuple[Turn, Callable[[], None]]:
        """The verdict on a person's request; when it is `Turn.run`, it returns once their earlier
        requests are done, and the person's turn is theirs until `release` is called. For work
        that is not one block of code (a Slack listener: the profile, the engine, the answers and
        the App Home); `turn` is the usual way."""
        person = self._people.setdefault(key, _Person())
        verdict = self._admit(person)
        self._counted(verdict)
        if verdict is not Turn.run:
            return verdict, lambda: None
        person.waiting += 1
        try:
            await person.lock.acquire()
        finally:
            person.waiting -= 1
            if not person.lock.locked():  # cancelled while still in the queue
                self._forget_if_idle(key, person)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                person.lock.release()
                self._forget_if_idle(key, person)

        return Turn.run, release

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """One of the `overall` places for work running at once, all people together."""
        if self._running is None:
            self._running = asyncio.Semaphore(self.limits.overall)
        async with self._running:
            yield

    def _forget_if_idle(self, key: str, person: _Person) -> None:
        if not person.lock.locked() and person.waiting == 0 and not person.admitted:
            self._people.pop(key, None)
