"""One send timeout: the outbox's deadline and both platforms' HTTP clients wait the same time, the
figure README gives, so no client gives up first with a different one."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.ports import SEND_TIMEOUT
from handlers.slack.client import web_client
from handlers.telegram.application import build_application
from schedules.outbox import OutboxPolicy


def test_every_send_waits_the_same_documented_time() -> None:
    settings = Settings(_env_file=None, telegram_bot_token="1:x")  # type: ignore[call-arg]
    seconds = SEND_TIMEOUT.total_seconds()
    assert OutboxPolicy().send_timeout == SEND_TIMEOUT
    assert web_client(settings).timeout == seconds
    request = build_application(settings).bot.request
    assert request.read_timeout == seconds
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"no answer within {int(seconds)} s" in readme
