"""Outbox messages to Slack: group DMs for introductions, plain user ids and channels, files, and
Slack's refusals turned into what the outbox understands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.deps import Deps
from bot.ports import Address, Attachment, Button, DeliveryError, Reply
from bot.runtime.compose import build_deps
from handlers.slack.notifier import SlackNotifier
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import BOT_TOKEN, TEAM, Failure, SlackStandIn, slack_settings

standin = slack_standin.standin  # fixture


@pytest.fixture
def deps(database_url: str, standin: SlackStandIn) -> Iterator[Deps]:
    built = build_deps(slack_settings(database_url, standin), clock=FakeClock(), migrate=False)
    yield built
    built.engine.dispose()


def to(chat: str) -> Address:
    return Address(platform="slack", workspace=TEAM, chat=chat)


async def test_the_slack_notifier_is_registered(deps: Deps) -> None:
    assert isinstance(deps.notifiers["slack"], SlackNotifier)


async def test_an_introduction_opens_a_group_dm(deps: Deps, standin: SlackStandIn) -> None:
    reply = Reply(text="Meet <!channel> & co", buttons=(Button(label="Met", value="/met 3"),))
    sent = await SlackNotifier(deps).send(to("users:U1,U2"), reply)
    opened = standin.calls_to("conversations.open")
    assert opened[0].params["users"] == "U1,U2"
    assert opened[0].token == BOT_TOKEN
    posted = standin.calls_to("chat.postMessage")[0]
    assert posted.params["channel"] == sent.chat
    assert sent.chat.startswith("G")
    assert posted.params["text"] == "Meet &lt;!channel&gt; &amp; co"
    assert posted.params["blocks"][1]["elements"][0]["value"] == "/met 3"
    assert sent.message_id


async def test_a_user_or_channel_is_posted_to_directly(deps: Deps, standin: SlackStandIn) -> None:
    await SlackNotifier(deps).send(to("U1"), Reply(text="hello"))
    await SlackNotifier(deps).send(to("C0DIGEST"), Reply(text="digest"))
    assert standin.calls_to("conversations.open") == []
    assert [c.params["channel"] for c in standin.calls_to("chat.postMessage")] == ["U1", "C0DIGEST"]


async def test_a_file_goes_through_the_upload_steps(deps: Deps, standin: SlackStandIn) -> None:
    reply = Reply(text="Your export", attachment=Attachment("posts.csv", b"ref,title\n1,x\n", "text/csv"))
    sent = await SlackNotifier(deps).send(to("U1"), reply)
    assert sent.chat == "DU1"  # files go to conversations: the user's private chat was opened
    url = standin.calls_to("files.getUploadURLExternal")[0]
    assert url.params["filename"] == "posts.csv"
    uploads = [c for c in standin.calls if c.method.startswith("upload:")]
    assert uploads[0].params["content"] == b"ref,title\n1,x\n"
    done = standin.calls_to("files.completeUploadExternal")[0]
    assert done.params["channel_id"] == "DU1"
    assert done.params["initial_comment"] == "Your export"


async def test_rate_limits_say_when_to_retry(deps: Deps, standin: SlackStandIn) -> None:
    standin.fail("chat.postMessage", Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "17"}))
    with pytest.raises(DeliveryError) as raised:
        await SlackNotifier(deps).send(to("U1"), Reply(text="hi"))
    assert raised.value.retry_after == 17
    assert not raised.value.permanent
    await SlackNotifier(deps).send(to("U1"), Reply(text="hi"))  # the next try works


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "account_inactive"])
async def test_unreachable_destinations_are_permanent(deps: Deps, standin: SlackStandIn, error: str) -> None:
    standin.fail("chat.postMessage", Failure(200, {"ok": False, "error": error}))
    with pytest.raises(DeliveryError) as raised:
        await SlackNotifier(deps).send(to("C0GONE"), Reply(text="hi"))
    assert raised.value.permanent
    assert raised.value.reason == error


async def test_other_errors_may_be_retried(deps: Deps, standin: SlackStandIn) -> None:
    standin.fail("chat.postMessage", Failure(500, {"ok": False, "error": "internal_error"}))
    with pytest.raises(DeliveryError) as raised:
        await SlackNotifier(deps).send(to("U1"), Reply(text="hi"))
    assert not raised.value.permanent
