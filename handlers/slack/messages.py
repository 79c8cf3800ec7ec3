"""Events: private messages in the bot's Messages tab go through the conversation engine as
plain text (so `offer`, `oferta`, `besoin` … start the same conversation as the console);
opening the App Home draws it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import pick_language, translator
from bot.ports import Incoming, Reply
from handlers.slack.addresses import chat_address
from handlers.slack.app_home import publish, refresh
from handlers.slack.bridge import converse, new_request
from handlers.slack.mrkdwn import received
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


def is_file_shared(event: dict[str, Any]) -> bool:
    """A person sending a file in a private chat (an answer to an introduction, say)."""
    return event.get("channel_type") == "im" and event.get("subtype") == "file_share" and not event.get("bot_id")


async def on_file(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Files are not passed on: say so politely, in the person's language."""
    team, channel = team_of(body, event), str(event["channel"])
    sender = await new_request(context, client, team, str(event.get("user", "")))
    if sender is None:
        return
    await post_all(client, channel, [Reply(text=translator(pick_language(sender.locale)).t("slack.text_only"))])


async def on_message(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if is_file_shared(event) and event.get("user"):
        await on_file(body, event, client, context)
        return
    if not is_person_writing(event):
        return
    team, channel = team_of(body, event), str(event["channel"])
    sender = await new_request(context, client, team, str(event["user"]))
    if sender is None:
        return
    deps: Deps = context["deps"]
    text = received(str(event.get("text", "")))
    thread = event.get("thread_ts")
    answered = str(thread) if thread and thread != event.get("ts") else None  # a reply in a thread
    incoming = Incoming(sender=sender, chat=chat_address(team, channel), text=text, reply_to=answered)
    replies = await converse(deps, incoming)
    await post_all(client, channel, replies)
    await refresh(client, deps, sender)


async def on_home_opened(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab") != "home":
        return
    sender = await new_request(context, client, team_of(body, event), str(event["user"]))
    if sender is None:
        return
    await publish(client, context["deps"], sender)


def register(app: AsyncApp) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home_opened)
