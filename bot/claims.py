"""Claims on organisations: asking facilitators to approve someone who named an existing organisation,
approving them, and merging two organisations that are one (duplicates from before names were
compared in their normal form)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import audit
from bot.deliveries import enqueue, member_address
from bot.errors import UserError
from bot.i18n import N_, translator
from bot.members import member_language
from bot.organisations import check_name, find, speaks_for
from bot.ports import Button, Reply
from bot.roles import facilitators
from storage.models import (
    Community,
    Invite,
    Member,
    Organisation,
    OrganisationBlock,
    Post,
    WorkingGroupMember,
)
from storage.queries import identities_of_member, organisation_by_name


def ask_approval(session: Session, member: Member, *, now: datetime) -> None:
    """Each facilitator gets a private message with an Approve button (planned once per claim)."""
    organisation = session.get(Organisation, member.organisation_id) if member.organisation_id else None
    community = session.get(Community, member.community_id)
    if not member.organisation_pending or organisation is None or community is None:
        return
    for facilitator in facilitators(session, member.community_id):
        address = member_address(session, facilitator.id or 0)
        if address is None or facilitator.id == member.id:
            continue
        first = identities_of_member(session=session, member_id=facilitator.id or 0)
        tr = translator(member_language(facilitator, first[0] if first else None, community))
        command = f"/peer org approve {member.id}"
        text = tr.t("people.approval_asked", name=member.display_name or "?", organisation=organisation.name)
        reply = Reply(text=text, buttons=(Button(label=tr.t("people.button_approve"), value=command),))
        enqueue(
            session,
            dedupe_key=f"org-approval:{member.id}:{organisation.id}:{address.key()}",
            to=address,
            reply=reply,
            kind="notice",
            due_at=now,
            community_id=member.community_id,
            member_id=facilitator.id,
        )


def approve(session: Session, approver: Member, member_id: int, *, facilitator: bool, now: datetime) -> Member:
    """A facilitator, or a member who already speaks for the organisation, lets `member_id` speak for it."""
    member = session.get(Member, member_id)
    if member is None or member.community_id != approver.community_id or not member.organisation_pending:
        raise UserError(N_("people.approve_nothing"), number=member_id)
    if not facilitator and not speaks_for(approver, member.organisation_id):
        raise UserError(N_("people.approve_refused"))
    member.organisation_pending = False
    session.add(member)
    audit.record(
        session,
        community_id=member.community_id,
        action=audit.Action.org_approve,
        now=now,
        actor_member_id=approver.id,
        subject_member_id=member.id,
        target=str(member.organisation_id),
    )
    return member


def pending_members(session: Session, community_id: int) -> Sequence[Member]:
    return session.exec(
        select(Member)
        .where(Member.community_id == community_id, col(Member.organisation_pending).is_(True))
        .order_by(col(Member.id))
    ).all()


def find_organisation(session: Session, community_id: int, name: str) -> Organisation:
    """The organisation a facilitator named (in any spelling that shares its key, or exactly)."""
    cleaned = check_name(name)
    found = organisation_by_name(session=session, community_id=community_id, name=cleaned)
    found = found or find(session, community_id, cleaned)
    if found is None:
        raise UserError(N_("people.organisation_unknown"), organisation=cleaned)
    return found


def merge(session: Session, keep: Organisation, gone: Organisation) -> int:
    """Move everything of `gone` (posts, members, invites, blocks, working groups) to `keep` and
    delete `gone`; returns how many posts moved. Matches follow their posts. Members keep their
    approval: a member of either side already spoke for the one organisation."""
    if keep.id == gone.id or keep.community_id != gone.community_id:
        raise UserError(N_("people.merge_same"))
    moved = len(session.exec(select(Post.id).where(Post.organisation_id == gone.id)).all())
    for table in (Post, Member, Invite):
        moving = update(table).where(col(table.organisation_id) == gone.id)
        session.execute(moving.values(organisation_id=keep.id))
    _move_unique(session, OrganisationBlock, "blocked_organisation_id", "member_id", keep, gone)
    _move_unique(session, WorkingGroupMember, "organisation_id", "group_id", keep, gone)
    session.flush()
    session.expire_all()
    dropped = session.get(Organisation, gone.id)
    if dropped is not None:
        session.delete(dropped)
    session.flush()
    return moved


def _move_unique(
    session: Session,
    table: type[OrganisationBlock] | type[WorkingGroupMember],
    column: str,
    owner: str,
    keep: Organisation,
    gone: Organisation,
) -> None:
    """Rows unique per (owner, organisation): a row already held for `keep` makes `gone`'s redundant."""
    rows = session.exec(select(table).where(getattr(table, column) == gone.id)).all()
    held = {getattr(row, owner) for row in session.exec(select(table).where(getattr(table, column) == keep.id)).all()}
    for row in rows:
        if getattr(row, owner) in held:
            session.delete(row)
        else:
            setattr(row, column, keep.id)
            session.add(row)
