"""Partnerships across workspaces.

A fresh database has one default community that every new member, Slack workspace and Telegram
group joins (single-token Slack, Telegram). A Slack workspace installed through OAuth instead gets
a community of its own; a facilitator links it to another partnership with a one-time code:
`/peer link` in workspace A hands out the code, `/peer link <code>` in workspace B moves B's whole
community (members, organisations, posts, matches, meetings, …) into A's, in one transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlmodel import Session, col, select

from bot.home import mark_community
from storage.models import (
    AuditEntry,
    Channel,
    Community,
    Delivery,
    Invite,
    Match,
    MatchRound,
    Meeting,
    Member,
    Organisation,
    OrganisationBlock,
    OrganisationKind,
    PartnershipCode,
    Post,
    WorkingGroup,
    WorkingGroupMember,
    Workspace,
)
from storage.queries import community_by_name, community_for_workspace, default_community, insert_or_fetch, workspace_of

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by people
CODE_LENGTH = 12
CODE_VALIDITY = timedelta(days=7)
NAME_MAX = 200
REF_MAX = 64

# Tables whose rows belong to one community and simply follow it when partnerships merge.
FOLLOWERS: tuple[Any, ...] = (
    Workspace,
    Member,
    Channel,
    Post,
    MatchRound,
    Match,
    WorkingGroup,
    Meeting,
    Invite,
    Delivery,
    PartnershipCode,
    AuditEntry,  # the joining workspace's history comes along
)


# --- a community per installed workspace --------------------------------------------------------


def own_community(session: Session, *, platform: str, external_id: str, name: str) -> Community:
    """The community of a newly installed workspace: a new one named after it. A workspace seen
    before keeps the community it has (a re-install must not split a partnership)."""
    known = workspace_of(session=session, platform=platform, external_id=external_id)
    if known is None:
        template = default_community(session=session)
        community = Community(
            name=_free_name(session, " ".join(name.split()) or external_id, external_id),
            language=template.language,
            timezone=template.timezone,
            digest_weekday=template.digest_weekday,
            digest_time=template.digest_time,
        )
        session.add(community)
        session.flush()
        assert community.id is not None
        row = Workspace(platform=platform, external_id=external_id, name=name[:NAME_MAX], community_id=community.id)
        fetch = lambda: workspace_of(session=session, platform=platform, external_id=external_id)  # noqa: E731
        known = insert_or_fetch(session, lambda: session.add(row), fetch) or row
    found = session.get(Community, known.community_id)
    assert found is not None
    return found


def _free_name(session: Session, name: str, external_id: str) -> str:
    """Community names are unique: two workspaces called "Braga" become "Braga" and "Braga (T02…)"."""
    candidates = [name, f"{name} ({external_id})", *(f"{name} ({external_id}) {n}" for n in range(2, 100))]
    for candidate in candidates:
        if community_by_name(session=session, name=candidate[:NAME_MAX]) is None:
            return candidate[:NAME_MAX]
    return f"{external_id} {secrets.token_hex(4)}"


# --- link codes ---------------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """`k7qx-m2pd wh9r` -> `K7QXM2PDWH9R`: people paste codes with spaces, dashes, lower case."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def shown_code(code: str) -> str:
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


def create_code(session: Session, *, community_id: int, created_by: int | None, now: datetime) -> PartnershipCode:
    row = PartnershipCode(
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
        community_id=community_id,
        created_by=created_by,
        expires_at=now + CODE_VALIDITY,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


class Outcome(StrEnum):
    joined = "joined"
    unknown = "unknown"
    used = "used"
    expired = "expired"
    same = "same"  # the workspace is in that partnership already


@dataclass(frozen=True, slots=True)
class Moved:
    members: int
    posts: int
    organisations_merged: int
    refs_renamed: int


@dataclass(frozen=True, slots=True)
class Linked:
    outcome: Outcome
    community: Community | None = None
    moved: Moved | None = None


def link(
    session: Session, *, code: str, platform: str, external_id: str, member_id: int | None, now: datetime
) -> Linked:
    """Redeem `code` for the workspace `platform`/`external_id`: its community joins the code's."""
    wanted = normalise_code(code)
    row = session.exec(select(PartnershipCode).where(PartnershipCode.code == wanted)).first() if wanted else None
    if row is None:
        return Linked(Outcome.unknown)
    target = session.get(Community, row.community_id)
    if row.used_at is not None:
        return Linked(Outcome.used, target)
    if row.expires_at <= now:
        return Linked(Outcome.expired, target)
    # Claim the code first: of two facilitators redeeming it at once, only one gets this row. It is
    # used up even when the workspace is in the partnership already, since redeeming it in a
    # Telegram group also registers that group (one code, one door).
    claimed = session.execute(
        update(PartnershipCode)
        .where(col(PartnershipCode.id) == row.id, col(PartnershipCode.used_at).is_(None))
        .values(used_at=now, used_by=member_id)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        return Linked(Outcome.used, target)
    source = community_for_workspace(session=session, platform=platform, external_id=external_id)
    if source.id == row.community_id or target is None:
        return Linked(Outcome.same, target)
    assert source.id is not None
    assert target.id is not None
    moved = merge(session, source=source.id, target=target.id)
    return Linked(Outcome.joined, target, moved)


# --- merging two communities --------------------------------------------------------------------


def merge(session: Session, *, source: int, target: int) -> Moved:
    """Move everything of community `source` into `target`, within the caller's transaction.

    Organisations with the same name (ignoring case and spacing) become one; a post whose `ref` is
    taken in `target` keeps its content under a suffixed ref (target's own refs never change)."""
    merged = sum(_merge_organisation(session, org, target) for org in _organisations(session, source))
    renamed = _free_refs(session, source, target)
    members = len(session.exec(select(Member.id).where(Member.community_id == source)).all())
    posts = len(session.exec(select(Post.id).where(Post.community_id == source)).all())
    for table in FOLLOWERS:
        session.execute(update(table).where(col(table.community_id) == source).values(community_id=target))
    session.execute(update(Organisation).where(col(Organisation.community_id) == source).values(community_id=target))
    if default_community(session=session).id != source:  # the default stays: new arrivals still join it
        session.execute(delete(Community).where(col(Community.id) == source))
    session.expire_all()  # objects loaded before the bulk updates must not write old values back
    mark_community(session, target)  # every home now shows the other side's meetings
    return Moved(members=members, posts=posts, organisations_merged=merged, refs_renamed=renamed)


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def _organisations(session: Session, community_id: int) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(Organisation.community_id == community_id)).all())


def _merge_organisation(session: Session, organisation: Organisation, target: int) -> int:
    """Fold `organisation` into target's organisation of the same name, if there is one (1), else 0."""
    same = [org for org in _organisations(session, target) if _fold(org.name) == _fold(organisation.name)]
    if not same:
        return 0
    kept = min(same, key=lambda org: org.id or 0)
    old, new = organisation.id, kept.id
    # Rows that would say the same thing twice once both ids are one go first.
    blocked_both = select(OrganisationBlock.member_id).where(OrganisationBlock.blocked_organisation_id == new)
    session.execute(
        delete(OrganisationBlock).where(
            col(OrganisationBlock.blocked_organisation_id) == old, col(OrganisationBlock.member_id).in_(blocked_both)
        )
    )
    grouped_both = select(WorkingGroupMember.group_id).where(WorkingGroupMember.organisation_id == new)
    session.execute(
        delete(WorkingGroupMember).where(
            col(WorkingGroupMember.organisation_id) == old, col(WorkingGroupMember.group_id).in_(grouped_both)
        )
    )
    for table, column in (
        (Member, Member.organisation_id),
        (Post, Post.organisation_id),
        (Invite, Invite.organisation_id),
        (WorkingGroupMember, WorkingGroupMember.organisation_id),
        (OrganisationBlock, OrganisationBlock.blocked_organisation_id),
    ):
        session.execute(update(table).where(col(column) == old).values({column: new}))
    kept.city = kept.city or organisation.city
    kept.country = kept.country or organisation.country
    if kept.kind == OrganisationKind.other:
        kept.kind = organisation.kind
    session.add(kept)
    session.flush()
    session.execute(delete(Organisation).where(col(Organisation.id) == old))
    return 1


def _free_refs(session: Session, source: int, target: int) -> int:
    """Give source posts whose ref target already uses a new ref: `ref-2`, `ref-3`, …"""
    taken = set(session.exec(select(Post.ref).where(col(Post.community_id).in_([source, target]))).all())
    theirs = set(session.exec(select(Post.ref).where(Post.community_id == target)).all())
    clashing = session.exec(
        select(Post).where(Post.community_id == source, col(Post.ref).in_(theirs)).order_by(col(Post.id))
    ).all()
    for post in clashing:
        number = 2
        while (candidate := f"{post.ref[: REF_MAX - len(str(number)) - 1]}-{number}") in taken:
            number += 1
        taken.add(candidate)
        post.ref = candidate
        session.add(post)
    session.flush()
    return len(clashing)
