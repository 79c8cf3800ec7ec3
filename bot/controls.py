"""Members in control: pause suggestions and nudges until a date, resume, block an organisation,
and renew old posts (or be nudged once a month to renew or close them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from bot.deliveries import enqueue
from bot.errors import UserError
from bot.i18n import N_
from bot.matching.eligibility import is_paused
from bot.meeting_time import civil_moment, local_midnight
from bot.members import Who
from bot.ports import Button, Reply
from bot.posts import own_post
from bot.readers import member_reader
from storage.models import Member, Organisation, OrganisationBlock, Post, PostStatus

MAX_PAUSE = timedelta(days=366)
STALE_AFTER = timedelta(days=90)
NUDGE = "nudge"


def pause(session: Session, who: Who, until: date, *, now: datetime) -> datetime:
    """Pause until the start of `until` in the member's zone; everything resumes by itself then."""
    moment = local_midnight(until, who.timezone)
    if moment <= now:
        raise UserError(N_("schedules.error_pause_past"), date=until.isoformat())
    if moment - now > MAX_PAUSE:
        raise UserError(N_("schedules.error_pause_far"), date=until.isoformat())
    who.member.paused_until = moment
    session.add(who.member)
    return moment


def resume(session: Session, who: Who) -> bool:
    """True if the member was paused."""
    was_paused = who.member.paused_until is not None
    who.member.paused_until = None
    session.add(who.member)
    return was_paused


def block(session: Session, who: Who, organisation_id: int) -> Organisation:
    """ "Don't suggest this organisation again" (idempotent)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.community_id != who.community_id:
        raise UserError(N_("schedules.error_unknown_organisation"), id=organisation_id)
    if organisation.id == who.member.organisation_id:
        raise UserError(N_("schedules.error_block_own"))
    exists = session.exec(
        select(OrganisationBlock).where(
            OrganisationBlock.member_id == who.member_id,
            OrganisationBlock.blocked_organisation_id == organisation_id,
        )
    ).first()
    if exists is None:
        session.add(OrganisationBlock(member_id=who.member_id, blocked_organisation_id=organisation_id))
    return organisation


def renew(session: Session, who: Who, post_id: int, *, now: datetime) -> Post:
    try:
        post = own_post(session, who, post_id)
    except UserError as problem:
        raise UserError(N_("schedules.error_unknown_post"), id=post_id) from problem
    if post.status != PostStatus.open:
        raise UserError(N_("schedules.error_post_not_open"), id=post_id, title=post.title)
    post.updated_at = now
    session.add(post)
    return post


def plan_nudges(session: Session, *, community_id: int, now: datetime) -> int:
    """Once a month, each open post untouched for 90 days: "still current? Renew / Close"."""
    stale = session.exec(
        select(Post).where(
            Post.community_id == community_id,
            Post.status == PostStatus.open,
            col(Post.member_id).is_not(None),
            col(Post.updated_at) <= now - STALE_AFTER,
        )
    ).all()
    planned = 0
    for post in stale:
        member = session.get(Member, post.member_id)
        reader = member_reader(session, post.member_id or 0)
        if reader is None or is_paused(member, now):
            continue
        tr = reader.tr
        reply = Reply(
            text=tr.t("schedules.nudge", title=post.title, count=(now - post.updated_at).days),
            buttons=(
                Button(label=tr.t("schedules.button_renew"), value=f"/renew {post.id}", style="primary"),
                Button(label=tr.t("schedules.button_close"), value=f"/withdraw {post.id}", style="danger"),
            ),
        )
        row = enqueue(
            session,
            dedupe_key=f"{NUDGE}:{post.id}:{now:%Y-%m}",
            to=reader.address,
            reply=reply,
            kind=NUDGE,
            due_at=civil_moment(now, reader.zone),
            community_id=community_id,
            member_id=post.member_id,
        )
        planned += row is not None
    return planned
