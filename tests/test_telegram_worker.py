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
from tests.telegram_standin import BOT_USERNAME, StandIn, buttons, open_partnership_group, say, settings_for, until
from tests.test_telegram_reachability import channel_set

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
    open_partnership_group(deps, GROUP)  # registered, so its admin facilitates there
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
    await say(standin, "/peer channel here", user=1, chat=GROUP, expect=channel_set(worker))
    await say(standin, "/help", user=BRUNO, chat=GROUP, name="Bruno", expect="/offer")  # known from the group only
    standin.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user", chat_id=BRUNO)

    since = standin.mark()
    _introduce(worker)
    notice = html.escape(translator("en").t("telegram.unreachable_notice", name="Bruno"))
    shown = await standin.wait_for_message(GROUP, notice, since=since)
    assert shown.params["text"] == notice
    assert buttons(shown.params) == [("Open a chat with the bot", OPEN_BOT)]
    assert _status(worker) == DeliveryStatus.parked  # parked before the notice was planned
    assert not standin.sent(BRUNO)

    await say(standin, "/start", user=BRUNO, name="Bruno", expect="Meet Ana")  # what waited follows /start
    await until(lambda: _status(worker) == DeliveryStatus.sent, what="row marked sent", standin=standin)
