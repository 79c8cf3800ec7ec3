"""Nothing lost after the ack (bot/inbox.py): `peerlink serve` stores every Slack request and Telegram
update before acknowledging it, `peerlink worker` takes up what failed, and the person gets the real
answer once — or one apology after the last attempt. The database is cut with tests/tcp_proxy.py
(PostgreSQL only); the platforms are the stand-ins, held at a chosen moment to cut it mid-way."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.deps import Deps
from bot.i18n import translator
from bot.inbox import Arrival, InboxPolicy, receive
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from bot.runtime.worker import run_worker
from handlers.telegram.webhook import PATH, SECRET_HEADER
from storage.db import make_engine
from storage.models import InboxEvent, InboxStatus
from tests import tcp_proxy, telegram_standin
from tests.slack_standin import (
    BOT_TOKEN,
    SECRET_KEY,
    SIGNING_SECRET,
    TEAM,
    Failure,
    SlackStandIn,
    event_body,
    signed_headers,
)
from tests.tcp_proxy import Proxy
from tests.telegram_standin import StandIn, open_partnership_group, polling
from tests.waiting import until

EN = translator("en")
HELP = EN.t("core.help").splitlines()[0]  # "What I can do:"
GAVE_UP = EN.t("core.gave_up")
HOOK = "https://peerlink.example.org/telegram/webhook"
HOOK_SECRET = "inbox_hook_secret"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def slack_api() -> Iterator[SlackStandIn]:
    running = SlackStandIn().start()
    for user in ("U1", "U2", "U3"):
        running.add_user(user)
    yield running
    running.stop()


@pytest.fixture
def telegram_api() -> Iterator[StandIn]:
    running = StandIn().start()
    yield running
    running.stop()


proxy = tcp_proxy.proxy  # fixture


@dataclass
class Peerlink:
    """`serve` and `worker` (each with its own Deps, as two processes) on the test's loop."""

    serve: Deps
    http: httpx.AsyncClient
    slack: SlackStandIn
    telegram: StandIn
    database_url: str  # straight to the database, for the test's own checks

    async def slack_post(self, body: str, content_type: str) -> int:
        headers = signed_headers(body, content_type=content_type)
        return (await self.http.post("/slack/events", content=body, headers=headers)).status_code

    async def update(self, update: dict[str, Any]) -> int:
        return (await self.http.post(PATH, json=update, headers={SECRET_HEADER: HOOK_SECRET})).status_code

    def rows(self) -> list[InboxEvent]:
        return _rows(self.database_url)

    async def settled(self, count: int) -> list[InboxEvent]:
        """Wait until `count` stored events are settled (done or failed); returns every row."""
        finished = {InboxStatus.done, InboxStatus.failed}
        await until(lambda: sum(row.status in finished for row in self.rows()) >= count, what=f"{count} events settled")
        return self.rows()


def _rows(database_url: str) -> list[InboxEvent]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all())
    finally:
        engine.dispose()


def _settings(url: str, slack: SlackStandIn, telegram: StandIn, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "peerlink_secret_key": SECRET_KEY,
        "telegram_bot_token": telegram_standin.TOKEN,
        "telegram_api_url": telegram.api_url,
        "telegram_webhook_url": HOOK,
        "telegram_webhook_secret": HOOK_SECRET,
        "inbox_retry_seconds": 0.2,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def peerlink(
    url: str, database_url: str, slack: SlackStandIn, telegram: StandIn, **extra: Any
) -> AsyncIterator[Peerlink]:
    settings = _settings(url, slack, telegram, **extra)
    serve, worker = build_deps(settings, migrate=False), build_deps(settings, migrate=False)
    open_partnership_group(serve)  # Telegram users belong through it (getChatMember says "member")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(build_web_app(serve), lifespan="on", log_level="warning"))
    served = asyncio.create_task(server.serve(sockets=[listener]))
    stop = asyncio.Event()
    working = asyncio.create_task(
        run_worker(worker, stop=stop, dispatch_every=0.2, stream=io.StringIO(), inbound=False)
    )
    try:
        await until(lambda: server.started or served.done(), what="serve started")
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            yield Peerlink(serve, http, slack, telegram, database_url)
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(served, working)
        listener.close()
        serve.engine.dispose()
        worker.engine.dispose()


def _dm(user: str, text: str, *, event_id: str | None = None) -> str:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text}
    return event_body({**event, "ts": f"{time.time():.6f}", "team": TEAM}, event_id=event_id)


def _command(slack: SlackStandIn, user: str, command: str, text: str, answer_at: str) -> str:
    fields = {"team_id": TEAM, "channel_id": "C0GENERAL", "user_id": user, "command": command, "text": text}
    return urlencode({**fields, "response_url": slack.response_url(answer_at), "trigger_id": f"t.{uuid.uuid4().hex}"})


def _texts(slack: SlackStandIn, since: int, method: str, where: str) -> list[str]:
    calls = slack.calls_since(since)
    return [str(c.params.get("text", "")) for c in calls if c.method == method and c.params.get("channel") == where]


def _responses(slack: SlackStandIn, since: int, name: str) -> list[str]:
    return [str(c.params.get("text", "")) for c in slack.calls_since(since) if c.method == f"respond:{name}"]


def _waiting_to_record(caplog: pytest.LogCaptureFixture) -> set[object]:
    """The inbox events whose attempt failed and waits for the database to record it."""
    return {r.args[0] for r in caplog.records if r.msg.startswith("the database is unreachable: recording") and r.args}  # type: ignore[index]


def _sent(telegram: StandIn, since: int, chat: int) -> list[str]:
    return [str(call.params.get("text", "")) for call in telegram.sent_since(since, chat)]


async def test_what_fails_after_the_ack_is_answered_once_the_database_is_back(
    proxy: tuple[Proxy, str],
    database_url: str,
    slack_api: SlackStandIn,
    telegram_api: StandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cut, url = proxy
    async with peerlink(url, database_url, slack_api, telegram_api) as peer:
        slack_since, telegram_since = slack_api.mark(), telegram_api.mark()
        slack_api.hold("users.info")  # each request stops there, stored and acknowledged
        telegram_api.hold("getChatMember")
        with caplog.at_level(logging.WARNING, logger="bot.inbox"):
            assert await peer.slack_post(_dm("U1", "/help"), "application/json") == 200
            assert await peer.slack_post(_command(slack_api, "U2", "/help", "", "cmd"), FORM) == 200
            assert await peer.update(telegram_api.message_update("/help", user=77)) == 200
            await until(lambda: len(slack_api.calls_to("users.info")) == 2, what="both Slack requests at work")
            await until(lambda: bool(telegram_api.calls("getChatMember")), what="the Telegram update at work")
            cut.down()  # the database drops after the acks, while the three are being processed
            slack_api.release("users.info")
            telegram_api.release("getChatMember")
            await until(lambda: len(_waiting_to_record(caplog)) == 3, what="three failed attempts")
        cut.up()
        rows = await peer.settled(3)
        assert [(row.status, row.attempts, row.payload) for row in rows] == [(InboxStatus.done, 2, {})] * 3
        await until(lambda: any(HELP in text for text in _texts(slack_api, slack_since, "chat.postMessage", "DU1")))
        await until(lambda: any(HELP in text for text in _responses(slack_api, slack_since, "cmd")))
        await until(lambda: any(HELP in text for text in _sent(telegram_api, telegram_since, 77)))
        # every row is settled, so nothing more is on its way: each answer came once, no apology
        answers = [
            _texts(slack_api, slack_since, "chat.postMessage", "DU1"),
            _responses(slack_api, slack_since, "cmd"),
            _sent(telegram_api, telegram_since, 77),
        ]
        for texts in answers:
            assert sum(HELP in text for text in texts) == 1
            assert not any(GAVE_UP in text for text in texts)


async def test_nothing_is_acknowledged_while_the_database_is_down(
    proxy: tuple[Proxy, str], database_url: str, slack_api: SlackStandIn, telegram_api: StandIn
) -> None:
    cut, url = proxy
    async with peerlink(url, database_url, slack_api, telegram_api) as peer:
        since = slack_api.mark()
        dm, update = _dm("U1", "/help", event_id="EvAGAIN"), telegram_api.message_update("/help", user=77)
        cut.down()
        assert await peer.slack_post(dm, "application/json") == 503
        assert await peer.slack_post(_command(slack_api, "U2", "/help", "", "cmd"), FORM) == 503
        assert await peer.update(update) == 503
        cut.up()
        # Slack and Telegram deliver again what was not acknowledged: now it is stored and answered
        assert await peer.slack_post(dm, "application/json") == 200
        assert await peer.update(update) == 200
        rows = await peer.settled(2)
        assert sorted(row.key for row in rows) == sorted(
            ["slack:event:EvAGAIN", f"telegram:{telegram_standin.BOT_ID}:{update['update_id']}"]
        )
        await until(lambda: any(HELP in text for text in _texts(slack_api, since, "chat.postMessage", "DU1")))
        assert not slack_api.calls_to("respond:cmd")  # refused, so never processed: Slack showed the failure


async def test_the_same_event_delivered_twice_is_processed_once(
    database_url: str, slack_api: SlackStandIn, telegram_api: StandIn
) -> None:
    async with peerlink(database_url, database_url, slack_api, telegram_api) as peer:
        slack_since, telegram_since = slack_api.mark(), telegram_api.mark()
        dm, command = _dm("U1", "/help", event_id="EvTWICE"), _command(slack_api, "U2", "/help", "", "twice")
        update = telegram_api.message_update("/help", user=77)
        for _ in range(2):  # a retry by the platform, or a replay of a recorded request
            assert await peer.slack_post(dm, "application/json") == 200
            assert await peer.slack_post(command, FORM) == 200
            assert await peer.update(update) == 200
        rows = await peer.settled(3)
        assert len(rows) == 3
        # a repeat is answered 200 without being processed at all: once settled, nothing more comes
        assert sum(HELP in text for text in _texts(slack_api, slack_since, "chat.postMessage", "DU1")) == 1
        assert sum(HELP in text for text in _responses(slack_api, slack_since, "twice")) == 1
        assert sum(HELP in text for text in _sent(telegram_api, telegram_since, 77)) == 1


async def test_an_event_that_keeps_failing_gets_one_apology_after_the_last_attempt(
    database_url: str, slack_api: SlackStandIn, telegram_api: StandIn
) -> None:
    async with peerlink(database_url, database_url, slack_api, telegram_api, inbox_attempts=3) as peer:
        slack_since, telegram_since = slack_api.mark(), telegram_api.mark()
        slack_api.fail("views.open", Failure(200, {"ok": False, "error": "internal_error"}, times=3))
        for _ in range(3):  # the answer to each of the three attempts is refused
            telegram_api.fail_next("sendMessage", 400, "Bad Request: message is too long", chat_id=77)
        assert await peer.slack_post(_command(slack_api, "U3", "/offer", "a modal", "offer"), FORM) == 200
        assert await peer.update(telegram_api.message_update("/help", user=77)) == 200
        rows = await peer.settled(2)
        assert [(row.status, row.attempts) for row in rows] == [(InboxStatus.failed, 3)] * 2
        await until(lambda: GAVE_UP in _responses(slack_api, slack_since, "offer"), what="the Slack apology")
        await until(lambda: GAVE_UP in _sent(telegram_api, telegram_since, 77), what="the Telegram apology")
        assert len(slack_api.calls_to("views.open")) == 3
        assert _responses(slack_api, slack_since, "offer") == [GAVE_UP]
        assert [text for text in _sent(telegram_api, telegram_since, 77) if text == GAVE_UP] == [GAVE_UP]


async def test_a_polled_update_is_confirmed_only_once_it_is_stored(
    proxy: tuple[Proxy, str], database_url: str, telegram_api: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    cut, url = proxy
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        telegram_bot_token=telegram_standin.TOKEN,
        telegram_api_url=telegram_api.api_url,
    )
    deps = build_deps(settings, migrate=False)
    try:
        async with polling(deps, telegram_api):  # `peerlink worker` polling
            since = telegram_api.mark()
            cut.down()
            with caplog.at_level(logging.WARNING, logger="handlers.telegram.inbox"):
                telegram_api.message("/help", user=78)
                update_id = telegram_api.state.updates[-1]["update_id"]
                await until(lambda: f"update {update_id} is kept by Telegram" in caplog.text, what="storing waits")
            offsets = [int(call.params.get("offset") or 0) for call in telegram_api.calls("getUpdates")]
            assert max(offsets) <= update_id  # not confirmed: Telegram still holds it
            cut.up()
            await until(lambda: any(HELP in text for text in _sent(telegram_api, since, 78)), what="the answer")
    finally:
        deps.engine.dispose()
    (row,) = _rows(database_url)
    assert (row.key, row.status) == (f"telegram:{telegram_standin.BOT_ID}:{update_id}", InboxStatus.done)
    assert sum(HELP in text for text in _sent(telegram_api, since, 78)) == 1


def test_events_stored_together_are_told_apart_and_repeats_refused(deps: Deps) -> None:
    """What arrives together is written in one statement (bot.inbox.Receiver): each gets its own row
    and claim, and a key seen before — in the database or earlier in the same batch — is a repeat."""
    first, again, other = (
        Arrival("k:1", "slack", {"n": 1}),
        Arrival("k:1", "slack", {"n": 2}),
        Arrival("k:2", "slack", {}),
    )
    stored = receive(deps.sessions, [first, again, other], now=deps.clock.now(), policy=InboxPolicy())
    assert [attempt is not None for attempt in stored] == [True, False, True]
    assert len({attempt.id for attempt in stored if attempt is not None}) == 2
    assert receive(deps.sessions, [again], now=deps.clock.now(), policy=InboxPolicy()) == [None]
    with deps.sessions() as session:
        rows = session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all()
    assert [(row.key, row.payload, row.status, row.attempts) for row in rows] == [
        ("k:1", {"n": 1}, InboxStatus.processing, 1),
        ("k:2", {}, InboxStatus.processing, 1),
    ]
