"""Telegram through the real Application against the stand-in: a person who floods the bot is
answered in order up to their budget, told once to slow down, and never delays another person."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.compose import build_deps
from handlers.telegram.application import application_of
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, polling, say, settings_for, until

FLOODER, OTHER = 1001, 1002


@pytest.fixture
async def bot(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    settings = settings_for(sqlite_url, standin, requests_per_minute=5)
    deps = build_deps(settings, clock=clock, migrate=False)
    async with polling(deps, standin):
        yield deps
    await application_of(deps).shutdown()
    deps.engine.dispose()


async def test_a_flood_is_bounded_and_another_person_is_answered(bot: Deps, standin: StandIn) -> None:
    for number in range(40):
        standin.message(f"/help {number}", user=FLOODER, name="Flo")
    assert await say(standin, "/help", user=OTHER, name="Otto")  # answered, flood or not
    slow_down = translator("en").t("core.slow_down")
    await until(lambda: any(c.params["text"] == slow_down for c in standin.sent(FLOODER)), what="slow down")

    def answered() -> list[str]:
        return [call.params["text"] for call in standin.sent(FLOODER) if call.params["text"] != slow_down]

    await until(lambda: len(answered()) >= 5, what="the five answers within the budget")
    help_text = (await say(standin, "/help", user=OTHER, name="Otto"))[0]
    assert answered() == [help_text] * 5  # five a minute, each answered
    assert [call.params["text"] for call in standin.sent(FLOODER)].count(slow_down) == 1  # told once, not 35 times
