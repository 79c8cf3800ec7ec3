"""The one way into the conversation engine from Slack: a neutral `Incoming` in, `Reply`s out.

The engine is synchronous (it does database work), so it runs in a worker thread and the event
loop stays free to acknowledge other requests within Slack's three seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.config import Settings
from bot.deps import Deps
from bot.i18n import pick_language, translator
from bot.ports import Incoming, Reply, Sender
from handlers.application.conversation import Conversations


async def converse(deps: Deps, incoming: Incoming) -> list[Reply]:
    return await asyncio.to_thread(Conversations(deps).handle, incoming)


def dm_link(body: dict[str, Any], sender: Sender, settings: Settings) -> tuple[str, str] | None:
    """(label, url) of the bot's Messages tab, for replies that continue in private."""
    app_id = body.get("api_app_id")
    if not app_id:
        return None
    tr = translator(pick_language(sender.locale, default=settings.default_language))
    return tr.t("slack.open_private_chat"), f"https://slack.com/app_redirect?app={app_id}&team={sender.workspace}"
