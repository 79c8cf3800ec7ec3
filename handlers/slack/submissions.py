"""The offer / need modal was submitted: field errors go back into the modal at once; a valid
post is saved, confirmed in a private message with its instant matches, and the App Home redrawn."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.ports import Incoming
from handlers.slack.addresses import chat_address
from handlers.slack.app_home import refresh
from handlers.slack.bridge import new_request, submit
from handlers.slack.modals import CALLBACK, read_submission
from handlers.slack.people import Directory
from handlers.slack.send import post_all


async def on_post_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    submission = read_submission(view)
    if submission.errors:
        await ack(response_action="errors", errors=submission.errors)
        return
    await ack()  # closes the modal; saving happens after
    team, user = str(body["team"]["id"]), str(body["user"]["id"])
    sender = await new_request(context, client, team, user)
    if sender is None:
        return
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    channel = await directory.dm_channel(client, team, user)
    incoming = Incoming(sender=sender, chat=chat_address(team, channel), text="")
    replies = await submit(deps, incoming, submission.draft, organisation=submission.organisation)
    await post_all(client, channel, replies)
    await refresh(client, deps, sender)


def register(app: AsyncApp) -> None:
    app.view_submission(CALLBACK)(on_post_submission)
