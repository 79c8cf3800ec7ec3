"""The impersonation, end to end on Slack: through the real bolt App against the stand-in, a
newcomer naming an existing organisation is pending and can neither see nor answer its matches."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import translator
from tests import slack_standin
from tests.slack_standin import SlackHarness, in_channel
from tests.test_org_claims import torino
from tests.test_org_claims_platforms import pending

EN = translator("en")
slack = slack_standin.slack  # fixtures
standin = slack_standin.standin


def test_an_impersonator_on_slack_is_pending(slack: SlackHarness, tmp_path: Path) -> None:
    match_id = torino(slack.deps, tmp_path)
    slack.standin.add_user("U7", name="Eve")
    mine = in_channel("DU7")

    def answered(text: str, expected: str) -> None:
        since = slack.standin.mark()
        assert slack.dm(text, user="U7").status_code == 200
        slack.standin.wait_for("chat.postMessage", since=since, where=lambda c: mine(c) and expected in str(c.params))

    answered("/offer", EN.t("core.ask_organisation"))
    answered("Citta di Torino", "Torino")
    assert pending(slack.deps, "slack", "U7")
    answered("/cancel", "")
    answered("/matches", EN.t("core.matches_none"))
    answered(f"/accept {match_id}", EN.t("core.match_not_yours", number=match_id))
