"""Slack's side of the inbox (bot/inbox.py): a verified request is stored before bolt acknowledges it,
then bolt processes it as usual and the end of its listener is recorded.

The key is the event id for events (Slack retries an event with the same id) and a digest of the
signed body for commands and interactions (each is sent once; a second copy is the same bytes, a
replay). The listener's end is recorded by `on_error` (handlers/slack/errors.py) when it failed and
by `Settle`, bolt's listener completion handler, when it did not. A request that reaches no listener
of ours (an event of our own bot, one we do not listen to) is settled by the route once answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.listener.async_listener_completion_handler import AsyncListenerCompletionHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.inbox import Arrival, Attempt, Outcome, Receiver, inbox_policy, settled

INBOX = "inbox"  # bolt context key: the `Held` request


@dataclass(eq=False)
class Held:
    """A stored request on its way through bolt; `listened` once our middleware saw it."""

    attempt: Attempt
    listened: bool = False


def key_of(body: bytes, payload: dict[str, Any]) -> str | None:
    """None for Slack's own checks (URL verification, SSL check): there is nothing to keep."""
    if payload.get("type") == "url_verification" or "ssl_check" in payload:
        return None
    if payload.get("event_id"):
        return f"slack:event:{str(payload['event_id'])[:80]}"
    return f"slack:body:{hashlib.sha256(body).hexdigest()}"


async def store(receiver: Receiver, body: bytes, payload: dict[str, Any], content_type: str) -> Held | None:
    """The request held for bolt, or None when it was stored before (a retry or a replay).
    Raises SQLAlchemyError when the database is unreachable."""
    key = key_of(body, payload)
    assert key is not None
    kept = {"body": body.decode("utf-8"), "content_type": content_type}
    attempt = await receiver.receive(Arrival(key, "slack", kept))
    return Held(attempt) if attempt is not None else None


async def settle(deps: Deps, attempt: Attempt) -> Outcome:
    policy = inbox_policy(deps.settings)
    return await settled(attempt, sessions=deps.sessions, clock=deps.clock, policy=policy)


def held(context: AsyncBoltContext | dict[str, Any]) -> Held | None:
    found = context.get(INBOX)
    return found if isinstance(found, Held) else None


async def mark_listened(context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
    """The last global middleware: past it, one of our listeners (or none, a 404) takes the request."""
    found = held(context)
    if found is not None:
        found.listened = True
    return await next()


class Settle(AsyncListenerCompletionHandler):
    """bolt calls this when a listener has finished (after `on_error` when it failed)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        found = held(request.context)
        if found is not None and found.attempt.error is None:
            await settle(self.deps, found.attempt)
