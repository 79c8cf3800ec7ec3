"""Socket Mode for the worker process (`SLACK_APP_TOKEN`): the same app and listeners as over HTTP,
reached through a WebSocket Slack opens, so no public URL is needed.

Each request goes through the inbox as over HTTP (handlers/slack/web.py): stored before it is
acknowledged, a repeat acknowledged and not processed, a failure taken up again by the worker's
`retry_inbox` job (handlers/slack/replay.py). Slack sends an envelope that was not acknowledged again,
with the same payload and a `retry_attempt`: the payload, canonical JSON, is what is stored and keyed.
"""

from __future__ import annotations

import json
import logging
from time import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.inbox import Receiver
from bot.log_context import about
from handlers.slack import inbox
from handlers.slack.app import build_app

log = logging.getLogger(__name__)

JSON = "application/json"  # how a stored Socket Mode request is kept (the replay parses it by this)


def canonical(payload: dict[str, Any]) -> bytes:
    """The same bytes for every delivery of the same payload, whatever order its keys arrive in."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class InboxSocketModeHandler(AsyncSocketModeHandler):
    """bolt's handler (its `handle`: dispatch, then send the ack over the WebSocket), with the
    request stored first and the `Held` attempt in bolt's context, as `stored_then_handled` in
    handlers/slack/web.py does over HTTP."""

    def __init__(self, deps: Deps, app: AsyncApp, app_token: str) -> None:
        super().__init__(app, app_token)
        self.deps = deps
        self.receiver = Receiver(deps.sessions, deps.clock, deps.settings)

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        payload: dict[str, Any] = req.payload
        body = canonical(payload)
        if inbox.key_of(body, payload) is None:  # nothing to keep (Slack's own checks)
            await super().handle(client, req)
            return
        with about(platform="slack", request=req.envelope_id):
            try:
                held = await inbox.store(self.receiver, body, payload, JSON)
            except SQLAlchemyError:
                # Not stored, so not acknowledged: Slack sends it again (a command shows the person it failed).
                log.warning("the database is unreachable: a Slack Socket Mode request is left unacknowledged")
                return
            if held is None:  # stored before: a retry, already taken care of
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            await self._dispatch(client, req, held)

    async def _dispatch(self, client: SocketModeClient, req: SocketModeRequest, held: inbox.Held) -> None:
        start = time()
        context = {inbox.INBOX: held}
        request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req), context=context)
        response = await self.app.async_dispatch(request)
        await send_async_response(client, req, response, start)
        if not held.listened or response.status != 200:  # no listener of ours took it: nothing to do
            await inbox.settle(self.deps, held.attempt)


async def run_socket_mode(deps: Deps) -> None:
    """Serve Slack until cancelled. The worker calls this when SLACK_APP_TOKEN is set."""
    token = deps.settings.slack_app_token
    if token is None:
        raise RuntimeError("SLACK_APP_TOKEN is required for Socket Mode")
    handler = InboxSocketModeHandler(deps, build_app(deps), token.get_secret_value())
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
