"""May this (need, offer) pair be suggested, accepted or introduced? The one rule, stated here.

A pair may go ahead when
- both posts are open: not withdrawn, closed or matched, and their `available_until` has not passed;
- neither author is paused (`/pause until …`: a paused member is not put forward to anyone);
- neither author blocked the other side's organisation (`/block`: "don't suggest them again");
- the pair is not settled (declined, accepted, introduced, met or not useful);
- the two posts belong to different organisations.

`refusal` is the rule. `Barriers` are the facts it reads that live outside the two posts (who is
paused, who blocked whom, which pairs are settled), loaded once for a whole community: the matcher
turns the same facts into masks over its index to skip forbidden pairs fast, and then still passes
every pair it chose through `refusal`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from bot.matching.config import SETTLED
from storage.models import Match, Member, OrganisationBlock, Post, PostStatus


class Refusal(StrEnum):
    closed = "closed"  # a post is no longer open
    paused = "paused"  # an author paused
    blocked = "blocked"  # an author blocked the other organisation
    settled = "settled"  # the pair was answered or introduced already
    same_organisation = "same_organisation"


def is_paused(member: Member | None, now: datetime) -> bool:
    """Paused until a moment still ahead (a pause ends by itself)."""
    return member is not None and member.paused_until is not None and member.paused_until > now


def is_open(post: Post, today: date) -> bool:
    return post.status == PostStatus.open and (post.available_until is None or post.available_until >= today)


@dataclass(frozen=True, slots=True)
class Barriers:
    """What, besides the posts themselves, may stop a pair, as of `now`."""

    now: datetime
    paused: frozenset[int]  # member ids
    blocks: frozenset[tuple[int, int]]  # (member id, organisation id they blocked)
    settled: frozenset[tuple[int, int]]  # (need id, offer id)

    def blocked_by(self, member_id: int | None) -> frozenset[int]:
        """The organisations this member blocked."""
        return frozenset(organisation for member, organisation in self.blocks if member == member_id)

    def blockers_of(self, organisation_id: int) -> frozenset[int]:
        """The members who blocked this organisation."""
        return frozenset(member for member, organisation in self.blocks if organisation == organisation_id)


def refusal(need: Post, offer: Post, barriers: Barriers) -> Refusal | None:
    """Why this pair may not go ahead, or None when it may."""
    if need.organisation_id == offer.organisation_id:
        return Refusal.same_organisation
    today = barriers.now.date()
    if not (is_open(need, today) and is_open(offer, today)):
        return Refusal.closed
    if need.member_id in barriers.paused or offer.member_id in barriers.paused:
        return Refusal.paused
    if (need.member_id, offer.organisation_id) in barriers.blocks:
        return Refusal.blocked
    if (offer.member_id, need.organisation_id) in barriers.blocks:
        return Refusal.blocked
    if (need.id, offer.id) in barriers.settled:
        return Refusal.settled
    return None


def community_barriers(
    session: Session, community_id: int, now: datetime, *, involving: Post | None = None
) -> Barriers:
    """The community's barriers; with `involving`, only the settled pairs of that post (all one
    post's suggestions need)."""
    members = select(Member.id).where(Member.community_id == community_id)
    settled = select(Match.need_id, Match.offer_id).where(Match.community_id == community_id, _settled())
    if involving is not None:
        settled = settled.where(or_(Match.need_id == involving.id, Match.offer_id == involving.id))
    return _barriers(
        now,
        paused=session.exec(
            select(Member).where(Member.community_id == community_id, col(Member.paused_until).is_not(None))
        ).all(),
        blocks=session.exec(
            select(OrganisationBlock.member_id, OrganisationBlock.blocked_organisation_id).where(
                col(OrganisationBlock.member_id).in_(members)
            )
        ).all(),
        settled=session.exec(settled).all(),
    )


def pair_refusal(session: Session, need: Post, offer: Post, now: datetime) -> Refusal | None:
    """`refusal` for one pair, reading only the facts about its two authors and itself."""
    authors = [member for member in (need.member_id, offer.member_id) if member is not None]
    barriers = _barriers(
        now,
        paused=session.exec(
            select(Member).where(col(Member.id).in_(authors), col(Member.paused_until).is_not(None))
        ).all(),
        blocks=session.exec(
            select(OrganisationBlock.member_id, OrganisationBlock.blocked_organisation_id).where(
                col(OrganisationBlock.member_id).in_(authors)
            )
        ).all(),
        settled=session.exec(
            select(Match.need_id, Match.offer_id).where(
                Match.need_id == need.id, Match.offer_id == offer.id, _settled()
            )
        ).all(),
    )
    return refusal(need, offer, barriers)


def _settled() -> ColumnElement[bool]:
    return col(Match.status).in_([status.value for status in SETTLED])


def _barriers(
    now: datetime,
    *,
    paused: Iterable[Member],
    blocks: Iterable[tuple[int, int]],
    settled: Iterable[tuple[int, int]],
) -> Barriers:
    return Barriers(
        now=now,
        paused=frozenset(member.id for member in paused if member.id is not None and is_paused(member, now)),
        blocks=frozenset((member, organisation) for member, organisation in blocks),
        settled=frozenset((need, offer) for need, offer in settled),
    )
