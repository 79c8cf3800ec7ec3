"""Numbers people type: one parser (ASCII digits, bounded) behind every command, a kind reply for
anything else, and a console that keeps going whatever was typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.deps import Deps
from bot.i18n import translator
from bot.meeting_time import example_day
from bot.numbers import NUMBER_MAX, parse_number
from handlers.console import Console, console_sender

EN = translator("en")


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("#12", 12), (" 7 ", 7), (str(NUMBER_MAX), NUMBER_MAX)])
def test_digits_are_numbers(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "#",
        "²",
        "٣",
        "\uff11\uff12",
        "-1",
        "0",
        "+3",
        "1e3",
        "1.5",
        "12a",
        "99999999999999999999",
        str(NUMBER_MAX + 1),
    ],
)
def test_anything_else_is_not(text: str) -> None:
    assert parse_number(text) is None


def test_bounds_are_the_callers() -> None:
    assert parse_number("24", maximum=24) == 24
    assert parse_number("25", maximum=24) is None
    assert parse_number("1", minimum=2) is None


# Every command that takes a number, with what it must answer when the number is not one.
BAD_NUMBERS = [
    ("/edit 99999999999999999999", EN.t("core.edit_usage")),
    ("/edit ²", EN.t("core.edit_usage")),
    ("/withdraw ²", EN.t("core.withdraw_usage")),
    ("/withdraw #99999999999", EN.t("core.withdraw_usage")),
    ("/accept ²", EN.t("core.match_usage")),
    ("/decline ٣", EN.t("core.match_usage")),
    ("/rsvp ² yes", EN.t("schedules.rsvp_usage")),
    ("/ics 99999999999", EN.t("schedules.ics_usage")),
    ("/met ² yes", EN.t("schedules.met_usage")),
    ("/renew ²", EN.t("schedules.renew_usage")),
    ("/block 99999999999999999999", EN.t("schedules.block_usage")),
    ("/peer introduce ²", EN.t("core.introduce_usage")),
    ("/peer meeting cancel ²", EN.t("schedules.meeting_usage")),
    ("/peer meeting move 99999999999 2030-01-01 10:00", EN.t("schedules.meeting_usage")),
    ("/peer groups ²-6", EN.t("core.groups_usage")),
    ("/peer groups 3-99999999999", EN.t("core.groups_usage")),
]


@pytest.mark.parametrize(("text", "expected"), BAD_NUMBERS)
def test_every_command_answers_a_bad_number_kindly(deps: Deps, text: str, expected: str) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))  # the console's user facilitates
    assert ana.say(text) == [expected]


def test_a_meeting_time_in_other_digits_is_not_a_time(deps: Deps) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    example = f"{example_day(deps.clock.now().date())} 16:00"
    typed = "/peer meeting new 2030-01-01 \u0661\u0660:\u0660\u0660 Title"
    assert ana.say(typed) == [EN.t("schedules.error_form", example=example)]


def test_a_pause_until_a_non_number_gets_examples_ahead(deps: Deps) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    example = example_day(deps.clock.now().date())
    assert ana.say("/pause until ²") == [EN.t("schedules.error_pause_day", text="until ²", example=example)]


def test_a_topic_number_beyond_the_list_is_an_unknown_topic(deps: Deps) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    ana.say("/offer Social clauses in public tenders")
    ana.say("We wrote social clauses into our tenders and can share the templates.")
    for token in ("²", "99", "99999999999999999999"):
        unknown, topics = ana.say(token)
        assert unknown == EN.t("core.error_unknown_topic", text=token)
        assert "1. Public procurement" in topics  # the list again; the conversation goes on
    assert "Title: Social clauses in public tenders" in ana.say("done")[0]


def test_a_piped_console_session_keeps_going_after_bad_numbers(tmp_path: Path) -> None:
    script = "\n".join(["/edit 99999999999999999999", "/withdraw ²", "/accept ²", "/mine"]) + "\n"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlink.db'}", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "console", "--as", "Ana Ruiz@Bilbao City Council"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for expected in (EN.t("core.edit_usage"), EN.t("core.withdraw_usage"), EN.t("core.match_usage")):
        assert expected in result.stdout
    lines = result.stdout.rstrip().splitlines()
    assert lines[-2:] == [EN.t("core.mine_empty"), EN.t("console.goodbye")]  # the line after them still ran


def test_a_refused_command_changes_nothing_not_even_the_conversation(deps: Deps) -> None:
    """A command interrupts a conversation (parking its draft); when the command is refused, the
    whole request is undone, so the conversation simply goes on."""
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    ana.say("/offer Social clauses in public tenders")
    assert ana.say("/withdraw ²") == [EN.t("core.withdraw_usage")]  # no "your draft is kept" note
    topics = ana.say("We wrote social clauses into our tenders and can share the templates.")
    assert "1. Public procurement" in topics[-1]  # still the same offer, at the next step
