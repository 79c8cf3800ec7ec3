"""Keeping no longer than needed (`RETENTION_DAYS`): conversations and drafts nobody touched for
that long are deleted, and the outbox forgets what it sent. Incoming events (bot/inbox.py) are
settled within minutes and lose their payload then; their rows go after `INBOX_KEEP`, once a
repeated delivery can no longer come.

A sent (or skipped) outbox row keeps its `dedupe_key` — it is what stops the same reminder or
follow-up being planned twice — but loses its payload, the message's text and files. A parked row
(never delivered, given up on) that old is deleted whole: nobody is waiting for it any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, update
from sqlmodel import Session, col, select

from storage.models import ConversationState, Delivery, DeliveryStatus, ParkedDraft
from storage.queries import forget_inbox_events

INBOX_KEEP = timedelta(days=2)  # Slack retries within the hour, Telegram within a day


@dataclass(frozen=True, slots=True)
class Purged:
    conversations: int
    drafts: int
    payloads: int
    parked: int
    inbox: int


def apply_retention(session: Session, *, now: datetime, days: int) -> Purged:
    cutoff = now - timedelta(days=days)
    conversations = _delete(session, delete(ConversationState).where(col(ConversationState.updated_at) < cutoff))
    drafts = _delete(session, delete(ParkedDraft).where(col(ParkedDraft.updated_at) < cutoff))
    done = col(Delivery.status).in_([DeliveryStatus.sent, DeliveryStatus.skipped])
    # JSON has no equality on PostgreSQL: the rows still holding a payload are picked out here
    old = session.exec(select(Delivery.id, Delivery.payload).where(done, col(Delivery.created_at) < cutoff)).all()
    holding = [row_id for row_id, payload in old if payload]
    if holding:
        session.execute(update(Delivery).where(col(Delivery.id).in_(holding)).values(payload={}, last_error=None))
    parked = _delete(
        session,
        delete(Delivery).where(col(Delivery.status) == DeliveryStatus.parked, col(Delivery.created_at) < cutoff),
    )
    inbox = forget_inbox_events(session=session, before=now - INBOX_KEEP)
    return Purged(conversations, drafts, len(holding), parked, inbox)


def _delete(session: Session, statement: Delete) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount
