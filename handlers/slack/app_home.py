"""The App Home tab in Block Kit: my posts, matches waiting for my answer, meetings ahead.

The data comes from the platform-neutral `bot.home`; buttons carry the same text commands as
everywhere else (`/accept 12`, `/rsvp 4 yes`), so a press runs through the conversation engine.
"""

from __future__ import annotations

import asyncio
import logging
from itertools import groupby
from typing import Any

from babel.dates import format_datetime
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.home import Home, UpcomingMeeting, home, take_stale
from bot.i18n import N_, Translator, translator
from bot.members import resolve
from bot.ports import Button, Sender
from handlers.application.commands.general import STATUS_KEYS
from handlers.application.flows.post import KIND_KEYS
from handlers.slack.blocks import Block, button_blocks, card_blocks, text_blocks
from handlers.slack.client import bot_token, web_client
from handlers.slack.installations import DatabaseInstallationStore
from storage.db import transaction
from storage.models import RsvpAnswer

log = logging.getLogger(__name__)

ANSWER_KEYS = {
    RsvpAnswer.yes: N_("slack.rsvp_yes"),
    RsvpAnswer.no: N_("slack.rsvp_no"),
    RsvpAnswer.maybe: N_("slack.rsvp_maybe"),
}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _posts(data: Home, tr: Translator) -> list[Block]:
    blocks: list[Block] = [_header(tr.t("slack.home_posts"))]
    lines = [
        tr.t(
            "slack.home_post_line",
            number=post.id,
            kind=tr.t(KIND_KEYS[post.kind]),
            title=post.title,
            status=tr.t(STATUS_KEYS[post.status]),
        )
        for post in data.posts
    ]
    blocks += text_blocks("\n".join(lines) or tr.t("slack.home_no_posts"))
    new = (
        Button(label=tr.t("slack.home_new_offer"), value="/offer", style="primary"),
        Button(label=tr.t("slack.home_new_need"), value="/need"),
    )
    return blocks + button_blocks(new)


def when(meeting: UpcomingMeeting, language: str) -> str:
    """The start in the reader's own timezone, in their language's words."""
    local = format_datetime(meeting.starts, "EEEE d MMMM y, HH:mm", tzinfo=meeting.starts.tzinfo, locale=language)
    return f"{local} ({meeting.starts.tzname()})"


def _meeting(meeting: UpcomingMeeting, tr: Translator) -> list[Block]:
    answer = tr.t(ANSWER_KEYS[meeting.answer]) if meeting.answer else tr.t("slack.rsvp_none")
    text = tr.t("slack.home_meeting_line", title=meeting.title, when=when(meeting, tr.language), answer=answer)
    buttons = tuple(
        Button(label=tr.t(key), value=f"/rsvp {meeting.id} {answer.value}", selected=answer == meeting.answer)
        for answer, key in ANSWER_KEYS.items()
    )
    return text_blocks(text) + button_blocks(buttons)


def home_view(data: Home) -> dict[str, Any]:
    tr = translator(data.language)
    blocks = _posts(data, tr)
    blocks += [{"type": "divider"}, _header(tr.t("slack.home_matches"))]
    for card in data.matches:
        blocks += card_blocks(card, tr)
    if not data.matches:
        blocks += text_blocks(tr.t("slack.home_no_matches"))
    blocks += [{"type": "divider"}, _header(tr.t("slack.home_meetings"))]
    for meeting in data.meetings:
        blocks += _meeting(meeting, tr)
    if not data.meetings:
        blocks += text_blocks(tr.t("slack.home_no_meetings"))
    return {"type": "home", "blocks": blocks}


def gather(deps: Deps, sender: Sender) -> Home:
    with transaction(deps.sessions) as session:
        who = resolve(session, sender)
        return home(session, who, deps.clock.now())


async def publish(client: AsyncWebClient, deps: Deps, sender: Sender) -> None:
    """(Re)draw a member's App Home; called when they open it and whenever something changed."""
    data = await asyncio.to_thread(gather, deps, sender)
    await client.views_publish(user_id=sender.user_id, view=home_view(data))


# --- other people's homes ------------------------------------------------------------------------


def _take_stale(deps: Deps) -> list[tuple[str, str]]:
    with transaction(deps.sessions) as session:
        return sorted({(identity.workspace, identity.user_id) for identity in take_stale(session, platform="slack")})


async def refresh_stale(deps: Deps, *, done: Sender | None = None) -> None:
    """Redraw the homes that changed for people who did not act (the other side accepted, a
    meeting moved, a round suggested matches), each with its own workspace's token. `done` is the
    person whose home was just drawn."""
    stale = await asyncio.to_thread(_take_stale, deps)
    installations = DatabaseInstallationStore(deps.sessions, deps.settings.secret_keys)
    for team, people in groupby(stale, key=lambda pair: pair[0]):
        token = await bot_token(deps.settings, installations, team)
        if token is None:
            continue  # the workspace uninstalled the app: nothing to draw there
        client = web_client(deps.settings, token)
        for _, user in people:
            if done is not None and (done.workspace, done.user_id) == (team, user):
                continue
            try:
                await publish(client, deps, Sender(platform="slack", workspace=team, user_id=user))
            except SlackApiError as problem:  # one closed account must not keep the others stale
                log.warning("could not redraw the home of %s: %s", user, problem.response.get("error"))


async def refresh(client: AsyncWebClient, deps: Deps, sender: Sender) -> None:
    """After a request: the acting person's home, then everyone else's the request changed."""
    await publish(client, deps, sender)
    await refresh_stale(deps, done=sender)
