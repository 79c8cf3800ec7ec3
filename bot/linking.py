"""One person on several platforms: `/link` gives a one-time code, `/link <code>` typed from another
identity joins that identity's member into the code's member (posts, matches, contact, roles, and
every other row that names them), `/unlink` splits an identity off again as the member it was.

Refused: a code that is unknown, used or expired; linking across partnerships; two members who speak
for different organisations (one of them must first leave or be approved for the other's). The
surviving member is the older one, so ids others know (a facilitator's notes, audit entries) stay.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, delete, exists, update
from sqlalchemy import select as select_core
from sqlalchemy.sql.schema import Column
from sqlmodel import Session, SQLModel, col, select

from bot import audit
from bot.errors import UserError
from bot.i18n import N_
from bot.members import Who
from storage.models import Identity, LinkCode, Member, MemberLink, Post, Role
from storage.queries import identities_of_member, posts_of_member

CODE_VALIDITY = timedelta(minutes=10)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read on one screen, typed on another
CODE_LENGTH = 8
RANK = {Role.member: 0, Role.facilitator: 1, Role.admin: 2}
NOT_MOVED = {"identity", "linkcode", "memberlink"}  # handled here by name


def new_code(session: Session, who: Who, *, now: datetime) -> LinkCode:
    code = LinkCode(
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
        member_id=who.member_id,
        expires_at=now + CODE_VALIDITY,
    )
    session.add(code)
    session.flush()
    return code


def redeem(session: Session, who: Who, typed: str, *, now: datetime) -> Member:
    """Join `who`'s member into the member who made the code; returns the member they now are."""
    code = session.exec(select(LinkCode).where(LinkCode.code == typed.strip().upper())).first()
    if code is None or code.expires_at <= now:
        raise UserError(N_("people.link_unknown"))
    other = session.get(Member, code.member_id)
    session.delete(code)
    if other is None or other.id == who.member_id:
        raise UserError(N_("people.link_same"))
    if other.community_id != who.community_id:
        raise UserError(N_("people.link_other_partnership"))
    mine = who.member
    if mine.organisation_id and other.organisation_id and mine.organisation_id != other.organisation_id:
        raise UserError(N_("people.link_organisations_differ"))
    keep, gone = (other, mine) if (other.id or 0) < who.member_id else (mine, other)
    _join(session, keep, gone)
    audit.record(
        session,
        community_id=keep.community_id,
        action=audit.Action.member_link,
        now=now,
        actor_member_id=keep.id,
        source=audit.Source.own,
        target=f"{keep.id} <- {gone.id}",
    )
    return keep


def _join(session: Session, keep: Member, gone: Member) -> None:
    assert keep.id is not None
    assert gone.id is not None
    posts = [post.id or 0 for post in posts_of_member(session=session, member_id=gone.id, include_withdrawn=True)]
    for identity in identities_of_member(session=session, member_id=gone.id):
        session.add(MemberLink(member_id=keep.id, identity_id=identity.id or 0, posts=posts, role=gone.role))
        identity.member_id = keep.id
        session.add(identity)
    session.execute(update(MemberLink).where(MemberLink.member_id == gone.id).values(member_id=keep.id))  # type: ignore[arg-type]
    _absorb(keep, gone)
    session.add(keep)
    session.flush()
    _move_rows(session, keep.id, gone.id)
    session.execute(delete(LinkCode).where(LinkCode.member_id == gone.id))  # type: ignore[arg-type]
    session.flush()
    session.expire_all()
    found = session.get(Member, gone.id)
    if found is not None:
        session.delete(found)
    session.flush()


def _absorb(keep: Member, gone: Member) -> None:
    """What the joined member had and the kept one lacks: organisation, contact, language, zone, role."""
    if keep.organisation_id is None:
        keep.organisation_id, keep.organisation_pending = gone.organisation_id, gone.organisation_pending
    elif keep.organisation_id == gone.organisation_id:
        keep.organisation_pending = keep.organisation_pending and gone.organisation_pending
    if keep.contact_kind is None:
        keep.contact_kind, keep.contact_value, keep.contact_platform = (
            gone.contact_kind,
            gone.contact_value,
            gone.contact_platform,
        )
    keep.language = keep.language or gone.language
    keep.timezone = keep.timezone or gone.timezone
    keep.display_name = keep.display_name or gone.display_name
    if RANK[gone.role] > RANK[keep.role]:
        keep.role = gone.role


def _move_rows(session: Session, keep: int, gone: int) -> None:
    """Every row that names `gone` names `keep` instead; a row that `keep` already has its own of
    (one answer per meeting, one parked draft per flow, one block per organisation) is dropped."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name in NOT_MOVED:
            continue
        for column in table.columns:
            if not any(key.column.table.name == "member" for key in column.foreign_keys):
                continue
            _drop_duplicates(session, table, column, keep, gone)
            session.execute(update(table).where(column == gone).values({column.name: keep}))


def _drop_duplicates(session: Session, table: Table, column: Column[int], keep: int, gone: int) -> None:
    for constraint in table.constraints:
        names = [c.name for c in getattr(constraint, "columns", [])]
        if constraint.__class__.__name__ != "UniqueConstraint" or column.name not in names:
            continue
        others = [table.c[name] for name in names if name != column.name]
        theirs = table.alias()
        same = and_(theirs.c[column.name] == keep, *(theirs.c[o.name] == o for o in others))
        session.execute(delete(table).where(column == gone, exists(select_core(theirs.c[column.name]).where(same))))


def unlink(session: Session, who: Who, *, now: datetime) -> list[Member]:
    """Split off, as the members they were before `/link`, the writing identity when it was the one
    joined, else the identities joined to it; returns the new members."""
    own = session.exec(select(MemberLink).where(MemberLink.identity_id == who.identity.id)).first()
    links = [own] if own else list(session.exec(select(MemberLink).where(MemberLink.member_id == who.member_id)))
    if not links:
        raise UserError(N_("people.unlink_nothing"))
    split = [_split(session, who.member, link) for link in links]
    audit.record(
        session,
        community_id=who.member.community_id,
        action=audit.Action.member_unlink,
        now=now,
        actor_member_id=who.member_id,
        source=audit.Source.own,
        target=f"{who.member_id} -> {', '.join(str(member.id) for member in split)}",
    )
    session.flush()
    return split


def _split(session: Session, kept: Member, link: MemberLink) -> Member:
    member = Member(
        community_id=kept.community_id,
        organisation_id=kept.organisation_id,
        organisation_pending=kept.organisation_pending,
        display_name=kept.display_name,
        role=link.role,
        language=kept.language,
        timezone=kept.timezone,
        contact_kind=kept.contact_kind,
        contact_value=kept.contact_value,
        contact_platform=kept.contact_platform,
    )
    session.add(member)
    session.flush()
    identity = session.get(Identity, link.identity_id)
    assert identity is not None
    identity.member_id = member.id or 0
    session.add(identity)
    moving = [post_id for post_id in link.posts if (post := session.get(Post, post_id)) and post.member_id == kept.id]
    if moving:
        session.execute(update(Post).where(col(Post.id).in_(moving)).values(member_id=member.id))
    session.delete(link)
    return member
