"""Outbox dispatcher, measured (run on demand, not by pytest):

    .venv/bin/python tests/benchmarks/bench_outbox.py [--rows 10000] [--postgres URL]

1. The dispatcher's own cost per row: N due rows (default 10,000) for a platform without rate
   limits, a notifier with zero latency, the real clock: claim, send, commit each row, until the
   outbox is empty. Per back-end: SQLite (a file) and PostgreSQL (when --postgres or
   TEST_POSTGRES_URL is given).
2. Draining at the platforms' rates: the same dispatcher with a simulated clock (its sleeps move
   the clock instead of waiting) drains N rows per scenario; the simulated drain time is compared
   with the least time the platform's limits allow, and the fastest observed rate is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.deliveries import reply_to_payload  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.ports import Address, Platform, Reply, SentRef  # noqa: E402
from bot.runtime.compose import build_deps  # noqa: E402
from schedules.outbox import Dispatcher, OutboxPolicy  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Delivery, DeliveryStatus  # noqa: E402


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current or datetime.now(UTC)


class Recorder:
    """A notifier with zero latency that notes when (on the dispatcher's clock) it was called."""

    def __init__(self, platform: Platform, clock: Clock) -> None:
        self.platform = platform
        self.clock = clock
        self.calls: list[tuple[str, datetime]] = []

    async def send(self, to: Address, message: Reply) -> SentRef:
        self.calls.append((to.chat, self.clock.now()))
        return SentRef(platform=self.platform, chat=to.chat, message_id=str(len(self.calls)))


def fill(deps: Deps, platform: str, chats: Callable[[int], str], rows: int, due: datetime) -> None:
    """Bulk insert due rows (planning cost is not what is measured here)."""
    payload = reply_to_payload(Reply(text="⏰ Reminder: “Peer meeting” starts in 1 hour"))
    values: list[dict[str, Any]] = [
        {
            "dedupe_key": f"bench:{platform}:{number}",
            "kind": "reminder",
            "platform": platform,
            "workspace": "W1",
            "chat": chats(number),
            "payload": payload,
            "due_at": due,
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "created_at": due,
        }
        for number in range(rows)
    ]
    with deps.engine.begin() as connection:
        for start in range(0, rows, 2000):
            connection.execute(insert(Delivery), values[start : start + 2000])


def fresh_sqlite(directory: str) -> str:
    url = f"sqlite:///{directory}/bench-{uuid.uuid4().hex[:6]}.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def fresh_postgres(server: str) -> tuple[str, Callable[[], None]]:
    name = f"peerlink_bench_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(server).set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


async def drain(dispatcher: Dispatcher) -> int:
    ticks = 0
    while (await dispatcher.tick()).claimed:
        ticks += 1
    return ticks


def cost_per_row(url: str, rows: int, label: str) -> None:
    clock = Clock()
    deps = build_deps(Settings(_env_file=None, database_url=url), clock=clock, migrate=False)  # type: ignore[call-arg]
    deps.notifiers["console"] = Recorder("console", clock)  # type: ignore[assignment]
    fill(deps, "console", lambda number: f"chat-{number % 500}", rows, datetime.now(UTC))
    dispatcher = Dispatcher(deps, policy=OutboxPolicy(batch_size=200))
    started = time.perf_counter()
    asyncio.run(drain(dispatcher))
    elapsed = time.perf_counter() - started
    with deps.sessions() as session:
        sent = session.exec(select(func.count()).where(Delivery.status == DeliveryStatus.sent)).one()
    deps.engine.dispose()
    assert sent == rows, (sent, rows)
    print(
        f"  {label:<11} {rows} rows in {elapsed:6.2f} s  ->  {elapsed / rows * 1e6:7.0f} µs per row "
        f"({rows / elapsed:,.0f} rows/s; claim + send + commit per row)"
    )


SCENARIOS: list[tuple[str, str, Callable[[int], str], Callable[[int], float]]] = [
    # name, platform, chat of row n, least drain time in seconds for n rows
    ("Slack, 50 channels (1/s per channel)", "slack", lambda n: f"C{n % 50:03d}", lambda n: (n / 50) - 1),
    ("Slack, 1 channel", "slack", lambda n: "C000", lambda n: n - 1),
    ("Telegram, private chats (30/s overall)", "telegram", lambda n: str(10_000 + n), lambda n: (n - 1) / 30),
    (
        "Telegram, 20 groups (20/min per group)",
        "telegram",
        lambda n: f"-100{n % 20}",
        lambda n: (n / 20 - 1) * 3,
    ),
]


def at_allowed_rates(url: str, rows: int) -> None:
    for name, platform, chats, least in SCENARIOS:
        count = rows if "1 channel" not in name else min(rows, 600)
        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        clock = Clock(start)
        deps = build_deps(Settings(_env_file=None, database_url=url), clock=clock, migrate=False)  # type: ignore[call-arg]
        with deps.engine.begin() as connection:
            connection.execute(Delivery.__table__.delete())  # type: ignore[attr-defined]
        recorder = Recorder(platform, clock)  # type: ignore[arg-type]
        deps.notifiers[platform] = recorder  # type: ignore[assignment]
        fill(deps, platform, chats, count, start)

        async def sleep(seconds: float, clock: Clock = clock) -> None:
            assert clock.current is not None
            clock.current += timedelta(seconds=seconds)
            await asyncio.sleep(0)

        dispatcher = Dispatcher(deps, sleep=sleep)

        async def run(deps: Deps = deps, dispatcher: Dispatcher = dispatcher, clock: Clock = clock) -> None:
            while True:
                if (await dispatcher.tick()).claimed:
                    continue
                with deps.sessions() as session:
                    upcoming = session.exec(
                        select(func.min(func.coalesce(Delivery.next_attempt_at, Delivery.due_at))).where(
                            Delivery.status == DeliveryStatus.pending
                        )
                    ).one()
                if upcoming is None:
                    return
                clock.current = max(clock.now(), upcoming)

        wall = time.perf_counter()
        asyncio.run(run())
        wall = time.perf_counter() - wall
        deps.engine.dispose()
        times = sorted(at for _, at in recorder.calls)
        assert len(times) == count
        simulated = (times[-1] - times[0]).total_seconds()
        busiest = max(Counter(int((at - start).total_seconds()) for at in times).values())
        per_chat = Counter(chat for chat, _ in recorder.calls)
        chat, _ = per_chat.most_common(1)[0]
        chat_times = [at for c, at in recorder.calls if c == chat]
        gaps = [(b - a).total_seconds() for a, b in pairwise(chat_times)]
        spacing = f"{min(gaps):.2f} s" if gaps else "-"
        print(
            f"  {name:<40} {count:>6} rows: drained in {simulated:8.1f} s simulated "
            f"(least allowed {least(count):8.1f} s), busiest second {busiest:>3} msgs, "
            f"closest two in one chat {spacing}  [{wall:.1f} s wall]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        print(f"1. Dispatcher cost per row ({args.rows} due rows, zero-latency notifier, no rate limit)")
        cost_per_row(fresh_sqlite(directory), args.rows, "SQLite")
        if args.postgres:
            url, drop = fresh_postgres(args.postgres)
            try:
                cost_per_row(url, args.rows, "PostgreSQL")
            finally:
                drop()
        else:
            print("  PostgreSQL  skipped (set TEST_POSTGRES_URL or pass --postgres URL)")
        print(f"2. Draining {args.rows} due rows at the platforms' allowed rates (simulated clock, SQLite)")
        at_allowed_rates(fresh_sqlite(directory), args.rows)


if __name__ == "__main__":
    main()
