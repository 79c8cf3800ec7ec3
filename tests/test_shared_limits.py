"""Two workers on one PostgreSQL database keep Telegram's limit for a group together: ten messages
to one group, drained by two dispatchers at once, arrive no two closer than 3 s, once each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest

from bot.deps import Deps
from bot.runtime.compose import build_deps
from handlers.telegram.application import application_of
from schedules.outbox import Dispatcher
from tests.schedules_support import plan
from tests.telegram_standin import BOT_ID, StandIn, settings_for

GROUP = -1001234


@pytest.fixture
async def workers(database_url: str, standin: StandIn) -> AsyncIterator[tuple[Deps, Deps]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a database server (PostgreSQL)")
    pair = tuple(build_deps(settings_for(database_url, standin), migrate=False) for _ in range(2))
    yield pair  # type: ignore[misc]
    for deps in pair:
        await application_of(deps).shutdown()
        deps.engine.dispose()


async def _work(deps: Deps, standin: StandIn, expected: int) -> None:
    dispatcher = Dispatcher(deps)
    while len(standin.sent(GROUP)) < expected:
        await dispatcher.tick()
        await asyncio.sleep(0.1)  # the job's interval, shortened


async def test_two_workers_keep_a_groups_limit_together(workers: tuple[Deps, Deps], standin: StandIn) -> None:
    first, second = workers
    for number in range(10):
        plan(first, f"m{number}", platform="telegram", workspace=str(BOT_ID), chat=str(GROUP), text=f"m{number}")
    await asyncio.wait_for(asyncio.gather(_work(first, standin, 10), _work(second, standin, 10)), timeout=120)
    sent = standin.sent(GROUP)
    assert sorted(call.params["text"] for call in sent) == sorted(f"m{number}" for number in range(10))  # once each
    gaps = [b - a for a, b in pairwise(sorted(call.at for call in sent))]
    assert min(gaps) >= 3.0, gaps
