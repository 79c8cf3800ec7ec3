"""The relay: after an introduction, the two sides write to each other through Peerlink, each on
their own platform (a Telegram reply to the introduction reaches a Slack officer's private chat).

A relay is open from the introduction until either side closes it (`/close`), either side blocks
the other's organisation, or 60 days pass after its last message. Its messages are kept only
while it is open (closing deletes them) and only the two sides can read them (`/mydata`). Each
message is one outbox row per reader, so it survives restarts and rate limits and is sent once, in
the order written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, or_, select

from bot.errors import UserError
from bot.i18n import N_
from bot.matches import side_members
from bot.members import Who
from bot.notices import notify_member, text_for
from bot.ports import Platform, Reply
from bot.reach import how_to_answer
from bot.readers import Reader
from bot.text import clean
from storage.models import (
    RELAY_TEXT_MAX,
    Delivery,
    DeliveryStatus,
    Match,
    MatchStatus,
    Member,
    Organisation,
    OrganisationBlock,
    Post,
    RelayMessage,
)

IDLE = timedelta(days=60)
KIND = "relay"
# Messages about one match whose replies are relayed; their dedupe keys start with "{kind}:{match id}:".
ANSWERABLE = ("introduction", KIND)


def answered_match(session: Session, who: Who, *, platform: Platform, workspace: str, message_id: str) -> int | None:
    """The match whose introduction (or relayed message) this person answered by replying to the
    platform message `message_id` (a Telegram reply, a Slack thread), or None."""
    rows = session.exec(
        select(Delivery.dedupe_key).where(
            Delivery.platform == platform,
            Delivery.workspace == workspace,
            Delivery.message_id == message_id,
            Delivery.member_id == who.member_id,
            col(Delivery.kind).in_(ANSWERABLE),
        )
    ).all()
    for key in rows:
        number = key.split(":")[1]
        if number.isdigit():
            return int(number)
    return None


def write(session: Session, who: Who, match_id: int, text: str, *, now: datetime) -> Match:
    """Relay `text` from `who` to the other side of match `match_id`."""
    match, mine, theirs = _sides(session, who, match_id)
    body = clean(text)
    if not body:
        raise UserError(N_("core.relay_usage"))
    if len(body) > RELAY_TEXT_MAX:
        raise UserError(N_("core.relay_too_long"), length=len(body), limit=RELAY_TEXT_MAX)
    _check_open(session, match, now=now)
    readers = [member for member in side_members(session, theirs) if member.id != who.member_id]
    if not readers:
        raise UserError(N_("core.relay_nobody"), number=match.id)
    message = RelayMessage(match_id=match.id or 0, member_id=who.member_id, text=body, created_at=now)
    session.add(message)
    session.flush()
    organisation = session.get(Organisation, mine.organisation_id)

    def relayed(reader: Reader) -> Reply:
        text = reader.tr.t(
            "core.relay_message",
            name=who.member.display_name or "?",
            organisation=organisation.name if organisation else "",
            number=match.id,
            text=body,
            how=how_to_answer(reader.tr, reader.address.platform, match.id or 0),
        )
        return Reply(text=text)

    for reader_member in readers:
        notify_member(
            session,
            reader_member.id or 0,
            relayed,
            dedupe_key=f"{KIND}:{match.id}:{message.id}:{reader_member.id}",
            kind=KIND,
            due_at=now,
            community_id=match.community_id,
        )
    return match


def close(session: Session, who: Who, match_id: int, *, now: datetime) -> Match:
    """`/close`: either side ends the relay; the other side is told."""
    match, _, theirs = _sides(session, who, match_id)
    if match.relay_closed_at is not None:
        raise UserError(N_("core.relay_closed"), number=match.id)
    end(session, match, now=now)
    for member in side_members(session, theirs):
        if member.id == who.member_id:
            continue
        notify_member(
            session,
            member.id or 0,
            text_for("core.relay_closed_by_other", number=match.id),
            dedupe_key=f"{KIND}-closed:{match.id}:{member.id}",
            kind=KIND,
            due_at=now,
            community_id=match.community_id,
        )
    return match


def end(session: Session, match: Match, *, now: datetime) -> None:
    """The relay is closed and what was written through it is deleted, from the outbox too. A
    message written before the close and not yet delivered still goes (exactly once, in order);
    the retention job empties it after that. A delivered one keeps only which platform message it
    was, so that answering it later is told the conversation is closed."""
    match.relay_closed_at = now
    session.add(match)
    session.execute(delete(RelayMessage).where(col(RelayMessage.match_id) == match.id))
    session.execute(
        update(Delivery)
        .where(col(Delivery.dedupe_key).startswith(f"{KIND}:{match.id}:"), col(Delivery.status) == DeliveryStatus.sent)
        .values(payload={"text": ""})
    )
    unsent = (DeliveryStatus.parked, DeliveryStatus.skipped)
    session.execute(
        delete(Delivery).where(
            col(Delivery.dedupe_key).startswith(f"{KIND}:{match.id}:"), col(Delivery.status).in_(unsent)
        )
    )


def end_blocked(session: Session, member: Member, organisation_id: int, *, now: datetime) -> int:
    """`/block`: the relays between this member's posts and that organisation's end."""
    mine = select(Post.id).where(Post.member_id == member.id)
    theirs = select(Post.id).where(Post.organisation_id == organisation_id)
    either = or_(
        col(Match.need_id).in_(mine) & col(Match.offer_id).in_(theirs),
        col(Match.offer_id).in_(mine) & col(Match.need_id).in_(theirs),
    )
    matches = _open_relays(session, either)
    for match in matches:
        end(session, match, now=now)
    return len(matches)


def end_idle(session: Session, *, now: datetime) -> int:
    """Relays with nothing written for 60 days (counting from the introduction) end."""
    last = (
        select(RelayMessage.match_id, func.max(RelayMessage.created_at).label("last"))
        .group_by(col(RelayMessage.match_id))
        .subquery()
    )
    idle = session.exec(
        select(Match)
        .outerjoin(last, col(Match.id) == last.c.match_id)
        .where(
            Match.status == MatchStatus.introduced,
            col(Match.relay_closed_at).is_(None),
            func.coalesce(last.c.last, Match.introduced_at) < now - IDLE,
        )
    ).all()
    for match in idle:
        end(session, match, now=now)
    return len(idle)


def messages_of(session: Session, member_id: int) -> Sequence[RelayMessage]:
    """Relay messages this member wrote or may read (those of matches on their posts)."""
    mine = select(Post.id).where(Post.member_id == member_id)
    theirs = select(Match.id).where(or_(col(Match.need_id).in_(mine), col(Match.offer_id).in_(mine)))
    return session.exec(
        select(RelayMessage)
        .where(or_(RelayMessage.member_id == member_id, col(RelayMessage.match_id).in_(theirs)))
        .order_by(col(RelayMessage.id))
    ).all()


def _open_relays(session: Session, where: object) -> Sequence[Match]:
    return session.exec(
        select(Match).where(
            where,  # type: ignore[arg-type]
            Match.status == MatchStatus.introduced,
            col(Match.relay_closed_at).is_(None),
        )
    ).all()


def _sides(session: Session, who: Who, match_id: int) -> tuple[Match, Post, Post]:
    """The match, the writer's post and the other side's; only the two sides may use the relay."""
    match = session.get(Match, match_id)
    need = session.get(Post, match.need_id) if match else None
    offer = session.get(Post, match.offer_id) if match else None
    if match is None or need is None or offer is None or match.community_id != who.community_id:
        raise UserError(N_("core.match_not_found"), number=match_id)
    for mine, theirs in ((need, offer), (offer, need)):
        if any(member.id == who.member_id for member in side_members(session, mine)):
            return match, mine, theirs
    raise UserError(N_("core.match_not_yours"), number=match_id)


def _check_open(session: Session, match: Match, *, now: datetime) -> None:
    """A relay past its time or between organisations that blocked each other is closed (the
    daily retention job and `/block` record it; here it is refused at once)."""
    if match.status != MatchStatus.introduced:
        raise UserError(N_("core.relay_not_introduced"), number=match.id)
    last = session.exec(select(func.max(RelayMessage.created_at)).where(RelayMessage.match_id == match.id)).one()
    since = last or match.introduced_at
    idle = since is not None and since < now - IDLE
    if match.relay_closed_at is not None or idle or _blocked(session, match):
        raise UserError(N_("core.relay_closed"), number=match.id)


def _blocked(session: Session, match: Match) -> bool:
    need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
    if need is None or offer is None:
        return True
    pairs = [(need, offer), (offer, need)]
    for mine, theirs in pairs:
        authors = [member.id for member in side_members(session, mine)]
        found = session.exec(
            select(OrganisationBlock.id).where(
                col(OrganisationBlock.member_id).in_(authors),
                OrganisationBlock.blocked_organisation_id == theirs.organisation_id,
            )
        ).first()
        if found is not None:
            return True
    return False
