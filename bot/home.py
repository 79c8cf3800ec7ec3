"""What a member sees on their home screen, whatever the platform: their posts, the matches
waiting for their answer and the meetings ahead (in their own timezone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.matches import my_matches
from bot.members import Who
from storage.models import (
    MatchStatus,
    Meeting,
    MeetingStatus,
    Organisation,
    PostKind,
    PostStatus,
    Response,
    Rsvp,
    RsvpAnswer,
)
from storage.queries import posts_of_member

MEETINGS_SHOWN = 10
MATCHES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class HomePost:
    id: int
    kind: PostKind
    title: str
    status: PostStatus


@dataclass(frozen=True, slots=True)
class PendingMatch:
    """A suggestion waiting for this member's answer, seen from their side."""

    id: int
    mine: str  # the title of the member's own post
    theirs: str  # the title of the other side's post
    organisation: str  # who is on the other side
    their_kind: PostKind


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    id: int
    title: str
    starts: datetime  # in the member's timezone
    answer: RsvpAnswer | None


@dataclass(frozen=True, slots=True)
class Home:
    language: str
    posts: Sequence[HomePost]
    matches: Sequence[PendingMatch]
    meetings: Sequence[UpcomingMeeting]


def home(session: Session, who: Who, now: datetime) -> Home:
    posts = posts_of_member(session=session, member_id=who.member_id)
    return Home(
        language=who.language,
        posts=[HomePost(id=p.id or 0, kind=p.kind, title=p.title, status=p.status) for p in posts],
        matches=pending_matches(session, who),
        meetings=upcoming_meetings(session, who, now),
    )


def pending_matches(session: Session, who: Who) -> list[PendingMatch]:
    """Suggestions on the member's side that still wait for their answer."""
    found: list[PendingMatch] = []
    for view in my_matches(session, who):
        if view.match.status != MatchStatus.suggested or view.my_response != Response.pending:
            continue
        organisation = session.get(Organisation, view.theirs.organisation_id)
        found.append(
            PendingMatch(
                id=view.match.id or 0,
                mine=view.mine.title,
                theirs=view.theirs.title,
                organisation=organisation.name if organisation else "",
                their_kind=view.theirs.kind,
            )
        )
    return found[:MATCHES_SHOWN]


def upcoming_meetings(session: Session, who: Who, now: datetime) -> list[UpcomingMeeting]:
    meetings = session.exec(
        select(Meeting)
        .where(
            Meeting.community_id == who.community_id,
            Meeting.status == MeetingStatus.scheduled,
            col(Meeting.start_at) >= now,
        )
        .order_by(col(Meeting.start_at))
        .limit(MEETINGS_SHOWN)
    ).all()
    answers = {
        rsvp.meeting_id: rsvp.answer
        for rsvp in session.exec(
            select(Rsvp).where(Rsvp.member_id == who.member_id, col(Rsvp.meeting_id).in_([m.id for m in meetings]))
        ).all()
    }
    return [
        UpcomingMeeting(
            id=meeting.id or 0,
            title=meeting.title,
            starts=meeting.start_at.astimezone(who.timezone),
            answer=answers.get(meeting.id or 0),
        )
        for meeting in meetings
    ]
