"""`/peer map` and `/peer stats` in Slack: the real bolt App, over signed HTTP, uploads the images
to the facilitator's private chat through the stand-in (files.getUploadURLExternal, the upload,
files.completeUploadExternal)."""

from __future__ import annotations

from bot.demo import load_demo
from bot.i18n import translator
from bot.picture.png import PNG_SIGNATURE, png_size
from storage.db import transaction
from tests import slack_standin
from tests.slack_standin import SlackHarness

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin

EN = translator("en")


def _is_png(data: bytes) -> bool:
    width, height = png_size(data)
    return data.startswith(PNG_SIGNATURE) and width >= 1000 and height >= 800


def test_slack_uploads_the_map_to_the_facilitators_private_chat(slack: SlackHarness) -> None:
    with transaction(slack.deps.sessions) as session:
        load_demo(session, slack.deps.encoder)
    slack.standin.add_user("U9", admin=True)
    slack.command("/peer", "map", user="U9")
    done = slack.standin.wait_for("files.completeUploadExternal")[0]
    assert done.params["channel_id"] == "DU9"
    assert done.params["initial_comment"] == EN.t("picture.map_ready", community="Peerlink")
    asked = slack.standin.calls_to("files.getUploadURLExternal")[0].params
    assert asked["filename"].endswith(".png")
    assert asked["alt_txt"] == EN.t("picture.map_ready", community="Peerlink")
    content = slack.standin.wait_for_prefix("upload:")[0].params["content"]
    assert _is_png(content)


def test_slack_uploads_the_stats_with_the_funnel_chart(slack: SlackHarness) -> None:
    with transaction(slack.deps.sessions) as session:
        load_demo(session, slack.deps.encoder)
        slack.deps.matcher.record_round(session, slack.deps.matcher.run_round(session, 1))
    slack.standin.add_user("U9", admin=True)
    slack.command("/peer", "stats", user="U9")
    done = slack.standin.wait_for("files.completeUploadExternal")[0]
    assert done.params["initial_comment"].startswith(EN.t("schedules.stats_header"))
    assert png_size(slack.standin.wait_for_prefix("upload:")[0].params["content"]) == (1100, 616)
