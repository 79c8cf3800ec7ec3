"""OAuth mode: installations and one-time states live in our database; the manifest matches the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.deps import Deps
from bot.runtime.compose import build_deps
from handlers.slack.app import BOT_SCOPES
from handlers.slack.installations import DatabaseInstallationStore, DatabaseStateStore
from tests.conftest import FakeClock
from tests.slack_standin import SECRET_KEY

MANIFEST = Path(__file__).resolve().parents[1] / "handlers" / "slack" / "manifest.yml"


async def test_an_installation_round_trips(deps: Deps) -> None:
    store = DatabaseInstallationStore(deps.sessions, [SECRET_KEY])
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    await store.async_save(
        Installation(
            app_id="A1",
            team_id="T1",
            team_name="Braga",
            bot_token="xoxb-1",
            bot_id="B1",
            bot_user_id="UB",
            bot_scopes=list(BOT_SCOPES),
            user_id="U1",
            installed_at=1_700_000_000.0,
        )
    )
    await store.async_save(Installation(team_id="T1", bot_token="xoxb-2", bot_id="B1", user_id="U2"))
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.bot_token == "xoxb-2"  # the latest installation wins
    first = await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert first is not None
    assert first.team_name == "Braga"
    assert first.installed_at == 1_700_000_000.0
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_a_state_is_accepted_once_and_only_in_time(deps: Deps, clock: FakeClock) -> None:
    store = DatabaseStateStore(deps.sessions, clock)
    state = await store.async_issue()
    assert await store.async_consume(state) is True
    assert await store.async_consume(state) is False
    late = await store.async_issue()
    clock.advance(minutes=11)
    assert await store.async_consume(late) is False
    assert await store.async_consume("forged") is False


def test_the_manifest_declares_what_the_code_uses() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    for command in ("/offer", "/need", "/matches", "/peer"):
        assert f"command: {command}\n" in text
    for scope in BOT_SCOPES:
        assert f"      - {scope}\n" in text
    for needed in (
        "app_home_opened",
        "message.im",
        "home_tab_enabled: true",
        "messages_tab_enabled: true",
        "/slack/events",
        "/slack/oauth_redirect",
    ):
        assert needed in text


def test_http_needs_the_signing_secret_unless_socket_mode(sqlite_url: str) -> None:
    from bot.config import Settings
    from handlers.slack.web import slack_routes

    def routes(**values: str) -> list[str]:
        settings = Settings(_env_file=None, database_url=sqlite_url, slack_bot_token="xoxb-1", **values)  # type: ignore[call-arg]
        deps = build_deps(settings, clock=FakeClock(), migrate=False)
        try:
            return [getattr(route, "path", "") for route in slack_routes(deps)[0]]
        finally:
            deps.engine.dispose()

    assert routes(slack_signing_secret="s") == ["/slack/events"]
    assert routes(slack_app_token="xapp-1") == []
    with pytest.raises(RuntimeError, match="SLACK_SIGNING_SECRET"):
        routes()
