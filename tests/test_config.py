"""Settings: defaults, validation, and secrets that never print."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings, parse_offsets
from bot.deps import Deps
from bot.runtime.compose import warm_up


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "REMINDER_OFFSETS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///peerlink.db"
    assert settings.reminder_deltas == (timedelta(hours=24), timedelta(hours=1))
    assert not settings.slack_enabled
    assert not settings.telegram_enabled


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFAULT_LANGUAGE", raising=False)
    (tmp_path / ".env").write_text("DEFAULT_LANGUAGE=pt\nTELEGRAM_BOT_TOKEN=123:abc\n", encoding="utf-8")
    settings = Settings()
    assert settings.default_language == "pt"
    assert settings.telegram_enabled


def test_reminder_offsets() -> None:
    assert parse_offsets("1h, 2d,30m,1h") == (timedelta(days=2), timedelta(hours=1), timedelta(minutes=30))
    for bad in ("", "24", "1w", "0h", "h1", "-1h"):
        with pytest.raises(ValueError, match="invalid reminder offset"):
            parse_offsets(bad)
    with pytest.raises(ValidationError, match="invalid reminder offset"):
        Settings(_env_file=None, reminder_offsets="tomorrow")  # type: ignore[call-arg]


def test_unknown_language_and_timezone_are_refused() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_LANGUAGE"):
        Settings(_env_file=None, default_language="de")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="IANA"):
        Settings(_env_file=None, default_timezone="Mars/Olympus")  # type: ignore[call-arg]


def test_secrets_never_print() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxb-very-secret",
        slack_signing_secret="signing-secret",
        telegram_bot_token="123:telegram-secret",
        telegram_webhook_secret="hook-secret",
    )
    shown = f"{settings!r} {settings} {settings.model_dump()}"
    for secret in ("xoxb-very-secret", "signing-secret", "telegram-secret", "hook-secret"):
        assert secret not in shown
    with pytest.raises(ValidationError) as failure:
        Settings(_env_file=None, slack_bot_token="xoxb-very-secret", reminder_offsets="x")  # type: ignore[call-arg]
    assert "xoxb-very-secret" not in str(failure.value)


def test_warm_up_builds_every_index(deps: Deps) -> None:
    warm_up(deps).join()  # however long a busy machine takes; pytest-timeout ends a hang
    assert deps.matcher._indexes  # built before any suggestion was asked for
