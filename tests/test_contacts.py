"""Each person chooses how peers may reach them (`/contact`), asked once after their first post;
`contact_of` hands it over as a neutral value; `/mydata` shows it and `/forgetme` erases it."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.contacts import Contact, ContactKind, contact_of
from bot.deps import Deps
from bot.i18n import translator
from handlers.console import Console, console_sender
from storage.models import Member
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, buttons, polling_bot, say, until

EN = translator("en")
ANA = "Ana Ruiz@Bilbao City Council"


def contact(deps: Deps, name: str) -> Contact | None:
    with deps.sessions() as session:
        member = session.exec(select(Member).where(Member.display_name == name)).one()
        return contact_of(session, member.id or 0)


def test_asked_once_after_the_first_post_then_changed_with_contact(deps: Deps) -> None:
    ana = Console(deps, console_sender(ANA))
    for line in ("/offer", "Social clauses", "We reserved catering contracts for social enterprises.", "done"):
        ana.say(line)
    saved = ana.say("save")
    assert saved[-1].startswith(EN.t("people.contact_ask", current=EN.t("people.contact_none")).splitlines()[0])
    assert "[/contact handle]" in saved[-1]
    for line in ("/need", "Heat pumps", "We want to retrofit social homes.", "done"):
        ana.say(line)
    assert all("/contact" not in reply for reply in ana.say("save"))  # asked once, not after every post
    assert contact(deps, "Ana Ruiz") is None

    assert ana.say("/contact ana@bilbao.example") == [EN.t("people.contact_set", contact="ana@bilbao.example")]
    assert contact(deps, "Ana Ruiz") == Contact(ContactKind.email, "ana@bilbao.example")
    assert ana.say("/contact ana@@nowhere") == [EN.t("people.contact_bad_email", email="ana@@nowhere")]
    assert contact(deps, "Ana Ruiz") == Contact(ContactKind.email, "ana@bilbao.example")  # nothing lost
    assert ana.say("/contact t.me/ana_ruiz") == [EN.t("people.contact_set", contact="@ana_ruiz")]
    assert contact(deps, "Ana Ruiz") == Contact(ContactKind.handle, "@ana_ruiz", "telegram")
    peerlink = EN.t("people.contact_peerlink")
    assert ana.say("/contact peerlink") == [EN.t("people.contact_set", contact=peerlink)]
    assert contact(deps, "Ana Ruiz") == Contact(ContactKind.peerlink)
    assert ana.say("/contact")[0].startswith(EN.t("people.contact_ask", current=peerlink).splitlines()[0])
    assert ana.say("/contact whatever") == [EN.t("people.contact_usage")]


async def test_contact_is_never_shown_in_a_group(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/contact ana@bilbao.example")
    [refused] = await say(standin, "/contact", chat=-100)
    assert refused == html.escape(EN.t("privacy.in_private"))


def test_mydata_shows_the_contact_and_forgetme_erases_it(deps: Deps) -> None:
    from bot.privacy.export import export_file  # the file /mydata sends
    from bot.privacy.person import person_of

    ana = Console(deps, console_sender(ANA))
    ana.say("/contact ana@bilbao.example")
    with deps.sessions() as session:
        member = session.exec(select(Member).where(Member.display_name == "Ana Ruiz")).one()
        person = person_of(session, member.id or 0)
        assert person is not None
        data = json.loads(export_file(session, person, now=deps.clock.now()).content)
    assert data["contact"] == [{"kind": "email", "value": "ana@bilbao.example", "platform": None}]
    ana.say("/forgetme delete")
    ana.say("/forgetme delete ERASE")
    with deps.sessions() as session:
        assert session.exec(select(Member).where(Member.contact_value == "ana@bilbao.example")).first() is None


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


async def test_contact_on_telegram(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/start")
    [asked] = await say(standin, "/contact")
    assert EN.t("people.contact_none") in asked
    question = standin.sent(42)[-1]
    assert buttons(question.params) == [
        (EN.t("people.button_contact_handle"), "/contact handle"),
        (EN.t("people.button_contact_peerlink"), "/contact peerlink"),
    ]
    before = len(standin.sent(42))
    standin.press("/contact handle", message_id=question.params["_message_id"])
    await until(lambda: len(standin.sent(42)) > before, what="the answer to the button", standin=standin)
    assert standin.sent(42)[-1].params["text"] == html.escape(EN.t("people.contact_no_handle"))
    assert await say(standin, "/contact @ana_ruiz") == [EN.t("people.contact_set", contact="@ana_ruiz")]
    with bot.sessions() as session:
        member = session.exec(select(Member)).one()
        assert contact_of(session, member.id or 0) == Contact(ContactKind.handle, "@ana_ruiz", "telegram")
