"""LOG_FORMAT=json: one JSON object a line with time, level, logger, message and the context of the
work (platform, community, delivery, request); the text format stays the default for a terminal."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.deps import Deps
from bot.log_context import about, current, note
from bot.ports import DeliveryError
from bot.runtime.logs import JsonFormatter, Redactor
from schedules.outbox import Dispatcher
from storage.queries import default_community
from tests import slack_standin
from tests.conftest import FakeClock
from tests.schedules_support import Person, RecordingNotifier, clock_sleep, plan
from tests.slack_standin import Failure, SlackHarness

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin

ROOT = Path(__file__).resolve().parents[1]


class JsonLines(logging.Handler):
    """The JSON objects a logger writes, formatted as they are written (the context is the
    writer's at that moment)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(Redactor([]))
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def json_lines(name: str, level: int) -> Iterator[JsonLines]:
    logger = logging.getLogger(name)
    handler = JsonLines()
    logger.setLevel(level)  # put back after the test (tests/conftest.py)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _default_community(deps: Deps) -> str:
    with deps.sessions() as session:
        return str(default_community(session=session).id)


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


async def test_the_community_is_noted_once_the_sender_is_known(deps: Deps) -> None:
    person = Person(deps, "42", platform="telegram", workspace="5550001")
    with about(platform="telegram", request=7):
        assert current() == {"platform": "telegram", "request": "7"}
        await asyncio.to_thread(person.say, "/help")  # the engine resolves the sender in a worker thread
        seen = current()
    assert seen == {"platform": "telegram", "request": "7", "community": _default_community(deps)}
    note(community=3)  # outside any work: nothing to note it on
    assert current() == {}


def test_a_slack_listener_logs_its_community(slack: SlackHarness) -> None:
    slack.standin.fail("views.open", Failure(200, {"ok": False, "error": "expired_trigger_id"}))
    with json_lines("handlers.slack.errors", logging.ERROR) as logged:
        assert slack.command("/offer", "something").status_code == 200
        slack.served.settled()  # the listener failed and logged it; the worker will try it again
    [line] = logged.lines
    assert line["message"].startswith("Slack listener failed")
    assert (line["platform"], line["community"]) == ("slack", _default_community(slack.deps))
    assert line["request"].startswith("trigger.")


async def test_a_delivery_logs_its_community(deps: Deps, clock: FakeClock) -> None:
    notifier = RecordingNotifier("slack", clock, failures={"C1": [DeliveryError("network: ConnectError")]})
    deps.notifiers["slack"] = notifier
    plan(deps, "reminder:1")  # community 1
    with json_lines("schedules.outbox", logging.INFO) as logged:
        await Dispatcher(deps, sleep=clock_sleep(clock)).tick()
    [line] = [line for line in logged.lines if "attempt 1" in line["message"]]
    assert (line["platform"], line["community"]) == ("slack", "1")
    assert line["delivery"].isdigit()
