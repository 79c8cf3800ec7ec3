"""Meetings: the one-line form, create / move / cancel / RSVP through the real conversation engine,
the .ics that keeps calendars in step, and times shown in each reader's zone."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.errors import UserError
from bot.meeting_time import parse_when, show
from storage.models import DeliveryStatus, Meeting, MeetingStatus, Rsvp, RsvpAnswer
from tests.conftest import FakeClock
from tests.schedules_support import Person, deliveries, other_community

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # a Friday; Spain moves to summer time on Sunday the 29th


@pytest.fixture
def at_friday(clock: FakeClock) -> FakeClock:
    clock.current = NOW
    return clock


def facilitator(deps: Deps) -> Person:
    return Person(deps, "UFAC", name="Marta", timezone="Europe/Madrid", admin=True)


def meetings(deps: Deps) -> list[Meeting]:
    with deps.sessions() as session:
        return list(session.exec(select(Meeting).order_by(Meeting.id)).all())  # type: ignore[arg-type]


def calendar(attachment: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(attachment)


# --- the one-line form -------------------------------------------------------------------------


def test_iana_zone_is_read_and_dst_applies_on_the_meeting_date() -> None:
    when = parse_when("2026-03-29 10:00 Europe/Madrid Monthly peer meeting", default_zone=ZoneInfo("UTC"), now=NOW)
    assert when.start == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # CEST, +2, although today is CET
    assert when.zone.key == "Europe/Madrid"
    assert when.rest == "Monthly peer meeting"


def test_without_zone_the_organisers_zone_counts() -> None:
    when = parse_when("2026-03-28 10:00 Peer call", default_zone=MADRID, now=NOW)
    assert when.start == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # still CET on Saturday
    assert when.rest == "Peer call"


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("2026-07-01 10:00 CEST Summer call", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01 10:00 CET Winter call", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-07-01 10:00 UTC Call", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
        ("2026-07-01 10:00 EDT Call", datetime(2026, 7, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_unambiguous_abbreviations(text: str, start: datetime) -> None:
    assert parse_when(text, default_zone=MADRID, now=NOW).start == start


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2026-02-30 10:00 Call", "schedules.error_bad_date"),
        ("2026-04-01 25:00 Call", "schedules.error_bad_date"),
        ("tomorrow at ten", "schedules.error_form"),
        ("2026-03-20 10:00 Call", "schedules.error_past"),
        ("2026-03-29 02:30 Europe/Madrid Call", "schedules.error_nonexistent_time"),
        ("2026-05-01 10:00 CST Call", "schedules.error_ambiguous_zone"),
        ("2026-01-15 10:00 CEST Call", "schedules.error_zone_not_in_effect"),
        ("2026-05-01 10:00 Europe/Atlantis Call", "schedules.error_unknown_zone"),
    ],
)
def test_bad_times_are_refused_with_a_reason(text: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_when(text, default_zone=MADRID, now=NOW)
    assert refused.value.key == key


def test_the_repeated_autumn_hour_means_summer_time() -> None:
    when = parse_when("2026-10-25 02:30 Europe/Madrid Call", default_zone=MADRID, now=NOW)
    assert when.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_show_uses_the_readers_language_and_zone() -> None:
    start = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert show(start, MADRID, "en") == "Sun 29 Mar 2026, 10:00 (Europe/Madrid)"
    assert show(start, ZoneInfo("America/Montreal"), "fr") == "dim. 29 mars 2026, 04:00 (America/Montreal)"


# --- through the conversation engine ------------------------------------------------------------


def test_facilitator_creates_a_meeting_in_a_channel(deps: Deps, at_friday: FakeClock) -> None:
    marta = facilitator(deps)
    answer = marta.text("/peer meeting new 2026-03-29 10:00 Europe/Madrid Monthly peer meeting", chat="C1")
    assert "Meeting #1 “Monthly peer meeting” is set for Sun 29 Mar 2026, 10:00 (Europe/Madrid)" in answer
    assert "reminders go out 1d, 1h before" in answer
    [meeting] = meetings(deps)
    assert meeting.start_at == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert meeting.timezone == "Europe/Madrid"
    assert meeting.sequence == 0
    [announcement] = deliveries(deps, kind="announcement")
    assert announcement.chat == "C1"
    assert announcement.payload["buttons"][0]["value"] == "/rsvp 1 yes"
    [file] = deliveries(deps, kind="calendar")  # the .ics follows as a message of its own
    assert (file.chat, file.payload["attachment"]["filename"]) == ("C1", "meeting-1.ics")
    ics = calendar(base64.b64decode(file.payload["attachment"]["content"]))
    event = ics.walk("VEVENT")[0]
    assert str(event["UID"]) == meeting.uid
    assert int(event["SEQUENCE"]) == 0
    assert str(ics["METHOD"]) == "PUBLISH"
    reminders = deliveries(deps, kind="reminder")
    # the channel and the organiser (who said yes by creating it), at 24h and 1h before
    assert sorted((r.chat, r.due_at) for r in reminders) == sorted(
        [
            ("C1", datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
            ("C1", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
            ("UFAC", datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
            ("UFAC", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        ]
    )
    assert {(r.due_at, r.valid_until) for r in reminders} == {
        (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), meeting.start_at),
    }


def test_members_rsvp_and_see_times_in_their_own_zone(deps: Deps, at_friday: FakeClock) -> None:
    facilitator(deps).say("/peer meeting new 2026-03-29 10:00 Europe/Madrid Monthly peer meeting", chat="C1")
    luc = Person(deps, "ULUC", name="Luc", organisation="Ville de Montréal", timezone="America/Montreal", locale="fr")
    assert (
        luc.text("/rsvp 1 oui")
        == "C\u2019est noté : « Monthly peer meeting », dim. 29 mars 2026, 04:00 (America/Montreal) "
        "— votre réponse : oui."
    )
    mine = [r for r in deliveries(deps, kind="reminder") if r.chat == "ULUC"]
    assert len(mine) == 2
    assert "dim. 29 mars 2026, 04:00 (America/Montreal)" in mine[0].payload["text"]
    assert mine[0].payload["text"].startswith("⏰ Rappel : « Monthly peer meeting » commence dans 1\u00a0jour")
    # changing one's mind withdraws the private reminders; saying yes again plans them again
    luc.say("/rsvp 1 no")
    assert not [r for r in deliveries(deps, kind="reminder") if r.chat == "ULUC"]
    luc.say("/rsvp 1 yes")
    assert len([r for r in deliveries(deps, kind="reminder") if r.chat == "ULUC"]) == 2
    with deps.sessions() as session:
        answers = {row.member_id: row.answer for row in session.exec(select(Rsvp)).all()}
    assert sorted(answers.values()) == [RsvpAnswer.yes, RsvpAnswer.yes]


def test_moving_a_meeting_replans_and_updates_calendars(deps: Deps, at_friday: FakeClock) -> None:
    marta = facilitator(deps)
    marta.say("/peer meeting new 2026-03-29 10:00 Europe/Madrid Monthly peer meeting", chat="C1")
    uid = meetings(deps)[0].uid
    answer = marta.text("/peer meeting move 1 2026-04-05 11:30")
    assert "now takes place Sun 5 Apr 2026, 11:30 (Europe/Madrid)" in answer
    [meeting] = meetings(deps)
    assert (meeting.uid, meeting.sequence, meeting.start_at) == (
        uid,
        1,
        datetime(2026, 4, 5, 9, 30, tzinfo=UTC),
    )
    old = [r for r in deliveries(deps, kind="reminder") if r.due_at < datetime(2026, 3, 30, tzinfo=UTC)]
    new = [r for r in deliveries(deps, kind="reminder") if r.due_at > datetime(2026, 3, 30, tzinfo=UTC)]
    assert {r.status for r in old} == {DeliveryStatus.skipped}
    assert {r.status for r in new} == {DeliveryStatus.pending}
    assert sorted({r.due_at for r in new}) == [
        datetime(2026, 4, 4, 9, 30, tzinfo=UTC),
        datetime(2026, 4, 5, 8, 30, tzinfo=UTC),
    ]
    moved = [a for a in deliveries(deps, kind="announcement") if "moved" in a.payload["text"]]
    assert {a.chat for a in moved} == {"C1", "UFAC"}  # the channel, and those who said yes
    event = calendar(ics_of(marta, 1)).walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)


def ics_of(person: Person, meeting_id: int) -> bytes:
    [reply] = person.say(f"/ics {meeting_id}")
    assert reply.attachment is not None
    assert reply.attachment.mime_type == "text/calendar"
    return reply.attachment.content


def test_cancelling_withdraws_reminders_and_cancels_in_calendars(deps: Deps, at_friday: FakeClock) -> None:
    marta = facilitator(deps)
    marta.say("/peer meeting new 2026-03-29 10:00 Europe/Madrid Monthly peer meeting", chat="C1")
    assert "is cancelled" in marta.text("/peer meeting cancel 1")
    assert meetings(deps)[0].status == MeetingStatus.cancelled
    assert {r.status for r in deliveries(deps, kind="reminder")} == {DeliveryStatus.skipped}
    ics = calendar(ics_of(marta, 1))
    event = ics.walk("VEVENT")[0]
    assert str(ics["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert "already cancelled" in marta.text("/peer meeting cancel 1")
    assert "already cancelled" in Person(deps, "U2").text("/rsvp 1 yes")


def test_bad_input_gets_a_polite_reply(deps: Deps, at_friday: FakeClock) -> None:
    marta = facilitator(deps)
    assert "not a valid date" in marta.text("/peer meeting new 2026-02-30 10:00 Call")
    assert "already past" in marta.text("/peer meeting new 2026-03-01 10:00 Call")
    assert "clocks skip that hour" in marta.text("/peer meeting new 2026-03-29 02:30 Call")
    assert "Please add a title" in marta.text("/peer meeting new 2026-04-01 10:00 Europe/Madrid")
    assert marta.text("/peer meeting frobnicate").startswith("Meetings: /peer meeting new")
    assert "can't find meeting #42" in marta.text("/peer meeting cancel 42")
    assert marta.text("/rsvp 1 perhaps-not") == "Usage: /rsvp <meeting number> yes|no|maybe"
    assert marta.text("/ics x") == "Usage: /ics <meeting number>"
    assert "No upcoming meetings" in marta.text("/peer meeting list")
    assert not meetings(deps)


def test_members_cannot_schedule_and_other_communities_cannot_see(deps: Deps, at_friday: FakeClock) -> None:
    member = Person(deps, "UMEM")
    assert meetings(deps) == []
    assert member.text("/peer meeting new 2026-04-01 10:00 Call") != ""
    assert meetings(deps) == []  # refused before any handler ran
    facilitator(deps).say("/peer meeting new 2026-04-01 10:00 Europe/Madrid Call", chat="C1")
    other_community(deps, workspace="T2")
    stranger = Person(deps, "UX", workspace="T2", admin=True)
    assert "can't find meeting #1" in stranger.text("/rsvp 1 yes")
    assert "can't find meeting #1" in stranger.text("/ics 1")
    assert "can't find meeting #1" in stranger.text("/peer meeting cancel 1")
    assert "No upcoming meetings" in stranger.text("/peer meeting list")


def test_meeting_list_shows_answers(deps: Deps, at_friday: FakeClock) -> None:
    marta = facilitator(deps)
    marta.say("/peer meeting new 2026-04-01 10:00 Europe/Madrid Call", chat="C1")
    Person(deps, "U2").say("/rsvp 1 maybe")
    listing = marta.text("/peer meeting list")
    assert "#1 “Call” — Wed 1 Apr 2026, 10:00 (Europe/Madrid) — yes 1 · maybe 1 · no 0" in listing
