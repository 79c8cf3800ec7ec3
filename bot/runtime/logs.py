"""Logging for the processes and commands: stderr only, so what a command prints on stdout is only its
output; WARNING unless `-v` (or LOG_LEVEL says otherwise); text for a terminal, one JSON object a
line with `LOG_FORMAT=json`; and never a secret, never a forged line.

The handler is added to the root logger for the life of one command and removed after it, with the
root's level as it was: commands run in-process (click's test runner) leave logging untouched.

Its filter renders each record's message itself, removes every configured secret, derived webhook
secrets and anything shaped like a bot token, and escapes line breaks and other control characters,
so a newline typed by a sender cannot forge a second log line. Tracebacks keep their lines but lose
their secrets the same way. Every record of every library (httpx, bolt, PTB, uvicorn — serve runs
uvicorn without its own logging config) reaches it by propagating to the root.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from pydantic import SecretStr

from bot import log_context
from bot.config import Settings

REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter "secrets" would redact ordinary words; no real token is this short
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
VERBOSITY = {0: logging.WARNING, 1: logging.INFO}  # more than one -v: DEBUG

# Telegram bot tokens (123456789:AA…), Slack tokens (xoxb-, xoxp-, xapp-, refresh xoxe-…).
TOKEN_SHAPES = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}|x(?:ox[a-z]|app)-[A-Za-z0-9-]{8,}")
CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

log = logging.getLogger(__name__)


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


def configured_secrets(settings: Settings, extra: Iterable[str] = ()) -> list[str]:
    """Every secret the settings hold, plus derived ones the caller knows of (webhook secrets)."""
    found = [value.get_secret_value() for value in vars(settings).values() if isinstance(value, SecretStr)]
    for value in list(found):
        found.extend(part.strip() for part in value.split(","))  # key lists, e.g. PEERLINK_SECRET_KEY
    return [*found, *extra]


class StderrHandler(logging.Handler):
    """Writes to `sys.stderr` as it is when a record comes, not as it was at start: click's runner
    and prompt_toolkit's `patch_stdout` replace it while a command runs."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def wanted_level(verbose: int, settings: Settings) -> tuple[int, str | None]:
    """`-v` wins, else LOG_LEVEL (WARNING by default). The name of a LOG_LEVEL that is no level
    comes back too, to be warned about."""
    if verbose:
        return VERBOSITY.get(verbose, logging.DEBUG), None
    level = logging.getLevelNamesMapping().get(settings.log_level.strip().upper())
    return (logging.WARNING, settings.log_level) if level is None else (level, None)


@contextlib.contextmanager
def logging_to_stderr(verbose: int, settings: Settings, *, extra_secrets: Iterable[str] = ()) -> Iterator[None]:
    level, unknown = wanted_level(verbose, settings)
    root = logging.getLogger()
    handler = StderrHandler(level)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(FORMAT))
    handler.addFilter(Redactor(configured_secrets(settings, extra_secrets)))
    previous = root.level
    root.addHandler(handler)
    # Lower the root's threshold when more is wanted; never raise it (a caller may be listening).
    root.setLevel(min(previous, level))
    if unknown is not None:
        log.warning("LOG_LEVEL=%r is not a level (DEBUG, INFO, WARNING, ERROR): using WARNING", unknown)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
