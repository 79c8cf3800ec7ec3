"""Helpers shared by the schedules tests: a Notifier at the platform boundary that records what it
sends (and can refuse), a clock-advancing sleep, and a way to talk to the real conversation engine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from bot.deps import Deps
from bot.ports import Address, DeliveryError, Incoming, Platform, Reply, Sender, SentRef
from handlers.application.conversation import Conversations
from storage.db import transaction
from storage.models import Community, Delivery, Workspace
from tests.conftest import FakeClock


@dataclass
class Sent:
    to: Address
    reply: Reply
    at: datetime | None


@dataclass
class RecordingNotifier:
    """Implements `bot.ports.Notifier`: records each accepted message; `failures[chat]` is a queue of
    errors to raise for that chat first (e.g. a 429), `refuse` an optional per-call hook."""

    platform: Platform
    clock: FakeClock | None = None
    sent: list[Sent] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    refuse: Callable[[Address, Reply], BaseException | None] | None = None

    async def send(self, to: Address, message: Reply) -> SentRef:
        queue = self.failures.get(to.chat)
        if queue:
            raise queue.pop(0)
        if self.refuse is not None:
            problem = self.refuse(to, message)
            if problem is not None:
                raise problem
        self.sent.append(Sent(to, message, self.clock.now() if self.clock else None))
        return SentRef(platform=self.platform, chat=to.chat, message_id=f"m{len(self.sent)}")

    def texts(self, chat: str | None = None) -> list[str]:
        return [item.reply.text for item in self.sent if chat is None or item.to.chat == chat]


def rate_limited(seconds: float) -> DeliveryError:
    return DeliveryError("ratelimited", retry_after=seconds)


def clock_sleep(clock: FakeClock) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return sleep


@dataclass
class Person:
    """Someone typing to the bot through the real conversation engine."""

    deps: Deps
    user_id: str
    platform: Platform = "slack"
    workspace: str = "T1"
    name: str = ""  # default: the user id
    organisation: str | None = "Ajuntament de Barcelona"
    timezone: str | None = None
    locale: str | None = None
    admin: bool = False

    @property
    def sender(self) -> Sender:
        return Sender(
            platform=self.platform,
            workspace=self.workspace,
            user_id=self.user_id,
            display_name=self.name or self.user_id,
            organisation=self.organisation,
            locale=self.locale,
            timezone=self.timezone,
            is_platform_admin=self.admin,
        )

    def say(self, text: str, *, chat: str | None = None) -> list[Reply]:
        private = chat is None
        address = Address(platform=self.platform, workspace=self.workspace, chat=chat or self.user_id)
        incoming = Incoming(sender=self.sender, chat=address, text=text, is_private=private)
        return Conversations(self.deps).handle(incoming)

    def text(self, text: str, *, chat: str | None = None) -> str:
        return "\n".join(reply.text for reply in self.say(text, chat=chat))


def deliveries(deps: Deps, *, kind: str | None = None) -> list[Delivery]:
    with deps.sessions() as session:
        query = select(Delivery).order_by(Delivery.due_at, Delivery.id)  # type: ignore[arg-type]
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        return list(session.exec(query).all())


def other_community(deps: Deps, *, workspace: str = "T2", timezone: str = "UTC") -> int:
    """A second partnership, reached from its own Slack workspace."""
    with transaction(deps.sessions) as session:
        community = Community(name=f"Other {workspace}", timezone=timezone)
        session.add(community)
        session.flush()
        assert community.id is not None
        session.add(Workspace(platform="slack", external_id=workspace, community_id=community.id))
        return community.id


def set_community(deps: Deps, **values: object) -> None:
    """Change the default community (timezone, digest time, reminder offsets…)."""
    with transaction(deps.sessions) as session:
        community = session.exec(select(Community).order_by(Community.id)).first()  # type: ignore[arg-type]
        assert community is not None
        for name, value in values.items():
            setattr(community, name, value)
        session.add(community)


def plan(
    deps: Deps,
    key: str,
    *,
    chat: str = "C1",
    platform: Platform = "slack",
    workspace: str = "T1",
    text: str | None = None,
    due: datetime | None = None,
    valid_until: datetime | None = None,
    kind: str = "reminder",
) -> None:
    """Put one message in the outbox (through the real `bot.deliveries.enqueue`)."""
    from bot.deliveries import enqueue

    with transaction(deps.sessions) as session:
        enqueue(
            session,
            dedupe_key=key,
            to=Address(platform=platform, workspace=workspace, chat=chat),
            reply=Reply(text=text or key),
            kind=kind,
            due_at=due or deps.clock.now(),
            valid_until=valid_until,
            community_id=1,
        )


async def drain_all(deps: Deps, dispatcher: object, clock: FakeClock, *, max_ticks: int = 100_000) -> int:
    """Tick until no row is pending; when nothing is due, jump the clock to the next due moment."""
    from sqlalchemy import func

    from schedules.outbox import Dispatcher

    assert isinstance(dispatcher, Dispatcher)
    ticks = 0
    for ticks in range(1, max_ticks + 1):
        report = await dispatcher.tick()
        if report.claimed:
            continue
        with deps.sessions() as session:
            pending = select(func.min(func.coalesce(Delivery.next_attempt_at, Delivery.due_at))).where(
                Delivery.status == "pending"
            )
            upcoming = session.exec(pending).one()
        if upcoming is None:
            return ticks
        moment = upcoming if upcoming.tzinfo else upcoming.replace(tzinfo=clock.now().tzinfo)
        if moment > clock.now():
            clock.current = moment
    return ticks
