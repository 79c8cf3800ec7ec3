"""The weekly match digest: each community channel gets the round's suggestions with Accept buttons
and last round's funnel, at a local time in the community's timezone (default Monday 09:00).

Planning is idempotent per community and local date (`digest:{community}:{date}:{address}`), so the
`plan_digests` job can run every few minutes; a digest not planned within a day of its moment (the
worker was down all that time) is left for next week rather than sent stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from bot.deliveries import enqueue
from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import N_
from bot.match_card import cards_reply, match_card
from bot.matching.eligibility import community_barriers, refusal
from bot.meeting_time import local_to_utc
from bot.members import zone
from bot.outcomes import Funnel, funnel
from bot.ports import Reply
from bot.readers import Reader, channel_reader, community_channels
from storage.models import (
    Channel,
    Community,
    Delivery,
    Match,
    MatchRound,
    MatchStatus,
    Post,
)

log = logging.getLogger(__name__)

DIGEST = "digest"
GRACE = timedelta(days=1)
MAX_MATCHES = 10  # a digest is read on a phone; the rest wait in /matches

# Runs and records a new round for a community, returning it (the matcher's job), or None.
RoundRunner = Callable[[Session, Community, datetime], MatchRound | None]


def round_runner(deps: Deps) -> RoundRunner:
    """Run the matcher on the community's open posts and record the round (`deps.matcher`; it
    leaves out the pairs `eligibility` forbids, a paused member's among them)."""

    def run(session: Session, community: Community, now: datetime) -> MatchRound | None:
        return deps.matcher.record_round(session, deps.matcher.run_round(session, community.id or 0))

    return run


def _digest_clock(community: Community) -> time:
    try:
        hour, minute = (int(part) for part in community.digest_time.split(":"))
        return time(hour, minute)
    except ValueError:
        log.warning("community %s: bad digest_time %r, using 09:00", community.id, community.digest_time)
        return time(9, 0)


def _local_moment(day: date, at: time, community: Community) -> datetime:
    local = datetime.combine(day, at)
    try:
        return local_to_utc(local, zone(community.timezone))
    except UserError:  # inside a DST gap: the hour after
        return local_to_utc(local + timedelta(hours=1), zone(community.timezone))


def digest_moment(community: Community, now: datetime) -> datetime:
    """The latest digest moment at or before `now` (UTC), DST-correct in the community's zone."""
    local = now.astimezone(zone(community.timezone))
    day = local.date() - timedelta(days=(local.weekday() - community.digest_weekday) % 7)
    moment = _local_moment(day, _digest_clock(community), community)
    if moment > now:
        moment = _local_moment(day - timedelta(days=7), _digest_clock(community), community)
    return moment


def _latest_round(session: Session, community_id: int, since: datetime | None = None) -> MatchRound | None:
    query = select(MatchRound).where(MatchRound.community_id == community_id)
    if since is not None:
        query = query.where(col(MatchRound.created_at) >= since)
    return session.exec(query.order_by(col(MatchRound.created_at).desc(), col(MatchRound.id).desc())).first()


def _previous_round(session: Session, current: MatchRound) -> MatchRound | None:
    return session.exec(
        select(MatchRound)
        .where(MatchRound.community_id == current.community_id, col(MatchRound.id) != current.id)
        .where(col(MatchRound.created_at) <= current.created_at)
        .order_by(col(MatchRound.created_at).desc(), col(MatchRound.id).desc())
    ).first()


def suggestions(session: Session, match_round: MatchRound, *, now: datetime) -> list[tuple[Match, Post, Post]]:
    """The round's suggestions that `eligibility` still lets go ahead, best first (a round may be
    days old: since then a post closed, someone paused or blocked)."""
    matches = session.exec(
        select(Match)
        .where(Match.round_id == match_round.id, Match.status == MatchStatus.suggested)
        .order_by(col(Match.score).desc(), col(Match.id))
    ).all()
    barriers = community_barriers(session, match_round.community_id, now)
    found = []
    for match in matches:
        need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
        if need is not None and offer is not None and refusal(need, offer, barriers) is None:
            found.append((match, need, offer))
    return found[:MAX_MATCHES]


def funnel_text(reader: Reader, figures: Funnel) -> str:
    return reader.tr.t(
        "schedules.funnel",
        round=figures.round_id,
        suggested=figures.suggested,
        accepted=figures.accepted,
        introduced=figures.introduced,
        met=figures.met,
        useful=figures.useful,
    )


def digest_reply(
    session: Session, reader: Reader, picked: Sequence[tuple[Match, Post, Post]], previous: Funnel | None
) -> Reply:
    tr = reader.tr
    cards = [match_card(session, match, need, offer) for match, need, offer in picked]
    header = tr.t("schedules.digest_header", count=len(cards)) if cards else tr.t("schedules.digest_empty")
    footer = [tr.t("schedules.digest_last_round") + " " + funnel_text(reader, previous)] if previous else []
    return cards_reply(header, cards, tr, footer=footer)


def _plan(
    session: Session,
    community: Community,
    channels: Sequence[Channel],
    match_round: MatchRound | None,
    *,
    key: str,
    now: datetime,
    valid_until: datetime,
) -> int:
    picked = suggestions(session, match_round, now=now) if match_round else []
    previous = _previous_round(session, match_round) if match_round else _latest_round(session, community.id or 0)
    figures = funnel(session, previous) if previous else None
    planned = 0
    for channel in channels:
        reader = channel_reader(session, channel)
        row = enqueue(
            session,
            dedupe_key=f"{key}{reader.address.key()}",
            to=reader.address,
            reply=digest_reply(session, reader, picked, figures),
            kind=DIGEST,
            due_at=now,
            valid_until=valid_until,
            community_id=community.id,
        )
        planned += row is not None
    if match_round is not None and match_round.posted_at is None and planned:
        match_round.posted_at = now
        session.add(match_round)
    return planned


def plan_weekly_digest(session: Session, community: Community, *, now: datetime, run_round: RoundRunner | None) -> int:
    """Plan this week's digest if its moment has come and it is not planned yet."""
    moment = digest_moment(community, now)
    if now - moment > GRACE:
        return 0
    channels = community_channels(session, community.id or 0)
    local_day = moment.astimezone(zone(community.timezone)).date()
    key = f"{DIGEST}:{community.id}:{local_day.isoformat()}:"
    if not channels or session.exec(select(Delivery.id).where(col(Delivery.dedupe_key).startswith(key))).first():
        return 0
    match_round = _latest_round(session, community.id or 0, since=moment)
    if match_round is None and run_round is not None:
        match_round = run_round(session, community, now)
    if match_round is None:
        match_round = _latest_round(session, community.id or 0)
    return _plan(session, community, channels, match_round, key=key, now=now, valid_until=moment + GRACE)


def plan_digest_now(session: Session, community: Community, *, now: datetime, run_round: RoundRunner | None) -> int:
    """`/peer digest now`: a fresh round (when the matcher is there) to every community channel."""
    channels = community_channels(session, community.id or 0)
    if not channels:
        raise UserError(N_("schedules.error_no_channel"))
    match_round = run_round(session, community, now) if run_round is not None else None
    match_round = match_round or _latest_round(session, community.id or 0)
    key = f"{DIGEST}:{community.id}:now:{now:%Y%m%dT%H%M%S}:"
    return _plan(session, community, channels, match_round, key=key, now=now, valid_until=now + GRACE)
