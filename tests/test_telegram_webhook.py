"""`peerlink serve` with TELEGRAM_WEBHOOK_URL: the real Starlette app under uvicorn, over real HTTP.
setWebhook carries our secret; updates without it are refused (403) and never reach the bot."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from bot.deps import Deps
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from handlers.telegram.webhook import PATH, SECRET_HEADER, webhook_secret
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, open_partnership_group, settings_for, until

HOOK = "https://peerlink.example.org/telegram/webhook"
SECRET = "s3cret_Token-123"


@pytest.fixture
async def web(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[tuple[Deps, str]]:
    settings = settings_for(sqlite_url, standin, telegram_webhook_url=HOOK, telegram_webhook_secret=SECRET)
    deps = build_deps(settings, clock=clock, migrate=False)
    open_partnership_group(deps)  # the people writing belong through it
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(build_web_app(deps), lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started or task.done(), what="uvicorn started")
    yield deps, f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    await task
    listener.close()
    deps.engine.dispose()


async def test_webhook_is_set_with_the_secret_on_start(web: tuple[Deps, str], standin: StandIn) -> None:
    (hook,) = standin.calls("setWebhook")
    assert hook.params["url"] == HOOK
    assert hook.params["secret_token"] == SECRET
    assert hook.params["allowed_updates"] == ["message", "callback_query"]
    assert len(standin.calls("setMyCommands")) == 8
    assert not standin.calls("getUpdates")  # the web process does not poll


async def test_updates_without_the_secret_are_refused(web: tuple[Deps, str], standin: StandIn) -> None:
    _, base = web
    update = standin.message_update("/help")
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.post(PATH, json=update)).status_code == 403
        wrong = {SECRET_HEADER: "guess"}
        assert (await client.post(PATH, json=update, headers=wrong)).status_code == 403
        right = {SECRET_HEADER: SECRET}
        assert (await client.post(PATH, content=b"{not json", headers=right)).status_code == 400
        # Updates are handled in order: once a signed one sent after them is answered, any answer
        # to the refused ones would have come too.
        assert (await client.post(PATH, json=standin.message_update("/help"), headers=right)).status_code == 200
    await until(lambda: bool(standin.sent(42)), what="the signed update answered", standin=standin)
    assert len(standin.calls("sendMessage")) == 1


async def test_a_signed_update_is_answered(web: tuple[Deps, str], standin: StandIn) -> None:
    _, base = web
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(PATH, json=standin.message_update("/help"), headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    await until(lambda: bool(standin.sent(42)), what="reply sent", standin=standin)
    assert "/offer" in standin.sent(42)[0].params["text"]


def test_without_a_configured_secret_one_is_derived_from_the_token(sqlite_url: str) -> None:
    standin = StandIn()  # not started: only its URL is used
    settings = settings_for(sqlite_url, standin)
    secret = webhook_secret(settings)
    assert secret == webhook_secret(settings_for(sqlite_url, standin))  # every web process agrees
    assert len(secret) == 64
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() not in secret
    standin.server.server_close()


@pytest.mark.parametrize("content", [b"{}", b"null", b"[]", b'{"update_id": "x"}', b'{"update_id": 1, "message": 5}'])
async def test_malformed_telegram_updates_are_400s(web: tuple[Deps, str], content: bytes) -> None:
    _, base = web
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(PATH, content=content, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400
