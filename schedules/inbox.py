"""The `retry_inbox` job: incoming events whose processing failed are taken up again (bot/inbox.py).

A row is due when it waits for its next attempt (`pending`, `next_attempt_at` past) or when the
process holding it stopped without recording the end (`processing`, its lease past). Rows are
claimed as the outbox claims its own (`storage.queries.claim_rows`: several workers never take the
same row) and handed, in the order they arrived, to the `Replay` of their platform, which processes
and settles each one as the process that received it would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import col

from bot.deps import Deps
from bot.inbox import Attempt, InboxPolicy, inbox_policy, settled
from bot.log_context import about
from storage.db import transaction
from storage.models import InboxEvent, InboxStatus
from storage.queries import claim_rows

log = logging.getLogger(__name__)

BATCH = 20


def claim(deps: Deps, *, now: datetime, platforms: Sequence[str], policy: InboxPolicy) -> list[Attempt]:
    waiting = and_(col(InboxEvent.status) == InboxStatus.pending, col(InboxEvent.next_attempt_at) <= now)
    abandoned = and_(col(InboxEvent.status) == InboxStatus.processing, col(InboxEvent.claimed_until) < now)
    due = and_(col(InboxEvent.platform).in_(platforms), or_(waiting, abandoned))
    with transaction(deps.sessions) as session:
        rows = claim_rows(
            session,
            InboxEvent,
            due=due,
            values={
                "status": InboxStatus.processing,
                "claimed_until": now + policy.lease,
                "attempts": col(InboxEvent.attempts) + 1,
            },
            order_by=(col(InboxEvent.received_at), col(InboxEvent.id)),
            limit=BATCH,
        )
    rows.sort(key=lambda row: (row.received_at, row.id or 0))
    return [
        Attempt(
            id=row.id or 0,
            number=row.attempts,
            platform=row.platform,
            payload=row.payload,
            claimed_until=now + policy.lease,
        )
        for row in rows
    ]


async def retry_inbox(deps: Deps) -> int:
    """Claim the due rows and process each again; returns how many were taken up."""
    platforms = sorted(deps.inbox)
    if not platforms:
        return 0
    policy = inbox_policy(deps.settings)
    attempts = await asyncio.to_thread(claim, deps, now=deps.clock.now(), platforms=platforms, policy=policy)
    for attempt in attempts:
        log.info("taking up inbox event %s again (attempt %d)", attempt.id, attempt.number)
        with about(platform=attempt.platform, request=attempt.id):
            try:
                await deps.inbox[attempt.platform](attempt)
            except Exception as error:  # a replay that could not even start counts as a failed attempt
                log.exception("inbox event %s could not be processed", attempt.id)
                attempt.failed(error)
                await settled(attempt, sessions=deps.sessions, clock=deps.clock, policy=policy)
    return len(attempts)
