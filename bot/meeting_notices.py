"""What a meeting puts in the outbox: announcements (with the .ics) and reminders.

Reminders go to the meeting's channels and, privately, to everyone who answered "yes", at each
reminder offset before the start (Settings.reminder_deltas; Community.reminder_offsets overrides).
Their dedupe key is `reminder:{meeting}@{start}:{offset}:{address}`: the start is part of the
meeting's token so a moved meeting plans fresh reminders while planning twice stays harmless.
Offsets are durations (24h before is 24 real hours before, across a DST change too); the text is
rendered at planning time in the reader's zone with the DST rules of the meeting's date, so it
stays right whenever it is sent.

A reminder is only planned if it was still ahead when the meeting got its time (or the person said
yes): a meeting set up two hours ahead gets no "tomorrow" reminder. Its `valid_until` is the moment
the next reminder falls due (the last one's is the start): after downtime, a reminder still useful
is sent late, one overtaken by a later reminder or by the meeting itself is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from bot.config import Settings, parse_offsets
from bot.deliveries import enqueue
from bot.i18n import N_
from bot.meeting_ics import ics_attachment
from bot.meeting_time import duration_text, offset_words, show
from bot.members import zone
from bot.ports import Button, Reply
from bot.readers import Reader, channel_reader, member_reader
from storage.models import (
    Channel,
    Community,
    Delivery,
    DeliveryStatus,
    Meeting,
    MeetingChannel,
    MeetingStatus,
    Rsvp,
    RsvpAnswer,
)

log = logging.getLogger(__name__)

REMINDER = "reminder"
ANNOUNCEMENT = "announcement"
CALENDAR = "calendar"  # the .ics that goes with an announcement


def reminder_offsets(settings: Settings, community: Community | None) -> tuple[timedelta, ...]:
    if community is not None and community.reminder_offsets:
        try:
            return parse_offsets(community.reminder_offsets)
        except ValueError:
            log.warning(
                "community %s: bad reminder_offsets %r, using the default",
                community.id,
                community.reminder_offsets,
            )
    return settings.reminder_deltas


def channels_of(session: Session, meeting: Meeting) -> Sequence[Channel]:
    return session.exec(
        select(Channel)
        .join(MeetingChannel, col(MeetingChannel.channel_id) == col(Channel.id))
        .where(MeetingChannel.meeting_id == meeting.id)
        .order_by(col(Channel.id))
    ).all()


def meeting_channel_reader(session: Session, channel: Channel, meeting: Meeting) -> Reader:
    """A shared channel reads a meeting in the meeting's own zone (the organiser's) unless the
    channel has a zone of its own; private messages use each reader's zone."""
    reader = channel_reader(session, channel)
    return reader if channel.timezone else replace(reader, zone=zone(meeting.timezone))


def rsvps(session: Session, meeting: Meeting, *answers: RsvpAnswer) -> Sequence[Rsvp]:
    return session.exec(
        select(Rsvp).where(Rsvp.meeting_id == meeting.id, col(Rsvp.answer).in_(answers)).order_by(col(Rsvp.id))
    ).all()


def rsvp_buttons(reader: Reader, meeting_id: int) -> tuple[Button, ...]:
    tr = reader.tr
    return (
        Button(label=tr.t("schedules.button_yes"), value=f"/rsvp {meeting_id} yes", style="primary"),
        Button(label=tr.t("schedules.button_maybe"), value=f"/rsvp {meeting_id} maybe"),
        Button(label=tr.t("schedules.button_no"), value=f"/rsvp {meeting_id} no"),
    )


def _details(reader: Reader, meeting: Meeting) -> str:
    lines = []
    if meeting.agenda:
        lines.append(reader.tr.t("schedules.agenda_line", agenda=meeting.agenda))
    if meeting.video_link:
        lines.append(reader.tr.t("schedules.video_line", link=meeting.video_link))
    return "".join("\n" + line for line in lines)


def reminder_reply(reader: Reader, meeting: Meeting, offset: timedelta, *, private: bool) -> Reply:
    assert meeting.id is not None
    tr = reader.tr
    text = tr.t(
        "schedules.reminder",
        title=meeting.title,
        delta=offset_words(offset, reader.language),
        when=show(meeting.start_at, reader.zone, reader.language),
    ) + _details(reader, meeting)
    if private:
        buttons: tuple[Button, ...] = (Button(label=tr.t("schedules.button_cant"), value=f"/rsvp {meeting.id} no"),)
    else:
        buttons = rsvp_buttons(reader, meeting.id)
    return Reply(text=text, buttons=buttons)


def _reminder_key(meeting: Meeting, offset: timedelta, reader: Reader) -> str:
    token = f"{meeting.id}@{meeting.start_at:%Y%m%dT%H%MZ}"
    return f"reminder:{token}:{duration_text(offset)}:{reader.address.key()}"


def plan_reminders(session: Session, meeting: Meeting, *, offsets: Sequence[timedelta], now: datetime) -> int:
    """Plan every reminder still ahead; returns how many rows are new (planning twice is harmless)."""
    if meeting.status != MeetingStatus.scheduled or meeting.start_at <= now:
        return 0
    targets: list[tuple[Reader, datetime, bool]] = [
        (meeting_channel_reader(session, channel, meeting), meeting.updated_at, False)
        for channel in channels_of(session, meeting)
    ]
    for answer in rsvps(session, meeting, RsvpAnswer.yes):
        reader = member_reader(session, answer.member_id)
        if reader is not None:
            targets.append((reader, max(meeting.updated_at, answer.updated_at), True))
    planned = 0
    ordered = sorted(offsets, reverse=True)
    for position, offset in enumerate(ordered):
        due = meeting.start_at - offset
        # useful until the next reminder is due (then that one says it better), the last until the start
        until = meeting.start_at - ordered[position + 1] if position + 1 < len(ordered) else meeting.start_at
        for reader, since, private in targets:
            if due < since:
                continue  # was already past when the meeting (or this "yes") came: nothing to remind
            row = enqueue(
                session,
                dedupe_key=_reminder_key(meeting, offset, reader),
                to=reader.address,
                reply=reminder_reply(reader, meeting, offset, private=private),
                kind=REMINDER,
                due_at=due,
                valid_until=until,
                community_id=meeting.community_id,
                member_id=reader.member_id,
            )
            planned += row is not None
    return planned


def skip_pending(session: Session, meeting: Meeting, *, reason: str) -> int:
    """Withdraw the meeting's planned reminders and stale announcements (kept, marked skipped)."""
    skipped = 0
    for prefix in (f"reminder:{meeting.id}@%", f"announce:{meeting.id}:%"):
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.status) == DeliveryStatus.pending, col(Delivery.dedupe_key).like(prefix))
            .values(status=DeliveryStatus.skipped, last_error=reason[:500])
        )
        skipped += cast(CursorResult[Any], result).rowcount
    if skipped:
        log.info("meeting %s: %d planned messages skipped (%s)", meeting.id, skipped, reason)
    return skipped


def drop_member_reminders(session: Session, meeting: Meeting, *, member_id: int) -> int:
    """Someone no longer comes: their planned private reminders go (deleted, so a later "yes" can
    plan them again under the same keys)."""
    result = session.execute(
        delete(Delivery).where(
            col(Delivery.status) == DeliveryStatus.pending,
            col(Delivery.dedupe_key).like(f"reminder:{meeting.id}@%"),
            col(Delivery.member_id) == member_id,
        )
    )
    return cast(CursorResult[Any], result).rowcount


def announcement_reply(reader: Reader, meeting: Meeting) -> Reply:
    assert meeting.id is not None
    tr = reader.tr
    values = {
        "title": meeting.title,
        "when": show(meeting.start_at, reader.zone, reader.language),
        "id": meeting.id,
    }
    if meeting.status == MeetingStatus.cancelled:
        return Reply(text=tr.t("schedules.announce_cancelled", **values))
    key = N_("schedules.announce_moved") if meeting.sequence > 0 else N_("schedules.announce_new")
    return Reply(text=tr.t(key, **values) + _details(reader, meeting), buttons=rsvp_buttons(reader, meeting.id))


def calendar_reply(reader: Reader, meeting: Meeting, *, now: datetime) -> Reply:
    when = show(meeting.start_at, reader.zone, reader.language)
    text = reader.tr.t("schedules.ics_sent", title=meeting.title, when=when)
    return Reply(text=text, attachment=ics_attachment(meeting, now=now))


def plan_announcement(session: Session, meeting: Meeting, *, now: datetime) -> int:
    """Tell the meeting's channels (and, after a change, those who planned to come): the message
    with its RSVP buttons, then the .ics as a message of its own (a file upload carries no buttons
    on Slack, and each part is retried on its own)."""
    readers = [meeting_channel_reader(session, channel, meeting) for channel in channels_of(session, meeting)]
    if meeting.sequence > 0:
        for answer in rsvps(session, meeting, RsvpAnswer.yes, RsvpAnswer.maybe):
            reader = member_reader(session, answer.member_id)
            if reader is not None:
                readers.append(reader)
    planned = 0
    for reader in readers:
        base = f"announce:{meeting.id}:{meeting.sequence}:"
        for key, kind, reply in (
            (f"{base}{reader.address.key()}", ANNOUNCEMENT, announcement_reply(reader, meeting)),
            (f"{base}ics:{reader.address.key()}", CALENDAR, calendar_reply(reader, meeting, now=now)),
        ):
            row = enqueue(
                session,
                dedupe_key=key,
                to=reader.address,
                reply=reply,
                kind=kind,
                due_at=now,
                valid_until=meeting.start_at,
                community_id=meeting.community_id,
                member_id=reader.member_id,
            )
            planned += row is not None
    return planned
