"""Socket Mode (the worker, `SLACK_APP_TOKEN`): the same app over a WebSocket Slack opens — here a
WebSocket stand-in on 127.0.0.1 that hands over the envelopes a test sends and records the acks. Each
request goes through the inbox as over HTTP (tests/test_inbox.py): stored before its ack, a repeat
acknowledged and not processed, a failure taken up again by the worker's `retry_inbox` job."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from sqlmodel import col, select

from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.compose import build_deps
from handlers.slack.socket_mode import run_socket_mode
from schedules.inbox import retry_inbox
from storage.models import InboxEvent, InboxStatus
from tests import slack_standin, tcp_proxy
from tests.conftest import FakeClock
from tests.slack_standin import TEAM, Failure, SlackStandIn, event_body, slack_settings
from tests.tcp_proxy import Proxy
from tests.waiting import until

standin = slack_standin.standin  # fixture
proxy = tcp_proxy.proxy  # fixture
APP_TOKEN = "xapp-test"
HELP = translator("en").t("core.help").splitlines()[0]  # "What I can do:"


class SocketStandIn:
    """Slack's end of the WebSocket: sends `hello`, then each envelope the test `send`s; records
    what the client answers (the acks)."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.socket: web.WebSocketResponse | None = None

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.socket = socket
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return socket

    async def send(self, envelope: dict[str, Any]) -> None:
        await until(lambda: self.socket is not None, what="the worker connected")
        assert self.socket is not None
        await self.socket.send_json(envelope)

    def acked(self, envelope_id: str) -> list[dict[str, Any]]:
        return [ack for ack in self.acks if ack.get("envelope_id") == envelope_id]


def _deps(database_url: str, standin: SlackStandIn) -> Deps:
    settings = slack_settings(database_url, standin, slack_app_token=APP_TOKEN)
    return build_deps(settings, clock=FakeClock(), migrate=False)


@pytest.fixture
def deps(database_url: str, standin: SlackStandIn) -> Iterator[Deps]:
    built = _deps(database_url, standin)
    yield built
    built.engine.dispose()


@contextlib.asynccontextmanager
async def socket_mode(deps: Deps, standin: SlackStandIn) -> AsyncIterator[SocketStandIn]:
    """The worker's Socket Mode, connected to a WebSocket stand-in that `apps.connections.open` names."""
    socket = SocketStandIn()
    app = web.Application()
    app.router.add_get("/link", socket.link)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    standin.socket_url = f"ws://127.0.0.1:{runner.addresses[0][1]}/link"
    worker = asyncio.create_task(run_socket_mode(deps))
    try:
        yield socket
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await runner.cleanup()


def _command(standin: SlackStandIn, command: str, text: str, answer_at: str) -> dict[str, Any]:
    return {
        "team_id": TEAM,
        "channel_id": "C0GENERAL",
        "user_id": "U1",
        "command": command,
        "text": text,
        "api_app_id": "A0APP",
        "response_url": standin.response_url(answer_at),
        "trigger_id": f"trigger.{uuid.uuid4().hex}",
    }


def _envelope(kind: str, payload: dict[str, Any], *, retry: int = 0) -> dict[str, Any]:
    """As Slack sends it; an envelope that was not acknowledged comes again with the same payload,
    a new envelope id and its `retry_attempt`."""
    return {
        "envelope_id": f"env-{uuid.uuid4().hex}",
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
    }


def _dm(event_id: str) -> dict[str, Any]:
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1", "text": "/help"}
    body: dict[str, Any] = json.loads(
        event_body({**event, "ts": f"{time.time():.6f}", "team": TEAM}, event_id=event_id)
    )
    return body


def _rows(deps: Deps) -> list[InboxEvent]:
    with deps.sessions() as session:
        return list(session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all())


def _helps(standin: SlackStandIn, since: int) -> int:
    calls = standin.calls_since(since)
    return sum(HELP in str(c.params.get("text", "")) for c in calls if c.method == "chat.postMessage")


async def test_socket_mode_serves_the_same_commands(deps: Deps, standin: SlackStandIn) -> None:
    async with socket_mode(deps, standin) as socket:
        envelope = _envelope("slash_commands", _command(standin, "/offer", "public procurement", "offer"))
        await socket.send(envelope)
        await until(lambda: bool(socket.acked(envelope["envelope_id"])), what="the ack")
        opened = await asyncio.to_thread(standin.wait_for, "views.open")
        view = opened[0].params["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert view["callback_id"] == "post_modal"
        assert standin.calls_to("apps.connections.open")[0].token == APP_TOKEN
        await until(lambda: [row.status for row in _rows(deps)] == [InboxStatus.done], what="the command stored, done")


async def test_an_event_sent_again_is_acknowledged_and_answered_once(deps: Deps, standin: SlackStandIn) -> None:
    since = standin.mark()
    async with socket_mode(deps, standin) as socket:
        first, again = _envelope("events_api", _dm("EvSOCKET")), _envelope("events_api", _dm("EvSOCKET"), retry=1)
        again["payload"] = first["payload"]  # Slack's redelivery: the same payload
        await socket.send(first)
        await socket.send(again)
        await until(lambda: all(socket.acked(e["envelope_id"]) for e in (first, again)), what="both acks")
        await until(lambda: [row.status for row in _rows(deps)] == [InboxStatus.done], what="the event done")
    # the row is done once the listener has answered, and the repeat was never processed
    assert [(row.key, row.attempts, row.payload) for row in _rows(deps)] == [("slack:event:EvSOCKET", 1, {})]
    assert _helps(standin, since) == 1


async def test_a_failed_command_is_answered_by_the_retry_job(deps: Deps, standin: SlackStandIn) -> None:
    standin.fail("views.open", Failure(200, {"ok": False, "error": "internal_error"}))
    async with socket_mode(deps, standin) as socket:
        await socket.send(_envelope("slash_commands", _command(standin, "/offer", "a modal", "offer")))
        await until(lambda: [row.status for row in _rows(deps)] == [InboxStatus.pending], what="waits to be retried")
    deps.clock.advance(minutes=10)  # type: ignore[attr-defined]  # past its next attempt
    assert await retry_inbox(deps) == 1  # the worker's job: the stored JSON payload through the replay app
    assert [(row.status, row.attempts, row.payload) for row in _rows(deps)] == [(InboxStatus.done, 2, {})]
    opened = standin.calls_to("views.open")
    assert len(opened) == 2
    view = opened[1].params["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["callback_id"] == "post_modal"
    assert not standin.calls_to("respond:offer")  # no apology: the answer came


async def test_nothing_is_acknowledged_while_the_database_is_down(
    proxy: tuple[Proxy, str], standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    cut, url = proxy
    deps = _deps(url, standin)
    since = standin.mark()
    try:
        async with socket_mode(deps, standin) as socket:
            first = _envelope("events_api", _dm("EvDOWN"))
            cut.down()
            with caplog.at_level(logging.WARNING, logger="handlers.slack.socket_mode"):
                await socket.send(first)
                await until(lambda: "left unacknowledged" in caplog.text, what="the request refused")
            assert not socket.acked(first["envelope_id"])
            cut.up()
            again = _envelope("events_api", first["payload"], retry=1)  # Slack sends it again
            await socket.send(again)
            await until(lambda: bool(socket.acked(again["envelope_id"])), what="the ack")
            await until(lambda: [row.status for row in _rows(deps)] == [InboxStatus.done], what="the event done")
        assert not socket.acked(first["envelope_id"])
        assert _helps(standin, since) == 1
    finally:
        deps.engine.dispose()


async def test_socket_mode_needs_its_token(database_url: str, standin: SlackStandIn) -> None:
    built = build_deps(slack_settings(database_url, standin), clock=FakeClock(), migrate=False)
    with pytest.raises(RuntimeError, match="SLACK_APP_TOKEN"):
        await run_socket_mode(built)
    built.engine.dispose()
