"""A person creates at most POSTS_PER_HOUR offers and needs in any hour, whichever way they save
them (the conversation on the console or Telegram, the Slack modal in test_slack_post_budget.py):
one rule, in `bot.posts`.
Beyond it they are told kindly, in their language, when they may save again, and nothing they
typed is lost: the draft waits at its summary, and Save keeps it once the hour allows."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.compose import build_deps
from handlers.console import Console, console_sender
from handlers.telegram.application import application_of
from storage.models import Post
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, polling, say, settings_for

EN = translator("en")
DESCRIPTION = "We wrote social clauses into our public tenders and can share the templates."


def titles(deps: Deps) -> list[str]:
    with deps.sessions() as session:
        return [post.title for post in session.exec(select(Post).order_by(Post.id)).all()]  # type: ignore[arg-type]


# --- the conversation, on the console -------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, posts_per_hour=2)  # type: ignore[call-arg]


def draft_offer(ana: Console, title: str) -> None:
    """An offer up to its summary, not yet saved."""
    ana.say(f"/offer {title}")
    ana.say(DESCRIPTION)
    assert "Title: " + title in "\n".join(ana.say("done"))


def test_the_hourly_budget_keeps_the_draft_until_the_hour_allows(deps: Deps, clock: FakeClock) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    draft_offer(ana, "Social clauses")
    assert "Saved your offer" in "\n".join(ana.say("save"))
    clock.advance(minutes=10)
    draft_offer(ana, "Green canteens")
    assert "Saved your offer" in "\n".join(ana.say("save"))
    clock.advance(minutes=10)
    draft_offer(ana, "Bike lanes")
    assert ana.say("save") == [EN.t("core.error_post_budget", count=40, limit=2)]  # the first leaves the hour in 40
    assert titles(deps) == ["Social clauses", "Green canteens"]
    clock.advance(minutes=39)
    assert ana.say("save") == [EN.t("core.error_post_budget", count=1, limit=2)]
    clock.advance(minutes=1)
    assert "Saved your offer" in "\n".join(ana.say("save"))  # the same draft, kept all along
    assert titles(deps) == ["Social clauses", "Green canteens", "Bike lanes"]


def test_editing_a_post_is_not_creating_one(deps: Deps) -> None:
    ana = Console(deps, console_sender("Ana Ruiz@Bilbao City Council"))
    for title in ("Social clauses", "Green canteens"):
        draft_offer(ana, title)
        ana.say("save")
    with deps.sessions() as session:
        first = session.exec(select(Post).order_by(Post.id)).first()  # type: ignore[arg-type]
        assert first is not None
    ana.say(f"/edit {first.id}")
    ana.say("edit title")
    ana.say("Social clauses in tenders")
    assert "Updated your offer" in "\n".join(ana.say("save"))
    assert titles(deps) == ["Social clauses in tenders", "Green canteens"]


# --- the conversation, through Telegram ------------------------------------------------------------


@pytest.fixture
async def bot(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    deps = build_deps(settings_for(sqlite_url, standin, posts_per_hour=1), clock=clock, migrate=False)
    async with polling(deps, standin):
        yield deps
    await application_of(deps).shutdown()
    deps.engine.dispose()


async def test_telegram_is_told_in_its_language_and_saves_later(bot: Deps, standin: StandIn, clock: FakeClock) -> None:
    es = translator("es")

    async def write(text: str, expect: str) -> None:
        await say(standin, text, language="es", expect=html.escape(expect))

    async def up_to_summary(title: str) -> None:
        await write(f"/offer {title}", es.t("core.ask_description_offer"))
        await write(DESCRIPTION, es.t("core.ask_topics"))
        await write("listo", es.t("core.summary_hint"))

    await write("/offer", es.t("core.ask_organisation"))
    await write("Ayuntamiento de Bilbao", es.t("core.ask_title_offer"))
    await write("/cancel", es.t("core.cancelled"))
    await up_to_summary("Cláusulas sociales")
    contact_question = es.t("people.contact_ask", current=es.t("people.contact_none"))
    await write("guardar", contact_question.split("\n")[0])  # the last answer to a first post

    clock.advance(minutes=15)
    await up_to_summary("Comedores verdes")
    await write("guardar", es.t("core.error_post_budget", count=45, limit=1))
    assert titles(bot) == ["Cláusulas sociales"]

    clock.advance(minutes=45)
    await write("guardar", es.t("core.suggestions_none"))  # the same draft, kept at its summary
    assert titles(bot) == ["Cláusulas sociales", "Comedores verdes"]
