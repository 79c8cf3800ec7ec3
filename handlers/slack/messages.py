"""Events: private messages in the bot's Messages tab go through the conversation engine as
plain text (so `offer`, `oferta`, `besoin` … start the same conversation as the console);
opening the App Home draws it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.ports import Incoming
from handlers.slack.addresses import chat_address
from handlers.slack.app_home import publish, refresh
from handlers.slack.bridge import converse
from handlers.slack.dedupe import new_request
from handlers.slack.mrkdwn import unescape
from handlers.slack.send import post_all


def team_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(event.get("team") or body.get("team_id") or "")


def is_person_writing(event: dict[str, Any]) -> bool:
    """A person's own new message in a private chat: not an edit, a join, or a bot (us included)."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


async def on_message(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if not is_person_writing(event):
        return
    team, channel = team_of(body, event), str(event["channel"])
    sender = await new_request(context, client, body, team, str(event["user"]))
    if sender is None:
        return
    deps: Deps = context["deps"]
    text = unescape(str(event.get("text", "")))
    replies = await converse(deps, Incoming(sender=sender, chat=chat_address(team, channel), text=text))
    await post_all(client, channel, replies)
    await refresh(client, deps, sender)


async def on_home_opened(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab") != "home":
        return
    sender = await new_request(context, client, body, team_of(body, event), str(event["user"]))
    if sender is not None:
        await publish(client, context["deps"], sender)


def register(app: AsyncApp) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home_opened)
