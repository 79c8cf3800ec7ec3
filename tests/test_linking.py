"""One person on Slack and Telegram: `/link` on Slack (through `peerlink serve`'s bolt app and the
Slack stand-in), `/link <code>` on Telegram (PTB long-polling the Telegram stand-in), one `/mine`
list on both, `/unlink` splits them again; refusals are kind sentences."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import translator
from bot.organisations import organisation_named
from storage.db import transaction
from storage.models import AuditEntry, Community, Identity, Member, Post, PostKind
from storage.queries import identity_of
from tests import slack_standin
from tests.conftest import FakeClock
from tests.privacy_support import TITLE, give_a_post
from tests.slack_standin import TEAM, SlackHarness
from tests.telegram_standin import BOT_ID, StandIn, polling_bot, say

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin
EN = translator("en")
NEED = "Heat pumps for social housing"


@asynccontextmanager
async def telegram(deps: Deps) -> AsyncIterator[tuple[StandIn, Deps]]:
    server = StandIn().start()
    try:
        async with polling_bot(deps.settings.database_url, server, deps.clock) as bot:
            yield server, bot
    finally:
        server.stop()


def slack_says(harness: SlackHarness, command: str, text: str = "") -> str:
    with harness.standin.lock:
        before = len([call for call in harness.standin.calls if call.method.startswith("respond:")])
    harness.command(command, text, user="U1", channel="DU1")
    return str(harness.standin.wait_for_prefix("respond:", before + 1)[-1].params["text"])


def telegram_post(deps: Deps) -> None:
    """Ana's need on Telegram, for the organisation she speaks for on Slack (so she waits for approval there)."""
    with transaction(deps.sessions) as session:
        identity = identity_of(session=session, platform="telegram", workspace=str(BOT_ID), user_id="42")
        slack_side = identity_of(session=session, platform="slack", workspace=TEAM, user_id="U1")
        assert identity is not None
        assert slack_side is not None
        member, theirs = session.get(Member, identity.member_id), session.get(Member, slack_side.member_id)
        assert member is not None
        assert theirs is not None
        member.organisation_id, member.organisation_pending = theirs.organisation_id, True
        session.add(member)
        post = Post(
            community_id=member.community_id,
            organisation_id=theirs.organisation_id or 0,
            member_id=member.id,
            ref="need-tg",
            kind=PostKind.need,
            title=NEED,
        )
        session.add(post)


def members(deps: Deps) -> int:
    with deps.sessions() as session:
        return len(session.exec(select(Member)).all())


@pytest.mark.usefixtures("database_url")
async def test_link_slack_and_telegram_then_unlink(slack: SlackHarness) -> None:
    slack_says(slack, "/help")
    give_a_post(slack.deps, "slack", TEAM, "U1")
    async with telegram(slack.deps) as (tg, bot):
        await say(tg, "/start")
        telegram_post(bot)
        assert members(bot) == 2

        code_reply = slack_says(slack, "/link")
        code = re.search(r"/link ([A-Z2-9]{8})", code_reply)
        assert code is not None, code_reply
        assert code_reply == EN.n("people.link_code", 10, code=code.group(1))
        assert await say(tg, "/link " + code.group(1)) == [EN.t("people.linked")]
        assert members(bot) == 1
        [mine] = await say(tg, "/mine")
        assert TITLE in mine
        assert NEED in mine
        on_slack = slack_says(slack, "/mine")
        assert TITLE in on_slack
        assert NEED in on_slack
        with bot.sessions() as session:
            identities = session.exec(select(Identity)).all()
            assert len({identity.member_id for identity in identities}) == 1
            member = session.exec(select(Member)).one()
            assert not member.organisation_pending  # the Slack side already spoke for it
            assert [entry.action for entry in session.exec(select(AuditEntry)).all()] == ["member_link"]

        assert await say(tg, "/link " + code.group(1)) == [EN.t("people.link_unknown")]  # one use only
        assert await say(tg, "/unlink") == [EN.t("people.unlinked")]
        assert members(bot) == 2
        [mine] = await say(tg, "/mine")
        assert NEED in mine
        assert TITLE not in mine
        on_slack = slack_says(slack, "/mine")
        assert TITLE in on_slack
        assert NEED not in on_slack
        assert await say(tg, "/unlink") == [EN.t("people.unlink_nothing")]


@pytest.mark.usefixtures("database_url")
async def test_links_are_refused_kindly(slack: SlackHarness) -> None:
    slack_says(slack, "/help")
    give_a_post(slack.deps, "slack", TEAM, "U1")
    async with telegram(slack.deps) as (tg, bot):
        await say(tg, "/start")
        code = re.search(r"/link ([A-Z2-9]{8})", slack_says(slack, "/link"))
        assert code is not None
        clock = bot.clock
        assert isinstance(clock, FakeClock)
        clock.advance(minutes=11)
        assert await say(tg, "/link " + code.group(1)) == [EN.t("people.link_unknown")]
        assert await say(tg, "/link nonsense") == [EN.t("people.link_unknown")]
        with transaction(bot.sessions) as session:  # Telegram Ana speaks for another organisation
            identity = identity_of(session=session, platform="telegram", workspace=str(BOT_ID), user_id="42")
            assert identity is not None
            other = session.get(Member, identity.member_id)
            assert other is not None
            other.organisation_id = organisation_named(session, community_id=other.community_id, name="Other").id
            session.add(other)
        code = re.search(r"/link ([A-Z2-9]{8})", slack_says(slack, "/link"))
        assert code is not None
        assert await say(tg, "/link " + code.group(1)) == [EN.t("people.link_organisations_differ")]
        with transaction(bot.sessions) as session:  # ... and now belongs to another partnership
            elsewhere = Community(name="Elsewhere")
            session.add(elsewhere)
            session.flush()
            identity = identity_of(session=session, platform="telegram", workspace=str(BOT_ID), user_id="42")
            assert identity is not None
            other = session.get(Member, identity.member_id)
            assert other is not None
            other.community_id, other.organisation_id = elsewhere.id or 0, None
            session.add(other)
        code = re.search(r"/link ([A-Z2-9]{8})", slack_says(slack, "/link"))
        assert code is not None
        assert await say(tg, "/link " + code.group(1)) == [EN.t("people.link_other_partnership")]
        assert members(bot) == 2
