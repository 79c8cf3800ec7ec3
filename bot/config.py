"""Settings read from the environment and `.env`; secrets stay `SecretStr` so they never print."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.sealed import valid_key

SUPPORTED_LANGUAGES = ("en", "es", "pt", "fr", "it", "nl", "pl")

_OFFSET = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offsets(raw: str) -> tuple[timedelta, ...]:
    """Parse `24h,1h,30m,2d` into timedeltas, largest first; raise ValueError naming the bad part."""
    offsets: list[timedelta] = []
    for part in raw.split(","):
        found = _OFFSET.match(part)
        if not found or int(found.group(1)) == 0:
            raise ValueError(f"invalid reminder offset {part.strip()!r}: use Nd, Nh or Nm (N > 0)")
        offsets.append(timedelta(**{_UNITS[found.group(2)]: int(found.group(1))}))
    return tuple(sorted(set(offsets), reverse=True))


def _keys(value: SecretStr) -> list[str]:
    return [key.strip() for key in value.get_secret_value().split(",") if key.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///peerlink.db"
    # Both become the default community's whenever the database is prepared (bot.community_defaults),
    # and through it everyone's whose own language or zone is unknown (bot.members).
    default_language: str = "en"
    default_timezone: str = "UTC"
    reminder_offsets: str = "24h,1h"
    port: int = 8000
    worker_port: int = 9100  # the worker's own /healthz, /readyz and /metrics
    # On SIGTERM, serve lets Slack's work after an acknowledgement finish for at most this long.
    stop_grace_seconds: float = Field(default=10, gt=0)
    # finished conversations, drafts and delivered messages' texts are kept this long (bot/privacy/retention.py)
    retention_days: int = Field(default=90, ge=1)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    # A person's budget of requests (messages, commands, presses) a web process or worker serves.
    requests_per_minute: int = Field(default=30, ge=1)
    requests_per_hour: int = Field(default=300, ge=1)
    # Offers and needs a person may create in any hour, on every platform together (bot/posts.py).
    posts_per_hour: int = Field(default=20, ge=1)

    # Incoming events that fail after their ack are tried again (bot/inbox.py): this many attempts in
    # all, the first retry after INBOX_RETRY_SECONDS, each next one twice as late (at most 5 minutes).
    inbox_attempts: int = Field(default=6, ge=1, le=20)
    inbox_retry_seconds: float = Field(default=10.0, gt=0, le=300)

    # Fernet keys sealing stored credentials (Slack installations), newest first, comma-separated.
    peerlink_secret_key: SecretStr | None = None

    log_level: str = Field(default="WARNING")  # `peerlink -v` asks for INFO, `-vv` for DEBUG
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for log collectors

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"DEFAULT_LANGUAGE must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"DEFAULT_TIMEZONE {value!r} is not an IANA timezone") from exc
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _valid_offsets(cls, value: str) -> str:
        parse_offsets(value)
        return value

    @field_validator("peerlink_secret_key")
    @classmethod
    def _valid_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not all(valid_key(key) for key in _keys(value)):
            raise ValueError("PEERLINK_SECRET_KEY must be Fernet keys (`peerlink secrets new-key`), comma-separated")
        return value

    @model_validator(mode="after")
    def _oauth_needs_a_key(self) -> Settings:
        if self.slack_client_id is not None and self.peerlink_secret_key is None:
            raise ValueError("Slack OAuth stores each workspace's token: set PEERLINK_SECRET_KEY to seal them")
        return self

    @property
    def secret_keys(self) -> list[str]:
        return _keys(self.peerlink_secret_key) if self.peerlink_secret_key is not None else []

    @property
    def reminder_deltas(self) -> tuple[timedelta, ...]:
        return parse_offsets(self.reminder_offsets)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_client_id is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None
