"""`/peer meeting new` without details opens a form; its answers become the one-line command
`/peer meeting new YYYY-MM-DD HH:MM TZ Title`, which the conversation engine checks and runs
(so the form adds no rule of its own: a past date or an unknown zone is answered the usual way)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import Translator, translator
from bot.members import resolve
from bot.ports import Incoming, Sender
from bot.roles import is_facilitator
from handlers.slack import send
from handlers.slack.addresses import chat_address, is_private_channel
from handlers.slack.app_home import refresh
from handlers.slack.bridge import converse, new_request
from handlers.slack.people import Directory
from storage.db import transaction
from storage.models import TITLE_MAX

CALLBACK = "meeting_modal"
FORM_WORDS = "meeting new"  # `/peer meeting new` with nothing after it asks for the form
ZONE_MAX = 64


def wants_form(command: str, text: str) -> bool:
    return command == "peer" and " ".join(text.lower().split()) == FORM_WORDS


def form_context(deps: Deps, sender: Sender) -> tuple[bool, str, str]:
    """May this person plan meetings, in which language, and which timezone to suggest."""
    with transaction(deps.sessions) as session:
        who = resolve(session, sender)
        return is_facilitator(session, who, sender), who.language, who.timezone.key


def _block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"action_id": "value", **element},
    }


def meeting_modal(tr: Translator, *, timezone: str, channel: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": tr.t("slack.meeting_modal_title")},
        "submit": {"type": "plain_text", "text": tr.t("slack.modal_submit")},
        "close": {"type": "plain_text", "text": tr.t("slack.modal_close")},
        "blocks": [
            _block(
                "title",
                tr.t("slack.modal_field_title"),
                {"type": "plain_text_input", "max_length": TITLE_MAX},
            ),
            _block("date", tr.t("slack.meeting_field_date"), {"type": "datepicker"}),
            _block("time", tr.t("slack.meeting_field_time"), {"type": "timepicker"}),
            _block(
                "zone",
                tr.t("slack.meeting_field_zone"),
                {"type": "plain_text_input", "initial_value": timezone, "max_length": ZONE_MAX},
            ),
        ],
    }


def command_text(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})

    def value(block_id: str, key: str) -> str:
        return " ".join(str(((values.get(block_id) or {}).get("value") or {}).get(key) or "").split())

    parts = [value("date", "selected_date"), value("time", "selected_time"), value("zone", "value")]
    return " ".join(["/peer", FORM_WORDS, *(part for part in parts if part), value("title", "value")])


async def open_form(deps: Deps, client: AsyncWebClient, command: dict[str, Any], sender: Sender) -> bool:
    """Open the form for a facilitator; False lets the engine answer anyone else as usual."""
    allowed, language, timezone = await asyncio.to_thread(form_context, deps, sender)
    if not allowed:
        return False
    view = meeting_modal(translator(language), timezone=timezone, channel=str(command.get("channel_id", "")))
    await client.views_open(trigger_id=command["trigger_id"], view=view)
    return True


async def on_meeting_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    team, user = str(body["team"]["id"]), str(body["user"]["id"])
    sender = await new_request(context, client, team, user)
    if sender is None:
        return
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    channel = str(json.loads(view.get("private_metadata") or "{}").get("channel") or "")
    channel = channel or await directory.dm_channel(client, team, user)
    private = is_private_channel(channel)
    incoming = Incoming(sender=sender, chat=chat_address(team, channel), text=command_text(view), is_private=private)
    replies = await converse(deps, incoming)
    if private:
        await send.post_all(client, channel, replies)
    else:
        await send.post_ephemeral_all(client, channel, user, replies)
    await refresh(client, deps, sender)


def register(app: AsyncApp) -> None:
    app.view_submission(CALLBACK)(on_meeting_submission)
