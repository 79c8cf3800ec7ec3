"""Secrets never reach a log: `peerlink serve` and `peerlink worker` run at DEBUG with marker secrets,
talk to the Slack and Telegram stand-ins, and their whole output is searched for the markers."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.runtime.logs import REDACTED, Redactor, configured_secrets
from tests.slack_standin import SlackStandIn, command_body, signed_headers, wait_until
from tests.telegram_standin import StandIn

ROOT = Path(__file__).resolve().parents[1]
TELEGRAM_TOKEN = "987654321:MARKERtelegramTOKEN_abcdefghijklmnopqr"
SLACK_TOKEN = "xoxb-MARKERslackTOKEN-123456"
SIGNING_SECRET = "MARKERsigningSECRET"
WEBHOOK_SECRET = "MARKERwebhookSECRET"
MARKERS = ("MARKERtelegram", "MARKERslack", "MARKERsigning", "MARKERwebhook")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _peerlink(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from bot.runtime.cli import main; main()", *args]
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[tuple[dict[str, str], SlackStandIn, StandIn]]:
    slack, telegram = SlackStandIn().start(), StandIn(token=TELEGRAM_TOKEN).start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlink.db'}",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_URL": telegram.api_url,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "LOG_LEVEL": "DEBUG",
    }
    subprocess.run(
        [sys.executable, "-c", "from bot.runtime.cli import main; main()", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    yield env, slack, telegram
    slack.stop()
    telegram.stop()


def test_serve_and_worker_at_debug_log_no_secret(
    environment: tuple[dict[str, str], SlackStandIn, StandIn], tmp_path: Path
) -> None:
    env, slack, telegram = environment
    port = _free_port()
    serve_env = {**env, "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook"}
    serve = _peerlink("serve", "--host", "127.0.0.1", "--port", str(port), env=serve_env, log=tmp_path / "serve.log")
    worker = _peerlink("worker", env=env, log=tmp_path / "worker.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            wait_until(lambda: _up(http))
            body = command_body(slack, "/help", "")
            headers = signed_headers(body, content_type="application/x-www-form-urlencoded", secret=SIGNING_SECRET)
            assert http.post("/slack/events", content=body, headers=headers).status_code == 200
            update = telegram.message_update("/help", user=7)
            webhook = http.post(
                "/telegram/webhook",
                content=json.dumps(update),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"},
            )
            assert webhook.status_code == 200
            slack.wait_for_prefix("respond:")
            wait_until(lambda: len(telegram.sent(7)) >= 1)
        wait_until(lambda: len(telegram.calls("getUpdates")) >= 2)  # the worker long-polls
    finally:
        _stop(serve)
        _stop(worker)
    output = (tmp_path / "serve.log").read_text() + (tmp_path / "worker.log").read_text()
    assert "DEBUG" in output  # the processes really logged at DEBUG
    assert REDACTED in output  # and lines that carried a token were kept, without it
    assert [marker for marker in MARKERS if marker in output] == []


def _up(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("x", logging.INFO, __file__, 1, message, args, None)


def test_the_filter_removes_secrets_token_shapes_and_line_breaks() -> None:
    settings = Settings(_env_file=None, slack_signing_secret="MARKERsigningSECRET")  # type: ignore[call-arg]
    redactor = Redactor(configured_secrets(settings, ["derived-MARKER-secret"]))
    record = _record("POST https://api.telegram.org/bot%s/getMe -> %s", "123456:" + "A" * 35, "ok")
    redactor.filter(record)
    assert record.getMessage() == f"POST https://api.telegram.org/bot{REDACTED}/getMe -> ok"
    forged = _record("user wrote %s", "hi\n2026-01-01 ERROR forged line MARKERsigningSECRET xoxp-1234567890ab")
    redactor.filter(forged)
    assert "\n" not in forged.getMessage()
    assert "\\n2026-01-01 ERROR forged line" in forged.getMessage()
    assert "MARKER" not in forged.getMessage()
    assert "xoxp-" not in forged.getMessage()


def test_tracebacks_lose_their_secrets_too() -> None:
    redactor = Redactor(["MARKERsigningSECRET"])
    try:
        raise RuntimeError("failed with MARKERsigningSECRET")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    redactor.filter(record)
    text = logging.Formatter().format(record)
    assert "MARKER" not in text
    assert "Traceback" in text
