"""What the CLI prints: data on stdout, logs on stderr at WARNING unless `-v` (or LOG_LEVEL), and
nothing left behind in the logging of the process that ran it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.config import Settings
from bot.runtime.cli import cli
from bot.runtime.logs import wanted_level

PEERLINK = Path(sys.executable).parent / "peerlink"


def peerlink(tmp_path: Path, *args: str, log_level: str | None = None) -> subprocess.CompletedProcess[str]:
    """A real process on a fresh database file, which it migrates first (that used to log)."""
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    if log_level is not None:
        env["LOG_LEVEL"] = log_level
    result = subprocess.run(
        [str(PEERLINK), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_machine_output_is_only_data(tmp_path: Path) -> None:
    exported = peerlink(tmp_path, "export", "--format", "json")
    assert json.loads(exported.stdout) == []
    assert exported.stderr == ""
    matched = peerlink(tmp_path, "match", "--format", "json")
    assert json.loads(matched.stdout) == []
    assert json.loads(matched.stderr) == {"unmatched": []}


def test_verbose_logs_on_stderr_and_stdout_stays_data(tmp_path: Path) -> None:
    result = peerlink(tmp_path, "-v", "export", "--format", "json")
    assert json.loads(result.stdout) == []
    assert "INFO bot.runtime.compose: migrating the database to the latest revision" in result.stderr
    assert "DEBUG" not in result.stderr


def test_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    quiet = Settings(_env_file=None)  # type: ignore[call-arg]
    chosen = Settings(_env_file=None, log_level="error")  # type: ignore[call-arg]
    assert [wanted_level(verbose, quiet)[0] for verbose in (0, 1, 2, 3)] == [30, 20, 10, 10]
    assert wanted_level(0, chosen) == (logging.ERROR, None)
    assert wanted_level(1, chosen) == (logging.INFO, None)  # -v wins over LOG_LEVEL


def test_log_level_is_honoured_when_set(tmp_path: Path) -> None:
    assert "INFO bot.runtime.compose: migrating" in peerlink(tmp_path, "export", log_level="info").stderr
    quiet = peerlink(tmp_path, "export", log_level="ERROR")
    assert quiet.stderr == ""
    wrong = peerlink(tmp_path, "export", "--format", "json", log_level="chatty")
    assert json.loads(wrong.stdout) == []
    assert "LOG_LEVEL='chatty' is not a level" in wrong.stderr


def test_an_in_process_run_leaves_logging_as_it_was(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Click's runner runs commands in the test's own process: caplog must keep working after it."""
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    result = CliRunner().invoke(cli, ["-v", "export"], obj={}, env={"DATABASE_URL": sqlite_url, "LOG_LEVEL": None})
    assert result.exit_code == 0, result.output
    assert (root.level, list(root.handlers)) == before
    caplog.set_level(logging.INFO, logger="bot.runtime.compose")
    CliRunner().invoke(cli, ["export"], obj={}, env={"DATABASE_URL": sqlite_url, "LOG_LEVEL": None})
    assert (root.level, list(root.handlers)) == before
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot.runtime.compose").info("still heard")
    assert "still heard" in caplog.messages
