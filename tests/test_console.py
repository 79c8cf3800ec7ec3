"""The console adapter as a person scripts it: `peerlink console` with piped stdin, in real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.i18n import translator
from bot.matching.found import holds
from bot.ports import Attachment, Button, Reply
from handlers.console import Files, console_sender, parse_identity, render
from storage.db import make_engine, session_factory
from storage.models import Post, PostKind


def peerlink_process(database: Path, identity: str, script: str, *options: str) -> subprocess.CompletedProcess[str]:
    """`peerlink console` in its own process, stdin piped, in the database's folder (where files go)."""
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "console", "--as", identity, *options],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=database.parent,
        check=False,  # no timeout of its own: a session took 60 s on a busy machine; pytest-timeout ends a hang
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "ERROR" not in result.stderr, result.stderr
    return result


def peerlink(database: Path, identity: str, script: str) -> str:
    return peerlink_process(database, identity, script).stdout


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
    assert all(holds(post) for post in stored(database))  # the topic scan is kept with each post


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
    assert render(Reply(text="Here"), Path("files") / "a.csv") == f"Here\n  📎 {Path('files') / 'a.csv'}"


def test_files_are_never_overwritten(tmp_path: Path) -> None:
    files = Files(tmp_path / "out")
    first = files.save(Attachment("../../escape.ics", b"one", "text/calendar"))
    second = files.save(Attachment("escape.ics", b"two", "text/calendar"))
    assert (first.name, second.name) == ("escape.ics", "escape-2.ics")
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert first.parent == second.parent == tmp_path / "out"


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
    assert "I am introducing #1 now" in out
    assert "Ana introduces you to each other (#1)." in out  # delivered through the outbox by the embedded worker


def test_two_people_are_introduced_and_write_through_the_relay(tmp_path: Path) -> None:
    """Bob and Ana, each at their own terminal: suggestion, both accept, each reads who the other is
    and how to answer, messages pass both ways once and in order, and /close ends it."""
    database = tmp_path / "peerlink.db"
    bob, ana = "Bob@Dublin City Council", "Ana@Bilbao City Council"
    outputs = [
        peerlink(
            database,
            bob,
            "/offer\nSocial clauses in catering tenders\n"
            "We reserved catering contracts for work-integration social enterprises with social clauses.\n"
            "done\nsave\n/contact bob@dublincity.ie\n",
        ),
        peerlink(
            database,
            ana,
            "/need\nSocial clauses for public tenders\n"
            "We want to reserve public tenders for social enterprises using social clauses.\n"
            "done\nsave\n/accept 1\n",
        ),
        peerlink(database, bob, "/matches\n/accept 1\n"),
        peerlink(database, ana, "/reply 1 Hello Bob <b>&</b> team!\n/reply 1 Second line\n"),
        peerlink(database, bob, "/reply 1 Hola Ana\n/close 1\n"),
        peerlink(database, ana, "/reply 1 Still there?\n"),
    ]
    everything = "".join(outputs)
    assert "Saved: peers will reach you through bob@dublincity.ie." in outputs[0]
    assert outputs[2].index("“Social clauses for public tenders”") < outputs[2].index("introducing you now")
    how = "write /reply 1 followed by your message and I pass it on (/close 1 ends the conversation)"
    assert f"Meet Ana (Bilbao City Council). How to reach them: through Peerlink: {how}" in everything
    assert "Meet Bob (Dublin City Council). How to reach them: bob@dublincity.ie" in everything
    first = "Ana (Bilbao City Council) writes about #1:\nHello Bob <b>&</b> team!"
    second = "Ana (Bilbao City Council) writes about #1:\nSecond line"
    assert everything.count(first) == 1
    assert everything.count(second) == 1
    assert everything.index(first) < everything.index(second)
    assert everything.count("Bob (Dublin City Council) writes about #1:\nHola Ana") == 1
    assert "Closed the conversation about #1" in outputs[4]
    assert "The other side closed the conversation about #1" in everything
    assert "The conversation about #1 is closed." in outputs[5]


def test_end_of_input_keeps_the_draft_and_says_so(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    result = peerlink_process(database, "Ana@Bilbao City Council", "/offer\nSocial clauses in tenders\n")
    assert result.stdout.rstrip().endswith(
        "Bye! Your draft is kept: run peerlink console again to carry on where you left off."
    )
    assert result.stderr == ""  # no log line, no scheduler error, even for a session this short
    finished = peerlink_process(database, "Ana@Bilbao City Council", "/mine\n/quit\n/mine\n")
    assert finished.stdout.rstrip().endswith("Bye! Run peerlink console to come back.")
    assert finished.stdout.count("You have no offers or needs yet") <= 1  # nothing after /quit


def test_the_farewell_is_in_the_members_language(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    out = peerlink(database, "Giulia@Città di Torino", "/language it\n/need\nGestione condivisa\n")
    assert out.rstrip().endswith(
        "Ciao! La tua bozza resta salvata: avvia di nuovo peerlink console per riprendere da dove eri rimasto."
    )


def test_a_script_runs_to_its_end_whatever_it_holds(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    script = "/offer\n\udcff\udcfe\n\x1b[A\x1b[D\n/edit 99999999999999999999\n/withdraw ²\n/cancel\n/mine\n"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "console"],
        input=script.encode("utf-8", "surrogateescape"),  # bytes that are not UTF-8 at all
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr.decode("utf-8", "replace")
    assert "You have no offers or needs yet" in out  # the last line was still answered
    assert out.rstrip().endswith("Bye! Run peerlink console to come back.")


def test_the_console_is_the_community_channel(tmp_path: Path) -> None:
    """`/peer channel here` in the terminal: the digest and meeting posts are printed there."""
    database = tmp_path / "peerlink.db"
    out = peerlink(
        database,
        "Fiona@Dublin City Council",
        "/offer\nHalf-finished\n/peer channel here\n/peer digest now\n",
    )
    assert "Done: this channel now receives the digests and reminders" in out
    assert translator("en").n("schedules.digest_planned", 1) in out
    assert "\n[community] No new peer suggestions this week." in out
    # typed in the channel, the /peer commands left the offer under way in the private chat alone
    assert out.rstrip().endswith("Bye! Your draft is kept: run peerlink console again to carry on where you left off.")


def test_files_are_written_to_the_folder_and_their_paths_printed(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    script = "/peer meeting new 2031-03-04 10:00 Europe/Dublin Kick-off\n/ics 1\n/peer export\n/peer export\n"
    result = peerlink_process(database, "Fiona@Dublin City Council", script, "--files", "exports")
    folder = tmp_path / "exports"
    printed = [line.strip().removeprefix("📎 ") for line in result.stdout.splitlines() if "📎" in line]
    assert sorted(printed) == sorted(str(Path("exports") / path.name) for path in folder.iterdir())
    assert sum(path.endswith(".csv") for path in printed) == 2  # the second export did not overwrite the first
    assert any(path.endswith(".ics") for path in printed)  # /ics 1 (and the meeting's post in the channel)
    ics = (tmp_path / next(path for path in printed if path.endswith(".ics"))).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in ics
    assert "Kick-off" in ics
    default = peerlink_process(database, "Fiona@Dublin City Council", "/peer export\n")
    [csv_file] = (tmp_path / "peerlink-files").iterdir()
    assert f"📎 {Path('peerlink-files') / csv_file.name}" in default.stdout


def test_ctrl_c_in_a_piped_session_keeps_the_draft(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'peerlink.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("/offer\nSocial clauses in tenders\n")
        process.stdin.flush()
        while "describe your offer" not in (line := process.stdout.readline()):
            assert line, "the console ended before answering"
        process.send_signal(signal.SIGINT)  # Ctrl-C, while it waits for the next line
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("Bye! Your draft is kept: run peerlink console again to carry on where you left off.")
    assert "Aborted" not in out + err
    assert "Traceback" not in err


def test_a_round_posted_from_the_console_is_printed_in_it(tmp_path: Path) -> None:
    database = tmp_path / "peerlink.db"
    result = peerlink_process(database, "Fiona@Dublin City Council", "/peer channel here\n/peer match post\n", "--demo")
    posted = result.stdout[result.stdout.index("\n[community] ") :]
    assert "peer suggestions" in posted
    assert "[/accept " in posted
