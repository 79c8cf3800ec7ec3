"""The impersonation, end to end on Telegram: a newcomer who names an organisation that exists
("Citta di Torino") is pending, sees none of its matches and cannot answer them, through the real
Application against the stand-in (Slack's walk: tests/test_org_claims_slack.py)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import translator
from storage.models import Identity, Member
from tests.conftest import FakeClock
from tests.telegram_standin import PARTNERSHIP_GROUP, StandIn, open_partnership_group, polling_bot, say
from tests.test_org_claims import torino

EN = translator("en")
EVE = 77


def pending(deps: Deps, platform: str, user_id: str) -> bool:
    with deps.sessions() as session:
        identity = session.exec(
            select(Identity).where(Identity.platform == platform, Identity.user_id == user_id)
        ).one()
        found = session.get(Member, identity.member_id)
        assert found is not None
        return found.organisation_pending


@pytest.fixture
async def telegram(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(sqlite_url, standin, clock) as deps:
        open_partnership_group(deps)
        yield deps


async def test_an_impersonator_on_telegram_is_pending(telegram: Deps, standin: StandIn, tmp_path: Path) -> None:
    match_id = torino(telegram, tmp_path)
    standin.set_status(PARTNERSHIP_GROUP, EVE, "member")  # she belongs to the partnership, not to Torino
    await say(standin, "/offer", user=EVE, name="Eve", expect=html.escape(EN.t("core.ask_organisation")))
    await say(standin, "Citta di Torino", user=EVE, name="Eve", expect=lambda call: "Torino" in call.params["text"])
    assert pending(telegram, "telegram", str(EVE))
    await say(standin, "/cancel", user=EVE, name="Eve")
    none = html.escape(EN.t("core.matches_none"))
    assert await say(standin, "/matches", user=EVE, name="Eve", expect=none) == [none]
    refused = html.escape(EN.t("core.match_not_yours", number=match_id))
    assert await say(standin, f"/accept {match_id}", user=EVE, name="Eve", expect=refused) == [refused]
