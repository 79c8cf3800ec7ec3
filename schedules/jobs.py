"""The scheduler's jobs. Each takes `now` from `deps.clock` and only *plans* outbox rows (idempotent
by dedupe key), except `dispatch_outbox`, which sends them; so a job that runs twice, late, or in two
workers changes nothing, and everything a job did is in the database, not in the scheduler."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.controls import plan_nudges as plan_community_nudges
from bot.deps import Deps
from bot.digests import plan_weekly_digest, round_runner
from bot.meeting_notices import plan_reminders as plan_meeting_reminders
from bot.meeting_notices import reminder_offsets
from bot.outcomes import FOLLOWUP_AFTER
from bot.outcomes import plan_followups as plan_match_followups
from bot.privacy.retention import apply_retention as apply_retention_rules
from bot.relay import IDLE
from bot.relay import end_idle as end_idle_relays
from storage.db import transaction
from storage.models import Community, Match, MatchStatus, Meeting, MeetingStatus

log = logging.getLogger(__name__)

FOLLOWUP_WINDOW = timedelta(days=60)  # older introductions are not asked about any more


def _communities(deps: Deps) -> list[int]:
    with deps.sessions() as session:
        return [community_id for community_id in session.exec(select(Community.id)).all() if community_id]


def plan_reminders(deps: Deps) -> int:
    """(Re)plan reminders of upcoming meetings: catches new "yes" answers and changed offsets."""
    now = deps.clock.now()
    planned = 0
    with transaction(deps.sessions) as session:
        offsets_by_community: dict[int, tuple[timedelta, ...]] = {}
        for meeting in _upcoming(session, now):
            if meeting.community_id not in offsets_by_community:
                community = session.get(Community, meeting.community_id)
                offsets_by_community[meeting.community_id] = reminder_offsets(deps.settings, community)
            offsets = offsets_by_community[meeting.community_id]
            planned += plan_meeting_reminders(session, meeting, offsets=offsets, now=now)
    if planned:
        log.info("planned %d reminders", planned)
    return planned


def _upcoming(session: Session, now: datetime) -> list[Meeting]:
    """Every scheduled meeting still ahead (a community has a handful at a time)."""
    query = select(Meeting).where(Meeting.status == MeetingStatus.scheduled, col(Meeting.start_at) > now)
    return list(session.exec(query).all())


def plan_digests(deps: Deps) -> int:
    now = deps.clock.now()
    runner = round_runner(deps)
    planned = 0
    for community_id in _communities(deps):
        try:
            with transaction(deps.sessions) as session:
                community = session.get(Community, community_id)
                if community is not None:
                    planned += plan_weekly_digest(session, community, now=now, run_round=runner)
        except Exception:  # one community's trouble must not hold back the others
            log.exception("planning the digest of community %s failed", community_id)
    return planned


def plan_followups(deps: Deps) -> int:
    now = deps.clock.now()
    planned = 0
    with transaction(deps.sessions) as session:
        matches = session.exec(
            select(Match).where(
                Match.status == MatchStatus.introduced,
                col(Match.introduced_at) <= now - FOLLOWUP_AFTER,
                col(Match.introduced_at) >= now - FOLLOWUP_WINDOW,
            )
        ).all()
        for match in matches:
            planned += plan_match_followups(session, match, now=now)
    return planned


def plan_nudges(deps: Deps) -> int:
    now = deps.clock.now()
    planned = 0
    for community_id in _communities(deps):
        with transaction(deps.sessions) as session:
            planned += plan_community_nudges(session, community_id=community_id, now=now)
    return planned


def apply_retention(deps: Deps) -> int:
    """Deletes what is older than RETENTION_DAYS (the one job that deletes rather than plans)."""
    with transaction(deps.sessions) as session:
        purged = apply_retention_rules(session, now=deps.clock.now(), days=deps.settings.retention_days)
        relays = end_idle_relays(session, now=deps.clock.now())  # their messages are deleted with them
    if relays:
        log.info("retention: closed %d relays idle for %d days", relays, IDLE.days)
    if any((purged.conversations, purged.drafts, purged.payloads, purged.parked, purged.inbox)):
        log.info(
            "retention: deleted %d conversations, %d drafts, %d parked messages, %d incoming events;"
            " emptied %d sent messages",
            purged.conversations,
            purged.drafts,
            purged.parked,
            purged.inbox,
            purged.payloads,
        )
    return purged.conversations + purged.drafts + purged.payloads + purged.parked + purged.inbox + relays
