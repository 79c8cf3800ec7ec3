"""The hourly budget of new posts on Slack: the modal and the conversation in the Messages tab count
against the same budget (`bot.posts.check_budget`), and a modal submitted beyond it is not lost: the
draft waits in the private chat at its summary, whose Save button keeps it once the hour allows."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from storage.models import ConversationState, Post
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import PATIENCE, Served, SlackHarness, SlackStandIn, for_user, in_channel, slack_settings
from tests.test_slack_modal import open_modal, submission

standin = slack_standin.standin  # fixture
EN = translator("en")
DESCRIPTION = "We wrote social clauses into our public tenders and can share the templates."


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn, clock: FakeClock) -> Iterator[SlackHarness]:
    deps = build_deps(slack_settings(database_url, standin, posts_per_hour=2), clock=clock, migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=PATIENCE) as http:
        yield SlackHarness(deps, standin, http, served)
    deps.engine.dispose()


def titles(deps: Deps) -> list[str]:
    with deps.sessions() as session:
        return [post.title for post in session.exec(select(Post).order_by(Post.id)).all()]  # type: ignore[arg-type]


def turn_done(slack: SlackHarness, since: int) -> list[str]:
    """The texts of a turn in U1's private chat, once it is complete (its home redrawn after the answer)."""
    answer = slack.standin.wait_for("chat.postMessage", since=since, where=in_channel("DU1"))
    slack.standin.wait_for("views.publish", since=slack.standin.after(answer[0]), where=for_user("U1"))
    return [str(c.params["text"]) for c in slack.standin.calls_since(since) if c.method == "chat.postMessage"]


def write(slack: SlackHarness, text: str) -> list[str]:
    since = slack.standin.mark()
    assert slack.dm(text).status_code == 200
    return turn_done(slack, since)


def submit(slack: SlackHarness, title: str) -> list[str]:
    view = open_modal(slack)
    since = slack.standin.mark()
    fields = {"title": title, "description": DESCRIPTION}
    if "organisation" in [block.get("block_id") for block in view["blocks"]]:
        fields["organisation"] = "City of Braga"
    assert slack.interact(submission(view, **fields)).status_code == 200
    return turn_done(slack, since)


def test_a_modal_beyond_the_budget_waits_at_its_summary(slack: SlackHarness, clock: FakeClock) -> None:
    assert "Saved your offer" in submit(slack, "Social clauses")[0]
    clock.advance(minutes=20)
    for text in ("offer", "Green canteens", DESCRIPTION, "done"):  # the conversation counts too
        write(slack, text)
    assert "Saved your offer" in write(slack, "save")[0]
    clock.advance(minutes=10)

    refused = submit(slack, "Bike lanes")
    assert refused[0] == EN.t("core.error_post_budget", count=30, limit=2)
    assert "Title: Bike lanes" in refused[-1]  # the draft, at its summary, with its buttons
    assert titles(slack.deps) == ["Social clauses", "Green canteens"]
    with slack.deps.sessions() as session:
        [waiting] = session.exec(select(ConversationState)).all()
        assert (waiting.chat, waiting.step) == ("DU1", "summary")

    clock.advance(minutes=30)
    since = slack.standin.mark()
    slack.press("save", container={"type": "message", "channel_id": "DU1", "message_ts": "1.0"})
    assert "Saved your offer" in turn_done(slack, since)[0]
    assert titles(slack.deps) == ["Social clauses", "Green canteens", "Bike lanes"]
