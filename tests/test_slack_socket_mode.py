"""Socket Mode (the worker, `SLACK_APP_TOKEN`): the same app over a WebSocket Slack opens — here a
WebSocket stand-in on 127.0.0.1 that hands over one slash command and waits for its ack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import WSMsgType, web

from bot.deps import Deps
from bot.runtime.compose import build_deps
from handlers.slack.socket_mode import run_socket_mode
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import TEAM, SlackStandIn, slack_settings
from tests.waiting import PATIENCE

standin = slack_standin.standin  # fixture
APP_TOKEN = "xapp-test"


class SocketStandIn:
    """Sends `hello`, then one envelope; records what the client answers."""

    def __init__(self, envelope: dict[str, object]) -> None:
        self.envelope = envelope
        self.acks: list[dict[str, object]] = []
        self.acked = asyncio.Event()

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        await socket.send_json(self.envelope)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                self.acked.set()
        return socket


@pytest.fixture
def deps(database_url: str, standin: SlackStandIn) -> Iterator[Deps]:
    built = build_deps(
        slack_settings(database_url, standin, slack_app_token=APP_TOKEN), clock=FakeClock(), migrate=False
    )
    yield built
    built.engine.dispose()


@contextlib.asynccontextmanager
async def serving(socket: SocketStandIn) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/link", socket.link)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"ws://127.0.0.1:{port}/link"
    finally:
        await runner.cleanup()


async def test_socket_mode_serves_the_same_commands(deps: Deps, standin: SlackStandIn) -> None:
    command = {
        "team_id": TEAM,
        "channel_id": "C0GENERAL",
        "user_id": "U1",
        "command": "/offer",
        "text": "public procurement",
        "api_app_id": "A0APP",
        "response_url": standin.response_url(),
        "trigger_id": f"trigger.{uuid.uuid4().hex}",
    }
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "payload": command,
        "accepts_response_payload": True,
    }
    socket = SocketStandIn(envelope)
    async with serving(socket) as url:
        standin.socket_url = url
        worker = asyncio.create_task(run_socket_mode(deps))
        try:
            await asyncio.wait_for(socket.acked.wait(), timeout=PATIENCE)
            assert socket.acks[0]["envelope_id"] == "env-1"
            opened = await asyncio.to_thread(standin.wait_for, "views.open")
            view = opened[0].params["view"]
            view = json.loads(view) if isinstance(view, str) else view
            assert view["callback_id"] == "post_modal"
            assert standin.calls_to("apps.connections.open")[0].token == APP_TOKEN
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker


async def test_socket_mode_needs_its_token(database_url: str, standin: SlackStandIn) -> None:
    built = build_deps(slack_settings(database_url, standin), clock=FakeClock(), migrate=False)
    with pytest.raises(RuntimeError, match="SLACK_APP_TOKEN"):
        await run_socket_mode(built)
    built.engine.dispose()
