"""Logging for the processes: secrets never reach a log line, and a log line is always one line.

The filter sits on the root logger's handlers, so it sees every record that any logger propagates
there (ours, httpx, bolt, PTB, uvicorn — serve runs uvicorn without its own logging config). It
renders the message itself, removes every configured secret and anything shaped like a bot token,
and escapes line breaks and other control characters, so a newline typed by a sender cannot forge
a second log line. Tracebacks keep their lines but lose their secrets the same way.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import SecretStr

from bot import log_context
from bot.config import Settings

REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter "secrets" would redact ordinary words; no real token is this short

# Telegram bot tokens (123456789:AA…), Slack tokens (xoxb-, xoxp-, xapp-, refresh xoxe-…).
TOKEN_SHAPES = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}|x(?:ox[a-z]|app)-[A-Za-z0-9-]{8,}")
CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = CONTROLS.sub(_escape, self.clean(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        record.peerlink = {key: self.clean(value) for key, value in log_context.current().items()}
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the context fields, and the
    traceback when there is one (as a string field, so the object stays on its line)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "peerlink", {}),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["traceback"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the record (click's test runner and
    pytest swap it), never to a stream that was closed since the handler was made."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure(settings: Settings, *, level: str, extra_secrets: Iterable[str] = ()) -> None:
    """The processes' logging: one handler on stderr, text or JSON (LOG_FORMAT), secrets redacted."""
    handler = _Stderr()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "peerlink", False):
            root.removeHandler(old)
    handler.peerlink = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    install_redaction(configured_secrets(settings, extra_secrets))


def configured_secrets(settings: Settings, extra: Iterable[str] = ()) -> list[str]:
    """Every secret the settings hold, plus derived ones the caller knows of (webhook secrets)."""
    found = [value.get_secret_value() for value in vars(settings).values() if isinstance(value, SecretStr)]
    for value in list(found):
        found.extend(part.strip() for part in value.split(","))  # key lists, e.g. PEERLINK_SECRET_KEY
    return [*found, *extra]


def install_redaction(secrets: Iterable[str]) -> Redactor:
    """Put one redactor on every handler of the root logger (and so on every propagated record)."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
