"""Slash commands. `/offer` and `/need` open a modal; every other command (`/matches`,
`/peer match preview`, ...) is the text "/cmd args" handed to the conversation engine, answered
ephemerally so a channel only sees what is meant for it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import translator
from bot.members import resolve
from bot.ports import Incoming, Sender
from handlers.slack.addresses import chat_address, is_private_channel
from handlers.slack.app_home import refresh_stale
from handlers.slack.bridge import converse, dm_link, new_request
from handlers.slack.meeting_modal import open_form, wants_form
from handlers.slack.modals import post_modal
from handlers.slack.mrkdwn import unescape
from handlers.slack.people import Directory
from handlers.slack.send import respond_all
from storage.db import transaction
from storage.models import PostKind

MODAL_COMMANDS = {"offer": PostKind.offer, "need": PostKind.need}


def command_name(command: dict[str, Any]) -> str:
    return str(command.get("command", "")).lstrip("/").lower()


def modal_context(deps: Deps, sender: Sender) -> tuple[str, bool]:
    """The member's language, and whether the modal must ask for their organisation."""
    with transaction(deps.sessions) as session:
        who = resolve(session, sender)
        return who.language, who.member.organisation_id is None


async def open_post_modal(deps: Deps, client: AsyncWebClient, command: dict[str, Any], sender: Sender) -> None:
    language, ask_organisation = await asyncio.to_thread(modal_context, deps, sender)
    view = post_modal(
        MODAL_COMMANDS[command_name(command)],
        translator(language),
        text=unescape(str(command.get("text", ""))).strip(),
        ask_organisation=ask_organisation,
    )
    await client.views_open(trigger_id=command["trigger_id"], view=view)


async def on_command(
    ack: AsyncAck,
    body: dict[str, Any],
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()  # first: Slack waits for nothing else
    team, channel = str(command["team_id"]), str(command["channel_id"])
    sender = await new_request(context, client, team, str(command["user_id"]))
    if sender is None:
        return
    deps: Deps = context["deps"]
    if command_name(command) in MODAL_COMMANDS:
        await open_post_modal(deps, client, command, sender)
        return
    if wants_form(command_name(command), str(command.get("text", ""))) and await open_form(
        deps, client, command, sender
    ):
        return
    text = f"/{command_name(command)} {unescape(str(command.get('text', '')))}".strip()
    incoming = Incoming(
        sender=sender, chat=chat_address(team, channel), text=text, is_private=is_private_channel(channel)
    )
    replies = await converse(deps, incoming)
    files = None
    if any(reply.attachment for reply in replies):
        directory: Directory = context["directory"]
        files = (client, await directory.dm_channel(client, team, sender.user_id))
    await respond_all(respond, replies, files=files, link=dm_link(body, sender, deps.settings))
    await refresh_stale(deps)  # e.g. `/peer introduce 12` or `/accept 12` changed other people's homes


def register(app: AsyncApp) -> None:
    app.command(re.compile(r"^/"))(on_command)
