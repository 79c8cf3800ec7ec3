"""The App Home of people who did not act: when the other side answers a match, a facilitator
introduces them or cancels a meeting they said yes to, or the worker sends something after a round,
their home is redrawn at once (and it is drawn afresh whenever they open it)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.ports import Address, Reply
from storage.db import transaction
from storage.models import Match, Meeting, MeetingStatus
from tests import slack_standin
from tests.slack_standin import SlackHarness
from tests.test_slack_conversation import _seed_match, say
from tests.waiting import wait_until

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin


def homes_since(slack: SlackHarness, start: int, users: set[str]) -> dict[str, dict[str, Any]]:
    """The latest home published for each of `users` after position `start` (waits for them)."""

    def published() -> dict[str, Any]:
        calls = slack.standin.calls_since(start)
        return {str(call.params["user_id"]): call.params["view"] for call in calls if call.method == "views.publish"}

    wait_until(lambda: users <= set(published()), what=f"homes of {sorted(users)} published", seen=published)
    return {user: json.loads(view) if isinstance(view, str) else view for user, view in published().items()}


def buttons(view: dict[str, Any]) -> list[str]:
    return [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_accepting_redraws_the_other_sides_home_too(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    start = slack.standin.mark()
    slack.press(f"/accept {match_id}", user="U1")
    homes = homes_since(slack, start, {"U1", "U2"})  # U2 did nothing and still gets a fresh home
    assert f"/accept {match_id}" not in buttons(homes["U1"])  # answered
    assert f"/accept {match_id}" in buttons(homes["U2"])  # still theirs to answer
    start = slack.standin.mark()
    slack.press(f"/accept {match_id}", user="U2")
    homes = homes_since(slack, start, {"U1", "U2"})
    assert f"/accept {match_id}" not in buttons(homes["U2"])
    with slack.deps.sessions() as session:
        match = session.get(Match, match_id)
        assert match is not None
        assert match.status.value == "introduced"


def test_a_facilitators_introduction_redraws_both_homes(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    slack.standin.add_user("U9", admin=True)
    start = slack.standin.mark()
    slack.command("/peer", f"introduce {match_id}", user="U9")
    homes = homes_since(slack, start, {"U1", "U2"})
    assert f"/accept {match_id}" not in buttons(homes["U1"]) + buttons(homes["U2"])


def test_a_cancelled_meeting_leaves_the_homes_of_those_who_said_yes(slack: SlackHarness) -> None:
    slack.standin.add_user("U9", admin=True)
    slack.command("/peer", "meeting new 2026-03-10 10:30 Europe/Lisbon Kick-off", user="U9")
    slack.standin.wait_for_prefix("respond:")
    with slack.deps.sessions() as session:
        meeting = session.exec(select(Meeting)).one()
    start = slack.standin.mark()
    slack.press(f"/rsvp {meeting.id} yes", user="U1")
    shown = homes_since(slack, start, {"U1"})["U1"]
    assert f"/rsvp {meeting.id} yes" in buttons(shown)
    start = slack.standin.mark()
    slack.command("/peer", f"meeting cancel {meeting.id}", user="U9")
    homes = homes_since(slack, start, {"U1"})
    assert f"/rsvp {meeting.id} yes" not in buttons(homes["U1"])
    with slack.deps.sessions() as session:
        cancelled = session.get(Meeting, meeting.id)
        assert cancelled is not None
        assert cancelled.status == MeetingStatus.cancelled


def test_opening_the_home_always_draws_it_afresh(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    with transaction(slack.deps.sessions) as session:  # changed behind the adapter's back …
        match = session.get(Match, match_id)
        assert match is not None
        session.delete(match)
    start = slack.standin.mark()
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    assert f"/accept {match_id}" not in buttons(homes_since(slack, start, {"U1"})["U1"])


def test_the_worker_redraws_homes_after_sending(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    with transaction(slack.deps.sessions) as session:  # e.g. a round recorded by the digest job
        match = session.get(Match, match_id)
        assert match is not None
        match.updated_at += timedelta(seconds=1)
        session.add(match)
    start = slack.standin.mark()
    notifier = slack.deps.notifiers["slack"]
    asyncio.run(notifier.send(Address(platform="slack", workspace="T0TEAM", chat="C0GENERAL"), Reply(text="digest")))
    assert set(homes_since(slack, start, {"U1", "U2"})) == {"U1", "U2"}


def test_a_new_instant_suggestion_redraws_the_other_sides_home(slack: SlackHarness) -> None:
    text = "Social clauses and reserved contracts in public catering tenders for work-integration enterprises."
    for user, organisation, kind in (("U2", "Dublin City Council", "offer"), ("U1", "Bilbao City Council", "need")):
        for line in (kind, organisation, f"{kind.title()}: social clauses in tenders", text, "done", "save"):
            start = slack.standin.mark()
            say(slack, line, user=user)
    homes = homes_since(slack, start, {"U1", "U2"})  # U2 saved earlier and did nothing since
    with slack.deps.sessions() as session:
        [match] = session.exec(select(Match)).all()
    assert f"/accept {match.id}" in buttons(homes["U2"])
