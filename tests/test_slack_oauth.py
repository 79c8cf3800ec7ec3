"""Multi-workspace mode: a workspace installs the app through Slack's OAuth, its token is kept in our
database, and its requests are then served with that token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from handlers.slack.installations import DatabaseInstallationStore
from storage.models import SlackInstallation
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import Served, SlackHarness, SlackStandIn, slack_settings
from tests.waiting import PATIENCE

standin = slack_standin.standin  # fixture


@pytest.fixture
def oauth_slack(database_url: str, standin: SlackStandIn) -> Iterator[SlackHarness]:
    settings = slack_settings(
        database_url,
        standin,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
    )
    deps = build_deps(settings, clock=FakeClock(), migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=PATIENCE) as http:
        yield SlackHarness(deps, standin, http, served)
    deps.engine.dispose()


# slack_sdk's oauth.v2.access still uses aiohttp's BasicAuth, deprecated in aiohttp 3.14: theirs, harmless
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_a_workspace_installs_and_is_served_with_its_own_token(oauth_slack: SlackHarness) -> None:
    page = oauth_slack.http.get("/slack/install")
    assert page.status_code == 200
    link = re.search(r'href="([^"]*/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link is not None
    assert link.group(1).startswith(oauth_slack.standin.url)  # the consent page next to SLACK_API_URL
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["111.222"]
    assert "im:history" in query["scope"][0]
    state = query["state"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    back = oauth_slack.http.get(
        "/slack/oauth_redirect", params={"code": "the-code", "state": state}, headers={"Cookie": cookie}
    )
    assert back.status_code == 200
    access = oauth_slack.standin.calls_to("oauth.v2.access")[0]
    assert access.params["code"] == "the-code"
    store = DatabaseInstallationStore(oauth_slack.deps.sessions, oauth_slack.deps.settings.secret_keys)
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0OTHER")
    assert bot is not None
    assert bot.bot_token == "xoxb-installed"
    with oauth_slack.deps.sessions() as session:  # at rest the token is sealed, never in plain text
        (stored,) = session.exec(select(SlackInstallation.data)).all()
    assert "xoxb-installed" not in json.dumps(stored)
    assert stored["bot_token"].startswith("fernet:")
    replay = oauth_slack.http.get(
        "/slack/oauth_redirect", params={"code": "the-code", "state": state}, headers={"Cookie": cookie}
    )
    assert replay.status_code != 200  # a state is good once
    oauth_slack.command("/matches", team="T0OTHER")
    info = oauth_slack.standin.wait_for("users.info")[0]
    assert info.token == "xoxb-installed"
    assert oauth_slack.standin.wait_for_prefix("respond:")


def test_an_unknown_workspace_is_not_served(oauth_slack: SlackHarness) -> None:
    response = oauth_slack.command("/matches", team="T0NOBODY")
    assert response.status_code == 200  # bolt answers the person with a polite "not installed"
    oauth_slack.served.settled()
    assert oauth_slack.standin.calls_to("users.info") == []
