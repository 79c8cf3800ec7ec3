"""APScheduler 3 wiring: a few fixed jobs with explicit ids, never one job per message.

The database is the source of truth for time: jobs plan outbox rows and the dispatcher sends them,
so the scheduler keeps only its in-memory job list (no job store holding clients, nothing pickled)
and a restart loses nothing. Every job replaces an existing one of the same id, coalesces missed
runs into one and never runs twice at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from schedules import jobs
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
JOB_IDS = ("dispatch_outbox", *PLANNERS)
JOB_OPTIONS: dict[str, Any] = {"replace_existing": True, "coalesce": True, "max_instances": 1}


class OutboxJob:
    """The dispatch job, with a lock so shutdown can wait for a tick in progress to finish."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.lock = asyncio.Lock()

    async def run(self) -> TickReport | None:
        # a bound coroutine method: APScheduler runs it on the loop (an async __call__ would be
        # mistaken for a plain function and sent to a thread)
        if self.lock.locked():
            return None
        async with self.lock:
            return await self.dispatcher.tick()

    async def finished(self) -> None:
        async with self.lock:
            return


def build_scheduler(
    deps: Deps, outbox: OutboxJob, *, dispatch_every: float = DISPATCH_EVERY_SECONDS
) -> AsyncIOScheduler:
    """The worker's scheduler; planners run once at start (catching up after downtime), then regularly."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(outbox.run, "interval", seconds=dispatch_every, id="dispatch_outbox", **JOB_OPTIONS)
    start = datetime.now(UTC)
    for job_id, (function, seconds) in PLANNERS.items():
        scheduler.add_job(
            function, "interval", seconds=seconds, args=[deps], id=job_id, next_run_time=start, **JOB_OPTIONS
        )
    return scheduler
