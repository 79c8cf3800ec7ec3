"""A person's posts and the matches on them: handed over, and on erasure either deleted or handed to
their organisation (when others remain in it), with every open match withdrawn and its other side
told through the outbox that it is no longer available."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, or_, select

from bot.matches import OPEN_STATUSES, side_members
from bot.notices import notify_member, text_for
from bot.privacy.person import Person
from bot.privacy.records import Erasure, Row, delete_all, fields, plain
from bot.text import shorten
from storage.models import Delivery, DeliveryStatus, Match, MatchStatus, Organisation, Post, Response
from storage.queries import members_of_organisation, posts_of_member

POST_FIELDS = (
    "id", "ref", "kind", "title", "description", "topics", "language", "status", "format",
    "available_until", "contact", "city", "country", "created_at", "updated_at",
)  # fmt: skip
WITHDRAWN = "withdrawn"  # the outbox kind of "this match is no longer available"
# planned messages about one match, keyed by its id (relayed ones quote what the sides wrote)
MATCH_MESSAGES = ("introduction", "followup", "relay", "connect")


def own_posts(session: Session, person: Person) -> Sequence[Post]:
    return posts_of_member(session=session, member_id=person.member_id, include_withdrawn=True)


def others_remain(session: Session, person: Person) -> bool:
    """Whether someone else speaks for the person's organisation, so posts may be left to it."""
    organisation_id = person.member.organisation_id
    if organisation_id is None:
        return False
    members = members_of_organisation(session=session, organisation_id=organisation_id)
    return any(member.id != person.member_id for member in members)


def export_posts(session: Session, person: Person) -> list[Row]:
    return [fields(post, POST_FIELDS) for post in own_posts(session, person)]


def _matches(session: Session, post_ids: Sequence[int]) -> Sequence[Match]:
    if not post_ids:
        return []
    on_them = or_(col(Match.need_id).in_(post_ids), col(Match.offer_id).in_(post_ids))
    return session.exec(select(Match).where(on_them).order_by(col(Match.id))).all()


def export_matches(session: Session, person: Person) -> list[Row]:
    mine = {post.id: post for post in own_posts(session, person)}
    found = []
    for match in _matches(session, [key for key in mine if key is not None]):
        side = "need" if match.need_id in mine else "offer"
        other = session.get(Post, match.offer_id if side == "need" else match.need_id)
        organisation = session.get(Organisation, other.organisation_id) if other else None
        row = fields(match, ("id", "status", "score", "reasons", "introduced_at", "created_at", "updated_at"))
        row["my_post"] = match.need_id if side == "need" else match.offer_id
        row["my_answer"] = plain(match.need_response if side == "need" else match.offer_response)
        row["other_post"] = {
            "title": other.title if other else None,
            "kind": plain(other.kind) if other else None,
            "organisation": organisation.name if organisation else None,
        }
        found.append(row)
    return found


def erase_matches(erasure: Erasure) -> None:
    """Open matches are withdrawn and the other side told; when the posts go, their matches go too."""
    session = erasure.session
    mine = [post.id for post in own_posts(session, erasure.person) if post.id is not None]
    keep = erasure.keep_posts and others_remain(session, erasure.person)
    for match in _matches(session, mine):
        if match.status in OPEN_STATUSES:
            _tell_other_side(erasure, match, mine)
            erasure.matches_withdrawn += 1
        if match.status in OPEN_STATUSES or not keep:
            _drop_messages(session, match, sent_too=not keep)
        if not keep:
            session.delete(match)
        elif match.status in OPEN_STATUSES:
            match.status = MatchStatus.declined
            if match.need_id in mine:
                match.need_response = Response.declined
            else:
                match.offer_response = Response.declined
            match.updated_at = erasure.now
            session.add(match)
    session.flush()


def _tell_other_side(erasure: Erasure, match: Match, mine: Sequence[int]) -> None:
    session = erasure.session
    theirs = session.get(Post, match.offer_id if match.need_id in mine else match.need_id)
    if theirs is None:
        return
    write = text_for("privacy.match_withdrawn", number=match.id, title=shorten(theirs.title, 80))
    for member in side_members(session, theirs):
        if member.id == erasure.person.member_id:
            continue
        planned = notify_member(
            session,
            member.id or 0,
            write,
            dedupe_key=f"{WITHDRAWN}:{match.id}:{member.id}",
            kind=WITHDRAWN,
            due_at=erasure.now,
            community_id=match.community_id,
        )
        if planned is not None and member.id is not None:
            erasure.told.add(member.id)


def _drop_messages(session: Session, match: Match, *, sent_too: bool) -> None:
    """Introductions and follow-ups of a withdrawn match not sent yet are no longer true; when the
    match itself goes, the ones sent (which quote the erased post) go with it."""
    keys = or_(*(col(Delivery.dedupe_key).startswith(f"{kind}:{match.id}:") for kind in MATCH_MESSAGES))
    statuses = [
        DeliveryStatus.pending,
        *((DeliveryStatus.sent, DeliveryStatus.parked, DeliveryStatus.skipped) if sent_too else ()),
    ]
    rows = session.exec(select(Delivery).where(keys, col(Delivery.status).in_(statuses))).all()
    delete_all(session, rows)


def erase_posts(erasure: Erasure) -> None:
    """Left to the organisation (without the person's contact) or deleted."""
    session = erasure.session
    posts = own_posts(session, erasure.person)
    if erasure.keep_posts and others_remain(session, erasure.person):
        for post in posts:
            post.member_id = None  # an organisation's post: its members speak for it
            post.contact = None
            post.updated_at = erasure.now
            session.add(post)
        erasure.posts_kept += len(posts)
        session.flush()
        return
    erasure.posts_deleted += len(posts)
    delete_all(session, posts)
