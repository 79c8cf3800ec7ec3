"""The Slack endpoint over real HTTP: signatures, the fast ack, retries, slash commands."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import select

from storage.models import InboxEvent, InboxStatus
from tests import slack_standin
from tests.slack_standin import Failure, SlackHarness

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin


def test_healthz_and_unsigned_requests_are_refused(slack: SlackHarness) -> None:
    assert slack.http.get("/healthz").json() == {"status": "ok"}
    body = "command=%2Fmatches&team_id=T0TEAM&user_id=U1"
    forged = slack.http.post(
        "/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert forged.status_code == 401
    wrong_secret = slack.command("/matches", secret="not-the-secret")
    assert wrong_secret.status_code == 401
    stale = slack.command("/matches", timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    slack.served.settled()
    assert slack.standin.calls == []  # nothing reached Slack, nothing ran


def test_matches_is_answered_ephemerally(slack: SlackHarness) -> None:
    response = slack.command("/matches")
    assert response.status_code == 200
    found = slack.standin.wait_for_prefix("respond:")
    assert found[0].params["response_type"] == "ephemeral"
    assert found[0].params["text"]


def test_a_retried_event_runs_once(slack: SlackHarness) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "DU1",
        "user": "U1",
        "text": "/help",
        "ts": "1.0",
        "team": "T0TEAM",
    }
    assert slack.event(event, event_id="EvSAME").status_code == 200
    slack.standin.wait_for("chat.postMessage")
    assert slack.event(event, event_id="EvSAME", retry=1).status_code == 200
    slack.served.settled()
    assert len(slack.standin.calls_to("chat.postMessage")) == 1
    with slack.deps.sessions() as session:
        stored = session.exec(select(InboxEvent)).one()  # stored before the first ack, settled after
        assert (stored.key, stored.status, stored.attempts) == ("slack:event:EvSAME", InboxStatus.done, 1)


def test_a_failure_after_the_ack_is_kept_to_be_tried_again(slack: SlackHarness) -> None:
    slack.standin.fail("views.open", Failure(200, {"ok": False, "error": "expired_trigger_id"}))
    assert slack.command("/offer", "something").status_code == 200
    slack.served.settled()
    answered = [call for call in slack.standin.calls if call.method.startswith("respond:")]
    assert answered == []  # no apology yet: the worker tries again (tests/test_inbox.py)
    with slack.deps.sessions() as session:
        stored = session.exec(select(InboxEvent)).one()
    assert (stored.status, stored.attempts, stored.last_error) == (InboxStatus.pending, 1, "SlackApiError")
    assert stored.next_attempt_at == slack.deps.clock.now() + timedelta(seconds=10)
