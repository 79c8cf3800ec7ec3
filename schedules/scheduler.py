"""APScheduler 3 wiring: a few fixed jobs with explicit ids, never one job per message.

The database is the source of truth for time: jobs plan outbox rows and the dispatcher sends them
(`retry_inbox` takes up incoming events that failed, on the dispatcher's rhythm),
so the scheduler keeps only its in-memory job list (no job store holding clients, nothing pickled)
and a restart loses nothing. Every job replaces an existing one of the same id, coalesces missed
runs into one and never runs twice at once.

Stopping: APScheduler's asyncio executor *cancels* whatever runs when the scheduler shuts down (a
planner in its thread even goes on, unobserved, and each cancellation is logged as an error). So
every job runs through `Running`, and `stop` pauses the scheduler, waits for the runs in progress
to end, and only then shuts it down with nothing left to cancel.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from schedules import jobs
from schedules.inbox import retry_inbox
from schedules.outbox import Dispatcher, TickReport

log = logging.getLogger(__name__)

DISPATCH_EVERY_SECONDS = 2
# job id -> (function, seconds between runs); all plan outbox rows except apply_retention, which deletes
PLANNERS = {
    "plan_reminders": (jobs.plan_reminders, 60),
    "plan_digests": (jobs.plan_digests, 300),
    "plan_followups": (jobs.plan_followups, 1800),
    "plan_nudges": (jobs.plan_nudges, 6 * 3600),
    "apply_retention": (jobs.apply_retention, 3600),
}
JOB_IDS = ("dispatch_outbox", "retry_inbox", *PLANNERS)
JOB_OPTIONS: dict[str, Any] = {"replace_existing": True, "coalesce": True, "max_instances": 1}

T = TypeVar("T")


class Running:
    """The job runs in progress, so a shutdown can wait for them instead of cancelling them."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    async def track(self, work: Awaitable[T]) -> T:
        task = asyncio.current_task()
        assert task is not None  # APScheduler runs coroutine jobs as tasks
        self.tasks.add(task)
        try:
            return await work
        finally:
            self.tasks.discard(task)

    def planner(self, function: Callable[[Deps], object]) -> Callable[[Deps], Awaitable[None]]:
        """A planner (synchronous, it talks to the database) as a tracked job on a worker thread."""

        @functools.wraps(function)
        async def run(deps: Deps) -> None:
            await self.track(asyncio.to_thread(function, deps))

        return run

    async def finished(self) -> None:
        await asyncio.sleep(0)  # a run submitted just before the pause takes its first step, and is seen
        while self.tasks:
            await asyncio.wait(set(self.tasks))


class OutboxJob:
    """The dispatch job; `run` is a bound coroutine method, so APScheduler runs it on the loop (an
    async __call__ would be mistaken for a plain function and sent to a thread)."""

    def __init__(self, dispatcher: Dispatcher, running: Running | None = None) -> None:
        self.dispatcher = dispatcher
        self.running = running or Running()

    async def run(self) -> TickReport:
        return await self.running.track(self.dispatcher.tick())


def build_scheduler(
    deps: Deps, outbox: OutboxJob, *, dispatch_every: float = DISPATCH_EVERY_SECONDS
) -> AsyncIOScheduler:
    """The worker's scheduler; planners run once at start (catching up after downtime), then regularly."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(outbox.run, "interval", seconds=dispatch_every, id="dispatch_outbox", **JOB_OPTIONS)

    async def retry(deps: Deps) -> int:  # incoming events that failed after their ack (schedules/inbox.py)
        return await outbox.running.track(retry_inbox(deps))

    scheduler.add_job(retry, "interval", seconds=dispatch_every, args=[deps], id="retry_inbox", **JOB_OPTIONS)
    start = datetime.now(UTC)
    for job_id, (function, seconds) in PLANNERS.items():
        job = outbox.running.planner(function)
        scheduler.add_job(job, "interval", seconds=seconds, args=[deps], id=job_id, next_run_time=start, **JOB_OPTIONS)
    return scheduler


async def stop(scheduler: AsyncIOScheduler, running: Running) -> None:
    """No new runs, the runs in progress finish (every sent row is committed), then the scheduler ends."""
    scheduler.pause()
    await running.finished()
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a callback on the loop: let it run now
