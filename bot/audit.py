"""The audit log: every facilitator action that changes who may do what, or that hands data out,
is written here by `record` — the one function each of those paths calls — and read back by
`/peer audit` in the reader's language and timezone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from bot.i18n import N_, Translator
from storage.models import AuditEntry, Member


class Action(StrEnum):
    role = "role"  # target: the role given
    export = "export"  # target: how many posts
    introduce = "introduce"  # target: the match number
    link_code = "link_code"  # a one-time partnership code handed out
    link = "link"  # target: how many members joined (organisations merged on the way)
    invite = "invite"  # target: the organisation id, if the invite names one
    invite_revoke = "invite_revoke"  # target: the invite's id
    register = "register"  # a Telegram group registered with the partnership (target: its chat id)
    forget = "forget"  # target: what became of the posts (kept / deleted)
    org_approve = "org_approve"  # target: the organisation id the subject may now speak for
    org_merge = "org_merge"  # target: "kept id <- merged id"
    member_link = "member_link"  # a person joined two identities: "kept member id <- joined member id"
    member_unlink = "member_unlink"  # ... and split one off again: "member id -> new member id"


class Source(StrEnum):
    chat = "chat"  # a facilitator's command in a chat
    cli = "cli"  # `peerlink …` on the command line
    own = "self"  # the person asked for it themselves (/forgetme)


LABELS = {
    Action.role: N_("privacy.audit_role"),
    Action.export: N_("privacy.audit_export"),
    Action.introduce: N_("privacy.audit_introduce"),
    Action.link_code: N_("privacy.audit_link_code"),
    Action.org_approve: N_("people.audit_org_approve"),
    Action.org_merge: N_("people.audit_org_merge"),
    Action.member_link: N_("people.audit_member_link"),
    Action.member_unlink: N_("people.audit_member_unlink"),
    Action.link: N_("privacy.audit_link"),
    Action.invite: N_("privacy.audit_invite"),
    Action.invite_revoke: N_("membership.audit_invite_revoke"),
    Action.register: N_("membership.audit_register"),
    Action.forget: N_("privacy.audit_forget"),
}
SOURCES = {
    Source.cli: N_("privacy.audit_by_cli"),
    Source.own: N_("privacy.audit_by_self"),
    Source.chat: N_("privacy.audit_by_someone"),  # a facilitator who has since been forgotten
}


def record(
    session: Session,
    *,
    community_id: int,
    action: Action,
    now: datetime,
    actor_member_id: int | None = None,
    subject_member_id: int | None = None,
    target: object = "",
    source: Source = Source.chat,
) -> AuditEntry:
    entry = AuditEntry(
        community_id=community_id,
        action=action.value,
        source=source.value,
        actor_member_id=actor_member_id,
        subject_member_id=subject_member_id,
        target=str(target)[:200],
        created_at=now,
    )
    session.add(entry)
    return entry


def latest(session: Session, community_id: int, *, limit: int = 20) -> Sequence[AuditEntry]:
    return session.exec(
        select(AuditEntry)
        .where(AuditEntry.community_id == community_id)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    ).all()


def describe(session: Session, entry: AuditEntry, tr: Translator) -> str:
    """One entry as a sentence in the reader's language (the time is added by the caller)."""
    actor = _name(session, entry.actor_member_id) or tr.t(SOURCES[Source(entry.source)])
    subject = _name(session, entry.subject_member_id) or tr.t("privacy.audit_nobody")
    return tr.t(LABELS[Action(entry.action)], actor=actor, subject=subject, target=entry.target)


def _name(session: Session, member_id: int | None) -> str | None:
    member = session.get(Member, member_id) if member_id is not None else None
    if member is None:
        return None
    return member.display_name or f"#{member.id}"


def _naming(member_id: int) -> ColumnElement[bool]:
    return (col(AuditEntry.actor_member_id) == member_id) | (col(AuditEntry.subject_member_id) == member_id)


def entries_about(session: Session, member_id: int) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).where(_naming(member_id)).order_by(col(AuditEntry.id))).all()


def forget_member(session: Session, member_id: int) -> int:
    """The entries stay (what was done, and when), but no longer say it was this person."""
    entries = entries_about(session, member_id)
    for entry in entries:
        if entry.actor_member_id == member_id:
            entry.actor_member_id = None
        if entry.subject_member_id == member_id:
            entry.subject_member_id = None
        session.add(entry)
    return len(entries)
