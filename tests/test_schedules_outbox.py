"""The outbox dispatcher against the real databases, with a Notifier at the platform boundary:
sending and recording, 429s, backoff, parking, reachability, expiry, leases and the platforms' rates."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.ports import Address, DeliveryError, Reply, SentRef
from bot.reachability import UNREACHABLE
from schedules.outbox import Dispatcher, OutboxPolicy, claim
from storage.db import transaction
from storage.models import Delivery, DeliveryStatus, Identity, Member, Role
from tests.conftest import FakeClock
from tests.schedules_support import RecordingNotifier, clock_sleep, deliveries, drain_all, plan, rate_limited

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack(deps: Deps, clock: FakeClock) -> RecordingNotifier:
    notifier = RecordingNotifier("slack", clock)
    deps.notifiers["slack"] = notifier
    return notifier


def dispatcher(deps: Deps, clock: FakeClock, **policy: object) -> Dispatcher:
    return Dispatcher(deps, policy=OutboxPolicy(**policy), sleep=clock_sleep(clock))  # type: ignore[arg-type]


def row(deps: Deps, key: str) -> Delivery:
    with deps.sessions() as session:
        found = session.exec(select(Delivery).where(Delivery.dedupe_key == key)).one()
        return found


async def test_due_rows_are_sent_and_recorded(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    plan(deps, "a", text="first")
    plan(deps, "b", chat="C2", text="second")
    plan(deps, "later", due=T0 + timedelta(hours=1))
    report = await dispatcher(deps, clock).tick()
    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(slack.texts()) == ["first", "second"]
    sent = row(deps, "a")
    assert (sent.status, sent.message_id, sent.sent_at, sent.attempts) == (DeliveryStatus.sent, "m1", T0, 1)
    assert row(deps, "later").status == DeliveryStatus.pending
    assert (await dispatcher(deps, clock).tick()).claimed == 0  # nothing is sent twice
    clock.advance(hours=1)
    assert (await dispatcher(deps, clock).tick()).sent == 1
    assert len(slack.sent) == 3


async def test_planning_twice_sends_once(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    plan(deps, "same")
    plan(deps, "same")
    await drain_all(deps, dispatcher(deps, clock), clock)
    assert slack.texts() == ["same"]


async def test_429_delays_without_counting_an_attempt(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    plan(deps, "r", text="hello")
    plan(deps, "r2", text="same channel")
    slack.failures["C1"] = [rate_limited(30)]
    sender = dispatcher(deps, clock)
    report = await sender.tick()
    assert report.retried == 1
    assert report.released == 1  # the next message of that channel waits with it
    waiting = row(deps, "r")
    assert waiting.status == DeliveryStatus.pending
    assert waiting.attempts == 0
    assert waiting.next_attempt_at == T0 + timedelta(seconds=30)
    assert (await sender.tick()).claimed == 0
    clock.current = T0 + timedelta(seconds=30)
    await drain_all(deps, sender, clock)
    assert slack.texts() == ["hello", "same channel"]
    assert [item.at for item in slack.sent] == [T0 + timedelta(seconds=30), T0 + timedelta(seconds=31)]


def make_facilitator(deps: Deps, user_id: str = "UFAC") -> None:
    with transaction(deps.sessions) as session:
        member = Member(community_id=1, display_name="Marta", role=Role.facilitator)
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(Identity(member_id=member.id, platform="slack", workspace="T1", user_id=user_id))


async def test_errors_back_off_then_park_and_tell_the_facilitators(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier
) -> None:
    make_facilitator(deps)
    plan(deps, "doomed", chat="CGONE", kind="digest")
    slack.refuse = lambda to, _reply: RuntimeError("connection reset") if to.chat == "CGONE" else None
    sender = dispatcher(deps, clock, max_attempts=3)
    assert (await sender.tick()).retried == 1
    first = row(deps, "doomed")
    assert (first.status, first.attempts, first.next_attempt_at) == (
        DeliveryStatus.pending,
        1,
        T0 + timedelta(seconds=30),
    )
    assert first.last_error == "RuntimeError: connection reset"
    clock.advance(seconds=30)
    await sender.tick()
    assert row(deps, "doomed").next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.advance(seconds=60)
    assert (await sender.tick()).parked == 1
    assert row(deps, "doomed").status == DeliveryStatus.parked
    await sender.tick()  # the notice planned when parking goes out
    [notice] = slack.sent
    assert notice.to.chat == "UFAC"
    assert notice.reply.text.startswith("⚠️ A digest message to slack:CGONE could not be delivered after 3 attempts")


async def test_a_permanent_refusal_parks_at_once(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    plan(deps, "archived", chat="CARCH")
    slack.failures["CARCH"] = [DeliveryError("is_archived", permanent=True)]
    assert (await dispatcher(deps, clock).tick()).parked == 1
    parked = row(deps, "archived")
    assert (parked.status, parked.last_error, parked.attempts) == (DeliveryStatus.parked, "is_archived", 1)


async def test_telegram_forbidden_waits_for_the_member(deps: Deps, clock: FakeClock) -> None:
    telegram = RecordingNotifier("telegram", clock)
    deps.notifiers["telegram"] = telegram
    with transaction(deps.sessions) as session:
        member = Member(community_id=1, display_name="Rita")
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(Identity(member_id=member.id, platform="telegram", workspace="B1", user_id="42"))
    plan(deps, "dm", platform="telegram", workspace="B1", chat="42")
    telegram.failures["42"] = [DeliveryError("forbidden", permanent=True)]
    assert (await dispatcher(deps, clock).tick()).parked == 1
    waiting = row(deps, "dm")
    assert (waiting.status, waiting.last_error) == (DeliveryStatus.parked, UNREACHABLE)
    with deps.sessions() as session:
        assert session.exec(select(Identity).where(Identity.user_id == "42")).one().reachable is False


async def test_rows_past_their_use_are_skipped_with_a_reason(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    plan(
        deps,
        "reminder:1@x:1h:slack:T1:C1",
        due=T0 - timedelta(hours=2),
        valid_until=T0 - timedelta(minutes=1),
    )
    plan(deps, "late-but-useful", due=T0 - timedelta(hours=2), valid_until=T0 + timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="schedules.outbox"):
        report = await dispatcher(deps, clock).tick()
    assert (report.skipped, report.sent) == (1, 1)
    assert slack.texts() == ["late-but-useful"]
    assert row(deps, "reminder:1@x:1h:slack:T1:C1").status == DeliveryStatus.skipped
    assert "skipped reminder reminder:1@x:1h:slack:T1:C1" in caplog.text
    assert "the worker was down or behind" in caplog.text


async def test_rows_for_platforms_without_a_notifier_wait(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier
) -> None:
    plan(deps, "tg", platform="telegram", chat="7")
    assert (await dispatcher(deps, clock).tick()).claimed == 0
    assert row(deps, "tg").status == DeliveryStatus.pending


async def test_an_expired_lease_is_claimed_again(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    plan(deps, "orphan")
    policy = OutboxPolicy(lease=timedelta(minutes=3))
    with transaction(deps.sessions) as session:  # a worker claims it, then dies before sending
        assert len(claim(session, now=clock.now(), platforms=["slack"], policy=policy)) == 1
    sender = dispatcher(deps, clock)
    assert (await sender.tick()).claimed == 0  # still leased
    clock.advance(minutes=3, seconds=1)
    assert (await sender.tick()).sent == 1
    assert (row(deps, "orphan").attempts, slack.texts()) == (2, ["orphan"])


async def test_slack_gets_one_message_per_second_per_channel(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier
) -> None:
    for number in range(30):
        plan(deps, f"c1-{number}", chat="C1")
        plan(deps, f"c2-{number}", chat="C2")
    await drain_all(deps, dispatcher(deps, clock), clock)
    for chat in ("C1", "C2"):
        times = [item.at for item in slack.sent if item.to.chat == chat]
        assert len(times) == 30
        assert all(later - earlier >= timedelta(seconds=1) for earlier, later in pairwise(times))
        assert times[-1] - times[0] == timedelta(seconds=29)  # and not slower than allowed
    assert [r.status for r in deliveries(deps)] == [DeliveryStatus.sent] * 60


async def test_telegram_overall_and_group_rates(deps: Deps, clock: FakeClock) -> None:
    telegram = RecordingNotifier("telegram", clock)
    deps.notifiers["telegram"] = telegram
    for number in range(120):  # 120 people, privately
        plan(deps, f"dm-{number}", platform="telegram", workspace="B1", chat=str(1000 + number))
    for number in range(5):  # and one group
        plan(deps, f"group-{number}", platform="telegram", workspace="B1", chat="-1001")
    await drain_all(deps, dispatcher(deps, clock), clock)
    times = sorted(item.at for item in telegram.sent if item.at is not None)
    assert len(times) == 125
    for index in range(len(times) - 30):
        assert times[index + 30] - times[index] >= timedelta(seconds=1)  # at most 30 in any second
    group = [item.at for item in telegram.sent if item.to.chat == "-1001"]
    assert all(b - a >= timedelta(seconds=3) for a, b in pairwise(group))  # 20 per minute


async def test_a_hanging_send_times_out_and_is_retried(deps: Deps, clock: FakeClock) -> None:
    class Hanging(RecordingNotifier):
        hung = False

        async def send(self, to: Address, message: Reply) -> SentRef:
            if not self.hung:  # the first call never answers
                self.hung = True
                await asyncio.sleep(30)
            return await super().send(to, message)

    deps.notifiers["slack"] = Hanging("slack", clock)
    plan(deps, "slow")
    sender = dispatcher(deps, clock, send_timeout=timedelta(seconds=0.05))
    assert (await sender.tick()).retried == 1
    assert row(deps, "slow").last_error == "no answer within 0.05 s"
    clock.advance(seconds=30)
    assert (await sender.tick()).sent == 1


async def test_rows_are_sent_only_while_their_lease_outlives_the_send(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier
) -> None:
    for number in range(25):
        plan(deps, f"c1-{number:02d}", chat="C1")
    sender = dispatcher(deps, clock, lease=timedelta(seconds=30), send_timeout=timedelta(seconds=15))
    report = await sender.tick()
    assert report.sent == 16  # slots 0 … 15 s; later slots would risk outliving the 30 s claim
    assert all(item.at is not None and item.at - T0 <= timedelta(seconds=15) for item in slack.sent)
    await drain_all(deps, sender, clock)
    assert Counter(slack.texts()) == Counter(f"c1-{number:02d}" for number in range(25))
