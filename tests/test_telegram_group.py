"""Group chats: facilitators (admins of the registered group, or members granted the role) use /peer,
others are refused politely; `/peer invite` makes a deep link that joins a newcomer to the
organisation."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import translator
from bot.roles import grant
from handlers.application.commands.general import facilitators_commands
from storage.db import transaction
from storage.models import Identity, Invite, Member, Organisation, Role
from storage.queries import default_community
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_ID, BOT_USERNAME, PARTNERSHIP_GROUP, StandIn, polling_bot, say, until

GROUP = PARTNERSHIP_GROUP  # registered with the partnership (see tests/telegram_standin.py)


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


async def test_peer_is_refused_politely_for_members(bot: Deps, standin: StandIn) -> None:
    texts = await say(standin, "/peer invite", user=42, chat=GROUP)
    assert texts == [html.escape(translator("en").t("core.peer_refused"))]
    assert [c.params["user_id"] for c in standin.calls("getChatMember")] == ["42"]
    assert standin.calls("getChatMember")[0].params["_ok"]


async def test_group_admin_creates_an_invite_and_a_newcomer_joins(bot: Deps, standin: StandIn) -> None:
    standin.set_status(GROUP, 43, "administrator")
    text = (await say(standin, "/peer invite Cooperativa Sol", user=43, chat=GROUP))[0]
    found = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", text)
    assert found, text
    code = found.group(1)

    # A newcomer opens the link: Telegram sends "/start <code>" in the private chat.
    replies = await say(standin, f"/start {code}", user=99, replies=2)
    assert "Cooperativa Sol" in replies[0]
    with transaction(bot.sessions) as session:
        identity = session.exec(select(Identity).where(Identity.user_id == "99")).one()
        assert identity.workspace == str(BOT_ID)
        member = session.get(Member, identity.member_id)
        assert member is not None
        assert member.organisation_id is not None
        organisation = session.get(Organisation, member.organisation_id)
        assert organisation is not None
        assert organisation.name == "Cooperativa Sol"
        assert session.exec(select(Invite).where(Invite.code == code)).one().uses == 1


async def test_group_owner_and_granted_facilitators_may_use_peer(bot: Deps, standin: StandIn) -> None:
    en = translator("en")
    help_facilitator = html.escape(facilitators_commands(en))
    standin.set_status(GROUP, 44, "creator")
    assert await say(standin, "/peer help", user=44, chat=GROUP, expect=help_facilitator) == [help_facilitator]
    with transaction(bot.sessions) as session:
        community = default_community(session=session).id
        assert community is not None
        grant(session, community_id=community, platform="telegram", user_id="45", role=Role.facilitator, create=True)
    assert await say(standin, "/peer help", user=45, chat=GROUP, expect=help_facilitator) == [help_facilitator]


async def test_unknown_invite_code_gets_a_clear_reply(bot: Deps, standin: StandIn) -> None:
    replies = await say(standin, "/start AAAAAAAAAAAAAAAAAAAAAA", user=98, replies=2)
    assert replies[0] == html.escape(translator("en").t("telegram.invite_unknown"))


async def test_commands_for_another_bot_are_ignored(bot: Deps, standin: StandIn) -> None:
    standin.message("/help@SomeOtherBot", chat=GROUP)
    await say(standin, f"/help@{BOT_USERNAME}", chat=GROUP)
    assert len(standin.sent(GROUP)) == 1


async def test_a_press_in_the_group_answers_the_presser_alone(bot: Deps, standin: StandIn) -> None:
    standin.press("/cancel", message_id=500, user=42, chat=GROUP)
    await until(lambda: bool(standin.calls("answerCallbackQuery")), standin=standin)
    answer = standin.calls("answerCallbackQuery")[0].params
    assert answer["text"] == translator("en").t("core.nothing_to_cancel")
    assert not standin.sent(GROUP)

    # A button that starts a conversation opens the private chat at once.
    standin.press("/offer", message_id=500, user=42, chat=GROUP)
    await until(lambda: len(standin.calls("answerCallbackQuery")) == 2, standin=standin)
    assert standin.calls("answerCallbackQuery")[1].params["url"] == f"https://t.me/{BOT_USERNAME}?start=offer"
    assert not standin.sent(GROUP)


async def test_a_long_answer_to_a_press_in_the_group_goes_to_the_presser_privately(bot: Deps, standin: StandIn) -> None:
    standin.press("/help", message_id=500, user=42, chat=GROUP)  # too long for a pop-up
    await until(lambda: bool(standin.sent(42)), standin=standin)
    assert translator("en").t("core.help").split("\n")[0] in standin.sent(42)[0].params["text"]
    await until(lambda: bool(standin.calls("answerCallbackQuery")), standin=standin)
    assert not standin.sent(GROUP)


async def test_a_presser_who_never_opened_the_bot_is_sent_to_it_not_answered_in_the_group(
    bot: Deps, standin: StandIn
) -> None:
    standin.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user", chat_id=42)
    standin.press("/help", message_id=500, user=42, chat=GROUP)
    await until(lambda: bool(standin.calls("answerCallbackQuery")), standin=standin)
    assert standin.calls("answerCallbackQuery")[0].params["url"].startswith(f"https://t.me/{BOT_USERNAME}?start=")
    assert not standin.sent(GROUP)
