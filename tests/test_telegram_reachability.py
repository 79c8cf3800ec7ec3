"""Telegram refuses a first private message to someone who never opened the bot (403): the message
waits, the community's group is told with a link to open the bot, and /start sends what waited."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.deliveries import enqueue, member_address, payload_to_reply
from bot.deps import Deps
from bot.i18n import translator
from bot.ports import Address, DeliveryError, Reply
from bot.reachability import UNREACHABLE, mark_unreachable
from bot.runtime.compose import build_deps
from storage.db import transaction
from storage.models import Delivery, DeliveryStatus, Identity
from storage.queries import default_community
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_USERNAME, StandIn, buttons, open_partnership_group, polling, say, settings_for

GROUP = -100900
BRUNO = 99
NEVER_STARTED = "Forbidden: bot can't initiate conversation with a user"


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    deps = build_deps(settings_for(database_url, standin), clock=clock, migrate=False)
    open_partnership_group(deps, GROUP)  # registered, so its creator facilitates there
    async with polling(deps, standin):
        standin.set_status(GROUP, 1, "creator")
        await say(standin, "/peer channel here", user=1, chat=GROUP, expect=channel_set(deps))  # the community's group
        # Bruno is known from the group and never wrote privately
        await say(standin, "/help", user=BRUNO, chat=GROUP, name="Bruno", expect="/offer")
        yield deps
    deps.engine.dispose()


def channel_set(deps: Deps) -> str:
    """The answer to `/peer channel here` in the default community, as Telegram shows it."""
    with transaction(deps.sessions) as session:
        community = default_community(session=session).name
    return html.escape(translator("en").t("core.channel_set", community=community))


def _plan(deps: Deps, key: str, *, valid_for: timedelta | None = None) -> int:
    with transaction(deps.sessions) as session:
        identity = session.exec(select(Identity).where(Identity.user_id == str(BRUNO))).one()
        address = member_address(session, identity.member_id)
        assert address is not None
        now = deps.clock.now()
        row = enqueue(
            session,
            dedupe_key=key,
            to=address,
            reply=Reply(text="You have a match"),
            kind="introduction",
            due_at=now,
            valid_until=now + valid_for if valid_for else None,
            member_id=identity.member_id,
        )
        assert row is not None
        session.flush()
        assert row.id is not None
        return row.id


async def _dispatch(deps: Deps, delivery_id: int) -> Delivery | None:
    """What the outbox does with one row: send, and on "forbidden" hand it to mark_unreachable."""
    with transaction(deps.sessions) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        reply = payload_to_reply(row.payload)
        to = member_address(session, row.member_id or 0)
    assert to is not None
    with pytest.raises(DeliveryError) as refused:
        await deps.notifiers["telegram"].send(to, reply)
    assert refused.value.permanent
    assert refused.value.reason == "forbidden"
    with transaction(deps.sessions) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return mark_unreachable(session, row, now=deps.clock.now())


def _row(deps: Deps, delivery_id: int) -> Delivery:
    with transaction(deps.sessions) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return row


def _reachable(deps: Deps) -> bool:
    with transaction(deps.sessions) as session:
        return session.exec(select(Identity).where(Identity.user_id == str(BRUNO))).one().reachable


async def test_forbidden_waits_tells_the_group_and_resumes_on_start(bot: Deps, standin: StandIn) -> None:
    first, second = _plan(bot, "intro:1"), _plan(bot, "intro:2")
    for _ in range(2):
        standin.fail_next("sendMessage", 403, NEVER_STARTED, chat_id=BRUNO)

    notice = await _dispatch(bot, first)
    assert notice is not None
    assert await _dispatch(bot, second) is None  # one notice per refusal, not one per message
    assert not _reachable(bot)
    for waiting in (first, second):
        row = _row(bot, waiting)
        assert row.status == DeliveryStatus.parked
        assert row.last_error == UNREACHABLE

    # The notice goes to the group through the notifier, like any outbox row.
    assert (notice.platform, notice.chat, notice.kind) == ("telegram", str(GROUP), "notice")
    reply = payload_to_reply(notice.payload)
    assert reply.text == translator("en").t("telegram.unreachable_notice", name="Bruno")
    await bot.notifiers["telegram"].send(Address("telegram", notice.workspace, notice.chat), reply)
    shown = standin.sent(GROUP)[-1].params
    assert shown["text"] == html.escape(reply.text)
    assert ("Open a chat with the bot", f"https://t.me/{BOT_USERNAME}?start=start") in buttons(shown)

    # Bruno opens the bot: Telegram sends /start; what waited is due again, now.
    await say(standin, "/start", user=BRUNO, name="Bruno")
    assert _reachable(bot)
    for waiting in (first, second):
        row = _row(bot, waiting)
        assert row.status == DeliveryStatus.pending
        assert row.next_attempt_at == bot.clock.now()


async def test_a_message_no_longer_useful_is_skipped_not_resent(bot: Deps, standin: StandIn) -> None:
    stale = _plan(bot, "reminder:1", valid_for=timedelta(hours=1))
    standin.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=BRUNO)
    await _dispatch(bot, stale)
    bot.clock.advance(hours=2)  # type: ignore[attr-defined]
    await say(standin, "/start", user=BRUNO, name="Bruno")
    assert _row(bot, stale).status == DeliveryStatus.skipped
