"""Flood limits: a 429 with retry_after delays a message and never drops it — interactive replies
wait and retry, the outbox's notifier hands the delay back as DeliveryError(retry_after=...)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.ports import Address, Attachment, Button, DeliveryError, Reply
from bot.runtime.compose import build_deps
from handlers.telegram.application import application_of
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_ID, StandIn, buttons, polling, say, settings_for

FLOOD = "Too Many Requests: retry after 1"


@pytest.fixture
async def deps(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    built = build_deps(settings_for(sqlite_url, standin), clock=clock, migrate=False)
    yield built
    await application_of(built).shutdown()  # the notifier initialised it on first send
    built.engine.dispose()


@pytest.fixture
async def bot(deps: Deps, standin: StandIn) -> AsyncIterator[Deps]:
    async with polling(deps, standin):
        yield deps


def _to(chat: int) -> Address:
    return Address(platform="telegram", workspace=str(BOT_ID), chat=str(chat))


async def test_an_interactive_reply_waits_out_a_429(bot: Deps, standin: StandIn) -> None:
    standin.fail_next("sendMessage", 429, FLOOD, retry_after=1, chat_id=42)
    texts = await say(standin, "/help")
    attempts = [c for c in standin.calls("sendMessage") if c.params["chat_id"] == "42"]
    assert len(attempts) == 2
    assert not attempts[0].params.get("_ok")
    assert attempts[1].params["_ok"]
    # A lower bound the bot itself guarantees (it sleeps retry_after between the two); a busy
    # machine only makes the gap longer, so this cannot flake.
    assert attempts[1].at - attempts[0].at >= 1.0
    assert attempts[0].params["text"] == attempts[1].params["text"] == texts[0]


async def test_the_notifier_hands_the_delay_to_the_outbox(deps: Deps, standin: StandIn) -> None:
    standin.fail_next("sendMessage", 429, FLOOD, retry_after=7)
    notifier = deps.notifiers["telegram"]
    with pytest.raises(DeliveryError) as raised:
        await notifier.send(_to(42), Reply(text="Reminder"))
    assert raised.value.retry_after == 7
    assert not raised.value.permanent
    assert len(standin.calls("sendMessage")) == 1  # not retried behind the outbox's back
    sent = await notifier.send(_to(42), Reply(text="Reminder"))
    assert sent.message_id == str(standin.sent(42)[-1].params["_message_id"])


async def test_notifier_renders_buttons_and_files(deps: Deps, standin: StandIn) -> None:
    notifier = deps.notifiers["telegram"]
    reply = Reply(
        text="Meeting <Thursday> & agenda",
        buttons=(Button("Yes", "/rsvp 3 yes", selected=True), Button("No", "/rsvp 3 no")),
        attachment=Attachment("meeting.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),
    )
    await notifier.send(_to(-100777), reply)
    message = standin.sent(-100777)[-1].params
    assert message["text"] == "Meeting &lt;Thursday&gt; &amp; agenda"
    assert buttons(message) == [("✓ Yes", "/rsvp 3 yes"), ("No", "/rsvp 3 no")]
    document = standin.calls("sendDocument")[-1].params
    assert document["chat_id"] == "-100777"
    assert document["_filename"] == "meeting.ics"
    assert document["_document_bytes"].startswith(b"BEGIN:VCALENDAR")


async def test_a_blocked_or_never_started_user_is_a_permanent_forbidden(deps: Deps, standin: StandIn) -> None:
    standin.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    with pytest.raises(DeliveryError) as raised:
        await deps.notifiers["telegram"].send(_to(42), Reply(text="Introduction"))
    assert raised.value.permanent
    assert raised.value.reason == "forbidden"
