"""The console adapter as a person scripts it: `peerlink console` with piped stdin, in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.ports import Button, Reply
from handlers.console import console_sender, parse_identity, render
from storage.db import make_engine, session_factory
from storage.models import Post, PostKind


def peerlink(database: Path, identity: str, script: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "console", "--as", identity],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        check=False,  # no timeout of its own: a session took 60 s on a busy machine; pytest-timeout ends a hang
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def stored(database: Path) -> list[Post]:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            return list(session.exec(select(Post).order_by(Post.id)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_scripted_session_creates_an_offer_and_a_need(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    script = (
        "\n".join(
            [
                "/offer",
                "Social Enterprise Awards",
                "Since 2015 our awards connect the city with social enterprises that start and grow here.",
                "done",
                "save",
                "/need",
                "From co-design to collaborative management",
                "Our hubs co-design with residents; we want to learn how to manage services together.",
                "done",
                "save",
                "/mine",
            ]
        )
        + "\n"
    )
    out = peerlink(database, "Aoife@Dublin City Council", script)
    assert "Saved your offer" in out
    assert "Saved your need" in out
    assert [(p.kind, p.title) for p in stored(database)] == [
        (PostKind.offer, "Social Enterprise Awards"),
        (PostKind.need, "From co-design to collaborative management"),
    ]


def test_a_need_started_in_one_process_is_finished_in_the_next(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    who = "Giulia@Città di Torino"
    peerlink(database, who, "/need\nCollaborative management of hubs\n")
    out = peerlink(database, who, "We co-design with residents and want to co-manage.\ndone\nsave\n")
    assert "Saved your need" in out
    [post] = stored(database)
    assert (post.title, post.description) == (
        "Collaborative management of hubs",
        "We co-design with residents and want to co-manage.",
    )


def test_hostile_input_gets_clear_replies_and_no_crash(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    script = "\n".join(["/offer", "x" * 20_000, "<!channel> \u202e\u0007 مرحبا 🎉", "\u0000", "/nope"]) + "\n"
    out = peerlink(database, "Eve@Nowhere", script)
    assert "the limit is 120" in out
    assert "describe your offer" in out
    assert "I don't know the command /nope" in out


def test_identity_and_rendering() -> None:
    assert parse_identity("  Ana   Ruiz @ Bilbao City Council ") == ("Ana Ruiz", "Bilbao City Council")
    assert parse_identity("Sam") == ("Sam", None)
    assert console_sender("Ana@Bilbao").user_id == console_sender("Ana@Bilbao").user_id
    assert console_sender("Ana@Bilbao").user_id != console_sender("Ana@Dublin").user_id
    text = render(Reply(text="Pick", buttons=(Button("Save", "save"), Button("Topic", "3"), Button("done", "done"))))
    assert text == "Pick\n  [save] Save   [done]"


def test_the_terminal_owner_facilitates_and_gets_introductions(tmp_path: Path) -> None:
    """One process runs everything: the introduction queued by /peer introduce reaches the terminal."""
    database = tmp_path / "peerlink.db"
    peerlink(
        database,
        "Bob@Dublin City Council",
        "/offer\nSocial clauses in catering tenders\n"
        "We reserved catering contracts for work-integration social enterprises with social clauses.\n"
        "done\nsave\n",
    )
    out = peerlink(
        database,
        "Ana@Bilbao City Council",
        "/need\nSocial clauses for public tenders\n"
        "We want to reserve public tenders for social enterprises using social clauses.\n"
        "done\nsave\n/peer introduce 1\n",
    )
    assert "introducing you now" in out
    assert "Let me introduce you!" in out  # delivered through the outbox by the embedded worker
