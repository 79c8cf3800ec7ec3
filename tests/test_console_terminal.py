"""`peerlink console` on a real (pseudo-)terminal: line editing and history, messages from the worker
printed above the line being typed, and Ctrl-C / Ctrl-D leaving cleanly with the draft kept."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

PEERLINK = Path(sys.executable).parent / "peerlink"
WAIT = 120  # seconds: generous, for a busy machine; nothing here asserts how long anything takes
LEFT, UP = "\x1b[D", "\x1b[A"
KEPT = "Bye! Your draft is kept: run peerlink console again to carry on where you left off."


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[pexpect.spawn]:
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
    screen = (tmp_path / "screen.txt").open("w", encoding="utf-8")  # what the terminal showed, for a failure
    child.logfile_read = screen
    try:
        child.expect("/peer help lists your commands")
        child.expect(">")
    except pexpect.TIMEOUT:  # DIAGNOSTIC
        import signal
        child.kill(signal.SIGABRT)
        child.expect(pexpect.EOF, timeout=20)
        screen.close()
        raise
    yield child
    if child.isalive():
        child.terminate(force=True)
    screen.close()


def answer(child: pexpect.spawn, line: str, expected: str) -> None:
    child.send(line + "\r")
    child.expect(expected)
    child.expect(">")  # the prompt is back


def leave(child: pexpect.spawn, key: str, expected: str) -> str:
    child.send(key)
    child.expect(expected)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


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


def test_line_editing_history_and_notifications_above_the_prompt(terminal: pexpect.spawn, tmp_path: Path) -> None:
    answer(terminal, "/peer channel here", "now receives the digests")
    answer(terminal, "/peer digest now", "goes out to 1 channel")
    answer(terminal, "/offer", "short title")
    terminal.send("Awards" + LEFT * 6 + "Social ")  # typed at the end, then moved to the front
    terminal.expect(r"\[community\] No new peer suggestions this week\.")  # printed while the line waits
    terminal.send("\r")
    terminal.expect("describe your offer")
    terminal.expect(">")
    terminal.send(UP + " since 2015: we connect the city with its social enterprises.\r")  # the last line, recalled
    terminal.expect("Which topics fit")
    terminal.expect(">")
    answer(terminal, "done", "save")
    answer(terminal, "save", "Saved your offer")
    leave(terminal, "\x04", "Bye! Run peerlink console to come back.")  # Ctrl-D
    assert posts(tmp_path) == [
        ("Social Awards", "Social Awards since 2015: we connect the city with its social enterprises.")
    ]


@pytest.mark.parametrize("key", ["\x03", "\x04"], ids=["ctrl-c", "ctrl-d"])
def test_leaving_keeps_the_draft(terminal: pexpect.spawn, tmp_path: Path, key: str) -> None:
    answer(terminal, "/need", "short title")
    answer(terminal, "Collaborative management of hubs", "describe your need")
    rest = leave(terminal, key, KEPT)
    assert "Aborted" not in rest
    out = carry_on(tmp_path, "We co-design hubs with residents and want to manage them together.\n")
    assert "Which topics fit" in out


def test_ctrl_c_without_a_conversation(terminal: pexpect.spawn) -> None:
    answer(terminal, "/mine", "no offers or needs yet")
    leave(terminal, "\x03", "Bye! Run peerlink console to come back.")
