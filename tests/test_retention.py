"""RETENTION_DAYS: the scheduler's `apply_retention` job deletes conversations and drafts nobody
touched for that long and the payloads of old delivered messages — measured on a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.deps import Deps
from schedules import jobs
from schedules.outbox import Dispatcher
from schedules.scheduler import OutboxJob, build_scheduler
from storage.db import transaction
from storage.models import ConversationState, Delivery, DeliveryStatus, InboxEvent, InboxStatus, Member, ParkedDraft
from tests.conftest import FakeClock

DAY = timedelta(days=1)


def _delivery(key: str, status: DeliveryStatus, created: timedelta, clock: FakeClock) -> Delivery:
    at = clock.now() - created
    return Delivery(
        dedupe_key=key,
        kind="reminder",
        platform="console",
        workspace="local",
        chat="ana",
        payload={"text": f"Message {key}"},
        due_at=at,
        status=status,
        created_at=at,
        sent_at=at if status == DeliveryStatus.sent else None,
    )


def _seed(deps: Deps, clock: FakeClock) -> None:
    with transaction(deps.sessions) as session:
        ana = Member(community_id=1, display_name="Ana")
        session.add(ana)
        session.flush()
        for user, age in (("old", 91 * DAY), ("recent", 89 * DAY)):
            session.add(
                ConversationState(
                    platform="console",
                    workspace="local",
                    chat=user,
                    user_id=user,
                    flow="offer",
                    step="title",
                    updated_at=clock.now() - age,
                )
            )
        session.add(ParkedDraft(member_id=ana.id or 0, flow="need", step="title", updated_at=clock.now() - 91 * DAY))
        session.add(_delivery("sent-old", DeliveryStatus.sent, 91 * DAY, clock))
        session.add(_delivery("sent-recent", DeliveryStatus.sent, 89 * DAY, clock))
        session.add(_delivery("parked-old", DeliveryStatus.parked, 91 * DAY, clock))
        session.add(_delivery("pending-old", DeliveryStatus.pending, 91 * DAY, clock))


def test_retention_deletes_what_is_older_than_the_setting(deps: Deps, clock: FakeClock) -> None:
    _seed(deps, clock)
    assert jobs.apply_retention(deps) == 4  # one conversation, one draft, one payload, one parked row
    with deps.sessions() as session:
        assert [s.user_id for s in session.exec(select(ConversationState))] == ["recent"]
        assert session.exec(select(ParkedDraft)).all() == []
        rows = {row.dedupe_key: row for row in session.exec(select(Delivery))}
    assert set(rows) == {"sent-old", "sent-recent", "pending-old"}  # a sent row keeps its dedupe key
    assert rows["sent-old"].payload == {}
    assert rows["sent-recent"].payload == {"text": "Message sent-recent"}
    assert rows["pending-old"].payload == {"text": "Message pending-old"}  # still to be sent: untouched
    assert jobs.apply_retention(deps) == 0  # nothing twice

    clock.advance(days=2)  # the recent ones come of age
    assert jobs.apply_retention(deps) == 2
    with deps.sessions() as session:
        assert session.exec(select(ConversationState)).all() == []


def test_the_setting_and_the_fixed_job(deps: Deps, clock: FakeClock) -> None:
    assert deps.settings.retention_days == 90
    assert Settings(_env_file=None, retention_days="30").retention_days == 30  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings(_env_file=None, retention_days=0)  # type: ignore[call-arg]
    scheduler = build_scheduler(deps, OutboxJob(Dispatcher(deps)))
    job = scheduler.get_job("apply_retention")
    assert job.func.__wrapped__ is jobs.apply_retention  # run as a tracked job (schedules.scheduler)
    assert job.trigger.interval == timedelta(hours=1)
    assert job.coalesce
    assert job.max_instances == 1


def test_a_shorter_setting_keeps_less(deps: Deps, clock: FakeClock) -> None:
    _seed(deps, clock)
    deps.settings = Settings(_env_file=None, database_url=deps.settings.database_url, retention_days=30)  # type: ignore[call-arg]
    assert jobs.apply_retention(deps) == 6  # the 89-day-old payload and conversation go too


def test_settled_incoming_events_go_after_two_days(deps: Deps, clock: FakeClock) -> None:
    """The inbox's rows stop repeated deliveries for two days; one still being worked on stays."""
    with transaction(deps.sessions) as session:
        for key, status, age in (
            ("done-old", InboxStatus.done, 3 * DAY),
            ("failed-old", InboxStatus.failed, 3 * DAY),
            ("done-recent", InboxStatus.done, DAY),
            ("pending-old", InboxStatus.pending, 3 * DAY),
        ):
            session.add(InboxEvent(key=key, platform="slack", status=status, received_at=clock.now() - age))
    assert jobs.apply_retention(deps) == 2
    with deps.sessions() as session:
        assert sorted(session.exec(select(InboxEvent.key)).all()) == ["done-recent", "pending-old"]
