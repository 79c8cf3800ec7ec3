"""Whole conversations through the real PTB Application, long polling a stand-in Bot API over HTTP."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.i18n import translator
from tests.conftest import FakeClock
from tests.telegram_standin import BOT_USERNAME, Call, StandIn, buttons, polling_bot, say, until

EN = translator("en")


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


def _keyboard_with_done(call: Call) -> bool:
    return ("Done", "done") in [(label.removeprefix("✓ "), value) for label, value in buttons(call.params)]


async def test_offer_conversation_with_button_presses(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/offer", expect=html.escape(EN.t("core.ask_organisation")))
    await say(standin, "Ciudad de Ejemplo", expect=html.escape(EN.t("core.ask_title_offer")))
    ask_description = EN.t("core.ask_description_offer")
    await say(standin, "Social procurement clauses in city tenders", expect=html.escape(ask_description))
    description = "We wrote clauses that reserve public contracts for social economy enterprises."
    await say(standin, description, expect=_keyboard_with_done)
    topics_message = await standin.wait_for_message(42, _keyboard_with_done)
    keyboard = buttons(topics_message.params)
    assert any(label.startswith("✓ ") for label, _ in keyboard), "detected topics are pre-selected"
    message_id = topics_message.params["_message_id"]

    # Toggling a topic edits the same message in place: no new keyboard piles up.
    since = standin.mark()
    unselected = next(value for label, value in keyboard if not label.startswith("✓ ") and value != "done")
    standin.press(unselected, message_id=message_id)
    edit = await standin.wait_for(lambda c: c.method == "editMessageText", since=since, what="keyboard edited")
    assert int(edit.params["message_id"]) == message_id
    label = next(text for text, value in keyboard if value == unselected)
    assert (f"✓ {label}", unselected) in buttons(edit.params)
    assert standin.sent_since(since, 42) == []  # the press is answered (spinner stopped) before the edit
    assert [c.method for c in standin.calls()[since:] if c.method != "getUpdates"] == [
        "answerCallbackQuery",
        "editMessageText",
    ]

    since = standin.mark()
    standin.press("done", message_id=message_id)
    summary = await standin.wait_for(lambda c: c.method == "editMessageText", since=since, what="summary shown")
    assert int(summary.params["message_id"]) == message_id
    assert "Social procurement clauses in city tenders" in summary.params["text"]
    assert ("Save", "save") in buttons(summary.params)

    # Saving answers twice ("saved", then the instant suggestions): wait for the last one, so
    # neither can be taken for the answer to /mine.
    since = standin.mark()
    standin.press("save", message_id=message_id)
    await standin.wait_for_message(42, html.escape(EN.t("core.suggestions_none")), since=since)
    # the last reply to a first post: how may peers reach you?
    await standin.wait_for_message(42, lambda call: "/contact" in call.params["text"], since=since)
    mine = await say(standin, "/mine", expect=html.escape(EN.t("core.mine_header")))
    assert "Social procurement clauses in city tenders" in mine[0]


async def test_user_text_is_escaped_for_html(bot: Deps, standin: StandIn) -> None:
    await say(standin, "/offer", expect=html.escape(EN.t("core.ask_organisation")))
    await say(standin, "<b>Bold</b> & Co", expect=html.escape(EN.t("core.ask_title_offer")))
    ask_description = EN.t("core.ask_description_offer")
    await say(standin, "<script>alert(1)</script> & <a href='x'>link</a>", expect=html.escape(ask_description))
    shown = "\n".join(c.params["text"] for c in standin.sent(42))
    assert "<b>" not in shown
    assert "<script>" not in shown
    assert "<a href" not in shown
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in shown


async def test_language_code_chooses_the_catalog(bot: Deps, standin: StandIn) -> None:
    group = -100200
    standin.message("/need", user=77, chat=group, language="es")
    standin.message("/need", user=78, chat=group, language="pl")
    await until(lambda: len(standin.sent(group)) >= 2, standin=standin)
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
    # Chatter in the group is not for the bot. Updates are handled one after the other, so once the
    # command written after the chatter is answered, any answer to the chatter would have come.
    standin.message("hello everyone", chat=group)
    link_to_need = ("Continue in private", f"https://t.me/{BOT_USERNAME}?start=need")
    await say(standin, "/need", chat=group, expect=lambda call: link_to_need in buttons(call.params))
    assert len(standin.sent(group)) == 2
