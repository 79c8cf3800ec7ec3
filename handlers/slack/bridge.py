"""The one way into the conversation engine from Slack: a neutral `Incoming` in, `Reply`s out, in
the person's turn.

bolt runs every request at once, each listener in its own task after the ack. So that one person's
flood never holds up another (nor races their own conversation), a listener takes the person's turn
(`bot.fairness`) before any work of the request — the record of its delivery, the profile, the
engine, the answers, the App Home — and keeps it until its task ends: a person's requests run one
at a time, in order, within their budget, and one refused costs nothing but, once a minute, a
"slow down" in their private chat. The engine is synchronous (it does database work), so it runs in
a worker thread, at most a few people's at once, and the event loop stays free to acknowledge
other requests within Slack's three seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.deps import Deps
from bot.fairness import Turn
from bot.i18n import pick_language, translator
from bot.ports import Incoming, Reply, Sender
from bot.posts import PostDraft
from handlers.application.conversation import Conversations
from handlers.slack.people import Directory
from handlers.slack.send import post_all


async def take_turn(deps: Deps, client: AsyncWebClient, directory: Directory, team: str, user: str) -> bool:
    """The person's turn for the rest of the current listener, released when its task ends (after
    the answers are sent and the home is drawn); False when the request is over their budget."""
    verdict, release = await deps.fairness.enter(f"slack:{team}:{user}")
    if verdict is Turn.run:
        task = asyncio.current_task()
        assert task is not None, "a listener runs in its own task"
        task.add_done_callback(lambda _task: release())
        return True
    if verdict is Turn.refused_tell:
        known = directory.known(team, user)  # no profile lookup for a refused request
        language = pick_language(known.locale if known else None, default=deps.settings.default_language)
        channel = await directory.dm_channel(client, team, user)
        await post_all(client, channel, [Reply(text=translator(language).t("core.slow_down"))])
    return False


async def new_request(context: AsyncBoltContext, client: AsyncWebClient, team: str, user: str) -> Sender | None:
    """After the ack, first of all: the person's turn for the rest of the listener (`take_turn`),
    then who sent this request; None when it is over their budget."""
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    if not await take_turn(deps, client, directory, team, user):
        return None
    return await directory.sender(client, team, user)


async def converse(deps: Deps, incoming: Incoming) -> list[Reply]:
    """The engine's answer, in the turn the listener holds (`take_turn`)."""
    return await _run(deps, partial(Conversations(deps).handle, incoming))


async def submit(deps: Deps, incoming: Incoming, draft: PostDraft, *, organisation: str | None) -> list[Reply]:
    """The offer / need modal's post, saved the way the conversation saves one."""
    return await _run(deps, partial(Conversations(deps).submit_post, incoming, draft, organisation=organisation))


async def _run(deps: Deps, work: Callable[[], list[Reply]]) -> list[Reply]:
    async with deps.fairness.running():
        return await asyncio.to_thread(work)


def dm_link(body: dict[str, Any], sender: Sender, settings: Settings) -> tuple[str, str] | None:
    """(label, url) of the bot's Messages tab, for replies that continue in private."""
    app_id = body.get("api_app_id")
    if not app_id:
        return None
    tr = translator(pick_language(sender.locale, default=settings.default_language))
    return tr.t("slack.open_private_chat"), f"https://slack.com/app_redirect?app={app_id}&team={sender.workspace}"
