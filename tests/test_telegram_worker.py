"""`peerlink worker` end to end with Telegram: the real worker (scheduler, outbox dispatcher, long
polling) against the stand-in. A match introduction to someone who never opened the bot is refused
(403), waits, is announced in the group, and goes out once they press Start."""

from __future__ import annotations

import asyncio
import html
import io
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.deliveries import enqueue, member_address
from bot.deps import Deps
from bot.i18n import translator
from bot.ports import Reply
from bot.runtime.compose import build_deps
from bot.runtime.worker import run_worker
from storage.db import transaction
from storage.models import Delivery, DeliveryStatus, Identity
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_USERNAME, StandIn, buttons, say, settings_for, until

GROUP = -100321
BRUNO = 99
INTRODUCTION = "introduction:1:bruno"
NEVER_STARTED = "Forbidden: bot can't initiate conversation with a user"
OPEN_BOT = f"https://t.me/{BOT_USERNAME}?start=start"


class MovingClock(FakeClock):
    """A fake clock that moves with real time: the real worker waits for the platforms' rates by the
    clock, so a clock that never moves would keep it waiting."""

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self.current + timedelta(seconds=time.monotonic() - self._started)


@pytest.fixture
async def worker(standin: StandIn, database_url: str) -> AsyncIterator[Deps]:
    deps = build_deps(settings_for(database_url, standin), clock=MovingClock(), migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(deps, stop=stop, dispatch_every=0.2, stream=io.StringIO()))
    await until(lambda: bool(standin.calls("getUpdates")) or task.done(), what="worker polling", standin=standin)
    yield deps
    stop.set()
    await task
    deps.engine.dispose()


def _introduce(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        identity = session.exec(select(Identity).where(Identity.user_id == str(BRUNO))).one()
        address = member_address(session, identity.member_id)
        assert address is not None
        enqueue(
            session,
            dedupe_key=INTRODUCTION,
            to=address,
            reply=Reply(text="Meet Ana from Ciudad de Ejemplo"),
            kind="introduction",
            due_at=deps.clock.now(),
            member_id=identity.member_id,
        )


def _status(deps: Deps) -> DeliveryStatus:
    with transaction(deps.sessions) as session:
        return session.exec(select(Delivery).where(Delivery.dedupe_key == "introduction:1:bruno")).one().status


async def test_refused_introduction_waits_and_follows_start(worker: Deps, standin: StandIn) -> None:
    standin.set_status(GROUP, 1, "administrator")
    await say(standin, "/peer channel here", user=1, chat=GROUP)
    await say(standin, "/help", user=BRUNO, chat=GROUP, name="Bruno")  # known from the group only
    standin.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user", chat_id=BRUNO)

    _introduce(worker)
    notice = translator("en").t("telegram.unreachable_notice", name="Bruno")
    await until(lambda: len(standin.sent(GROUP)) == 3, what="notice in the group", standin=standin)
    assert standin.sent(GROUP)[-1].params["text"] == html.escape(notice)
    assert buttons(standin.sent(GROUP)[-1].params) == [("Open a chat with the bot", OPEN_BOT)]
    assert _status(worker) == DeliveryStatus.parked
    assert not standin.sent(BRUNO)

    standin.message("/start", user=BRUNO, name="Bruno")
    await until(
        lambda: any("Meet Ana" in c.params["text"] for c in standin.sent(BRUNO)),
        what="introduction delivered after /start",
        standin=standin,
    )
    await until(lambda: _status(worker) == DeliveryStatus.sent, what="row marked sent", standin=standin)
