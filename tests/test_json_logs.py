"""LOG_FORMAT=json: one JSON object a line with time, level, logger, message and the context of the
work (platform, delivery, request); the text format stays the default for a terminal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.log_context import about
from bot.runtime.logs import JsonFormatter, Redactor

ROOT = Path(__file__).resolve().parents[1]


def _format(record: logging.LogRecord) -> dict[str, object]:
    Redactor([]).filter(record)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_a_record_is_one_json_object_with_its_context() -> None:
    with about(platform="telegram", delivery=42):
        record = logging.LogRecord("schedules.outbox", logging.WARNING, __file__, 1, "sent %s\nforged", ("x",), None)
        line = _format(record)
    assert line["level"] == "WARNING"
    assert line["logger"] == "schedules.outbox"
    assert line["message"] == "sent x\\nforged"
    assert (line["platform"], line["delivery"]) == ("telegram", "42")
    assert str(line["time"]).endswith("+00:00")


def test_a_traceback_stays_inside_its_object() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["traceback"]


def test_a_process_logs_json_lines_only(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    result = subprocess.run(
        [sys.executable, "-c", "from bot.runtime.cli import main; main()", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines  # the migration said something at INFO
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
