"""The one way into the conversation engine from Slack: a neutral `Incoming` in, `Reply`s out.

The engine is synchronous (it does database work), so it runs in a worker thread and the event
loop stays free to acknowledge other requests within Slack's three seconds. bolt runs every request
at once, so each person's turns are taken one at a time, in order, within their budget
(`bot.fairness`): one person's flood never holds up another, nor races their own conversation.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.config import Settings
from bot.deps import Deps
from bot.fairness import Turn
from bot.i18n import pick_language, translator
from bot.ports import Incoming, Reply, Sender
from handlers.application.conversation import Conversations


async def converse(deps: Deps, incoming: Incoming) -> list[Reply]:
    sender = incoming.sender
    async with deps.fairness.turn(f"slack:{sender.workspace}:{sender.user_id}") as turn:
        if turn is Turn.run:
            return await asyncio.to_thread(Conversations(deps).handle, incoming)
    if turn is Turn.refused_tell:
        language = pick_language(sender.locale, default=deps.settings.default_language)
        return [Reply(text=translator(language).t("core.slow_down"))]
    return []


def dm_link(body: dict[str, Any], sender: Sender, settings: Settings) -> tuple[str, str] | None:
    """(label, url) of the bot's Messages tab, for replies that continue in private."""
    app_id = body.get("api_app_id")
    if not app_id:
        return None
    tr = translator(pick_language(sender.locale, default=settings.default_language))
    return tr.t("slack.open_private_chat"), f"https://slack.com/app_redirect?app={app_id}&team={sender.workspace}"
