"""Members' commands about meetings, follow-ups and their own rhythm: `/rsvp`, `/ics`, `/pause`,
`/resume`, `/met`, `/renew`, `/block`. Buttons send the same text (e.g. "/rsvp 4 yes")."""

from __future__ import annotations

from babel.dates import format_date

from bot import controls, meetings, outcomes
from bot.i18n import N_
from bot.meeting_ics import ics_attachment
from bot.meeting_time import example_day, parse_pause_day, show
from bot.numbers import number, parse_number
from bot.ports import Reply
from handlers.application.turn import Turn
from storage.models import RsvpAnswer

ANSWER_WORDS = {
    RsvpAnswer.yes: N_("schedules.words_yes"),
    RsvpAnswer.no: N_("schedules.words_no"),
    RsvpAnswer.maybe: N_("schedules.words_maybe"),
}
ANSWER_LABELS = {
    RsvpAnswer.yes: N_("schedules.answer_yes"),
    RsvpAnswer.no: N_("schedules.answer_no"),
    RsvpAnswer.maybe: N_("schedules.answer_maybe"),
}
MET_REPLIES = {
    "yes": N_("schedules.met_yes"),
    "notyet": N_("schedules.met_notyet"),
    "useless": N_("schedules.met_useless"),
}


def _answer(turn: Turn, word: str) -> RsvpAnswer | None:
    for answer, key in ANSWER_WORDS.items():
        if word.lower() in turn.tr.words(key):
            return answer
    return None


def rsvp_command(turn: Turn, args: str) -> list[Reply]:
    parts = args.split()
    meeting_id = parse_number(parts[0]) if parts else None
    answer = _answer(turn, parts[1]) if len(parts) == 2 else None
    if meeting_id is None or answer is None:
        return [turn.say("schedules.rsvp_usage")]
    meeting = meetings.find(turn.session, community_id=turn.who.community_id, meeting_id=meeting_id)
    meetings.rsvp(
        turn.session,
        meeting,
        member_id=turn.who.member_id,
        answer=answer,
        settings=turn.deps.settings,
        now=turn.deps.clock.now(),
    )
    when = show(meeting.start_at, turn.who.timezone, turn.tr.language)
    label = turn.tr.t(ANSWER_LABELS[answer])
    return [turn.say("schedules.rsvp_saved", title=meeting.title, when=when, answer=label)]


def ics_command(turn: Turn, args: str) -> list[Reply]:
    meeting_id = number(args, usage=N_("schedules.ics_usage"))
    meeting = meetings.find(turn.session, community_id=turn.who.community_id, meeting_id=meeting_id)
    when = show(meeting.start_at, turn.who.timezone, turn.tr.language)
    attachment = ics_attachment(meeting, now=turn.deps.clock.now())
    return [Reply(text=turn.tr.t("schedules.ics_sent", title=meeting.title, when=when), attachment=attachment)]


def pause_command(turn: Turn, args: str) -> list[Reply]:
    """`/pause until friday`, `/pause mañana`, `/pause in 2 weeks`, `/pause until 2027-01-10`."""
    now = turn.deps.clock.now()
    today = now.astimezone(turn.who.timezone).date()
    if not args.strip():
        return [turn.say("schedules.pause_usage", example=example_day(today))]
    until = parse_pause_day(args, today=today)  # a UserError is answered by the dispatcher
    controls.pause(turn.session, turn.who, until, now=now)
    return [turn.say("schedules.paused", date=format_date(until, "full", locale=turn.tr.language))]


def resume_command(turn: Turn, _args: str) -> list[Reply]:
    if controls.resume(turn.session, turn.who):
        return [turn.say("schedules.resumed")]
    return [turn.say("schedules.not_paused")]


def met_command(turn: Turn, args: str) -> list[Reply]:
    parts = args.split()
    match_id = parse_number(parts[0]) if parts else None
    answer = parts[1].lower() if len(parts) == 2 else ""
    if match_id is None or answer not in MET_REPLIES:
        return [turn.say("schedules.met_usage")]
    outcomes.answer_followup(turn.session, turn.who, match_id, answer, now=turn.deps.clock.now())
    return [turn.say(MET_REPLIES[answer])]


def renew_command(turn: Turn, args: str) -> list[Reply]:
    post_id = number(args, usage=N_("schedules.renew_usage"))
    post = controls.renew(turn.session, turn.who, post_id, now=turn.deps.clock.now())
    return [turn.say("schedules.renewed", title=post.title)]


def block_command(turn: Turn, args: str) -> list[Reply]:
    organisation_id = number(args, usage=N_("schedules.block_usage"))
    organisation = controls.block(turn.session, turn.who, organisation_id)
    return [turn.say("schedules.blocked", organisation=organisation.name)]
