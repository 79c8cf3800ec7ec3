"""Button presses: a press is the same as typing the button's value, wherever the button was
(a private chat, an ephemeral answer in a channel, the App Home)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.ports import Incoming, Reply
from handlers.slack import send
from handlers.slack.addresses import chat_address, is_private_channel
from handlers.slack.app_home import refresh
from handlers.slack.blocks import PRESS, replaces_of
from handlers.slack.bridge import converse, dm_link, new_request
from handlers.slack.people import Directory


async def _in_message(client: AsyncWebClient, channel: str, ts: str, replies: list[Reply], replace: str | None) -> None:
    """Answer under the pressed message; a keyboard that changed (same `replaces`) is edited in place."""
    for reply in replies:
        if replace is not None and reply.replaces == replace and reply.attachment is None:
            await send.update(client, channel, ts, reply)
        else:
            await send.post(client, channel, reply)


async def on_press(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    team, user = str(body["team"]["id"]), str(body["user"]["id"])
    sender = await new_request(context, client, team, user)
    if sender is None:
        return
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    container: dict[str, Any] = body.get("container") or {}
    in_message = container.get("type") == "message"
    channel = str(container.get("channel_id", "")) if in_message else ""
    channel = channel or await directory.dm_channel(client, team, user)
    incoming = Incoming(
        sender=sender,
        chat=chat_address(team, channel),
        text=str(action.get("value", "")),
        is_private=is_private_channel(channel),
    )
    replies = await converse(deps, incoming)
    replace = replaces_of(action.get("block_id"))
    if in_message and (container.get("is_ephemeral") or not is_private_channel(channel)):
        # A press on a channel message (a digest's Accept, an RSVP) is answered to the presser
        # alone; only their own ephemeral message may be replaced, never the channel's.
        files = (client, await directory.dm_channel(client, team, user))
        own = replace if container.get("is_ephemeral") else None
        await send.respond_all(respond, replies, files=files, link=dm_link(body, sender, deps.settings), replace=own)
    elif in_message:
        await _in_message(client, channel, str(container.get("message_ts", "")), replies, replace)
    else:
        await send.post_all(client, channel, replies)
    await refresh(client, deps, sender)  # accept, decline, RSVP … change what the home shows


async def on_link(ack: AsyncAck) -> None:
    await ack()  # a URL button: Slack opens the link, we only acknowledge


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{PRESS}:"))(on_press)
    app.action("open_link")(on_link)
