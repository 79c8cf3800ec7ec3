"""From a post to a conversation between two Telegram members, each in their private chat with the
bot, through the real PTB Application long-polling the stand-in and the outbox (`peerlink worker`):
an offer in English and a need in Spanish, the suggestion, both accept, each reads who the other is
and how to reach them, replies to the bot's messages pass both ways (escaped, once, in order), and
`/close` ends it."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.i18n import translator
from tests.conftest import FakeClock
from tests.telegram_standin import StandIn, buttons, polling_bot
from tests.walk_support import NEED, OFFER, TelegramPerson, button_value, deliver, intro_of

EN, ES = translator("en"), translator("es")
PIOTR, LUCIA = 88, 77


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


def _texts(standin: StandIn, chat: int, piece: str) -> list[str]:
    return [str(call.params["text"]) for call in standin.sent(chat) if piece in str(call.params["text"])]


async def test_two_telegram_members_meet_and_write_to_each_other(bot: Deps, standin: StandIn, clock: FakeClock) -> None:
    piotr = TelegramPerson(standin, PIOTR, "Piotr", language="en")  # no public @username
    lucia = TelegramPerson(standin, LUCIA, "Lucía", username="lucia_habitar", language="es")
    mine = await piotr.posts(EN, "/offer", "Gdańsk City Hall", *OFFER)
    assert str(mine.params["text"]) == html.escape(EN.t("core.suggestions_none"))
    await piotr.says(
        "/contact peerlink", html.escape(EN.t("people.contact_set", contact=EN.t("people.contact_peerlink")))
    )
    suggestion = await lucia.posts(ES, "/need", "Cooperativa Habitar", *NEED)
    number = int(button_value([value for _, value in buttons(suggestion.params)], "/accept ").split()[1])
    await lucia.says("/contact handle", html.escape(ES.t("people.contact_set", contact="@lucia_habitar")))

    # Piotr finds the suggestion in /matches and accepts it there; Lucía under her instant suggestion.
    matches = await piotr.says("/matches", html.escape(EN.t("core.matches_header")))
    assert NEED[0] in str(matches.params["text"])
    await piotr.presses(
        f"/accept {number}",
        int(matches.params["_message_id"]),
        html.escape(EN.t("core.match_accepted", number=number)),
    )
    await lucia.presses(
        f"/accept {number}",
        int(suggestion.params["_message_id"]),
        html.escape(ES.t("core.match_introduced", number=number)),
    )
    await deliver(bot, clock)

    to_piotr = intro_of(standin, PIOTR, "Lucía (Cooperativa Habitar)")
    reach = EN.t("core.reach_telegram", username="lucia_habitar")
    person = EN.t("core.introduction_person", person="Lucía (Cooperativa Habitar)", reach=reach)
    assert html.escape(person) in str(to_piotr.params["text"])
    to_lucia = intro_of(standin, LUCIA, "Piotr (Gdańsk City Hall)")
    how = ES.t("core.relay_how_telegram", number=number)
    reach = ES.t("core.reach_relay", how=how)
    person = ES.t("core.introduction_person", person="Piotr (Gdańsk City Hall)", reach=reach)
    assert html.escape(person) in str(to_lucia.params["text"])

    # Lucía replies to her introduction; Piotr replies to the message that brought it.
    sent_es = html.escape(ES.t("core.relay_sent", number=number))
    await lucia.says("<b>Hola</b> & gracias", sent_es, reply_to=int(to_lucia.params["_message_id"]))
    await lucia.says("¿Hablamos el martes?", sent_es, reply_to=int(to_lucia.params["_message_id"]))
    await deliver(bot, clock)
    relayed = _texts(standin, PIOTR, f"writes about #{number}")
    assert [text.split("\n")[1] for text in relayed] == [
        "&lt;b&gt;Hola&lt;/b&gt; &amp; gracias",
        "¿Hablamos el martes?",
    ]
    last = next(call for call in standin.sent(PIOTR) if "martes" in str(call.params["text"]))
    sent_en = html.escape(EN.t("core.relay_sent", number=number))
    await piotr.says("Tuesday works <i>fine</i>", sent_en, reply_to=int(last.params["_message_id"]))
    await deliver(bot, clock)
    answers = _texts(standin, LUCIA, f"escribe sobre #{number}")
    assert [text.split("\n")[1] for text in answers] == ["Tuesday works &lt;i&gt;fine&lt;/i&gt;"]

    # Piotr closes it; Lucía is told, and her next reply is refused politely.
    await piotr.says(f"/close {number}", html.escape(EN.t("core.relay_closed_by_you", number=number)))
    await deliver(bot, clock)
    assert len(_texts(standin, LUCIA, html.escape(ES.t("core.relay_closed_by_other", number=number)))) == 1
    closed = html.escape(ES.t("core.relay_closed", number=number))
    await lucia.says("¿Sigues ahí?", closed, reply_to=int(to_lucia.params["_message_id"]))
    await deliver(bot, clock)
    assert _texts(standin, PIOTR, "Sigues") == []
