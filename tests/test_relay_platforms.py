"""From match to meeting across platforms, on the real adapters against both stand-ins: a Slack
officer and a Telegram member (in Spanish) accept a suggestion, each reads who the other is and how
to answer, a Telegram reply to the introduction reaches the Slack officer, a Slack thread reply
reaches the Telegram member (escaped, once, in order), and `/close` ends it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from schedules.outbox import Dispatcher
from storage.db import transaction
from storage.models import Delivery, Match, Member, Organisation, Post, PostKind, RelayMessage
from storage.queries import identity_of
from tests import slack_standin
from tests.conftest import FakeClock
from tests.schedules_support import clock_sleep, drain_all
from tests.slack_standin import TEAM, Served, SlackHarness, SlackStandIn, slack_settings
from tests.telegram_standin import BOT_ID, TOKEN, StandIn, polling, until

standin = slack_standin.standin  # fixture: the Slack Web API stand-in
LUCIA = 77


@dataclass
class Both:
    deps: Deps
    slack: SlackHarness
    telegram: StandIn
    clock: FakeClock

    async def deliver(self) -> None:
        await drain_all(self.deps, Dispatcher(self.deps, sleep=clock_sleep(self.clock)), self.clock)


@pytest.fixture
def telegram() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
async def both(database_url: str, standin: SlackStandIn, telegram: StandIn, clock: FakeClock) -> AsyncIterator[Both]:
    settings = slack_settings(database_url, standin, telegram_bot_token=TOKEN, telegram_api_url=telegram.api_url)
    deps = build_deps(settings, clock=clock, migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        async with polling(deps, telegram):
            yield Both(deps, SlackHarness(deps, standin, http, served), telegram, clock)
    deps.engine.dispose()


async def _telegram_says(both: Both, text: str, *, reply_to: int | None = None) -> str:
    before = len(both.telegram.sent(LUCIA))
    both.telegram.message(text, user=LUCIA, name="Lucía", language="es", username="lucia_habitar", reply_to=reply_to)
    await until(lambda: len(both.telegram.sent(LUCIA)) > before, standin=both.telegram)
    return str(both.telegram.sent(LUCIA)[-1].params["text"])


def _slack_says(both: Both, text: str, *, thread: str | None = None) -> None:
    before = len(both.slack.standin.calls_to("views.publish"))
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1", "text": text, "team": TEAM}
    event["ts"] = "1700000000.000900"
    if thread is not None:
        event["thread_ts"] = thread
    assert both.slack.event(event).status_code == 200
    both.slack.standin.wait_for("views.publish", before + 1)  # the turn is over


def _seed(both: Both) -> int:
    """The Slack officer's offer and the Telegram member's need (in Spanish), suggested together."""
    with transaction(both.deps.sessions) as session:
        officer = identity_of(session=session, platform="slack", workspace=TEAM, user_id="U1")
        member = identity_of(session=session, platform="telegram", workspace=str(BOT_ID), user_id=str(LUCIA))
        assert officer is not None
        assert member is not None
        posts = []
        for identity, name, city, kind, title, language in (
            (officer, "Dublin City Council", "Dublin", PostKind.offer, "Social clauses <b>in</b> tenders", "en"),
            (member, "Cooperativa Habitar", "Lisboa", PostKind.need, "Cláusulas sociales en licitaciones", "es"),
        ):
            person = session.get(Member, identity.member_id)
            assert person is not None
            organisation = Organisation(community_id=person.community_id, name=name, city=city)
            session.add(organisation)
            session.flush()
            person.organisation_id = organisation.id
            post = Post(
                community_id=person.community_id,
                organisation_id=organisation.id or 0,
                member_id=person.id,
                ref=f"r-{kind.value}",
                kind=kind,
                title=title,
                description=title,
                language=language,
            )
            session.add_all([person, post])
            session.flush()
            posts.append(post)
        offer, need = posts
        match = Match(community_id=need.community_id, need_id=need.id or 0, offer_id=offer.id or 0, score=0.7)
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


async def test_a_slack_officer_and_a_telegram_member_write_to_each_other(both: Both) -> None:
    _slack_says(both, "help")  # first contact on each platform makes the members
    await _telegram_says(both, "/start")
    number = _seed(both)
    _slack_says(both, f"/accept {number}")
    await _telegram_says(both, f"/accept {number}")
    await both.deliver()

    # Each reads who the other is and how to answer, in their own language and markup.
    slack_intro = next(
        call for call in both.slack.standin.calls_to("chat.postMessage") if "Meet Lucía" in call.params["text"]
    )
    assert "Meet Lucía (Cooperativa Habitar, Lisboa)" in slack_intro.params["text"]
    assert "on Telegram, @lucia_habitar (https://t.me/lucia_habitar)" in slack_intro.params["text"]
    [telegram_intro] = [c for c in both.telegram.sent(LUCIA) if "Dublin City Council" in str(c.params["text"])]
    text = str(telegram_intro.params["text"])
    assert "Ana (Dublin City Council, Dublin)" in text
    assert "responde a este mensaje y lo hago llegar" in text
    assert "Social clauses &lt;b&gt;in&lt;/b&gt; tenders" in text  # escaped for Telegram's HTML

    # A Telegram reply to the introduction reaches the Slack officer, twice, in order, once each.
    intro_id = int(telegram_intro.params["_message_id"])
    await _telegram_says(both, "¡Hola! <script> & más", reply_to=intro_id)
    await _telegram_says(both, "Segundo mensaje", reply_to=intro_id)
    await both.deliver()
    relayed = [
        call.params for call in both.slack.standin.calls_to("chat.postMessage") if "writes about" in call.params["text"]
    ]
    assert [params["text"].split("\n")[1] for params in relayed] == [
        "¡Hola! &lt;script&gt; &amp; más",
        "Segundo mensaje",
    ]
    assert relayed[0]["text"].startswith(f"Lucía (Cooperativa Habitar) writes about #{number}:")
    assert "reply in this message's thread" in relayed[0]["text"]

    # The officer answers in the thread of a relayed message: it reaches Lucía on Telegram, escaped.
    with both.deps.sessions() as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == "relay", Delivery.platform == "slack")).all()
    [ts] = [row.message_id for row in rows if "Segundo mensaje" in row.payload["text"]]  # Slack's ts of it
    assert ts is not None
    _slack_says(both, "Hi Lucía &lt;b&gt;&amp; team", thread=ts)
    await both.deliver()
    answer = str(both.telegram.sent(LUCIA)[-1].params["text"])
    assert answer.startswith(f"Ana (Dublin City Council) escribe sobre #{number}:\nHi Lucía &lt;b&gt;&amp; team")
    with both.deps.sessions() as session:
        assert len(session.exec(select(RelayMessage)).all()) == 3

    # /close ends it: the messages are deleted and the officer is told.
    assert "cerrada" in await _telegram_says(both, f"/close {number}")
    await both.deliver()
    closed = both.slack.standin.calls_to("chat.postMessage")[-1].params["text"]
    assert closed == f"The other side closed the conversation about #{number}; what was written in it is deleted."
    with both.deps.sessions() as session:
        assert session.exec(select(RelayMessage)).all() == []
    assert "is closed" in _last_slack_answer(both, f"/reply {number} one more")


def _last_slack_answer(both: Both, text: str) -> str:
    _slack_says(both, text)
    return str(both.slack.standin.calls_to("chat.postMessage")[-1].params["text"])
