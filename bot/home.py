"""What a member sees on their home screen, whatever the platform: their posts, the matches
waiting for their answer and the meetings ahead (in their own timezone)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, event, insert, literal, or_
from sqlmodel import Session, col, select

from bot.match_card import MatchCard, my_cards
from bot.members import Who
from storage.db import SessionFactory
from storage.models import (
    Identity,
    Match,
    MatchRound,
    Meeting,
    MeetingStatus,
    Member,
    Post,
    PostKind,
    PostStatus,
    Rsvp,
    RsvpAnswer,
    StaleHome,
)
from storage.queries import posts_of_member
from storage.types import UTCDateTime, utcnow

MEETINGS_SHOWN = 10
MATCHES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class HomePost:
    id: int
    kind: PostKind
    title: str
    status: PostStatus


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
    matches: Sequence[MatchCard]  # waiting for the member's answer
    meetings: Sequence[UpcomingMeeting]


def home(session: Session, who: Who, now: datetime) -> Home:
    posts = posts_of_member(session=session, member_id=who.member_id)
    return Home(
        language=who.language,
        posts=[HomePost(id=p.id or 0, kind=p.kind, title=p.title, status=p.status) for p in posts],
        matches=pending_matches(session, who, now),
        meetings=upcoming_meetings(session, who, now),
    )


def pending_matches(session: Session, who: Who, now: datetime) -> list[MatchCard]:
    """Suggestions on the member's side that still wait for their answer."""
    return [card for card in my_cards(session, who, now=now) if card.waiting][:MATCHES_SHOWN]


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


# --- which homes to redraw ---------------------------------------------------------------------
#
# A home shows things other people change: the other side answers a match, a facilitator moves a
# meeting, a round suggests new matches. Whatever code path writes such a row through the ORM, the
# flush below notes the members whose home it touches (a `StaleHome` row, in the same transaction);
# the adapter that draws homes redraws those members' homes after a request and deletes the rows.

HOME_PLATFORMS = "peerlink.home_platforms"  # Session.info key: platforms whose homes we redraw
STALE_KEEP = timedelta(days=1)  # a mark nobody consumed (no adapter running) is dropped after this


def watch(sessions: SessionFactory, platforms: Sequence[str]) -> None:
    """Note stale homes of members reachable on `platforms` for every session `sessions` makes.
    The composition root calls this once, when it builds `Deps`."""
    sessions.configure(info={HOME_PLATFORMS: tuple(sorted(set(platforms)))})
    if not event.contains(sessions, "after_flush", _after_flush):
        event.listen(sessions, "after_flush", _after_flush)


def _touched(session: Session) -> tuple[set[int], set[int], set[int]]:
    """(members, posts, communities) whose homes the pending flush changes."""
    members: set[int] = set()
    posts: set[int] = set()
    communities: set[int] = set()
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for obj in changed:
        if isinstance(obj, Post | Rsvp) and obj.member_id is not None:
            members.add(obj.member_id)
        elif isinstance(obj, Member) and obj.id is not None:
            members.add(obj.id)
        elif isinstance(obj, Match):
            posts.update((obj.need_id, obj.offer_id))
        elif isinstance(obj, Meeting | MatchRound):  # every member sees the meetings and rounds
            communities.add(obj.community_id)
    return members, posts, communities


def _platforms(session: Session) -> tuple[str, ...]:
    return tuple(session.info.get(HOME_PLATFORMS, ()))


def _after_flush(session: Session, _context: object) -> None:
    platforms = _platforms(session)
    if not platforms:
        return
    members, posts, communities = _touched(session)
    if members or posts or communities:
        _mark(session.connection(), platforms, members=members, posts=posts, communities=communities)


def _mark(
    connection: Connection,
    platforms: Sequence[str],
    *,
    members: Iterable[int] = (),
    posts: Iterable[int] = (),
    communities: Iterable[int] = (),
) -> None:
    post_ids = list(posts)
    authors = select(Post.member_id).where(col(Post.id).in_(post_ids))
    organisations = select(Post.organisation_id).where(col(Post.id).in_(post_ids))
    who = (
        select(col(Member.id), literal(utcnow(), UTCDateTime()))
        .join(Identity, col(Identity.member_id) == col(Member.id))
        .where(col(Identity.platform).in_(platforms))
        .where(
            or_(
                col(Member.id).in_(list(members)),
                col(Member.community_id).in_(list(communities)),
                col(Member.id).in_(authors),
                col(Member.organisation_id).in_(organisations),
            )
        )
        .distinct()
    )
    connection.execute(insert(StaleHome).from_select(["member_id", "marked_at"], who))


def mark_posts(session: Session, post_ids: Iterable[int]) -> None:
    """The people behind these posts see something new (rows written in bulk, which no flush sees)."""
    platforms = _platforms(session)
    if platforms:
        _mark(session.connection(), platforms, posts=post_ids)


def mark_community(session: Session, community_id: int) -> None:
    """Every member of a community sees something new (e.g. after two partnerships merged)."""
    platforms = _platforms(session)
    if platforms:
        _mark(session.connection(), platforms, communities=[community_id])


def take_stale(session: Session, *, platform: str) -> list[Identity]:
    """The `platform` identities of members whose home must be redrawn; their marks are consumed."""
    session.execute(delete(StaleHome).where(col(StaleHome.marked_at) < utcnow() - STALE_KEEP))
    rows = session.exec(
        select(StaleHome.id, Identity)
        .join(Identity, col(Identity.member_id) == col(StaleHome.member_id))
        .where(Identity.platform == platform)
    ).all()
    if not rows:
        return []
    session.execute(delete(StaleHome).where(col(StaleHome.id).in_({mark for mark, _ in rows})))
    unique = {identity.id: identity for _, identity in rows if identity.workspace}
    return [unique[key] for key in sorted(k for k in unique if k is not None)]
