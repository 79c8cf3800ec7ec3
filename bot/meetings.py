"""Meetings: create, move, cancel, RSVP — whatever the platform.

Every change bumps the meeting's SEQUENCE (its .ics then updates calendars), withdraws what was
planned for the old time and plans announcements and reminders for the new one, in the caller's
transaction: the outbox rows commit together with the change or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.errors import UserError
from bot.i18n import N_
from bot.meeting_notices import (
    drop_member_reminders,
    plan_announcement,
    plan_reminders,
    reminder_offsets,
    skip_pending,
)
from bot.meeting_time import When, check_meeting_title
from storage.models import Channel, Community, Meeting, MeetingChannel, MeetingStatus, Rsvp, RsvpAnswer

DEFAULT_DURATION_MINUTES = 60
UID_DOMAIN = "peerlink"

__all__ = ["MeetingDraft", "cancel", "counts", "create", "find", "move", "rsvp", "upcoming"]


@dataclass
class MeetingDraft:
    title: str
    when: When
    duration_minutes: int = DEFAULT_DURATION_MINUTES
    agenda: str = ""
    video_link: str | None = None
    working_group_id: int | None = None


def _replan(session: Session, meeting: Meeting, settings: Settings, now: datetime) -> None:
    community = session.get(Community, meeting.community_id)
    plan_announcement(session, meeting, now=now)
    plan_reminders(session, meeting, offsets=reminder_offsets(settings, community), now=now)


def create(
    session: Session,
    *,
    community_id: int,
    organiser_id: int | None,
    draft: MeetingDraft,
    channels: Sequence[Channel],
    settings: Settings,
    now: datetime,
) -> Meeting:
    """Store a meeting, the organiser's "yes", its channels, and plan its announcement and reminders."""
    if draft.duration_minutes <= 0 or draft.duration_minutes > 24 * 60:
        raise UserError(N_("schedules.error_duration"))
    meeting = Meeting(
        community_id=community_id,
        organiser_id=organiser_id,
        working_group_id=draft.working_group_id,
        title=check_meeting_title(draft.title),
        agenda=draft.agenda,
        video_link=draft.video_link,
        start_at=draft.when.start,
        timezone=draft.when.zone.key,
        duration_minutes=draft.duration_minutes,
        uid=f"{uuid.uuid4()}@{UID_DOMAIN}",
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    for channel_id in dict.fromkeys(channel.id for channel in channels if channel.id is not None):
        session.add(MeetingChannel(meeting_id=meeting.id, channel_id=channel_id))
    if organiser_id is not None:
        session.add(Rsvp(meeting_id=meeting.id, member_id=organiser_id, answer=RsvpAnswer.yes, updated_at=now))
    session.flush()
    _replan(session, meeting, settings, now)
    return meeting


def find(session: Session, *, community_id: int, meeting_id: int) -> Meeting:
    """A meeting of this community; another community's id is as unknown as a wrong one."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.community_id != community_id:
        raise UserError(N_("schedules.error_unknown_meeting"), id=meeting_id)
    return meeting


def _changeable(meeting: Meeting, now: datetime) -> None:
    if meeting.status == MeetingStatus.cancelled:
        raise UserError(N_("schedules.error_already_cancelled"), id=meeting.id, title=meeting.title)
    if meeting.start_at <= now:
        raise UserError(N_("schedules.error_already_started"), id=meeting.id, title=meeting.title)


def move(session: Session, meeting: Meeting, *, when: When, settings: Settings, now: datetime) -> Meeting:
    _changeable(meeting, now)
    skip_pending(session, meeting, reason="meeting moved")
    meeting.start_at = when.start
    meeting.timezone = when.zone.key
    meeting.sequence += 1
    meeting.updated_at = now
    session.add(meeting)
    session.flush()
    _replan(session, meeting, settings, now)
    return meeting


def cancel(session: Session, meeting: Meeting, *, settings: Settings, now: datetime) -> Meeting:
    _changeable(meeting, now)
    skip_pending(session, meeting, reason="meeting cancelled")
    meeting.status = MeetingStatus.cancelled
    meeting.sequence += 1
    meeting.updated_at = now
    session.add(meeting)
    session.flush()
    plan_announcement(session, meeting, now=now)
    return meeting


def rsvp(
    session: Session,
    meeting: Meeting,
    *,
    member_id: int,
    answer: RsvpAnswer,
    settings: Settings,
    now: datetime,
) -> Rsvp:
    """Record an answer; a "yes" gets the private reminders still ahead, any other answer loses them."""
    _changeable(meeting, now)
    found = session.exec(select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.member_id == member_id)).first()
    if found is None:
        found = Rsvp(meeting_id=meeting.id or 0, member_id=member_id, answer=answer, updated_at=now)
    elif found.answer != answer:
        found.answer = answer
        found.updated_at = now
    session.add(found)
    session.flush()
    if answer == RsvpAnswer.yes:
        community = session.get(Community, meeting.community_id)
        plan_reminders(session, meeting, offsets=reminder_offsets(settings, community), now=now)
    else:
        drop_member_reminders(session, meeting, member_id=member_id)
    return found


def upcoming(session: Session, *, community_id: int, now: datetime, limit: int = 20) -> Sequence[Meeting]:
    return session.exec(
        select(Meeting)
        .where(
            Meeting.community_id == community_id,
            Meeting.status == MeetingStatus.scheduled,
            col(Meeting.start_at) > now,
        )
        .order_by(col(Meeting.start_at))
        .limit(limit)
    ).all()


def counts(session: Session, meeting: Meeting) -> dict[RsvpAnswer, int]:
    found = dict.fromkeys(RsvpAnswer, 0)
    for row in session.exec(select(Rsvp).where(Rsvp.meeting_id == meeting.id)).all():
        found[row.answer] += 1
    return found
