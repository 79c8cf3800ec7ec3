"""Slack's routes in the `peerlink serve` app: one endpoint for events, commands, interactivity
and options, plus the OAuth install page and redirect in multi-workspace mode; and a lifespan that,
when the app stops, lets the work that follows each acknowledgement finish (`in_flight`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.deps import Deps
from bot.inbox import Receiver
from bot.log_context import about
from handlers.slack import gate, inbox
from handlers.slack.app import INSTALL_PATH, REDIRECT_PATH, build_app
from handlers.slack.in_flight import ListenerTasks

EVENTS_PATH = "/slack/events"

log = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def slack_routes(deps: Deps) -> tuple[list[BaseRoute], Lifespan | None]:
    """The routes, and the lifespan to add to the web app (None when there are no routes)."""
    if deps.settings.slack_signing_secret is None:
        # Without it no request can be verified, and unverified requests are never served.
        if deps.settings.slack_app_token is not None:
            log.info("Slack runs in Socket Mode (the worker); no HTTP endpoint without SLACK_SIGNING_SECRET")
            return [], None
        raise RuntimeError("SLACK_SIGNING_SECRET is required to receive Slack requests over HTTP")
    app = build_app(deps)
    handler = AsyncSlackRequestHandler(app)
    listeners = ListenerTasks(app)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:  # the server has stopped taking requests and answered those in flight
            await listeners.finish(deps.settings.stop_grace_seconds)

    secret = deps.settings.slack_signing_secret.get_secret_value()
    receiver = Receiver(deps.sessions, deps.clock, deps.settings)

    async def events(request: Request) -> Response:
        with deps.metrics.slack_ack_seconds.time():
            return await answer(request)

    async def answer(request: Request) -> Response:
        body = await request.body()
        checked = gate.check(secret, body, {k.lower(): v for k, v in request.headers.items()})
        if checked.verdict is not gate.Verdict.ok or checked.payload is None:
            return Response(status_code=checked.verdict.value)
        with about(platform="slack", request=checked.request_id):
            if inbox.key_of(body, checked.payload) is None:  # Slack checking the URL: nothing to keep
                return await handler.handle(request)
            return await stored_then_handled(request, body, checked.payload)

    async def stored_then_handled(request: Request, body: bytes, payload: dict[str, Any]) -> Response:
        try:
            held = await inbox.store(receiver, body, payload, request.headers.get("content-type", ""))
        except SQLAlchemyError:
            # Not stored, so not acknowledged: a 503 makes Slack send it again (events are retried
            # three times within the hour; a command or a press shows the person it failed).
            log.warning("the database is unreachable: a Slack request is refused, to be sent again")
            return Response(status_code=503)
        if held is None:
            return Response(status_code=200)  # stored before: a retry or a replay, already taken care of
        # Starlette keeps the body: bolt reads the same bytes
        response = await handler.handle(request, addition_context_properties={inbox.INBOX: held})
        if not held.listened or response.status_code != 200:  # no listener of ours took it: nothing to do
            response.background = BackgroundTask(inbox.settle, deps, held.attempt)  # after the answer
        return response

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    routes: list[BaseRoute] = [Route(EVENTS_PATH, events, methods=["POST"])]
    if app.oauth_flow is not None:
        routes += [
            Route(INSTALL_PATH, endpoint, methods=["GET"]),
            Route(REDIRECT_PATH, endpoint, methods=["GET"]),
        ]
    return routes, lifespan
