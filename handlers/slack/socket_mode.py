"""Socket Mode for the worker process (`SLACK_APP_TOKEN`): the same app and listeners as over HTTP,
reached through a WebSocket Slack opens, so no public URL is needed."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.deps import Deps
from handlers.slack.app import build_app


async def run_socket_mode(deps: Deps) -> None:
    """Serve Slack until cancelled. The worker calls this when SLACK_APP_TOKEN is set."""
    token = deps.settings.slack_app_token
    if token is None:
        raise RuntimeError("SLACK_APP_TOKEN is required for Socket Mode")
    handler = AsyncSocketModeHandler(build_app(deps), token.get_secret_value())
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
