"""`/offer` opens a modal pre-filled from the text; its submission is checked field by field,
stored, and confirmed in a private message."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.i18n import translator
from bot.organisations import ORGANISATION_MAX
from storage.models import Member, Organisation, Post, PostFormat, PostKind
from tests import slack_standin
from tests.slack_standin import SlackHarness, view_submission

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin
EN = translator("en")


def open_modal(slack: SlackHarness, command: str = "/offer", text: str = "", user: str = "U1") -> dict[str, Any]:
    before = len(slack.standin.calls_to("views.open"))
    response = slack.command(command, text, user=user)
    assert response.status_code == 200
    assert response.text == ""  # the ack says nothing; the modal is the answer
    call = slack.standin.wait_for("views.open", before + 1)[-1]
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view


def submission(view: dict[str, Any], *, user: str = "U1", **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block_id in ("organisation", "title", "description"):
        if block_id in fields:
            values[block_id] = {"value": {"type": "plain_text_input", "value": fields[block_id]}}
    values["topics"] = {
        "value": {
            "type": "multi_static_select",
            "selected_options": [{"value": t} for t in fields.get("topics", [])],
        }
    }
    values["format"] = {"value": {"type": "static_select", "selected_option": {"value": fields.get("format", "call")}}}
    return view_submission(view, values, user=user, hash_="h1")


def block_ids(view: dict[str, Any]) -> list[str]:
    return [block.get("block_id", "") for block in view["blocks"]]


def test_offer_opens_a_prefilled_modal(slack: SlackHarness) -> None:
    view = open_modal(slack, text="Social clauses in public procurement")
    assert view["type"] == "modal"
    assert view["title"]["text"] == "Add an offer"
    assert block_ids(view) == ["organisation", "title", "description", "topics", "format"]
    title = next(b for b in view["blocks"] if b["block_id"] == "title")
    assert title["element"]["initial_value"] == "Social clauses in public procurement"
    topics = next(b for b in view["blocks"] if b["block_id"] == "topics")
    assert [o["value"] for o in topics["element"]["initial_options"]] == ["public-procurement"]
    assert slack.standin.calls_to("auth.test")  # bolt checked the token first
    info = slack.standin.calls_to("users.info")[0]
    assert info.params["include_locale"] in ("1", "true", "True", True)


def test_the_modal_speaks_the_users_slack_language(slack: SlackHarness) -> None:
    slack.standin.add_user("U3", locale="es-ES", tz="Europe/Madrid")
    view = open_modal(slack, "/need", "compra pública", user="U3")
    assert view["title"]["text"] == "Añadir una necesidad"


def test_field_errors_stay_in_the_modal(slack: SlackHarness) -> None:
    view = open_modal(slack)
    response = slack.interact(submission(view, organisation="Braga", title="x" * 121, description=""))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"title", "description"}
    assert "121" in answer["errors"]["title"]
    empty = slack.interact(submission(view, organisation="  ", title="Fine", description="Fine too")).json()
    assert set(empty["errors"]) == {"organisation"}
    with slack.deps.sessions() as session:
        assert session.exec(select(Post)).all() == []


def test_a_valid_submission_is_stored_and_confirmed(slack: SlackHarness) -> None:
    view = open_modal(slack, text="procurement")
    since = slack.standin.mark()
    response = slack.interact(
        submission(
            view,
            organisation="City of Braga",
            title="Social clauses <!channel> in tenders",
            description="We wrote social clauses & <@U2> used them.",
            topics=["public-procurement"],
            format="workshop",
        )
    )
    assert response.status_code == 200
    assert response.text == ""  # the modal closes
    posted = slack.standin.wait_for("chat.postMessage", since=since)
    assert posted[0].params["channel"] == "DU1"  # the bot's private chat, opened with conversations.open
    assert "Social clauses &lt;!channel&gt; in tenders" in posted[0].params["text"]
    slack.standin.wait_for("views.publish", since=since)  # the App Home shows the new post, last
    with slack.deps.sessions() as session:
        post = session.exec(select(Post)).one()
        assert post.kind == PostKind.offer
        assert post.title == "Social clauses <!channel> in tenders"  # stored as typed, escaped when shown
        assert post.topics == ["public-procurement"]
        assert post.format == PostFormat.workshop
        member = session.exec(select(Member)).one()
        organisation = session.get(Organisation, member.organisation_id)
        assert organisation is not None
        assert organisation.name == "City of Braga"
    assert not any("<!channel>" in text or "<@U2>" in text for text in slack.standin.texts())
    second = open_modal(slack)
    assert "organisation" not in block_ids(second)  # asked once only


def test_the_modal_and_the_conversation_share_the_organisation_rule(slack: SlackHarness) -> None:
    view = open_modal(slack)
    too_long = "x" * (ORGANISATION_MAX + 1)
    answer = slack.interact(submission(view, organisation=too_long, title="Fine", description="Fine too")).json()
    assert answer["errors"] == {"organisation": EN.t("core.error_organisation_long", count=ORGANISATION_MAX)}
    spaced = submission(view, organisation="  City   of Braga ", title="Fine", description="Fine too")
    assert slack.interact(spaced).status_code == 200
    slack.standin.wait_for("chat.postMessage")
    with slack.deps.sessions() as session:
        assert [o.name for o in session.exec(select(Organisation)).all()] == ["City of Braga"]


def test_the_modal_saves_through_the_conversations_save(slack: SlackHarness) -> None:
    """A submission without the organisation field (a modal opened elsewhere, or forged) meets the
    conversation's own save rule: the member is told what the conversation would say, nothing is stored."""
    view = open_modal(slack)
    response = slack.interact(submission(view, title="Fine", description="Fine too"))
    assert response.status_code == 200
    [posted] = slack.standin.wait_for("chat.postMessage")
    assert posted.params["text"] == EN.t("core.error_no_organisation")
    with slack.deps.sessions() as session:
        assert session.exec(select(Post)).all() == []
