"""When a listener fails after the ack, the person still hears something: a short apology in their
language where they wrote (an ephemeral answer, or their private chat), and the error in the log."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import pick_language, translator
from handlers.slack.people import Directory

log = logging.getLogger(__name__)


def _language(context: AsyncBoltContext) -> str:
    deps: Deps | None = context.get("deps")
    directory: Directory | None = context.get("directory")
    default = deps.settings.default_language if deps else "en"
    known = directory.known(context.team_id or "", context.user_id or "") if directory else None
    return pick_language(known.locale if known else None, default=default)


async def on_error(
    error: Exception,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond | None = None,
) -> None:
    log.error("Slack listener failed: %s", error, exc_info=error)
    if context.get("deps") is None:
        # Our middleware runs only after bolt verified the request: without it, nothing in `body`
        # (its response_url above all) may be trusted, so nobody is answered.
        return
    text = translator(_language(context)).t("slack.error_generic")
    event = body.get("event") or {}
    try:
        if respond is not None and context.response_url:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        elif event.get("channel_type") == "im" and event.get("channel"):
            await client.chat_postMessage(channel=str(event["channel"]), text=text)
    except Exception:  # the apology is best effort; the cause is logged above
        log.warning("could not tell the user about the failure", exc_info=True)
