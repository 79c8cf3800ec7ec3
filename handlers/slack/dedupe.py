"""A retried Slack delivery never repeats work: the first process to record an event id wins.

The record lives in the database (a unique key), so it holds across web processes and restarts.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError

from bot.deps import Deps
from bot.ports import Sender
from handlers.slack.bridge import take_turn
from handlers.slack.people import Directory
from storage.db import SessionFactory, transaction
from storage.models import SeenEvent
from storage.queries import forget_seen_events

KEEP = timedelta(days=2)  # Slack retries within minutes; older records only take space


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of a request: the event id for events, the trigger id (unique
    per click or command) for commands and interactions."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    return None


def remember(sessions: SessionFactory, key: str, now: datetime) -> bool:
    """True the first time `key` is seen, False for every repeat."""
    try:
        with transaction(sessions) as session:
            forget_seen_events(session=session, before=now - KEEP)
            session.add(SeenEvent(key=key[:200], created_at=now))
    except IntegrityError:
        return False
    return True


async def first_time(deps: Deps, body: dict[str, Any]) -> bool:
    key = delivery_key(body)
    if key is None:
        return True
    return await asyncio.to_thread(remember, deps.sessions, key, deps.clock.now())


async def new_request(
    context: AsyncBoltContext, client: AsyncWebClient, body: dict[str, Any], team: str, user: str
) -> Sender | None:
    """After the ack, first of all: the person's turn for the rest of the listener (`take_turn`),
    then who sent this request; None when it is over their budget or Slack retrying one already
    handled."""
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    if not await take_turn(deps, client, directory, team, user):
        return None
    if not await first_time(deps, body):
        return None
    return await directory.sender(client, team, user)
