"""The planning jobs with time under control: reminders across DST changes and downtime, the weekly
digest at a local hour, follow-ups and their answers, nudges, pauses, blocks and the funnel."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.deps import Deps
from schedules import jobs
from schedules.outbox import Dispatcher
from storage.db import transaction
from storage.models import (
    Channel,
    DeliveryStatus,
    Match,
    MatchRound,
    MatchStatus,
    Member,
    OrganisationBlock,
    Post,
    PostKind,
)
from tests.conftest import FakeClock
from tests.schedules_support import (
    Person,
    RecordingNotifier,
    clock_sleep,
    deliveries,
    drain_all,
    set_community,
)


@pytest.fixture
def slack(deps: Deps, clock: FakeClock) -> RecordingNotifier:
    notifier = RecordingNotifier("slack", clock)
    deps.notifiers["slack"] = notifier
    return notifier


def dispatcher(deps: Deps, clock: FakeClock) -> Dispatcher:
    return Dispatcher(deps, sleep=clock_sleep(clock))


# --- reminders ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned_at", "line", "start_utc", "shown"),
    [
        # planned in winter time, held in summer time (Spain: last Sunday of March)
        (
            "2026-03-27T09:00",
            "2026-03-29 10:00",
            datetime(2026, 3, 29, 8, 0, tzinfo=UTC),
            "Sun 29 Mar 2026, 10:00",
        ),
        # planned in summer time, held in winter time (last Sunday of October)
        (
            "2026-10-23T09:00",
            "2026-10-25 10:00",
            datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
            "Sun 25 Oct 2026, 10:00",
        ),
    ],
)
async def test_reminders_arrive_on_time_across_a_dst_change(
    deps: Deps,
    clock: FakeClock,
    slack: RecordingNotifier,
    planned_at: str,
    line: str,
    start_utc: datetime,
    shown: str,
) -> None:
    clock.current = datetime.fromisoformat(planned_at).replace(tzinfo=UTC)
    marta = Person(deps, "UFAC", name="Marta", timezone="Europe/Madrid", admin=True)
    marta.say(f"/peer meeting new {line} Europe/Madrid Peer meeting", chat="C1")
    Person(deps, "ULUC", name="Luc", organisation="Ville de Montréal", timezone="America/Montreal").say("/rsvp 1 yes")
    assert jobs.plan_reminders(deps) == 0  # all planned already, planning again changes nothing
    await drain_all(deps, dispatcher(deps, clock), clock)
    reminders = [item for item in slack.sent if item.reply.text.startswith("⏰")]
    channel = [item for item in reminders if item.to.chat == "C1"]
    assert [item.at for item in channel] == [start_utc - timedelta(hours=24), start_utc - timedelta(hours=1)]
    assert all(f"{shown} (Europe/Madrid)" in item.reply.text for item in channel)
    luc = [item for item in reminders if item.to.chat == "ULUC"]
    assert len(luc) == 2
    montreal = start_utc.astimezone(ZoneInfo("America/Montreal"))
    assert all(f"{montreal:%H:%M} (America/Montreal)" in item.reply.text for item in luc)
    assert len(reminders) == 6  # channel, organiser, Luc — twice each, and never again
    assert {row.status for row in deliveries(deps)} == {DeliveryStatus.sent}


async def test_downtime_sends_what_is_still_useful_and_skips_the_rest(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    clock.current = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    Person(deps, "UFAC", admin=True).say("/peer meeting new 2026-05-06 12:00 UTC Call", chat="C1")
    await dispatcher(deps, clock).tick()  # the announcement and its calendar file
    clock.current = datetime(2026, 5, 6, 11, 30, tzinfo=UTC)  # down since before the 24h reminder
    with caplog.at_level(logging.WARNING, logger="schedules.outbox"):
        await dispatcher(deps, clock).tick()
    texts = slack.texts("C1")
    assert len(texts) == 3  # announcement, calendar file, and …
    assert texts[2].startswith("⏰ Reminder: “Call” starts in 1 hour")  # … sent late: still useful
    assert "skipped reminder reminder:1@20260506T1200Z:1d:slack:T1:C1" in caplog.text  # overtaken
    clock.current = datetime(2026, 5, 8, 9, 0, tzinfo=UTC)
    Person(deps, "UFAC", admin=True).say("/peer meeting new 2026-05-09 12:00 UTC Later call", chat="C1")
    clock.current = datetime(2026, 5, 9, 12, 5, tzinfo=UTC)  # down until after it began
    report = await dispatcher(deps, clock).tick()
    assert report.sent == 0
    assert report.skipped == 6  # announcement, calendar file, and every reminder of the meeting that began


async def test_a_moved_meeting_reminds_at_the_new_time_only(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier
) -> None:
    clock.current = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    marta = Person(deps, "UFAC", admin=True)
    marta.say("/peer meeting new 2026-05-06 12:00 UTC Call", chat="C1")
    marta.say("/peer meeting move 1 2026-05-07 15:00 UTC")
    set_community(deps, reminder_offsets="2h")  # and the community changes its rhythm meanwhile
    jobs.plan_reminders(deps)
    await drain_all(deps, dispatcher(deps, clock), clock)
    channel = [item for item in slack.sent if item.to.chat == "C1" and item.reply.text.startswith("⏰")]
    assert [item.at for item in channel] == [
        datetime(2026, 5, 6, 15, 0, tzinfo=UTC),
        datetime(2026, 5, 7, 13, 0, tzinfo=UTC),
        datetime(2026, 5, 7, 14, 0, tzinfo=UTC),
    ]
    assert all("Thu 7 May 2026, 15:00 (UTC)" in item.reply.text for item in channel)


async def test_a_cancelled_meeting_sends_no_reminder(deps: Deps, clock: FakeClock, slack: RecordingNotifier) -> None:
    clock.current = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    marta = Person(deps, "UFAC", admin=True)
    marta.say("/peer meeting new 2026-05-06 12:00 UTC Call", chat="C1")
    marta.say("/peer meeting cancel 1")
    assert jobs.plan_reminders(deps) == 0
    await drain_all(deps, dispatcher(deps, clock), clock)
    assert not [text for text in slack.texts() if text.startswith("⏰")]
    # the stale announcement was withdrawn too; the cancellation and its calendar file went out
    assert [text[:1] for text in slack.texts("C1")] == ["❌", "C"]
    assert slack.sent[-1].reply.attachment is not None


# --- the weekly digest ----------------------------------------------------------------------------


def add_pair(session: Session, need_member: Member, offer_member: Member) -> tuple[Post, Post]:
    texts = (
        "Social clauses in public procurement for catering",
        "We wrote social clauses into our catering tender and reserved contracts for social enterprises",
    )
    posts = []
    for member, kind, text in (
        (need_member, PostKind.need, texts[0]),
        (offer_member, PostKind.offer, texts[1]),
    ):
        assert member.organisation_id is not None
        post = Post(
            community_id=member.community_id,
            organisation_id=member.organisation_id,
            member_id=member.id,
            ref=f"{kind.value}-{member.id}",
            kind=kind,
            title=text[:60],
            description=text,
            topics=["public-procurement"],
            created_at=datetime(2026, 2, 1, tzinfo=UTC),
            updated_at=datetime(2026, 2, 1, tzinfo=UTC),
        )
        session.add(post)
        posts.append(post)
    session.flush()
    return posts[0], posts[1]


def members(deps: Deps) -> dict[str, Member]:
    with deps.sessions() as session:
        return {member.display_name: member for member in session.exec(select(Member)).all()}


@pytest.fixture
def people(deps: Deps) -> dict[str, Person]:
    found = {
        "Ana": Person(deps, "UANA", name="Ana", organisation="Bilbao City Council", timezone="Europe/Madrid"),
        "Bob": Person(deps, "UBOB", name="Bob", organisation="Dublin City Council", timezone="Europe/Dublin"),
    }
    for person in found.values():
        person.say("/help")
    return found


def community_channel(deps: Deps, chat: str = "CDIGEST") -> None:
    with transaction(deps.sessions) as session:
        session.add(Channel(community_id=1, platform="slack", workspace="T1", chat=chat, is_community_channel=True))


async def test_weekly_digest_at_the_communitys_local_hour(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, people: dict[str, Person]
) -> None:
    set_community(deps, timezone="America/Montreal")  # Monday 09:00 local by default
    community_channel(deps)
    found = members(deps)
    with transaction(deps.sessions) as session:
        add_pair(session, found["Ana"], found["Bob"])
    clock.current = datetime(2026, 3, 2, 13, 59, tzinfo=UTC)  # 08:59 EST
    assert jobs.plan_digests(deps) == 0
    clock.current = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert jobs.plan_digests(deps) == 1
    assert jobs.plan_digests(deps) == 0  # once a week, however often the job runs
    await drain_all(deps, dispatcher(deps, clock), clock)
    [digest] = slack.sent
    assert digest.to.chat == "CDIGEST"
    assert digest.reply.text.startswith("🤝 This week's peer suggestions (1):")
    with deps.sessions() as session:
        match = session.exec(select(Match)).one()
    assert [button.value for button in digest.reply.buttons] == [f"/accept {match.id}"]
    # a week later the US is on summer time: still 09:00 local, now 13:00 UTC
    clock.current = datetime(2026, 3, 9, 12, 59, tzinfo=UTC)
    assert jobs.plan_digests(deps) == 0
    clock.current = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert jobs.plan_digests(deps) == 1
    await drain_all(deps, dispatcher(deps, clock), clock)
    second = slack.sent[-1].reply.text
    assert second.startswith("No new peer suggestions this week")  # the pair was suggested already
    assert "Last round: round #1: 1 suggested · 0 accepted · 0 introduced · 0 met · 0 useful" in second


async def test_digest_now_and_paused_members(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, people: dict[str, Person]
) -> None:
    marta = Person(deps, "UFAC", admin=True)
    assert "no channel for digests" in marta.text("/peer digest now")
    community_channel(deps)
    found = members(deps)
    with transaction(deps.sessions) as session:
        add_pair(session, found["Ana"], found["Bob"])
    assert "paused until tuesday, march 10, 2026" in people["Ana"].text("/pause until 2026-03-10").lower()
    assert marta.text("/peer digest now") == "The digest goes out to 1 channel in a few seconds."
    await drain_all(deps, dispatcher(deps, clock), clock)
    assert slack.sent[-1].reply.text.startswith("No new peer suggestions")  # Ana's need is paused
    clock.current = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)  # her pause ends by itself (midnight in Madrid)
    marta.say("/peer digest now")
    await drain_all(deps, dispatcher(deps, clock), clock)
    assert slack.sent[-1].reply.text.startswith("🤝 This week's peer suggestions (1):")
    assert marta.text("/peer digest later") == (
        "Usage: /peer digest now — sends this week's suggestions to the community channels now."
    )


# --- follow-ups, outcomes, stats -----------------------------------------------------------------


def introduced_match(deps: Deps, when: datetime) -> int:
    found = members(deps)
    with transaction(deps.sessions) as session:
        match_round = MatchRound(community_id=1, created_at=when - timedelta(days=2))
        session.add(match_round)
        session.flush()
        need, offer = add_pair(session, found["Ana"], found["Bob"])
        match = Match(
            community_id=1,
            round_id=match_round.id,
            need_id=need.id or 0,
            offer_id=offer.id or 0,
            status=MatchStatus.introduced,
            introduced_at=when,
        )
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


async def test_follow_up_a_week_after_the_introduction(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, people: dict[str, Person]
) -> None:
    introduced = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    match_id = introduced_match(deps, introduced)
    clock.current = introduced + timedelta(days=6, hours=23)
    assert jobs.plan_followups(deps) == 0
    clock.current = introduced + timedelta(days=7)
    assert jobs.plan_followups(deps) == 2
    assert jobs.plan_followups(deps) == 0
    await drain_all(deps, dispatcher(deps, clock), clock)
    assert sorted(item.to.chat for item in slack.sent) == ["UANA", "UBOB"]
    ana = next(item for item in slack.sent if item.to.chat == "UANA")
    assert "introduced to Dublin City Council" in ana.reply.text
    values = [button.value for button in ana.reply.buttons]
    assert values[:3] == [f"/met {match_id} yes", f"/met {match_id} notyet", f"/met {match_id} useless"]
    assert values[3].startswith("/block ")
    assert people["Bob"].text(f"/met {match_id} notyet") == "No problem, I'll ask again in a week."
    assert len([row for row in deliveries(deps, kind="followup") if row.status == DeliveryStatus.pending]) == 1
    assert people["Ana"].text(f"/met {match_id} yes") == "Wonderful, glad you met! Thanks for letting us know."
    stranger = Person(deps, "UZED", name="Zed", organisation="Elsewhere")
    assert stranger.text(f"/met {match_id} yes") == f"Match #{match_id} is not one of yours."
    assert stranger.text("/met 999 yes") == "I can't find match #999."
    assert stranger.text(f"/met {match_id} maybe") == "Usage: /met <match number> yes|notyet|useless"
    stats = Person(deps, "UFAC", admin=True).text("/peer stats")
    assert "#1 (" in stats
    assert ": 1 → 1 → 1 → 1 → 1" in stats
    people["Bob"].say(f"/met {match_id} useless")
    assert ": 1 → 1 → 1 → 1 → 0" in Person(deps, "UFAC", admin=True).text("/peer stats")
    with deps.sessions() as session:
        assert session.get(Match, match_id).status == MatchStatus.not_useful  # type: ignore[union-attr]


async def test_follow_ups_wait_for_a_civil_hour(deps: Deps, clock: FakeClock, people: dict[str, Person]) -> None:
    introduced = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 02:00 in Madrid
    introduced_match(deps, introduced)
    clock.current = introduced + timedelta(days=7)
    jobs.plan_followups(deps)
    due = {row.chat: row.due_at for row in deliveries(deps, kind="followup")}
    assert due == {
        "UANA": datetime(2026, 3, 9, 8, 0, tzinfo=UTC),  # 09:00 in Madrid
        "UBOB": datetime(2026, 3, 9, 9, 0, tzinfo=UTC),  # 09:00 in Dublin
    }


# --- nudges, pause, block -------------------------------------------------------------------------


async def test_monthly_nudge_for_old_posts(
    deps: Deps, clock: FakeClock, slack: RecordingNotifier, people: dict[str, Person]
) -> None:
    found = members(deps)
    with transaction(deps.sessions) as session:
        need, _ = add_pair(session, found["Ana"], found["Bob"])
        need_id = need.id
    clock.current = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # 92 days after the posts
    assert jobs.plan_nudges(deps) == 2
    assert jobs.plan_nudges(deps) == 0
    await drain_all(deps, dispatcher(deps, clock), clock)
    ana = next(item for item in slack.sent if item.to.chat == "UANA")
    assert "has not changed for 92 days" in ana.reply.text
    assert [button.value for button in ana.reply.buttons] == [f"/renew {need_id}", f"/withdraw {need_id}"]
    assert people["Ana"].text(f"/renew {need_id}").endswith("stays open. Thanks!")
    assert "can't find post" in people["Bob"].text(f"/renew {need_id}")
    people["Bob"].say("/pause until 2026-07-01")
    clock.current = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    assert jobs.plan_nudges(deps) == 0  # Ana renewed; Bob is paused
    clock.current = datetime(2026, 7, 2, 10, 0, tzinfo=UTC)
    assert jobs.plan_nudges(deps) == 1  # Bob's pause is over


async def test_pause_resume_and_block(deps: Deps, clock: FakeClock, people: dict[str, Person]) -> None:
    ana = people["Ana"]
    assert ana.text("/pause until 2026-03-01").startswith("2026-03-01 is not ahead of us")
    assert ana.text("/pause 2026-02-31").startswith("I can't read “2026-02-31” as a day")
    assert ana.text("/pause").startswith("Usage: /pause until <day>")
    assert ana.text("/pause until 2030-01-01").startswith("You can pause for at most a year")
    assert ana.text("/pause until 2026-04-01").startswith("Paused until Wednesday, April 1, 2026")
    assert members(deps)["Ana"].paused_until == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # Madrid midnight
    assert ana.text("/resume") == "Welcome back! Suggestions and nudges are on again."
    assert ana.text("/resume") == "You were not paused; everything is running."
    bob_org = members(deps)["Bob"].organisation_id
    assert ana.text(f"/block {bob_org}") == "Done: Dublin City Council will not be suggested to you again."
    ana.say(f"/block {bob_org}")
    with deps.sessions() as session:
        assert len(session.exec(select(OrganisationBlock)).all()) == 1
    assert ana.text(f"/block {members(deps)['Ana'].organisation_id}") == "That is your own organisation."
    assert ana.text("/block 999") == "I can't find organisation #999 in this community."
    assert ana.text("/block") == (
        "Usage: /block <organisation number> — that organisation will not be suggested to you again."
    )


def test_stats_without_rounds(deps: Deps) -> None:
    assert Person(deps, "UFAC", admin=True).text("/peer stats") == "No match rounds yet."
