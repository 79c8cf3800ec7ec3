"""From a post to a conversation across platforms, as the two people would, through the real
`peerlink serve` app (bolt over signed HTTP) and `peerlink worker` (PTB long polling, the outbox)
against the Slack and Telegram stand-ins, one partnership on both.

A Slack officer adds an offer through the `/offer` modal; a Telegram member who greets in Spanish
adds a need through the conversation; the suggestion reaches both (her instant suggestions, his App
Home); both accept (or a facilitator introduces them); each reads who the other is and how to reach
them; a Telegram reply to the introduction reaches the officer, his answer in its Slack thread
reaches her (escaped, once each, in order), and `/close` ends it."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.i18n import language_name, translator
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from handlers.slack.mrkdwn import escape
from storage.models import Delivery, RelayMessage
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import Served, SlackHarness, SlackStandIn, slack_settings
from tests.telegram_standin import TOKEN, StandIn, buttons, polling
from tests.walk_support import NEED, OFFER, SlackPerson, TelegramPerson, button_value, deliver, home_buttons, intro_of

standin = slack_standin.standin  # fixture: the Slack Web API stand-in
EN, ES = translator("en"), translator("es")
LUCIA = 77


@dataclass
class Both:
    deps: Deps
    slack: SlackHarness
    telegram: StandIn
    clock: FakeClock

    async def deliver(self) -> None:
        await deliver(self.deps, self.clock)


@pytest.fixture
def telegram() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
async def both(database_url: str, standin: SlackStandIn, telegram: StandIn, clock: FakeClock) -> AsyncIterator[Both]:
    standin.add_user("U3", name="Fiona", admin=True)  # a workspace admin facilitates the partnership
    settings = slack_settings(database_url, standin, telegram_bot_token=TOKEN, telegram_api_url=telegram.api_url)
    deps = build_deps(settings, clock=clock, migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        async with polling(deps, telegram):
            yield Both(deps, SlackHarness(deps, standin, http, served), telegram, clock)
    deps.engine.dispose()


@dataclass
class Suggested:
    officer: SlackPerson
    lucia: TelegramPerson
    number: int
    suggestion: int  # Telegram's id of Lucía's message with the suggestion


async def _suggested(both: Both) -> Suggested:
    """The officer's offer (modal) and Lucía's need (in Spanish), suggested to both."""
    officer = SlackPerson(both.slack, "U1")
    answer = officer.posts("offer", "Dublin City Council", *OFFER)
    assert answer.params["text"] == escape(EN.t("core.suggestions_none"))
    chosen = officer.command("ana@dublincity.ie", "/contact", channel=officer.dm)
    assert chosen == EN.t("people.contact_set", contact="ana@dublincity.ie")

    lucia = TelegramPerson(both.telegram, LUCIA, "Lucía", username="lucia_habitar")
    await lucia.says("Hola", html.escape(ES.t("core.language_set", language=language_name("es"))))
    suggestion = await lucia.posts(ES, "/need", "Cooperativa Habitar", *NEED)
    text = str(suggestion.params["text"])
    assert OFFER[0] in text
    assert "Dublin City Council" in text
    number = int(button_value([value for _, value in buttons(suggestion.params)], "/accept ").split()[1])
    # How may peers reach her? The button under the question: her public @username, which Telegram
    # tells with the press.
    [question] = [c for c in both.telegram.sent(LUCIA) if ("/contact handle" in dict(buttons(c.params)).values())]
    handle = ES.t("people.contact_set", contact="@lucia_habitar")
    await lucia.presses("/contact handle", int(question.params["_message_id"]), html.escape(handle))

    home = officer.home(NEED[0])  # he opens Peerlink's App Home: her need, to answer
    assert f"/accept {number}" in home_buttons(home)
    return Suggested(officer, lucia, number, int(suggestion.params["_message_id"]))


def _slack_ts(deps: Deps, kind: str, member_text: str) -> str:
    """Slack's ts of a message we delivered (the outbox keeps it, so a thread reply finds its match)."""
    with deps.sessions() as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == kind, Delivery.platform == "slack")).all()
    [ts] = [row.message_id for row in rows if member_text in row.payload["text"]]
    assert ts is not None
    return ts


async def test_a_slack_officer_and_a_telegram_member_meet_and_write_to_each_other(both: Both) -> None:
    walk = await _suggested(both)
    officer, lucia, number = walk.officer, walk.lucia, walk.number
    await lucia.presses(f"/accept {number}", walk.suggestion, html.escape(ES.t("core.match_accepted", number=number)))
    officer.presses(f"/accept {number}", escape(EN.t("core.match_introduced", number=number)))
    await both.deliver()

    # Each reads who the other is and how to reach them, in their own language and markup.
    [slack_intro] = officer.received("Meet Lucía")
    text = slack_intro.params["text"]
    assert text.startswith(EN.t("core.introduction_both", number=number))
    reach = EN.t("core.reach_telegram", username="lucia_habitar")
    assert EN.t("core.introduction_person", person="Lucía (Cooperativa Habitar)", reach=reach) in text
    assert NEED[0] in text
    assert "<@" not in text  # no Slack mention of someone on another platform
    telegram_intro = intro_of(both.telegram, LUCIA, "Ana (Dublin City Council)")
    told = str(telegram_intro.params["text"])
    assert told.startswith(html.escape(ES.t("core.introduction_both", number=number)))
    person = ES.t("core.introduction_person", person="Ana (Dublin City Council)", reach="ana@dublincity.ie")
    assert html.escape(person) in told

    # A Telegram reply to the introduction reaches the officer, twice, in order, once each, escaped.
    intro_id = int(telegram_intro.params["_message_id"])
    sent = html.escape(ES.t("core.relay_sent", number=number))
    await lucia.says("¡Hola Ana! <b>negrita</b> & @channel", sent, reply_to=intro_id)
    await lucia.says("Segundo mensaje", sent, reply_to=intro_id)
    await both.deliver()
    relayed = officer.received(f"writes about #{number}")
    assert [call.params["text"].split("\n")[1] for call in relayed] == [
        "¡Hola Ana! &lt;b&gt;negrita&lt;/b&gt; &amp; @channel",
        "Segundo mensaje",
    ]
    assert relayed[0].params["text"].startswith(f"Lucía (Cooperativa Habitar) writes about #{number}:")

    # He answers in the introduction's thread, as Slack sends it: her Telegram shows what he typed.
    thread = _slack_ts(both.deps, "introduction", "Meet Lucía")
    officer.writes(
        "Hi Lucía &lt;b&gt;bold&lt;/b&gt; &amp; <!channel>",
        escape(EN.t("core.relay_sent", number=number)),
        thread=thread,
    )
    await both.deliver()
    answers = [call for call in both.telegram.sent(LUCIA) if f"#{number}:" in str(call.params["text"])]
    assert [str(call.params["text"]).split("\n")[:2] for call in answers] == [
        [f"Ana (Dublin City Council) escribe sobre #{number}:", "Hi Lucía &lt;b&gt;bold&lt;/b&gt; &amp; @channel"]
    ]
    with both.deps.sessions() as session:
        assert len(session.exec(select(RelayMessage)).all()) == 3

    # /close ends it: what was written is deleted, he is told, and a later answer is refused politely,
    # in the thread of the message that brought hers as in the introduction's.
    relayed_ts = _slack_ts(both.deps, "relay", "Segundo mensaje")
    await lucia.says(f"/close {number}", html.escape(ES.t("core.relay_closed_by_you", number=number)))
    await both.deliver()
    assert len(officer.received(escape(EN.t("core.relay_closed_by_other", number=number)))) == 1
    with both.deps.sessions() as session:
        assert session.exec(select(RelayMessage)).all() == []
    officer.writes("Still there?", escape(EN.t("core.relay_closed", number=number)), thread=relayed_ts)
    officer.writes("Hello?", escape(EN.t("core.relay_closed", number=number)), thread=thread)
    await lucia.says("¿Hola?", html.escape(ES.t("core.relay_closed", number=number)), reply_to=intro_id)
    await both.deliver()
    assert not officer.received("¿Hola?")
    assert not [call for call in both.telegram.sent(LUCIA) if "Still there?" in str(call.params["text"])]
    with both.deps.sessions() as session:
        kept = session.exec(select(Delivery).where(Delivery.kind == "relay")).all()
    relayed_rows = [row for row in kept if row.dedupe_key.startswith(f"relay:{number}:")]
    assert [row.payload["text"] for row in relayed_rows] == ["", "", ""]  # which messages, not what they said


async def test_a_facilitator_introduces_them_and_says_so(both: Both) -> None:
    walk = await _suggested(both)
    number = walk.number
    fiona = SlackPerson(both.slack, "U3")
    assert fiona.command(f"introduce {number}", "/peer") == EN.t("core.match_introduced_by_you", number=number)
    await both.deliver()

    [slack_intro] = walk.officer.received("Meet Lucía")
    assert slack_intro.params["text"].startswith(EN.t("core.introduction_by", facilitator="Fiona", number=number))
    telegram_intro = intro_of(both.telegram, LUCIA, "Ana (Dublin City Council)")
    told = str(telegram_intro.params["text"])
    assert told.startswith(html.escape(ES.t("core.introduction_by", facilitator="Fiona", number=number)))
    both_said_yes = (EN.t("core.introduction_both", number=number), ES.t("core.introduction_both", number=number))
    assert not any(said in str(call.params["text"]) for call in both.telegram.sent(LUCIA) for said in both_said_yes)
    assert not walk.officer.received(both_said_yes[0])

    # The introduction is answered like any other.
    sent = html.escape(ES.t("core.relay_sent", number=number))
    await walk.lucia.says("Gracias, Fiona", sent, reply_to=int(telegram_intro.params["_message_id"]))
    await both.deliver()
    assert len(walk.officer.received("Gracias, Fiona")) == 1
