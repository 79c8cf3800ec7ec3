"""Pending suggestions that stop being true: a post withdrawn, its author paused, a post edited so
that a pair no longer fits. They are withdrawn, and the other side is told the post is no longer
available, so nobody accepts what is gone. Which pairs still hold is `eligibility`'s rule and the
matcher's score, never a second rule here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, or_, select

from bot.matches import side_members
from bot.matching.eligibility import pair_refusal
from bot.matching.matcher import Matcher
from bot.notices import notify_member, text_for
from storage.models import Match, MatchStatus, Organisation, Post

NOTICE = "withdrawn"


def pending_of(session: Session, post_ids: Iterable[int]) -> Sequence[Match]:
    """The suggestions on these posts that nobody has settled yet."""
    ids = list(post_ids)
    return session.exec(
        select(Match)
        .where(Match.status == MatchStatus.suggested)
        .where(or_(col(Match.need_id).in_(ids), col(Match.offer_id).in_(ids)))
        .order_by(col(Match.id))
    ).all()


def withdraw_pending(session: Session, gone: Sequence[Post], *, now: datetime) -> int:
    """Withdraw every pending suggestion on the posts in `gone`; the other sides are told."""
    ids = {post.id for post in gone if post.id is not None}
    matches = pending_of(session, ids)
    for match in matches:
        _withdraw(session, match, gone_id=match.need_id if match.need_id in ids else match.offer_id, now=now)
    return len(matches)


def rescore_pending(session: Session, matcher: Matcher, post: Post, *, now: datetime) -> int:
    """After an edit: each pending suggestion of `post` gets its new score and reasons; a pair
    that now scores below the threshold, or that the rule refuses, is withdrawn. Returns how many."""
    matches = {(m.need_id, m.offer_id): m for m in pending_of(session, [post.id or 0])}
    others = [session.get(Post, offer if need == post.id else need) for need, offer in matches]
    scored = {
        (s.need.id, s.offer.id): s
        for s in matcher.rescore(session, post, [other for other in others if other is not None])
    }
    dropped = 0
    for pair, match in matches.items():
        suggestion = scored.get(pair)
        holds = (
            suggestion is not None
            and suggestion.score >= matcher.config.min_score
            and pair_refusal(session, suggestion.need, suggestion.offer, now) is None
        )
        if suggestion is not None and holds:
            match.score, match.reasons, match.updated_at = suggestion.score, suggestion.stored_reasons(), now
            session.add(match)
            continue
        _withdraw(session, match, gone_id=post.id or 0, now=now)
        dropped += 1
    return dropped


def _withdraw(session: Session, match: Match, *, gone_id: int, now: datetime) -> None:
    match.status = MatchStatus.withdrawn
    match.updated_at = now
    session.add(match)
    gone = session.get(Post, gone_id)
    other = session.get(Post, match.offer_id if gone_id == match.need_id else match.need_id)
    if gone is None or other is None:
        return
    organisation = session.get(Organisation, gone.organisation_id)
    write = text_for(
        "core.match_no_longer_available",
        number=match.id,
        title=gone.title,
        organisation=organisation.name if organisation else "",
    )
    for member in side_members(session, other):
        notify_member(
            session,
            member.id or 0,
            write,
            dedupe_key=f"{NOTICE}:{match.id}:{member.id}:{now.isoformat()}",
            kind=NOTICE,
            due_at=now,
            community_id=match.community_id,
        )
