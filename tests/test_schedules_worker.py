"""The scheduler's fixed jobs and the worker process: it starts without any token, delivers what is
due, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

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
from tests.waiting import PATIENCE, until, wait_until


async def test_fixed_jobs_with_explicit_ids(deps: Deps) -> None:
    scheduler = build_scheduler(deps, OutboxJob(Dispatcher(deps)))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "dispatch_outbox",
        "retry_inbox",
        "plan_reminders",
        "plan_digests",
        "plan_followups",
        "plan_nudges",
        "apply_retention",
    }
    assert set(JOB_IDS) == set(jobs)
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["dispatch_outbox"].trigger.interval.total_seconds() == 2
    assert jobs["retry_inbox"].trigger.interval.total_seconds() == 2
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

    def sent() -> bool:
        with deps.sessions() as session:
            return session.exec(select(Delivery).where(Delivery.status == DeliveryStatus.sent)).first() is not None

    await until(lambda: sent() or worker.done(), what="the reminder sent")
    stop.set()
    await asyncio.wait_for(worker, timeout=PATIENCE)
    assert "[ana] Reminder for Ana" in out.getvalue()
    deps.engine.dispose()


class Output:
    """What a process prints, collected line by line on a thread, so waiting for a line never
    blocks in a read: it ends when the line is there or the bound is reached."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, text: str) -> None:
        wait_until(lambda: any(text in line for line in self.lines), what=f"{text!r} printed", seen=self.text)

    def text(self) -> str:
        return "".join(self.lines)


def test_peerlink_worker_starts_without_tokens_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "TELEGRAM_"))}
    database = f"sqlite:///{tmp_path / 'fresh.db'}"  # a fresh machine: not even migrated yet
    env |= {"DATABASE_URL": database, "LOG_LEVEL": "INFO"}  # the worker says when it starts and stops
    with subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "worker"],  # `peerlink worker`, from this interpreter
        cwd=tmp_path,  # no .env here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        output = Output(process.stdout)
        try:
            output.wait_for("worker started: sending to console")
            # The scheduler runs: a message for a console user, planned now, is printed by the dispatch job.
            deps = build_deps(Settings(_env_file=None, database_url=database), migrate=False)  # type: ignore[call-arg]
            plan(deps, "hello", platform="console", workspace="local", chat="ana", text="Reminder for Ana")
            deps.engine.dispose()
            output.wait_for("Reminder for Ana")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=PATIENCE) == 0, output.text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            output.reader.join(timeout=PATIENCE)  # the pipe is closed: everything printed has been read
    assert "worker stopped" in output.text()
    assert "Traceback" not in output.text()
    assert "never awaited" not in output.text()
