"""Exactly once, under stress: a worker killed with SIGKILL mid-dispatch and restarted loses nothing
and repeats at most what was in flight (the documented window); two dispatchers draining the same
1,000 rows send each exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.ports import Address, Reply, SentRef
from bot.runtime.compose import build_deps
from schedules.outbox import Dispatcher, OutboxPolicy
from storage.models import Delivery, DeliveryStatus
from tests.schedules_support import plan
from tests.waiting import PATIENCE, wait_until

# The worker under test: the real dispatcher on a SQLite file, sending through a notifier that
# appends each accepted message to a file. Half of its latency is before the "platform" accepts
# (a kill there loses nothing), half after (a kill there is the window between acceptance and our
# commit). Leases and the send timeout are long, so no send outlives them however slow the machine
# is; the restarted worker runs with its clock moved past the lease, as if restarted that much later.
LEASE_SECONDS = 120
CHILD = """
import asyncio, os, sys, time
from datetime import UTC, datetime, timedelta
from sqlmodel import select
from bot.runtime.compose import build_deps
from bot.config import Settings
from bot.ports import SentRef
from schedules.outbox import Dispatcher, OutboxPolicy
from storage.models import Delivery, DeliveryStatus

url, out, kill_after, later, lease = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
written = 0

class Clock:
    def now(self):
        return datetime.now(UTC) + timedelta(seconds=later)

class FileNotifier:
    platform = "console"
    async def send(self, to, message):
        await asyncio.sleep(0.02)
        with open(out, "a") as handle:
            handle.write(message.text + "\\n")
            handle.flush()
            os.fsync(handle.fileno())
        global written
        written += 1
        if written == kill_after:  # accepted by the platform, not yet committed: the worst moment
            os.kill(os.getpid(), 9)
        await asyncio.sleep(0.02)
        return SentRef(platform="console", chat=to.chat, message_id=message.text)

async def main():
    deps = build_deps(Settings(_env_file=None, database_url=url), clock=Clock(), migrate=False)
    deps.notifiers["console"] = FileNotifier()
    policy = OutboxPolicy(
        lease=timedelta(seconds=lease), send_timeout=timedelta(seconds=lease / 4), max_in_flight=1, batch_size=10
    )
    sender = Dispatcher(deps, policy=policy)
    while True:
        await sender.tick()
        with deps.sessions() as session:
            left = session.exec(select(Delivery.id).where(Delivery.status != DeliveryStatus.sent)).first()
        if left is None:
            return
        await asyncio.sleep(0.05)

asyncio.run(main())
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by a test; any still running when it ends is killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _child(
    children: list[subprocess.Popen[bytes]], url: str, out: Path, *, kill_after: int = 0, later: float = 0
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "TELEGRAM_"))}
    arguments = [url, str(out), str(kill_after), str(later), str(LEASE_SECONDS)]
    process = subprocess.Popen([sys.executable, "-c", CHILD, *arguments], cwd=out.parent, env=env)
    children.append(process)
    return process


def _statuses(url: str) -> dict[str, DeliveryStatus]:
    deps = build_deps(Settings(_env_file=None, database_url=url), migrate=False)  # type: ignore[call-arg]
    try:
        with deps.sessions() as session:
            return {row.dedupe_key: row.status for row in session.exec(select(Delivery)).all()}
    finally:
        deps.engine.dispose()


def _plan_reminders(url: str, count: int) -> list[str]:
    deps = build_deps(Settings(_env_file=None, database_url=url), migrate=False)  # type: ignore[call-arg]
    keys = [f"reminder-{number:03d}" for number in range(count)]
    for key in keys:
        plan(deps, key, platform="console", workspace="local", chat="someone")
    deps.engine.dispose()
    return keys


def _restart_and_check(
    children: list[subprocess.Popen[bytes]], url: str, out: Path, keys: list[str], in_flight: set[str]
) -> set[str]:
    restarted = _child(children, url, out, later=LEASE_SECONDS + 1)  # the killed worker's leases have run out
    assert restarted.wait() == 0  # however long a busy machine takes; pytest-timeout ends a hang
    sent = Counter(out.read_text().splitlines())
    assert set(sent) == set(keys)  # no reminder lost
    repeated = {key for key, count in sent.items() if count > 1}
    assert repeated <= in_flight  # only what the killed worker had claimed …
    assert len(repeated) <= 1  # … and of that, only the one message between acceptance and commit
    assert max(sent.values()) <= 2
    assert set(_statuses(url).values()) == {DeliveryStatus.sent}
    return repeated


def test_sigkill_at_a_random_moment_mid_dispatch(
    sqlite_url: str, tmp_path: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    keys = _plan_reminders(sqlite_url, 60)
    out = tmp_path / "sent.txt"
    worker = _child(children, sqlite_url, out)
    wait_until(lambda: out.exists() and len(out.read_text().splitlines()) >= 20, what="20 messages sent")
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    at_kill = _statuses(sqlite_url)
    in_flight = {key for key, status in at_kill.items() if status == DeliveryStatus.sending}
    assert len(in_flight) <= 10  # one claimed batch at most
    assert list(at_kill.values()).count(DeliveryStatus.sent) >= 19
    _restart_and_check(children, sqlite_url, out, keys, in_flight)


def test_sigkill_between_acceptance_and_commit_repeats_exactly_that_message(
    sqlite_url: str, tmp_path: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    keys = _plan_reminders(sqlite_url, 30)
    out = tmp_path / "sent.txt"
    worker = _child(children, sqlite_url, out, kill_after=12)
    assert worker.wait() == -signal.SIGKILL
    last = out.read_text().splitlines()[-1]
    at_kill = _statuses(sqlite_url)
    assert at_kill[last] == DeliveryStatus.sending  # the platform has it; our commit never happened
    in_flight = {key for key, status in at_kill.items() if status == DeliveryStatus.sending}
    assert _restart_and_check(children, sqlite_url, out, keys, in_flight) == {last}


class SharedRecorder:
    """One 'platform' both workers send to; it counts what it accepted. Each worker's first send
    waits for the other's, so both hold claimed rows at once however the threads are scheduled."""

    platform = "console"

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        self.both_sending = threading.Barrier(2, timeout=PATIENCE)
        self.started: set[int] = set()

    async def send(self, to: Address, message: Reply) -> SentRef:
        worker = threading.get_ident()
        if worker not in self.started:
            self.started.add(worker)
            await asyncio.to_thread(self.both_sending.wait)
        await asyncio.sleep(0.001)  # let the other worker run in between
        with self.lock:
            self.accepted.append(message.text)
        return SentRef(platform="console", chat=to.chat, message_id=message.text)


def test_two_dispatchers_drain_1000_rows_with_zero_duplicates(database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    setup = build_deps(settings, migrate=False)
    keys = [f"row-{number:04d}" for number in range(1000)]
    for key in keys:
        plan(setup, key, platform="console", workspace="local", chat=f"chat-{hash(key) % 50}")
    setup.engine.dispose()
    platform = SharedRecorder()
    claims: dict[str, int] = {}

    def worker(name: str) -> None:
        deps = build_deps(settings, migrate=False)  # its own engine, as a second process would have
        deps.notifiers["console"] = platform  # type: ignore[assignment]
        sender = Dispatcher(deps, policy=OutboxPolicy(batch_size=25, max_in_flight=4))

        async def run() -> None:
            idle = 0
            while idle < 3:
                report = await sender.tick()
                claims[name] = claims.get(name, 0) + report.claimed
                idle = idle + 1 if report.claimed == 0 else 0

        try:
            asyncio.run(run())
        finally:
            deps.engine.dispose()

    threads = [threading.Thread(target=worker, args=(name,), daemon=True) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # however long a busy machine takes; pytest-timeout ends a hang
    counts = Counter(platform.accepted)
    assert sorted(counts) == keys
    assert max(counts.values()) == 1  # zero duplicates
    assert min(claims.values()) > 0  # both really worked
    assert sum(claims.values()) == 1000
    assert set(_statuses(database_url).values()) == {DeliveryStatus.sent}
