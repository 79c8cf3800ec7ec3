"""The conversation in the bot's Messages tab, button presses, the App Home and facilitator rights."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.deliveries import payload_to_reply
from bot.i18n import translator
from bot.ports import Address
from storage.db import transaction
from storage.models import Delivery, Match, Meeting, Member, Organisation, Post, PostKind
from storage.queries import identity_of
from tests import slack_standin
from tests.slack_standin import TEAM, SlackHarness, for_user, in_channel, view_submission

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin

EN = translator("en")


def say(slack: SlackHarness, text: str, user: str = "U1") -> list[str]:
    """Write in the Messages tab; the texts the bot answered with.

    A turn posts its answers in the private chat, then redraws the writer's own home: a redraw of
    that home after an answer is the sign the turn is complete. (Any redraw would not do: an earlier
    turn may still be redrawing other people's homes, this writer's included.)"""
    standin = slack.standin
    since = standin.mark()
    assert slack.dm(text, user=user).status_code == 200
    answer = standin.wait_for("chat.postMessage", since=since, where=in_channel(f"D{user}"))
    standin.wait_for("views.publish", since=standin.after(answer[0]), where=for_user(user))
    return [str(call.params["text"]) for call in standin.calls_since(since) if call.method == "chat.postMessage"]


def test_the_messages_tab_runs_the_conversation(slack: SlackHarness) -> None:
    assert say(slack, "offer") == [EN.t("core.ask_organisation")]
    assert EN.t("core.ask_title_offer") in say(slack, "City of Braga")[-1]
    assert say(slack, "Social clauses <!channel> in tenders")[-1].startswith("Now describe your")
    topics = say(slack, "We wrote social clauses for public procurement & trained buyers.")[-1]
    assert "✓" in topics
    posted = slack.standin.calls_to("chat.postMessage")[-1]
    buttons = [b for b in posted.params["blocks"] if b["type"] == "actions"]
    assert buttons[0]["block_id"].startswith("r:topics:")  # the keyboard can be edited in place
    with slack.deps.sessions() as session:
        identity = identity_of(session=session, platform="slack", workspace=TEAM, user_id="U1")
        assert identity is not None
        assert identity.locale == "en-US"
        assert identity.timezone == "Europe/Lisbon"
    assert not any("<!channel>" in text for text in slack.standin.texts())


def test_a_press_in_a_private_chat_edits_its_keyboard(slack: SlackHarness) -> None:
    for text in ("offer", "Braga", "A title", "A description about procurement."):
        say(slack, text)
    keyboard = slack.standin.calls_to("chat.postMessage")[-1]
    block_id = next(b["block_id"] for b in keyboard.params["blocks"] if b["type"] == "actions")
    container = {"type": "message", "channel_id": "DU1", "message_ts": "111.222", "is_ephemeral": False}
    assert slack.press("2", container=container, block_id=block_id).status_code == 200
    update = slack.standin.wait_for("chat.update")[0]
    assert update.params["ts"] == "111.222"
    assert update.params["channel"] == "DU1"


def test_peer_commands_are_for_facilitators(slack: SlackHarness) -> None:
    slack.command("/peer", "stats", user="U1")
    refusal = slack.standin.wait_for_prefix("respond:")[0]
    assert refusal.params["response_type"] == "ephemeral"
    assert refusal.params["text"] == EN.t("core.peer_refused")
    slack.standin.add_user("U9", admin=True)
    slack.command("/peer", "help", user="U9")
    answer = slack.standin.wait_for_prefix("respond:", 2)[1]
    assert answer.params["text"] != EN.t("core.peer_refused")


def _published(slack: SlackHarness, count: int = 1) -> dict[str, Any]:
    view = slack.standin.wait_for("views.publish", count)[-1].params["view"]
    return json.loads(view) if isinstance(view, str) else view


def _seed_match(slack: SlackHarness) -> int:
    """Two members of one workspace, a need and an offer, and a suggestion between them."""
    for count, user in enumerate(("U1", "U2"), start=1):
        assert slack.event({"type": "app_home_opened", "user": user, "tab": "home"}).status_code == 200
        slack.standin.wait_for("views.publish", count)
    with transaction(slack.deps.sessions) as session:
        posts = []
        for user, kind, title in (
            ("U1", PostKind.need, "Need <!channel>"),
            ("U2", PostKind.offer, "Offer & more"),
        ):
            identity = identity_of(session=session, platform="slack", workspace=TEAM, user_id=user)
            assert identity is not None
            member = session.get(Member, identity.member_id)
            assert member is not None
            organisation = Organisation(community_id=member.community_id, name=f"Org {user}")
            session.add(organisation)
            session.flush()
            member.organisation_id = organisation.id
            post = Post(
                community_id=member.community_id,
                organisation_id=organisation.id or 0,
                member_id=member.id,
                ref=f"r-{user}",
                kind=kind,
                title=title,
                description="d",
            )
            session.add(post)
            session.flush()
            posts.append(post)
        match = Match(
            community_id=posts[0].community_id, need_id=posts[0].id or 0, offer_id=posts[1].id or 0, score=0.8
        )
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


def test_the_app_home_shows_posts_and_matches_to_answer(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    calls = len(slack.standin.calls_to("views.publish"))
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    view = _published(slack, calls + 1)
    assert view["type"] == "home"
    values = [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert f"/accept {match_id}" in values
    assert f"/decline {match_id}" in values
    text = json.dumps(view)
    assert "Need &lt;!channel&gt;" in text
    assert "Offer &amp; more" in text
    assert "<!channel>" not in text


def test_accepting_on_both_sides_introduces_in_a_group_dm(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    for user in ("U1", "U2"):
        since = slack.standin.mark()
        slack.press(f"/accept {match_id}", user=user)
        slack.standin.wait_for("chat.postMessage", since=since, where=in_channel(f"D{user}"))
    with slack.deps.sessions() as session:
        match = session.get(Match, match_id)
        assert match is not None
        assert match.status.value == "introduced"
    with slack.deps.sessions() as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == "introduction")).all()
    assert [row.chat for row in rows] == ["users:U1,U2"]  # one group DM with both people
    notifier = slack.deps.notifiers["slack"]
    address = Address(platform="slack", workspace=rows[0].workspace, chat=rows[0].chat)
    sent = asyncio.run(notifier.send(address, payload_to_reply(rows[0].payload)))
    assert sent.chat.startswith("G")
    opened = [c for c in slack.standin.calls_to("conversations.open") if c.params["users"] == "U1,U2"]
    assert opened
    intro = next(c for c in slack.standin.calls_to("chat.postMessage") if c.params["channel"] == sent.chat)
    assert "<!channel>" not in json.dumps(intro.params)


def test_a_facilitator_plans_a_meeting_with_a_form(slack: SlackHarness) -> None:
    slack.command("/peer", "meeting new", user="U1")  # not a facilitator: no form, a polite no
    assert slack.standin.wait_for_prefix("respond:")[0].params["text"] == EN.t("core.peer_refused")
    assert slack.standin.calls_to("views.open") == []
    slack.standin.add_user("U9", admin=True, tz="Europe/Lisbon")
    slack.command("/peer", "meeting new", user="U9")
    opened = slack.standin.wait_for("views.open")[0].params["view"]
    view = json.loads(opened) if isinstance(opened, str) else opened
    assert view["callback_id"] == "meeting_modal"
    zone = next(b for b in view["blocks"] if b["block_id"] == "zone")
    assert zone["element"]["initial_value"] == "Europe/Lisbon"
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Kick-off <!here>"}},
        "date": {"value": {"type": "datepicker", "selected_date": "2026-03-10"}},
        "time": {"value": {"type": "timepicker", "selected_time": "10:30"}},
        "zone": {"value": {"type": "plain_text_input", "value": "Europe/Lisbon"}},
    }
    assert slack.interact(view_submission(view, values, user="U9", view_id="V2")).status_code == 200
    answer = slack.standin.wait_for("chat.postEphemeral")[0]
    assert (answer.params["channel"], answer.params["user"]) == ("C0GENERAL", "U9")
    assert "Kick-off &lt;!here&gt;" in answer.params["text"]
    with slack.deps.sessions() as session:
        meeting = session.exec(select(Meeting)).one()
        assert meeting.title == "Kick-off <!here>"
        assert meeting.start_at == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)


def test_a_press_on_a_channel_message_is_answered_to_the_presser_alone(slack: SlackHarness) -> None:
    match_id = _seed_match(slack)
    posted = len(slack.standin.calls_to("chat.postMessage"))
    # A digest's Accept button in a channel: the answer is ephemeral, the digest stays as it was.
    container = {"type": "message", "channel_id": "C0DIGEST", "message_ts": "333.444", "is_ephemeral": False}
    assert slack.press(f"/accept {match_id}", container=container, block_id="r:digest:1").status_code == 200
    [answer] = slack.standin.wait_for_prefix("respond:")
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is False
    assert answer.params["text"] == EN.t("core.match_accepted", number=match_id)
    assert slack.standin.calls_to("chat.postMessage")[posted:] == []
    assert slack.standin.calls_to("chat.update") == []


def test_a_file_in_the_messages_tab_is_refused_politely(slack: SlackHarness) -> None:
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "channel": "DU1",
        "user": "U1",
        "text": "",
        "ts": "1700000000.000100",
        "team": TEAM,
        "files": [{"id": "F1", "name": "plan.pdf"}],
    }
    assert slack.event(event).status_code == 200
    [answer] = slack.standin.wait_for("chat.postMessage")
    assert answer.params["text"] == EN.t("slack.text_only")
    assert answer.params["channel"] == "DU1"
