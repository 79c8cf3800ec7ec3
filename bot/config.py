"""Settings read from the environment and `.env`; secrets stay `SecretStr` so they never print."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///peerlink.db"
    default_language: str = "en"
    default_timezone: str = "UTC"
    reminder_offsets: str = "24h,1h"
    port: int = 8000

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

    log_level: str = Field(default="WARNING")  # `peerlink -v` asks for INFO, `-vv` for DEBUG

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

    @property
    def reminder_deltas(self) -> tuple[timedelta, ...]:
        return parse_offsets(self.reminder_offsets)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_client_id is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None
