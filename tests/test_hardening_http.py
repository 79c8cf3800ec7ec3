"""Verify first, then touch nothing unverified: malformed signature headers are 401s, nothing is sent
to an unverified `response_url`, unsigned bodies are never logged, and malformed *signed* payloads
are 400s (never 500s). The Telegram webhook's own cases are in test_telegram_webhook.py."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest

from handlers.slack import gate
from tests import slack_standin
from tests.slack_standin import SIGNING_SECRET, SlackHarness, command_body, signature, signed_headers

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin

FORM = "application/x-www-form-urlencoded"


def _post_raw(slack: SlackHarness, body: str, headers: dict[str, str] | dict[str, bytes]) -> httpx.Response:
    return slack.http.post("/slack/events", content=body, headers=headers)


@pytest.mark.parametrize("stamp", ["soon", "1e9", "", "\u0661\u0667" + "\u0660" * 8, "9" * 40, "-5"])
def test_a_malformed_timestamp_is_a_401_and_its_response_url_is_never_called(
    slack: SlackHarness, stamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = command_body(slack.standin, "/offer", "x")
    headers = {
        "Content-Type": FORM.encode(),
        "X-Slack-Request-Timestamp": stamp.encode(),  # raw bytes: a forger is not bound to ASCII
        "X-Slack-Signature": signature(body, stamp).encode(),
    }
    with caplog.at_level(logging.DEBUG):
        assert _post_raw(slack, body, headers).status_code == 401
    assert slack.standin.calls == []
    assert "/offer" not in caplog.text  # nothing of the unverified body is logged


def test_an_unsigned_body_is_neither_logged_nor_answered(slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    body = urlencode({"command": "/help", "text": "x" * 2_000_000 + "\n2026 ERROR forged"})
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=0"}
    with caplog.at_level(logging.DEBUG):
        assert _post_raw(slack, body, headers).status_code == 401
    assert len(caplog.text) < 2_000
    assert "forged" not in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode({"payload": "[]"}), FORM),
        (urlencode({"payload": "null"}), FORM),
        (urlencode({"payload": "{not json"}), FORM),
        ("[]", "application/json"),
        ("{broken", "application/json"),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"private_metadata": "{bad"}})}), FORM),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"private_metadata": "[1]"}})}), FORM),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": "nope"})}), FORM),
    ],
)
def test_a_malformed_signed_payload_is_a_400(slack: SlackHarness, body: str, content_type: str) -> None:
    response = _post_raw(slack, body, signed_headers(body, content_type=content_type))
    assert response.status_code == 400
    assert slack.standin.calls == []


def test_a_well_formed_request_still_goes_through(slack: SlackHarness) -> None:
    assert slack.command("/help").status_code == 200
    assert slack.standin.wait_for_prefix("respond:")


def test_the_gate_refuses_what_bolt_would_choke_on() -> None:
    body = b"command=%2Fhelp"
    now = 1_700_000_000.0
    stamp = str(int(now))
    good = {"x-slack-request-timestamp": stamp, "x-slack-signature": signature(body.decode(), stamp)}
    assert gate.check(SIGNING_SECRET, body, {**good, "content-type": FORM}, now=lambda: now).verdict is gate.Verdict.ok
    stale = {**good, "content-type": FORM}
    assert gate.check(SIGNING_SECRET, body, stale, now=lambda: now + 301).verdict is gate.Verdict.unsigned
    missing = {"x-slack-request-timestamp": stamp, "content-type": FORM}
    assert gate.check(SIGNING_SECRET, body, missing, now=lambda: now).verdict is gate.Verdict.unsigned
