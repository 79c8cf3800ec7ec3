"""The whole path on the real adapters: a facilitator schedules a meeting, the dispatcher sends the
announcement and reminders through the real SlackNotifier / TelegramNotifier to the local stand-ins
of their APIs, and a 429 on the way delays a message without losing or repeating it."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.deps import Deps
from bot.runtime.compose import build_deps
from handlers.telegram.application import application_of
from schedules.outbox import Dispatcher
from storage.models import DeliveryStatus
from tests import slack_standin
from tests.conftest import FakeClock
from tests.membership_support import open_group
from tests.schedules_support import Person, clock_sleep, deliveries, drain_all
from tests.slack_standin import TEAM, Failure, SlackStandIn, slack_settings
from tests.telegram_standin import BOT_ID, StandIn, settings_for

standin = slack_standin.standin  # fixture: the Slack Web API stand-in
FRIDAY = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack_deps(database_url: str, standin: SlackStandIn, clock: FakeClock) -> Iterator[Deps]:
    clock.current = FRIDAY
    built = build_deps(slack_settings(database_url, standin), clock=clock, migrate=False)
    yield built
    built.engine.dispose()


async def test_slack_meeting_reminders_through_the_real_notifier(
    slack_deps: Deps, standin: SlackStandIn, clock: FakeClock
) -> None:
    marta = Person(slack_deps, "U1", workspace=TEAM, name="Marta", timezone="Europe/Madrid", admin=True)
    marta.say("/peer meeting new 2026-03-29 10:00 Europe/Madrid Peer meeting <!channel>", chat="C0MEET")
    standin.fail(
        "chat.postMessage",
        Failure(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "3"}),
    )
    await drain_all(slack_deps, Dispatcher(slack_deps, sleep=clock_sleep(clock)), clock)
    assert {row.status for row in deliveries(slack_deps)} == {DeliveryStatus.sent}
    posted = [call.params for call in standin.calls_to("chat.postMessage")]
    attempts = Counter((params["channel"], params["text"]) for params in posted)
    assert sum(attempts.values()) == len(attempts) + 1  # every message accepted once, one refused first
    assert sorted(attempts.values()).count(2) == 1
    reminders = [text for _, text in attempts if text.startswith("⏰")]
    assert len(reminders) == 4  # 24 h and 1 h, to the channel and to Marta
    assert all("&lt;!channel&gt;" in text for text in reminders)  # escaped by the adapter
    assert all("Sun 29 Mar 2026, 10:00 (Europe/Madrid)" in text for text in reminders)
    [announcement] = [params for params in posted if params["text"].startswith("📅")][-1:]
    assert announcement["channel"] == "C0MEET"
    assert "/rsvp 1 yes" in str(announcement["blocks"])  # the buttons travel with the text …
    assert len(standin.calls_to("files.completeUploadExternal")) == 1  # … and the .ics as a file


@pytest.fixture
def telegram() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
async def telegram_deps(telegram: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    clock.current = FRIDAY
    built = build_deps(settings_for(sqlite_url, telegram), clock=clock, migrate=False)
    yield built
    await application_of(built).shutdown()
    built.engine.dispose()


async def test_telegram_group_meeting_with_a_flood_wait(
    telegram_deps: Deps, telegram: StandIn, clock: FakeClock
) -> None:
    group = "-100500"
    open_group(telegram_deps, workspace=str(BOT_ID), chat=group)  # registered: Rita, its admin, facilitates
    rita = Person(telegram_deps, "42", platform="telegram", workspace=str(BOT_ID), name="Rita", admin=True)
    rita.say("/peer meeting new 2026-03-28 18:00 Europe/Rome Incontro tra pari", chat=group)
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5, chat_id=group)
    sender = Dispatcher(telegram_deps, sleep=clock_sleep(clock))
    await drain_all(telegram_deps, sender, clock)
    assert {row.status for row in deliveries(telegram_deps)} == {DeliveryStatus.sent}
    texts = [call.params.get("text") or call.params.get("caption") for call in telegram.sent(int(group))]
    reminders = [text for text in texts if text and text.startswith("⏰")]
    assert len(reminders) == 2  # 24 h and 1 h, once each
    assert len([text for text in texts if text and text.startswith("📅")]) == 1  # it met the 429, then went once
    refused = [c for c in telegram.calls("sendMessage") if c.params["chat_id"] == group and not c.params.get("_ok")]
    assert len(refused) == 1
    assert all("Sat 28 Mar 2026, 18:00 (Europe/Rome)" in text for text in reminders)
    first_reminder = next(row for row in deliveries(telegram_deps, kind="reminder") if row.chat == group)
    assert first_reminder.sent_at is not None
    assert first_reminder.sent_at >= first_reminder.due_at
    assert first_reminder.sent_at - first_reminder.due_at < timedelta(seconds=10)
