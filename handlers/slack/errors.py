"""When a listener fails after the ack, the error goes to the log and the person is not forgotten.

A stored request (handlers/slack/inbox.py) is tried again later, so the person hears the real answer
then; only when its last attempt fails do they get an apology in their language, where they wrote
(an ephemeral answer, their private chat). A request that reached a listener without being stored
is apologised for at once."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import pick_language, translator
from bot.inbox import Outcome
from handlers.slack.inbox import held, settle
from handlers.slack.people import Directory

log = logging.getLogger(__name__)


def _language(context: AsyncBoltContext) -> str:
    deps: Deps | None = context.get("deps")
    directory: Directory | None = context.get("directory")
    default = deps.settings.default_language if deps else "en"
    known = directory.known(context.team_id or "", context.user_id or "") if directory else None
    return pick_language(known.locale if known else None, default=default)


async def _apology(error: Exception, context: AsyncBoltContext, deps: Deps) -> str | None:
    """What to tell the person now, or None when the request is tried again (or nothing was stored)."""
    found = held(context)
    if found is None:
        return translator(_language(context)).t("slack.error_generic")
    found.attempt.failed(error)
    if await settle(deps, found.attempt) is not Outcome.gave_up:
        return None
    return translator(_language(context)).t("core.gave_up")


async def _tell(
    text: str, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond | None
) -> None:
    event = body.get("event") or {}
    if respond is not None and context.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    elif event.get("channel_type") == "im" and event.get("channel"):
        await client.chat_postMessage(channel=str(event["channel"]), text=text)
    elif context.team_id and context.user_id:  # a modal's submission: their private chat
        directory: Directory = context["directory"]
        await client.chat_postMessage(
            channel=await directory.dm_channel(client, context.team_id, context.user_id), text=text
        )


async def on_error(
    error: Exception,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond | None = None,
) -> None:
    log.error("Slack listener failed: %s", error, exc_info=error)
    deps: Deps | None = context.get("deps")
    if deps is None:
        # Our middleware runs only after bolt verified the request: without it, nothing in `body`
        # (its response_url above all) may be trusted, so nobody is answered.
        return
    text = await _apology(error, context, deps)
    if text is None:
        return
    try:
        await _tell(text, body, context, client, respond)
    except Exception:  # the apology is best effort; the cause is logged above
        log.warning("could not tell the user about the failure", exc_info=True)
