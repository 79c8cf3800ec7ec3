"""`peerlink console` on a real (pseudo-)terminal: line editing and history, messages from the worker
printed above the line being typed, and Ctrl-C / Ctrl-D leaving cleanly with the draft kept."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

PEERLINK = Path(sys.executable).parent / "peerlink"
WAIT = 120  # seconds: generous, for a busy machine; nothing here asserts how long anything takes
LEFT, UP = "\x1b[D", "\x1b[A"
KEPT = "Bye! Your draft is kept: run peerlink console again to carry on where you left off."


@dataclass
class Terminal:
    child: pexpect.spawn
    screen: io.StringIO  # everything the terminal has shown so far

    def answer(self, line: str, expected: str) -> None:
        self.child.send(line + "\r")
        self.child.expect(expected)
        self.child.expect(">")  # the prompt is back

    def shown(self, pattern: str) -> None:
        """Wait until `pattern` has been shown, whether or not an earlier wait already read past it."""
        if not re.search(pattern, self.screen.getvalue()):
            self.child.expect(pattern)

    def leave(self, key: str, expected: str) -> None:
        self.child.send(key)
        self.child.expect(expected)
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == 0, self.screen.getvalue()
        assert "Aborted" not in self.screen.getvalue()
        assert "Traceback" not in self.screen.getvalue()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    # a pseudo-terminal answers no cursor-position request; prompt_toolkit would warn about it
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'peerlink.db'}", TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(
        str(PEERLINK),
        ["console", "--as", "Ana@Bilbao City Council"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=WAIT,
        dimensions=(50, 220),
    )
    screen = io.StringIO()
    child.logfile_read = screen
    child.expect("/peer help lists your commands")
    child.expect(">")
    yield Terminal(child, screen)
    if child.isalive():
        child.terminate(force=True)


def posts(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "peerlink.db") as connection:
        return connection.execute("SELECT title, description FROM post ORDER BY id").fetchall()


def carry_on(tmp_path: Path, script: str) -> str:
    """The next session, piped: it continues the conversation the terminal left."""
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'peerlink.db'}"
    result = subprocess.run(
        [str(PEERLINK), "console", "--as", "Ana@Bilbao City Council"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=WAIT,
        check=True,
    )
    return result.stdout


def test_line_editing_history_and_notifications_above_the_prompt(terminal: Terminal, tmp_path: Path) -> None:
    terminal.answer("/peer channel here", "now receives the digests")
    terminal.answer("/peer digest now", "goes out to 1 channel")  # printed by the worker, when it comes
    terminal.answer("/offer", "short title")
    terminal.child.send("Awards" + LEFT * 6 + "Social ")  # typed at the end, then moved to the front
    terminal.shown(r"\[community\] No new peer suggestions this week\.")  # the line being typed waits meanwhile
    terminal.answer("", "describe your offer")
    terminal.answer(UP + " since 2015: we connect the city with its social enterprises.", "Which topics fit")
    terminal.answer("done", "save")
    terminal.answer("save", "Saved your offer")
    terminal.leave("\x04", "Bye! Run peerlink console to come back.")  # Ctrl-D
    assert posts(tmp_path) == [
        ("Social Awards", "Social Awards since 2015: we connect the city with its social enterprises.")
    ]  # the line recalled with the up arrow, and no escape codes in either


@pytest.mark.parametrize("key", ["\x03", "\x04"], ids=["ctrl-c", "ctrl-d"])
def test_leaving_keeps_the_draft(terminal: Terminal, tmp_path: Path, key: str) -> None:
    terminal.answer("/need", "short title")
    terminal.answer("Collaborative management of hubs", "describe your need")
    terminal.leave(key, KEPT)
    out = carry_on(tmp_path, "We co-design hubs with residents and want to manage them together.\n")
    assert "Which topics fit" in out


def test_ctrl_c_without_a_conversation(terminal: Terminal) -> None:
    terminal.answer("/mine", "no offers or needs yet")
    terminal.leave("\x03", "Bye! Run peerlink console to come back.")
