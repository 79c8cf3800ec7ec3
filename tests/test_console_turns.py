"""The console adapter in-process: the topic list after a toggle, the welcome and /help, and what
happens when a file cannot be written or the database fails under a turn."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.deps import Deps
from bot.i18n import translator
from bot.ports import Address, Attachment, DeliveryError, Reply
from bot.topics import TOPICS
from handlers.console import Console, ConsoleNotifier, Files, Screen, console_sender

DESCRIPTION = (
    "We reserved catering contracts for work-integration social enterprises and wrote social clauses "
    "into the public tender; we can share the templates and what we learned."
)


def topic_lines(reply: str) -> list[str]:
    return [line for line in reply.splitlines() if line[:2] in {"✓ ", "· "}]


def test_a_toggle_shows_what_changed_and_the_list_comes_on_request(deps: Deps, tmp_path: Path) -> None:
    ana = Console(deps, console_sender("Ana@Bilbao City Council"), Files(tmp_path))
    ana.say("/offer")
    ana.say("Social clauses in public tenders")
    [first] = ana.say(DESCRIPTION)
    assert len(topic_lines(first)) == len(TOPICS) == 24
    [toggled] = ana.say("19 24")
    assert topic_lines(toggled) == ["✓ 19. Youth", "✓ 24. Energy and climate"]
    assert "Public procurement, Food, Youth, Energy and climate. Toggle more" in toggled  # detected ones stay
    [again] = ana.say("Youth")
    assert topic_lines(again) == ["· 19. Youth"]
    [listed] = ana.say("list")
    assert len(topic_lines(listed)) == 24
    assert "✓ 24. Energy and climate" in listed
    apology, whole = ana.say("Astronomy")
    assert apology.startswith("I don't know the topic “Astronomy”")
    assert len(topic_lines(whole)) == 24  # nothing changed: the whole list helps


def test_facilitator_commands_are_one_step_away(deps: Deps, tmp_path: Path) -> None:
    owner = Console(deps, console_sender("Ana@Bilbao City Council"), Files(tmp_path))
    [welcome] = owner.say("/start")
    assert "/offer" in welcome
    assert welcome.endswith("You facilitate this partnership: /peer help lists your commands.")
    assert "/peer match preview" not in welcome
    assert "/peer match preview" in owner.say("/help")[0]
    member = Console(deps, replace(console_sender("Bo@Dublin"), is_platform_admin=False), Files(tmp_path))
    [welcome] = member.say("/start")
    [help_text] = member.say("/help")
    assert "/peer" not in welcome + help_text


def test_a_file_that_cannot_be_written_is_said_politely(deps: Deps, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    fiona = Console(deps, console_sender("Fiona@Dublin City Council"), Files(blocked))
    [reply] = fiona.say("/peer export")
    assert reply.startswith(translator("en").n("core.export_ready", 0))
    assert "I could not write peerlink-posts-" in reply
    assert f"in {blocked}: " in reply


def test_a_failing_database_gets_an_apology_and_the_session_goes_on(deps: Deps, tmp_path: Path) -> None:
    ana = Console(deps, console_sender("Ana@Bilbao City Council"), Files(tmp_path))
    ana.say("/start")
    with deps.engine.begin() as connection:
        connection.execute(text("DROP TABLE conversationstate"))
    assert ana.say("/offer") == [
        "Sorry, something went wrong with that message on my side; nothing of it was saved. Please go on."
    ]
    assert ana.farewell() == "Bye! Run peerlink console to come back."


def test_the_notifier_writes_files_or_leaves_the_message_in_the_outbox(tmp_path: Path) -> None:
    out = io.StringIO()
    to = Address(platform="console", workspace="local", chat="community")
    message = Reply(text="Meeting", attachment=Attachment("meeting-1.ics", b"BEGIN:VCALENDAR", "text/calendar"))
    asyncio.run(ConsoleNotifier(Screen(out), Files(tmp_path / "files")).send(to, message))
    assert (tmp_path / "files" / "meeting-1.ics").read_bytes() == b"BEGIN:VCALENDAR"
    assert out.getvalue() == f"\n[community] Meeting\n  📎 {tmp_path / 'files' / 'meeting-1.ics'}\n"
    (tmp_path / "blocked").write_text("", encoding="utf-8")
    with pytest.raises(DeliveryError):
        asyncio.run(ConsoleNotifier(Screen(out), Files(tmp_path / "blocked")).send(to, message))
