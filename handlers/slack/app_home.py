"""The App Home tab in Block Kit: my posts, matches waiting for my answer, meetings ahead.

The data comes from the platform-neutral `bot.home`; buttons carry the same text commands as
everywhere else (`/accept 12`, `/rsvp 4 yes`), so a press runs through the conversation engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from babel.dates import format_datetime
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.home import Home, PendingMatch, UpcomingMeeting, home
from bot.i18n import N_, Translator, translator
from bot.members import resolve
from bot.ports import Button, Sender
from handlers.commands import STATUS_KEYS
from handlers.flows.post import KIND_KEYS
from handlers.slack.blocks import Block, button_blocks, text_blocks
from storage.db import transaction
from storage.models import RsvpAnswer

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


def _match(match: PendingMatch, tr: Translator) -> list[Block]:
    text = tr.t(
        "slack.home_match_line",
        kind=tr.t(KIND_KEYS[match.their_kind]),
        title=match.theirs,
        organisation=match.organisation,
        mine=match.mine,
    )
    buttons = (
        Button(label=tr.t("slack.button_accept"), value=f"/accept {match.id}", style="primary"),
        Button(label=tr.t("slack.button_decline"), value=f"/decline {match.id}", style="danger"),
    )
    return text_blocks(text) + button_blocks(buttons)


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
    for match in data.matches:
        blocks += _match(match, tr)
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
