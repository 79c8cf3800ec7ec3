"""Who belongs and who facilitates, on Telegram, end to end through the real PTB Application and the
stand-in: the own-group attack is refused with a clear sentence and leaves nothing behind; a
stranger is told how to join and can post nothing; a registered group's admin still facilitates; a
group is registered with a code a Slack facilitator handed out; invites have limits, expiry and
revocation."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot import partnerships
from bot.deps import Deps
from bot.i18n import translator
from storage.db import transaction
from storage.models import (
    AuditEntry,
    Channel,
    ConversationState,
    Identity,
    Invite,
    Member,
    PartnershipCode,
    Post,
    Role,
)
from storage.queries import default_community
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_USERNAME, PARTNERSHIP_GROUP, StandIn, polling_bot, say, until

EN = translator("en")
OWN_GROUP = -100666  # a group the attacker created and added the bot to
ATTACKER = 66


def said(key: str, **values: object) -> str:
    return html.escape(EN.t(key, **values))


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


def member_of(deps: Deps, user: int) -> Member:
    with deps.sessions() as session:
        identity = session.exec(select(Identity).where(Identity.user_id == str(user))).one()
        found = session.get(Member, identity.member_id)
        assert found is not None
        return found


def nothing_handed_out(deps: Deps, standin: StandIn) -> None:
    assert not standin.calls("sendDocument")
    with deps.sessions() as session:
        assert not session.exec(select(Invite)).all()
        assert not session.exec(select(PartnershipCode)).all()
        assert not session.exec(select(AuditEntry)).all()
        own = session.exec(select(Channel).where(Channel.chat == str(OWN_GROUP))).all()
        assert not [c for c in own if c.registered or c.is_community_channel]


async def test_the_own_group_attack_is_refused_and_leaves_nothing(bot: Deps, standin: StandIn) -> None:
    """A member of the partnership creates a group, is its owner, and tries every facilitator path."""
    standin.set_status(OWN_GROUP, ATTACKER, "creator")
    unregistered = said("membership.peer_group_unregistered")
    for command in (
        f"/peer role {ATTACKER} facilitator",
        "/peer export",
        "/peer channel here",
        "/peer invite",
        "/peer invite Cooperativa Sol",
        "/peer link",
    ):
        assert await say(standin, command, user=ATTACKER, chat=OWN_GROUP) == [unregistered], command
    assert await say(standin, "/peer export", user=ATTACKER) == [said("core.peer_refused")]
    assert await say(standin, f"/peer role {ATTACKER} facilitator", user=ATTACKER) == [said("core.peer_refused")]
    nothing_handed_out(bot, standin)
    attacker = member_of(bot, ATTACKER)
    assert attacker.role == Role.member
    assert attacker.admitted  # a member through the partnership's group, and nothing more
    with bot.sessions() as session:
        assert not session.exec(select(Identity).where(Identity.platform_admin == True)).all()  # noqa: E712


async def test_a_stranger_is_told_how_to_join_and_can_post_nothing(bot: Deps, standin: StandIn) -> None:
    standin.set_status(PARTNERSHIP_GROUP, 67, "left")  # in no registered group, no invite
    standin.set_status(OWN_GROUP, 67, "creator")
    how = said("membership.how_to_join")
    assert await say(standin, "/start", user=67) == [how]
    assert await say(standin, "/offer", user=67) == [how]
    assert await say(standin, "We teach cooperative bookkeeping", user=67) == [how]
    assert await say(standin, "/mine", user=67) == [how]
    assert await say(standin, "/matches", user=67) == [how]
    assert await say(standin, "/peer role 67 facilitator", user=67, chat=OWN_GROUP) == [how]
    assert await say(standin, "/start AAAAAAAAAAAAAAAAAAAAAA", user=67, replies=2) == [
        said("telegram.invite_unknown"),
        how,
    ]
    with bot.sessions() as session:
        assert not session.exec(select(Post)).all()
        assert not session.exec(select(ConversationState)).all()
    assert not member_of(bot, 67).admitted
    nothing_handed_out(bot, standin)
    # What we hold about them is theirs to see (it holds nothing of the partnership).
    standin.message("/mydata", user=67)
    await until(lambda: bool(standin.calls("sendDocument")), what="their data", standin=standin)
    assert [call.params["chat_id"] for call in standin.calls("sendDocument")] == ["67"]

    # Joining the partnership's group is a door: Telegram says so, and the next message is answered.
    standin.set_status(PARTNERSHIP_GROUP, 67, "member")
    assert await say(standin, "/mine", user=67) == [said("core.mine_empty")]
    assert member_of(bot, 67).admitted


async def test_the_registered_groups_admin_still_facilitates(bot: Deps, standin: StandIn) -> None:
    standin.set_status(PARTNERSHIP_GROUP, 44, "administrator")
    [text] = await say(standin, "/peer invite", user=44, chat=PARTNERSHIP_GROUP)
    assert f"https://t.me/{BOT_USERNAME}?start=" in text
    standin.message("/peer export", user=44, chat=PARTNERSHIP_GROUP)
    await until(lambda: bool(standin.calls("sendDocument")), what="the export", standin=standin)
    # The same person's ownership of another group gives nothing there.
    standin.set_status(OWN_GROUP, 44, "creator")
    assert await say(standin, "/peer export", user=44, chat=OWN_GROUP) == [said("membership.peer_group_unregistered")]


async def test_a_group_is_registered_with_a_facilitators_code(bot: Deps, standin: StandIn) -> None:
    """A facilitator (here on Slack) hands out a `/peer link` code; the admin of a new Telegram group
    redeems it there: the group is registered, its admin facilitates and its members belong."""
    group, other = -100888, -100889
    with transaction(bot.sessions) as session:
        community = default_community(session=session)
        assert community.id is not None
        code = partnerships.create_code(session, community_id=community.id, created_by=None, now=bot.clock.now())
        shown = partnerships.shown_code(code.code)
    standin.set_status(group, 70, "creator")
    standin.set_status(PARTNERSHIP_GROUP, 70, "left")
    assert await say(standin, f"/peer link {shown}", user=70, chat=group) == [
        said("membership.group_registered", community=community.name)
    ]
    assert await say(standin, "/peer channel here", user=70, chat=group) == [
        said("core.channel_set", community=community.name)
    ]
    # A member of that group (and of no other) now belongs.
    standin.set_status(PARTNERSHIP_GROUP, 71, "left")
    assert await say(standin, "/mine", user=71) == [said("core.mine_empty")]
    # The code was used once: another group's admin cannot register theirs with it.
    standin.set_status(other, 72, "creator")
    assert await say(standin, f"/peer link {shown}", user=72, chat=other) == [said("partnership.code_used")]
    with bot.sessions() as session:
        registered = session.exec(select(Channel.chat).where(Channel.registered == True)).all()  # noqa: E712
        actions = session.exec(select(AuditEntry.action)).all()
    assert set(registered) == {str(PARTNERSHIP_GROUP), str(group)}
    assert "register" in actions
    [audit] = await say(standin, "/peer audit", user=70, chat=group)
    assert "Telegram group registered with the partnership by" in audit


async def test_a_granted_facilitator_registers_the_first_group(bot: Deps, standin: StandIn) -> None:
    from bot.roles import grant

    with transaction(bot.sessions) as session:
        community_id = default_community(session=session).id
        assert community_id is not None
        grant(session, community_id=community_id, platform="telegram", user_id="80", role=Role.facilitator, create=True)
    group = -100890
    standin.set_status(PARTNERSHIP_GROUP, 80, "left")
    [text] = await say(standin, "/peer channel here", user=80, chat=group)
    assert "now receives" in text
    standin.set_status(group, 81, "administrator")
    assert await say(standin, "/peer help", user=81, chat=group) != [said("membership.peer_group_unregistered")]


def invite_code(text: str) -> str:
    found = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


async def test_invites_have_a_limit_an_expiry_and_can_be_revoked(bot: Deps, standin: StandIn, clock: FakeClock) -> None:
    standin.set_status(PARTNERSHIP_GROUP, 44, "administrator")
    for user in (90, 91, 92, 93):
        standin.set_status(PARTNERSHIP_GROUP, user, "left")
    texts = await say(standin, "/peer invite 1x 2d Cooperativa Sol", user=44, chat=PARTNERSHIP_GROUP, replies=2)
    once = invite_code(texts[0])
    assert texts[1] == said("membership.invite_limit", uses=1, code=once)
    assert "Cooperativa Sol" in (await say(standin, f"/start {once}", user=90, replies=2))[0]
    assert await say(standin, f"/start {once}", user=91, replies=2) == [
        said("membership.invite_used_up"),
        said("membership.how_to_join"),
    ]
    [text] = await say(standin, "/peer invite 3d", user=44, chat=PARTNERSHIP_GROUP)
    revoked = invite_code(text)
    assert await say(standin, f"/peer invite revoke {revoked}", user=44, chat=PARTNERSHIP_GROUP) == [
        said("membership.invite_revoked_done", code=revoked, uses=0)
    ]
    assert (await say(standin, f"/start {revoked}", user=91, replies=2))[0] == said("membership.invite_revoked")
    [text] = await say(standin, "/peer invite 2d", user=44, chat=PARTNERSHIP_GROUP)
    expiring = invite_code(text)
    clock.advance(days=3)
    assert (await say(standin, f"/start {expiring}", user=92, replies=2))[0] == said("telegram.invite_expired")
    usage = said("membership.invite_usage", days=365, uses=10000)
    assert await say(standin, "/peer invite 0x", user=44, chat=PARTNERSHIP_GROUP) == [usage]
    assert await say(standin, "/peer invite 999d", user=44, chat=PARTNERSHIP_GROUP) == [usage]
    assert await say(standin, "/peer invite revoke nope", user=44, chat=PARTNERSHIP_GROUP) == [
        said("membership.invite_revoke_unknown")
    ]
    assert not member_of(bot, 91).admitted
    assert not member_of(bot, 92).admitted
    assert member_of(bot, 90).admitted
