"""The scheduler's fixed jobs and the worker process: it starts without any token, delivers what is
due, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import time
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from sqlmodel import select

from bot.config import Settings
from bot.deps import Deps
from bot.runtime.compose import build_deps
from bot.runtime.worker import run_worker
from schedules.outbox import Dispatcher
from schedules.scheduler import JOB_IDS, OutboxJob, build_scheduler
from storage.models import Delivery, DeliveryStatus
from tests.schedules_support import plan

ROOT = Path(__file__).resolve().parents[1]


async def test_fixed_jobs_with_explicit_ids(deps: Deps) -> None:
    scheduler = build_scheduler(deps, OutboxJob(Dispatcher(deps)))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "dispatch_outbox",
        "plan_reminders",
        "plan_digests",
        "plan_followups",
        "plan_nudges",
        "apply_retention",
    }
    assert set(JOB_IDS) == set(jobs)
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["dispatch_outbox"].trigger.interval.total_seconds() == 2
    # adding again replaces, never duplicates, and nothing is persisted outside our database
    scheduler.start(paused=True)
    scheduler.add_job(
        jobs["plan_digests"].func,
        "interval",
        minutes=5,
        args=[deps],
        id="plan_digests",
        replace_existing=True,
    )
    assert len(scheduler.get_jobs()) == len(JOB_IDS)
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)


async def test_worker_delivers_and_stops(sqlite_url: str) -> None:
    deps = build_deps(Settings(_env_file=None, database_url=sqlite_url), migrate=False)  # type: ignore[call-arg]
    plan(deps, "hello", platform="console", workspace="local", chat="ana", text="Reminder for Ana")
    stop = asyncio.Event()
    out = io.StringIO()
    worker = asyncio.create_task(run_worker(deps, stop=stop, dispatch_every=0.05, stream=out))
    for _ in range(200):
        await asyncio.sleep(0.05)
        with deps.sessions() as session:
            if session.exec(select(Delivery).where(Delivery.status == DeliveryStatus.sent)).first():
                break
    stop.set()
    await asyncio.wait_for(worker, timeout=10)
    assert "[ana] Reminder for Ana" in out.getvalue()
    deps.engine.dispose()


def test_peerlink_worker_starts_without_tokens_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "TELEGRAM_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"  # a fresh machine: not even migrated yet
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "peerlink"), "-v", "worker"],
        cwd=tmp_path,  # no .env here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "worker started" in line or not line:
                break
        assert any("worker started: sending to console" in line for line in lines), lines
        time.sleep(2.5)  # the dispatch job and the planners run at least once
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "worker stopped" in rest
        assert "Traceback" not in rest
        assert "never awaited" not in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
