"""/mydata and /forgetme through PTB's real Application long-polling the Telegram stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.deps import Deps
from storage.models import Identity, Post
from tests.conftest import FakeClock
from tests.privacy_support import TITLE, give_a_post
from tests.telegram_standin import BOT_ID, StandIn, buttons, polling_bot, say, until


@pytest.fixture
async def bot(standin: StandIn, database_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(database_url, standin, clock) as deps:
        yield deps


async def test_mydata_arrives_as_a_json_document_on_telegram(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/start", language="pt")
    give_a_post(bot, "telegram", str(BOT_ID), "42")
    texts = await say(standin, "/mydata", language="pt")
    assert texts == ["Aqui está tudo o que o Peerlink guarda sobre ti, num ficheiro JSON: as tuas contas, "
                     "organização, idioma e fuso horário, publicações, correspondências, respostas a reuniões, "
                     "conversas e as mensagens ainda guardadas para ti."]  # fmt: skip
    await until(lambda: bool(standin.calls("sendDocument")), what="the file", standin=standin)
    document = standin.calls("sendDocument")[-1].params
    assert document["chat_id"] == "42"
    assert document["_filename"].startswith("peerlink-my-data-")
    data = json.loads(document["_document_bytes"])
    assert [post["title"] for post in data["posts"]] == [TITLE]
    assert data["identities"][0]["user_id"] == "42"
    assert data["organisation"][0]["name"] == "Câmara Municipal de Braga"


async def test_forgetme_by_buttons_on_telegram(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/start")
    give_a_post(bot, "telegram", str(BOT_ID), "42")
    await say(standin, "/forgetme")
    choice = standin.sent(42)[-1]
    assert buttons(choice.params) == [("Erase me and my posts", "/forgetme delete")]
    before = len(standin.sent(42))
    standin.press("/forgetme delete", message_id=choice.params["_message_id"])
    await until(lambda: len(standin.sent(42)) > before, what="the confirmation question", standin=standin)
    confirm = standin.sent(42)[-1]
    assert "/forgetme delete ERASE" in confirm.params["text"]
    assert buttons(confirm.params) == [("Yes, erase me", "/forgetme delete ERASE")]
    standin.press("/forgetme delete ERASE", message_id=confirm.params["_message_id"])
    await until(lambda: len(standin.sent(42)) > before + 1, what="the erasure", standin=standin)
    assert "Peerlink has forgotten you. Posts deleted: 1" in standin.sent(42)[-1].params["text"]
    with bot.sessions() as session:
        assert session.exec(select(Identity).where(Identity.user_id == "42")).first() is None
        assert session.exec(select(Post)).first() is None
