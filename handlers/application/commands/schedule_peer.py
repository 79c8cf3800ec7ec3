"""Facilitators' `/peer` sub-commands about the rhythm of the partnership: `meeting new|list|cancel|
move`, `stats` and `digest now`. (The dispatcher has already checked the facilitator role.)"""

from __future__ import annotations

from babel.dates import format_date

from bot import digests, meetings
from bot.errors import UserError
from bot.i18n import N_
from bot.meeting_notices import reminder_offsets
from bot.meeting_time import When, duration_text, parse_when, show
from bot.numbers import number
from bot.outcomes import funnel, recent_rounds
from bot.picture.funnel_chart import draw_funnel
from bot.ports import Attachment, Reply
from bot.readers import channel_for, community_channels
from handlers.application.turn import Turn
from storage.models import Channel, RsvpAnswer


def peer_meeting(turn: Turn, args: str) -> list[Reply]:
    sub, _, rest = args.strip().partition(" ")
    handler = {"new": _new, "list": _list, "cancel": _cancel, "move": _move}.get(sub.lower())
    if handler is None:
        return [turn.say("schedules.meeting_usage")]
    return handler(turn, rest.strip())


def _when(turn: Turn, text: str) -> When:
    return parse_when(text, default_zone=turn.who.timezone, now=turn.deps.clock.now())


def _channels(turn: Turn) -> list[Channel]:
    """This group chat (when the command is typed in one) and the community's channels."""
    found = list(community_channels(turn.session, turn.who.community_id))
    if not turn.incoming.is_private:
        here = channel_for(turn.session, community_id=turn.who.community_id, address=turn.incoming.chat)
        if all(channel.id != here.id for channel in found):
            found.insert(0, here)
    return found


def _new(turn: Turn, text: str) -> list[Reply]:
    when = _when(turn, text)
    channels = _channels(turn)
    draft = meetings.MeetingDraft(title=when.rest, when=when)
    meeting = meetings.create(
        turn.session,
        community_id=turn.who.community_id,
        organiser_id=turn.who.member_id,
        draft=draft,
        channels=channels,
        settings=turn.deps.settings,
        now=turn.deps.clock.now(),
    )
    offsets = reminder_offsets(turn.deps.settings, turn.who.community)
    return [
        turn.say(
            "schedules.meeting_created",
            id=meeting.id,
            title=meeting.title,
            when=show(meeting.start_at, turn.who.timezone, turn.tr.language),
            count=len(channels),
            offsets=", ".join(duration_text(delta) for delta in offsets),
        )
    ]


def _list(turn: Turn, _text: str) -> list[Reply]:
    found = meetings.upcoming(turn.session, community_id=turn.who.community_id, now=turn.deps.clock.now())
    if not found:
        return [turn.say("schedules.meeting_list_empty")]
    lines = [turn.tr.t("schedules.meeting_list_header")]
    for meeting in found:
        counts = meetings.counts(turn.session, meeting)
        lines.append(
            turn.tr.t(
                "schedules.meeting_list_line",
                id=meeting.id,
                title=meeting.title,
                when=show(meeting.start_at, turn.who.timezone, turn.tr.language),
                yes=counts[RsvpAnswer.yes],
                maybe=counts[RsvpAnswer.maybe],
                no=counts[RsvpAnswer.no],
            )
        )
    return [Reply(text="\n".join(lines))]


def _target(turn: Turn, text: str) -> tuple[int, str]:
    meeting_id, _, rest = text.partition(" ")
    return number(meeting_id, usage=N_("schedules.meeting_usage")), rest.strip()


def _cancel(turn: Turn, text: str) -> list[Reply]:
    meeting_id, _ = _target(turn, text)
    meeting = meetings.find(turn.session, community_id=turn.who.community_id, meeting_id=meeting_id)
    meetings.cancel(turn.session, meeting, settings=turn.deps.settings, now=turn.deps.clock.now())
    when = show(meeting.start_at, turn.who.timezone, turn.tr.language)
    return [turn.say("schedules.meeting_cancelled", id=meeting.id, title=meeting.title, when=when)]


def _move(turn: Turn, text: str) -> list[Reply]:
    meeting_id, rest = _target(turn, text)
    when = _when(turn, rest)
    if when.rest:
        raise UserError(N_("schedules.meeting_usage"))
    meeting = meetings.find(turn.session, community_id=turn.who.community_id, meeting_id=meeting_id)
    meetings.move(turn.session, meeting, when=when, settings=turn.deps.settings, now=turn.deps.clock.now())
    shown = show(meeting.start_at, turn.who.timezone, turn.tr.language)
    return [turn.say("schedules.meeting_moved", id=meeting.id, title=meeting.title, when=shown)]


def peer_stats(turn: Turn, _args: str) -> list[Reply]:
    rounds = recent_rounds(turn.session, turn.who.community_id)
    if not rounds:
        return [turn.say("schedules.stats_empty")]
    lines = [turn.tr.t("schedules.stats_header")]
    all_figures = []
    for match_round in rounds:
        figures = funnel(turn.session, match_round)
        all_figures.append(figures)
        day = format_date(match_round.created_at.astimezone(turn.who.timezone), "medium", locale=turn.tr.language)
        lines.append(
            turn.tr.t(
                "schedules.stats_line",
                round=figures.round_id,
                date=day,
                suggested=figures.suggested,
                accepted=figures.accepted,
                introduced=figures.introduced,
                met=figures.met,
                useful=figures.useful,
            )
        )
    chart = draw_funnel(all_figures, turn.tr, zone=turn.who.timezone)
    stamp = turn.deps.clock.now().strftime("%Y%m%d-%H%M")
    attachment = Attachment(filename=f"peerlink-funnel-{stamp}.png", content=chart, mime_type="image/png")
    return [Reply(text="\n".join(lines), attachment=attachment)]


def peer_digest(turn: Turn, args: str) -> list[Reply]:
    if args.strip().lower() not in turn.tr.words("schedules.words_now"):
        return [turn.say("schedules.digest_usage")]
    return post_round_now(turn)


def post_round_now(turn: Turn) -> list[Reply]:
    """A fresh round to every community channel now (`/peer digest now`, `/peer match post`)."""
    planned = digests.plan_digest_now(
        turn.session,
        turn.who.community,
        now=turn.deps.clock.now(),
        run_round=digests.round_runner(turn.deps),
    )
    return [turn.say("schedules.digest_planned", count=planned)]
