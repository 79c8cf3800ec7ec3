"""Where the CLI's log lines go: stderr, at WARNING unless `-v` (or LOG_LEVEL says otherwise), so
what a command prints on stdout is only its output.

The handler is added to the root logger for the life of one command and removed after it, with the
root's level as it was: commands run in-process (click's test runner) leave logging untouched.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
VERBOSITY = {0: logging.WARNING, 1: logging.INFO}  # more than one -v: DEBUG

log = logging.getLogger(__name__)


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
def logging_to_stderr(verbose: int, settings: Settings) -> Iterator[None]:
    level, unknown = wanted_level(verbose, settings)
    root = logging.getLogger()
    handler = StderrHandler(level)
    handler.setFormatter(logging.Formatter(FORMAT))
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
