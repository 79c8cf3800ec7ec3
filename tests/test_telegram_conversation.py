"""Whole conversations through the real PTB Application, long polling a stand-in Bot API over HTTP."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.i18n import translator
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_USERNAME, StandIn, buttons, polling_bot, say, until


@pytest.fixture
async def bot(standin: StandIn, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Deps]:
    async with polling_bot(sqlite_url, standin, clock) as deps:
        yield deps


async def test_start_sets_the_menu_and_greets(bot: Deps, standin: StandIn) -> None:
    menus = standin.calls("setMyCommands")
    assert {c.params.get("language_code") for c in menus} == {None, "en", "es", "pt", "fr", "it", "nl", "pl"}
    spanish = next(c for c in menus if c.params.get("language_code") == "es")
    assert {"command": "offer", "description": "Compartir algo que puedes ofrecer"} in spanish.params["commands"]
    texts = await say(standin, "/start")
    assert "/offer" in "\n".join(texts)
    assert all(c.params["parse_mode"] == "HTML" for c in standin.sent(42))


async def test_offer_conversation_with_button_presses(bot: Deps, standin: StandIn) -> None:
    assert "organisation" in (await say(standin, "/offer"))[0].lower()
    await say(standin, "Ciudad de Ejemplo")
    await say(standin, "Social procurement clauses in city tenders")
    topics_text = await say(standin, "We wrote clauses that reserve public contracts for social economy enterprises.")
    topics_message = standin.sent(42)[-1]
    keyboard = buttons(topics_message.params)
    assert ("Done", "done") in [(label.removeprefix("✓ "), value) for label, value in keyboard]
    assert any(label.startswith("✓ ") for label, _ in keyboard), "detected topics are pre-selected"
    assert topics_text
    sent_before = len(standin.sent(42))
    message_id = topics_message.params["_message_id"]

    # Toggling a topic edits the same message in place: no new keyboard piles up.
    unselected = next(value for label, value in keyboard if not label.startswith("✓ ") and value != "done")
    standin.press(unselected, message_id=message_id)
    await until(lambda: len(standin.calls("editMessageText")) == 1, what="keyboard edited", standin=standin)
    edit = standin.calls("editMessageText")[0]
    assert int(edit.params["message_id"]) == message_id
    label = next(text for text, value in keyboard if value == unselected)
    assert (f"✓ {label}", unselected) in buttons(edit.params)
    assert len(standin.sent(42)) == sent_before
    assert len(standin.calls("answerCallbackQuery")) == 1

    standin.press("done", message_id=message_id)
    await until(lambda: len(standin.calls("editMessageText")) == 2, what="summary shown", standin=standin)
    summary = standin.calls("editMessageText")[1]
    assert "Social procurement clauses in city tenders" in summary.params["text"]
    assert ("Save", "save") in buttons(summary.params)

    standin.press("save", message_id=message_id)
    await until(lambda: len(standin.sent(42)) > sent_before, what="saved", standin=standin)
    mine = await say(standin, "/mine")
    assert "Social procurement clauses in city tenders" in mine[0]


async def test_user_text_is_escaped_for_html(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/offer")
    await say(standin, "<b>Bold</b> & Co")
    replies = await say(standin, "<script>alert(1)</script> & <a href='x'>link</a>")
    await until(lambda: bool(standin.sent(42)), standin=standin)
    assert replies
    shown = "\n".join(c.params["text"] for c in standin.sent(42))
    assert "<b>" not in shown
    assert "<script>" not in shown
    assert "<a href" not in shown
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in shown


async def test_language_code_chooses_the_catalog(bot: Deps, standin: StandIn) -> None:
    group = -100200
    standin.message("/need", user=77, chat=group, language="es")
    standin.message("/need", user=78, chat=group, language="pl")
    await until(lambda: len(standin.sent(group)) == 2, standin=standin)
    # Two people's updates run side by side: each answer is in its reader's language, in either order.
    by_label = {buttons(call.params)[0][0]: call for call in standin.sent(group)}
    assert set(by_label) == {"Seguir en privado", "Kontynuuj prywatnie"}
    spanish = html.escape(translator("es").t("core.continue_in_private"))
    assert by_label["Seguir en privado"].params["text"] == spanish


async def test_group_commands_continue_in_private(bot: Deps, standin: StandIn) -> None:
    group = -100123
    texts = await say(standin, "/offer", chat=group)
    link = standin.sent(group)[-1]
    assert texts
    assert ("Continue in private", f"https://t.me/{BOT_USERNAME}?start=offer") in buttons(link.params)
    # chatter in the group is not for the bot
    standin.message("hello everyone", chat=group)
    await asyncio.sleep(0.3)
    assert len(standin.sent(group)) == 1
