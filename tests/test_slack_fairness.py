"""Slack through the real bolt app over signed HTTP: a person who floods the bot is answered in
order up to their budget, told once (in their private chat) to slow down, and the rest of the flood
costs nothing; another person is answered all the while."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.i18n import translator
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import PATIENCE, Served, SlackHarness, SlackStandIn, in_channel, slack_settings

standin = slack_standin.standin  # fixture
SLOW_DOWN = translator("en").t("core.slow_down")


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn) -> Iterator[SlackHarness]:
    deps = build_deps(slack_settings(database_url, standin, requests_per_minute=5), clock=FakeClock(), migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=PATIENCE) as http:
        yield SlackHarness(deps, standin, http, served)
    deps.engine.dispose()


def texts_in(slack: SlackHarness, channel: str, since: int) -> list[str]:
    calls = [c for c in slack.standin.calls_since(since) if c.method == "chat.postMessage"]
    return [str(c.params["text"]) for c in calls if c.params.get("channel") == channel]


def test_a_flood_is_bounded_and_another_person_is_answered(slack: SlackHarness) -> None:
    since = slack.standin.mark()
    assert slack.dm("help", user="U2").status_code == 200
    slack.standin.wait_for("chat.postMessage", since=since, where=in_channel("DU2"))
    slack.served.settled()
    help_texts = texts_in(slack, "DU2", since)  # what one "help" is answered with

    since = slack.standin.mark()
    for _ in range(20):
        assert slack.dm("help", user="U1").status_code == 200
    other = slack.standin.mark()
    assert slack.dm("help", user="U2").status_code == 200  # answered, flood or not
    slack.standin.wait_for("chat.postMessage", since=other, where=in_channel("DU2"))
    slack.standin.wait_for("chat.postMessage", since=since, where=lambda call: call.params.get("text") == SLOW_DOWN)
    slack.served.settled()  # every listener the flood started has finished

    flooder = texts_in(slack, "DU1", since)
    assert flooder.count(SLOW_DOWN) == 1  # told once, not fifteen times
    assert [text for text in flooder if text != SLOW_DOWN] == help_texts * 5  # five a minute, each answered
    homes = [c for c in slack.standin.calls_since(since) if c.method == "views.publish"]
    # a dropped request draws no App Home: five answered turns redraw it (and another person's
    # turn may once, when the flooder's first contact had left it stale), not twenty
    assert len([c for c in homes if c.params.get("user_id") == "U1"]) in (5, 6)
