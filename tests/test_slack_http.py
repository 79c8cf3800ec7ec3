"""The Slack endpoint over real HTTP: signatures, the fast ack, retries, slash commands, and the
work after an ack finished when `peerlink serve` stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from storage.models import InboxEvent, InboxStatus
from tests import slack_standin
from tests.slack_standin import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Failure,
    SlackHarness,
    SlackStandIn,
    command_body,
    signed_headers,
)
from tests.waiting import PATIENCE, wait_until

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(http: httpx.Client) -> bool:
    try:
        return http.get("/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_stopped_right_after_an_ack_still_answers_then_exits_cleanly(
    database_url: str, standin: SlackStandIn, tmp_path: Path
) -> None:
    standin.hold("users.info")  # the work after the ack waits for the test
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.api_url,
        "LOG_LEVEL": "INFO",
        "STOP_GRACE_SECONDS": str(PATIENCE),  # a bound that never binds on a busy machine
    }
    command = [sys.executable, "-m", "bot.runtime.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        serve = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as http:
            wait_until(lambda: _ready(http), what="serve ready", seen=log.read_text)
            body = command_body(standin, "/matches")
            headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
            since = standin.mark()
            assert http.post("/slack/events", content=body, headers=headers).status_code == 200  # the ack
        standin.wait_for("users.info")  # the listener is at work, held
        serve.send_signal(signal.SIGTERM)
        wait_until(
            lambda: "waiting for 1 Slack listener" in log.read_text(), what="the stop waiting", seen=log.read_text
        )
        standin.release("users.info")
        answer = standin.wait_for_prefix("respond:", since=since)[0]
        assert answer.params["response_type"] == "ephemeral"
        assert serve.wait(timeout=PATIENCE) == 0
    finally:
        standin.release("users.info")
        if serve.poll() is None:
            serve.kill()
            serve.wait()
