"""Stopping the scheduler lets the job runs in progress finish: APScheduler's asyncio executor would
cancel them (a planner's thread going on unobserved) and log each as an error with a traceback."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from schedules.scheduler import Running, stop

WAIT = 60  # seconds, generous: nothing here measures time


async def test_stop_waits_for_a_planner_in_progress(deps: Deps, caplog: pytest.LogCaptureFixture) -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[Deps] = []

    def planner(given: Deps) -> None:
        started.set()
        release.wait(WAIT)
        finished.append(given)

    running = Running()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(running.planner(planner), "date", run_date=datetime.now(UTC), args=[deps], id="slow")
    scheduler.start()
    assert await asyncio.to_thread(started.wait, WAIT)
    stopping = asyncio.create_task(stop(scheduler, running))
    await asyncio.sleep(0)
    assert not stopping.done()  # the planner holds it: it cannot end before `release`
    release.set()
    await asyncio.wait_for(stopping, WAIT)
    assert finished == [deps]
    assert not scheduler.running
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_stop_waits_for_a_coroutine_job_in_progress(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()
    done: list[str] = []
    running = Running()

    async def tick() -> None:
        async def work() -> None:
            entered.set()
            await release.wait()
            done.append("tick")

        await running.track(work())

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(tick, "date", run_date=datetime.now(UTC), id="tick")
    scheduler.start()
    await asyncio.wait_for(entered.wait(), WAIT)
    stopping = asyncio.create_task(stop(scheduler, running))
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(stopping, WAIT)
    assert done == ["tick"]
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
