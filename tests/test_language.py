"""Languages as people meet them: greetings and command words in any of the seven, `/language` by
code or name, `/pause` in plain words, and one rule for a member's language on every path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from click.testing import CliRunner
from sqlmodel import select

from bot.config import SUPPORTED_LANGUAGES
from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import language_choices, language_name, translator
from bot.meeting_time import parse_pause_day, parse_when
from bot.ports import Address, Incoming, Sender
from bot.readers import member_reader
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from storage.models import Identity, Member
from tests.conftest import FakeClock


def say(deps: Deps, text: str, *, who: str = "ana", locale: str | None = None, private: bool = True) -> list[str]:
    """What a console member (with the platform locale given, if any) is answered."""
    sender = Sender(
        platform="console",
        workspace="local",
        user_id=who,
        display_name=who.title(),
        organisation="Bilbao City Council",
        locale=locale,
        is_platform_admin=True,
    )
    chat = Address(platform="console", workspace="local", chat=who if private else "group")
    incoming = Incoming(sender=sender, chat=chat, text=text, is_private=private)
    return [reply.text for reply in Conversations(deps).handle(incoming)]


def member(deps: Deps, who: str = "ana") -> Member:
    with deps.sessions() as session:
        identity = session.exec(select(Identity).where(Identity.user_id == who)).one()
        found = session.get(Member, identity.member_id)
        assert found is not None
        return found


def welcome(language: str, name: str = "Ana") -> str:
    return translator(language).t("core.welcome", name=name)


@pytest.mark.parametrize(
    ("greeting", "language"),
    [
        ("hola", "es"),
        ("Hallo", "nl"),
        ("bonjour", "fr"),
        ("cześć", "pl"),
        ("olá", "pt"),
        ("ciao", "it"),
        ("hoi", "nl"),
        ("Buenos días!", "es"),
        ("Dzień dobry", "pl"),
    ],
)
def test_a_greeting_is_answered_in_its_language(deps: Deps, greeting: str, language: str) -> None:
    first, *rest = say(deps, greeting)
    assert first.startswith(welcome(language))
    assert translator(language).t("core.help") in first
    # a newcomer who never told us their language is written to in it from now on, and told so
    assert rest == [translator(language).t("core.language_set", language=language_name(language))]
    assert member(deps).language == language
    assert say(deps, "/help")[0].startswith(translator(language).t("core.help"))


def test_a_greeting_in_the_communitys_language_pins_nothing(deps: Deps) -> None:
    assert say(deps, "hello") == [say(deps, "/start")[0]]
    assert member(deps).language is None


def test_a_chosen_language_is_kept_when_someone_greets_in_another(deps: Deps) -> None:
    say(deps, "/language fr")
    [hola] = say(deps, "hola")
    assert hola.startswith(welcome("es"))
    assert member(deps).language == "fr"
    assert say(deps, "/help")[0].startswith(translator("fr").t("core.help"))


def test_a_platform_locale_is_kept_when_someone_greets_in_another(deps: Deps) -> None:
    [ciao] = say(deps, "ciao", locale="pt-BR")
    assert ciao.startswith(welcome("it"))
    assert member(deps).language is None
    assert say(deps, "/help", locale="pt-BR")[0].startswith(translator("pt").t("core.help"))


@pytest.mark.parametrize(
    ("word", "language", "key"),
    [
        ("ayuda", "es", "core.help"),
        ("pomoc", "pl", "core.help"),
        ("Aide", "fr", "core.help"),
        ("ofrecer", "es", "core.ask_title_offer"),
        ("necesito", "es", "core.ask_title_need"),
        ("besoin", "fr", "core.ask_title_need"),
        ("aanbieden", "nl", "core.ask_title_offer"),
        ("moje", "pl", "core.mine_empty"),
    ],
)
def test_command_words_work_in_any_language(deps: Deps, word: str, language: str, key: str) -> None:
    say(deps, "/language en")
    assert say(deps, word)[0].startswith(translator(language).t(key))


def test_a_word_of_two_languages_is_answered_in_the_readers_own(deps: Deps) -> None:
    """ "help" is English and Dutch: a Dutch reader gets Dutch, nobody's choice changes."""
    say(deps, "/language nl", who="daan")
    assert say(deps, "help", who="daan")[0].startswith(translator("nl").t("core.help"))
    assert say(deps, "help", who="emma")[0].startswith(translator("en").t("core.help"))
    assert member(deps, "emma").language is None


def test_words_are_not_commands_in_a_group_chat(deps: Deps) -> None:
    assert say(deps, "hola", private=False) == [translator("en").t("core.not_understood")]


def test_unknown_text_is_answered_in_the_persons_language(deps: Deps) -> None:
    say(deps, "/language pl")
    assert say(deps, "qwerty zxcv") == [translator("pl").t("core.not_understood")]
    # someone who never told us: the language of what they wrote, when it is long enough to tell
    spanish = "¿dónde puedo encontrar el horario de la biblioteca municipal esta semana?"
    assert say(deps, spanish, who="bea") == [translator("es").t("core.not_understood")]
    assert say(deps, "zzz", who="bea") == [translator("en").t("core.not_understood")]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("es", "es"),
        ("español", "es"),
        ("Espanol", "es"),
        ("Spanish", "es"),
        ("hiszpański", "es"),
        ("polski", "pl"),
        ("Polish", "pl"),
        ("pt-BR", "pt"),
        ("néerlandais", "nl"),
        ("Nederlands", "nl"),
        ("italiano", "it"),
        ("French", "fr"),
    ],
)
def test_language_takes_codes_and_names_in_any_language(deps: Deps, name: str, code: str) -> None:
    assert say(deps, f"/language {name}") == [translator(code).t("core.language_set", language=language_name(code))]
    assert member(deps).language == code


@pytest.mark.parametrize("unknown", ["Deutsch", "xx", "de", "klingon"])
def test_an_unknown_language_is_an_error_listing_the_choices(deps: Deps, unknown: str) -> None:
    say(deps, "/language it")
    [reply] = say(deps, f"/language {unknown}")
    assert reply == translator("it").t("core.language_unknown", language="Italiano", options=language_choices())
    assert all(f"{code} ({language_name(code)})" in reply for code in SUPPORTED_LANGUAGES)
    assert member(deps).language == "it"


def test_reply_and_outbox_agree_on_a_members_language(deps: Deps) -> None:
    """The reply path (`Who.language`) and the outbox path (`member_reader`) ask one rule."""
    say(deps, "/help", locale="pt-BR")
    ana = member(deps)
    assert ana.id is not None
    with deps.sessions() as session:
        reader = member_reader(session, ana.id)
        assert reader is not None
        assert reader.language == "pt"
    say(deps, "/language polski", locale="pt-BR")
    with deps.sessions() as session:
        reader = member_reader(session, ana.id)
        assert reader is not None
        assert reader.language == "pl"
    assert say(deps, "/help", locale="pt-BR")[0].startswith(translator("pl").t("core.help"))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_need_conversation_asks_about_the_need(deps: Deps, language: str) -> None:
    say(deps, f"/language {language}")
    say(deps, "/need")
    [prompt] = say(deps, "Social clauses in public tenders")
    tr = translator(language)
    assert prompt == tr.t("core.ask_description_need")
    assert prompt != tr.t("core.ask_description_offer")


def test_plural_forms_reach_the_reader(deps: Deps) -> None:
    say(deps, "/language pl")
    [created] = say(deps, "/peer meeting new 2026-05-14 16:00 Spotkanie")
    assert "Ogłoszone w 0 kanałach;" in created
    say(deps, "/language en")
    [created] = say(deps, "/peer meeting new 2026-05-15 16:00 Meeting")
    assert "Announced in 0 channels;" in created


# --- /pause in plain words ----------------------------------------------------------------------

MONDAY = date(2026, 3, 2)  # the FakeClock's day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("until tomorrow", date(2026, 3, 3)),
        ("mañana", date(2026, 3, 3)),
        ("jusqu'au demain", date(2026, 3, 3)),
        ("jutro", date(2026, 3, 3)),
        ("friday", date(2026, 3, 6)),
        ("hasta el viernes", date(2026, 3, 6)),
        ("piątek", date(2026, 3, 6)),
        ("sexta", date(2026, 3, 6)),
        ("monday", date(2026, 3, 9)),  # the next one: today is Monday
        ("in 2 weeks", date(2026, 3, 16)),
        ("en 3 días", date(2026, 3, 5)),
        ("za 2 tygodnie", date(2026, 3, 16)),
        ("over 10 dagen", date(2026, 3, 12)),
        ("until 2026-04-01", date(2026, 4, 1)),
        ("fino al 2026-4-1", date(2026, 4, 1)),
    ],
)
def test_pause_days_in_plain_words(text: str, day: date) -> None:
    assert parse_pause_day(text, today=MONDAY) == day


@pytest.mark.parametrize("text", ["someday", "2026-02-30", "in ² weeks", "in 99999 weeks", "in 2 fortnights", ""])
def test_pause_days_that_are_no_day(text: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_pause_day(text, today=MONDAY)
    assert refused.value.key == "schedules.error_pause_day"
    assert refused.value.values["example"] == "2026-03-16"  # a date ahead, never one already past


def test_pause_until_tomorrow(deps: Deps, clock: FakeClock) -> None:
    say(deps, "/language es")
    [paused] = say(deps, "/pause hasta mañana")
    tuesday = format_date(date(2026, 3, 3), "full", locale="es")
    assert paused == translator("es").t("schedules.paused", date=tuesday)
    assert member(deps).paused_until == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def test_pause_refuses_kindly(deps: Deps) -> None:
    tr = translator("en")
    assert say(deps, "/pause") == [tr.t("schedules.pause_usage", example="2026-03-16")]
    assert say(deps, "/pause until someday") == [
        tr.t("schedules.error_pause_day", text="until someday", example="2026-03-16")
    ]
    assert say(deps, "/pause until 2026-03-01") == [tr.t("schedules.error_pause_past", date="2026-03-01")]
    assert member(deps).paused_until is None


# --- the command line ----------------------------------------------------------------------------


def test_match_language_must_be_known(database_url: str) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "DEFAULT_LANGUAGE": "en"}
    refused = runner.invoke(cli, ["match", "--language", "xx"], obj={}, env=env)
    assert refused.exit_code == 2
    assert "“xx” is not a language Peerlink writes in" in refused.output
    assert language_choices() in " ".join(refused.output.split())
    spanish = runner.invoke(cli, ["match", "--language", "español"], obj={}, env=env)
    assert spanish.exit_code == 0, spanish.output
    assert spanish.output.startswith(translator("es").n("matching.round_suggestions", 0))


def test_meeting_errors_give_an_example_ahead(clock: FakeClock) -> None:
    """The examples used to be a fixed date that has since passed."""
    with pytest.raises(UserError) as refused:
        parse_when("tomorrow at ten", default_zone=ZoneInfo("Europe/Madrid"), now=clock.now())
    assert refused.value.values["example"] == "2026-03-16 16:00"
    with pytest.raises(UserError) as refused:
        parse_when("2026-02-30 10:00 Call", default_zone=ZoneInfo("UTC"), now=clock.now())
    assert refused.value.values["example"] == "2026-03-16 16:00"
