"""The worker takes up a stored Slack request again (bot/inbox.py): the same listeners, through an app
of its own that trusts the stored body (verified before it was stored, or received over Socket Mode's
authenticated WebSocket) and waits for the listener, so the attempt is settled when this returns. The
body is parsed by its stored content type: the signed HTTP body (a form or JSON), or the Socket Mode
payload as JSON. The answer goes where the first one would have: the request's `response_url`
(valid 30 minutes, longer than all retries take) or a message."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.deps import Deps
from bot.inbox import Attempt, Replay
from handlers.slack.app import build_app
from handlers.slack.inbox import INBOX, Held, settle


def slack_replay(deps: Deps) -> Replay:
    apps: list[AsyncApp] = []  # built on first use: most workers never take a request up again

    async def replay(attempt: Attempt) -> None:
        if not apps:
            apps.append(build_app(deps, replay=True))
        payload = attempt.payload
        headers: dict[str, str | Sequence[str]] = {"content-type": str(payload.get("content_type", ""))}
        request = AsyncBoltRequest(body=str(payload.get("body", "")), headers=headers, context={INBOX: Held(attempt)})
        await apps[0].async_dispatch(request)
        await settle(deps, attempt)  # once more, for a request no listener took (nothing to do)

    return replay
