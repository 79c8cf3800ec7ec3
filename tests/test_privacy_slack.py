"""/mydata and /forgetme through `peerlink serve`'s bolt app answering signed Slack requests."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from storage.models import Identity
from tests import slack_standin
from tests.privacy_support import TITLE, give_a_post
from tests.slack_standin import TEAM, SlackHarness

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin


def test_mydata_on_slack_goes_to_the_private_chat_as_a_file(slack: SlackHarness) -> None:
    slack.command("/help", "", user="U1", channel="DU1")
    slack.standin.wait_for_prefix("respond:")
    give_a_post(slack.deps, "slack", TEAM, "U1")
    slack.command("/mydata", "", user="U1", channel="DU1")
    slack.standin.wait_for("files.completeUploadExternal")
    [upload] = slack.standin.wait_for_prefix("upload:")
    data = json.loads(upload.params["content"])
    assert [post["title"] for post in data["posts"]] == [TITLE]
    assert data["identities"][0]["user_id"] == "U1"
    done = slack.standin.calls_to("files.completeUploadExternal")[0]
    assert done.params["channel_id"] == "DU1"


def test_forgetme_in_a_slack_channel_points_to_the_private_chat(slack: SlackHarness) -> None:
    slack.command("/forgetme", "delete ERASE", user="U1", channel="C0GENERAL")
    [answer] = slack.standin.wait_for_prefix("respond:")
    assert answer.params["response_type"] == "ephemeral"
    assert "only shown in a private chat" in answer.params["text"]
    slack.command("/forgetme", "delete ERASE", user="U1", channel="DU1")
    erased = slack.standin.wait_for_prefix("respond:", 2)[1]
    assert "Peerlink has forgotten you" in erased.params["text"]
    with slack.deps.sessions() as session:
        assert session.exec(select(Identity).where(Identity.user_id == "U1")).first() is None


def test_the_manifest_declares_the_privacy_commands() -> None:
    manifest = Path(__file__).resolve().parents[1] / "handlers" / "slack" / "manifest.yml"
    text = manifest.read_text(encoding="utf-8")
    assert "command: /mydata\n" in text
    assert "command: /forgetme\n" in text
