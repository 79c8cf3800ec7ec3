"""A Slack facilitator's `/peer invite` gives a working t.me link whenever Telegram is configured:
`peerlink serve` never calls getMe while the worker long-polls, so it reads the bot's username the
worker wrote into the database. And `peerlink role grant` chooses the partnership."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.cli import cli
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from storage.db import transaction
from storage.models import Community, Identity, Member, Role
from tests.conftest import FakeClock
from tests.slack_standin import Served, SlackHarness, SlackStandIn, slack_settings
from tests.telegram_standin import BOT_USERNAME, TOKEN, StandIn, polling_bot

EN = translator("en")


@pytest.fixture
def slack_standin() -> Iterator[SlackStandIn]:
    running = SlackStandIn().start()
    running.add_user("UFAC", name="Fatima", admin=True)
    yield running
    running.stop()


@pytest.fixture
def serve(database_url: str, slack_standin: SlackStandIn, standin: StandIn) -> Iterator[SlackHarness]:
    """`peerlink serve` with Slack and a Telegram token (no webhook: the worker polls)."""
    settings = slack_settings(database_url, slack_standin, telegram_bot_token=TOKEN, telegram_api_url=standin.api_url)
    deps = build_deps(settings, clock=FakeClock(), migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        yield SlackHarness(deps, slack_standin, http, served)
    deps.engine.dispose()


def invite(slack: SlackHarness) -> str:
    before = len([c for c in slack.standin.calls if c.method.startswith("respond:")])
    assert slack.command("/peer", "invite", user="UFAC").status_code == 200
    return str(slack.standin.wait_for_prefix("respond:", before + 1)[-1].params["text"])


async def test_a_slack_facilitator_gets_a_telegram_link_while_the_worker_polls(
    serve: SlackHarness, standin: StandIn, database_url: str, clock: FakeClock
) -> None:
    # Before any process asked Telegram who the bot is, there is only the code to hand out.
    assert "/start " in invite(serve)
    assert "t.me" not in invite(serve)
    async with polling_bot(database_url, standin, clock):  # `peerlink worker`
        answer = invite(serve)
    found = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", answer)
    assert found, answer
    assert not standin.calls("getMe")[1:]  # only the worker asked: serve read the database


def test_role_grant_chooses_the_partnership(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    with transaction(deps.sessions) as session:
        session.add(Community(name="Second partnership"))
    runner = CliRunner()
    result = runner.invoke(cli, ["role", "grant", "telegram:80", "facilitator"], obj={})
    assert result.exit_code != 0
    assert "choose one with --partnership" in result.output
    result = runner.invoke(cli, ["role", "grant", "telegram:80", "facilitator", "--partnership", "Nope"], obj={})
    assert result.exit_code != 0
    assert "No partnership has that name" in result.output
    args = ["role", "grant", "telegram:80", "facilitator", "--partnership", "Second partnership"]
    result = runner.invoke(cli, args, obj={})
    assert result.exit_code == 0, result.output
    with deps.sessions() as session:
        identity = session.exec(select(Identity).where(Identity.user_id == "80")).one()
        member = session.get(Member, identity.member_id)
        second = session.exec(select(Community).where(Community.name == "Second partnership")).one()
        assert member is not None
        assert (member.community_id, member.role, member.admitted) == (second.id, Role.facilitator, True)
