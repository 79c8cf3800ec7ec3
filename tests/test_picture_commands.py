"""`/peer map`: the application answers with a PNG and Telegram's real PTB Application sends it
with sendPhoto to the stand-in; members are refused; bad input gets the usage. (Slack:
test_picture_slack.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from bot.config import Settings
from bot.demo import load_demo
from bot.deps import Deps
from bot.i18n import translator
from bot.picture.png import PNG_SIGNATURE, png_size
from bot.ports import Address, Attachment, Incoming, Reply, Sender
from bot.runtime.cli import cli
from bot.runtime.compose import build_deps
from handlers.application.conversation import Conversations
from handlers.telegram.send import is_photo
from storage.db import transaction
from storage.models import Match, MatchStatus
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, polling_bot, say, until

EN = translator("en")
GROUP = -100777


def _demo(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        load_demo(session, deps.encoder)


def _ask(deps: Deps, text: str, *, facilitator: bool = True) -> list[Reply]:
    sender = Sender(
        platform="console", workspace="local", user_id="ana", display_name="Ana", is_platform_admin=facilitator
    )
    chat = Address(platform="console", workspace="local", chat="ana")
    return Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text))


def _is_png(data: bytes) -> bool:
    width, height = png_size(data)
    return data.startswith(PNG_SIGNATURE) and width >= 1000 and height >= 800


def test_peer_map_answers_with_a_png(deps: Deps) -> None:
    _demo(deps)
    [reply] = _ask(deps, "/peer map")
    assert reply.attachment is not None
    assert reply.attachment.mime_type == "image/png"
    assert reply.attachment.filename == "peerlink-map-20260302-0900.png"
    assert _is_png(reply.attachment.content)
    assert reply.text == EN.t("picture.map_ready", community="Peerlink")
    [grouped] = _ask(deps, "/peer map groups")
    assert grouped.attachment is not None
    assert grouped.text == EN.t("picture.map_ready_groups", community="Peerlink")


def test_peer_map_is_polite_about_bad_input_empty_partnerships_and_members(deps: Deps) -> None:
    assert [r.text for r in _ask(deps, "/peer map")] == [EN.t("picture.map_empty")]
    _demo(deps)
    assert [r.text for r in _ask(deps, "/peer map <script>")] == [EN.t("picture.map_usage")]
    refused = _ask(deps, "/peer map", facilitator=False)
    assert [r.text for r in refused] == [EN.t("core.peer_refused")]
    assert refused[0].attachment is None


# --- Telegram: the real PTB Application against the stand-in ----------------------------------------


@pytest.fixture
async def telegram(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


async def test_telegram_sends_the_map_as_a_photo(telegram: Deps, standin: StandIn) -> None:
    _demo(telegram)
    standin.set_status(GROUP, 43, "administrator")
    [text] = await say(standin, "/peer map", user=43, chat=GROUP)
    assert text == EN.t("picture.map_ready", community="Peerlink")
    await until(lambda: bool(standin.calls("sendPhoto")), what="sendPhoto", standin=standin)
    photo = standin.calls("sendPhoto")[0].params
    assert photo["chat_id"] == str(GROUP)
    assert photo["_ok"]
    assert _is_png(photo["_photo_bytes"])
    assert not standin.calls("sendDocument")


async def test_the_telegram_notifier_sends_images_as_photos(telegram: Deps, standin: StandIn) -> None:
    _demo(telegram)
    [reply] = _ask(telegram, "/peer map")
    await telegram.notifiers["telegram"].send(Address("telegram", "1", "42"), reply)
    assert _is_png(standin.calls("sendPhoto")[-1].params["_photo_bytes"])


def test_only_images_within_telegrams_photo_limits_go_as_photos() -> None:
    png = PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + (4000).to_bytes(4, "big") + (100).to_bytes(4, "big") + b"\x00" * 8
    assert not is_photo(Attachment("strip.png", png, "image/png"))  # a 40:1 strip: a document
    square = png[:16] + (1000).to_bytes(4, "big") + (900).to_bytes(4, "big") + png[24:]
    assert is_photo(Attachment("map.png", square, "image/png"))
    assert not is_photo(Attachment("map.png", b"not a png", "image/png"))
    assert not is_photo(Attachment("posts.csv", b"a,b\n", "text/csv"))


# --- the console and the command line ---------------------------------------------------------------


def test_the_console_writes_the_map_to_a_folder_and_prints_its_path(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlink.db'}", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "console", "--demo", "--as", "Ana@Dublin City Council"],
        input="/peer map\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [written] = (tmp_path / "peerlink-files").iterdir()
    assert f"📎 {Path('peerlink-files') / written.name}" in result.stdout
    assert written.suffix == ".png"
    assert _is_png(written.read_bytes())


def test_peerlink_map_writes_a_png(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    runner = CliRunner()
    out = tmp_path / "new folder" / "map.png"
    empty = runner.invoke(cli, ["map", "--out", str(out)], obj={})
    assert empty.exit_code == 1
    assert EN.t("picture.map_empty") in empty.stderr
    assert not out.exists()
    assert runner.invoke(cli, ["demo"], obj={}).exit_code == 0
    result = runner.invoke(cli, ["map", "--out", str(out), "--by", "group", "--language", "pt"], obj={})
    assert result.exit_code == 0, result.output
    assert result.stdout == translator("pt").t("picture.cli_written", path=out) + "\n"
    assert _is_png(out.read_bytes())


# --- /peer stats: the numbers and the funnel chart -----------------------------------------------------


def _round_with_progress(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        deps.matcher.record_round(session, deps.matcher.run_round(session, 1))
        matches = session.exec(select(Match).order_by(col(Match.id))).all()
        moved = (MatchStatus.met, MatchStatus.not_useful, MatchStatus.accepted)
        for match, status in zip(matches, moved, strict=False):
            match.status = status
            match.introduced_at = None if status == MatchStatus.accepted else deps.clock.now()
            session.add(match)


def test_peer_stats_adds_the_funnel_chart_to_the_numbers(deps: Deps) -> None:
    assert [r.attachment for r in _ask(deps, "/peer stats")] == [None]  # no round: no chart either
    _demo(deps)
    _round_with_progress(deps)
    [reply] = _ask(deps, "/peer stats")
    assert reply.text.startswith(EN.t("schedules.stats_header"))
    assert "→ 3 → 2 → 2 → 1" in reply.text
    assert reply.attachment is not None
    assert reply.attachment.filename == "peerlink-funnel-20260302-0900.png"
    width, height = png_size(reply.attachment.content)
    assert (width, height) == (1100, 616)


async def test_telegram_sends_the_stats_with_the_funnel_photo(telegram: Deps, standin: StandIn) -> None:
    _demo(telegram)
    _round_with_progress(telegram)
    standin.set_status(GROUP, 43, "administrator")
    [text] = await say(standin, "/peer stats", user=43, chat=GROUP)
    assert "→ 3 → 2 → 2 → 1" in text
    await until(lambda: bool(standin.calls("sendPhoto")), what="sendPhoto", standin=standin)
    assert png_size(standin.calls("sendPhoto")[0].params["_photo_bytes"]) == (1100, 616)


async def test_telegram_sends_the_report_as_a_document(telegram: Deps, standin: StandIn) -> None:
    _demo(telegram)
    standin.set_status(GROUP, 43, "administrator")
    [text] = await say(standin, "/peer report", user=43, chat=GROUP)
    assert text == EN.t("picture.report_ready", community="Peerlink")
    await until(lambda: bool(standin.calls("sendDocument")), what="sendDocument", standin=standin)
    document = standin.calls("sendDocument")[0].params
    assert document["_filename"].endswith(".html")
    assert document["_document_bytes"].startswith(b"<!DOCTYPE html>")
    assert not standin.calls("sendPhoto")


def test_the_chat_and_the_command_line_draw_the_same_map(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], obj={}).exit_code == 0
    out = tmp_path / "map.png"
    assert runner.invoke(cli, ["map", "--out", str(out)], obj={}).exit_code == 0
    deps = build_deps(Settings(_env_file=None, database_url=sqlite_url), clock=FakeClock(), migrate=False)  # type: ignore[call-arg]
    [reply] = _ask(deps, "/peer map")
    deps.engine.dispose()
    assert reply.attachment is not None
    assert reply.attachment.content == out.read_bytes()


def test_help_and_peer_help_list_the_same_facilitator_commands_the_map_and_report_among_them(deps: Deps) -> None:
    [peer_help] = _ask(deps, "/peer help")
    [help_text] = _ask(deps, "/help")
    assert peer_help.text in help_text.text  # one list, two ways to ask for it
    assert "/peer map" in peer_help.text
    assert "/peer report" in peer_help.text
