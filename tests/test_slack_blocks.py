"""Rendering replies for Slack: escaping written once, Slack's size limits respected."""

from __future__ import annotations

from bot.ports import Button, Reply
from handlers.slack import blocks
from handlers.slack.mrkdwn import escape, unescape


def test_user_text_never_becomes_markup() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert unescape(escape("a < b & c > d &amp;")) == "a < b & c > d &amp;"


def test_a_reply_becomes_sections_and_buttons() -> None:
    reply = Reply(
        text="Pick <!here>",
        buttons=(Button("Yes", "/rsvp 4 yes", style="primary"), Button("Topic", "3", selected=True)),
        replaces="topics",
    )
    rendered = blocks.message(reply)
    assert rendered["text"] == "Pick &lt;!here&gt;"
    section, actions = rendered["blocks"]
    assert section["text"] == {"type": "mrkdwn", "text": "Pick &lt;!here&gt;"}
    yes, topic = actions["elements"]
    assert (yes["value"], yes["style"]) == ("/rsvp 4 yes", "primary")
    assert topic["text"]["text"] == "✓ Topic"
    assert "style" not in topic
    assert blocks.replaces_of(actions["block_id"]) == "topics"
    assert blocks.replaces_of("b") is None


def test_long_texts_and_many_buttons_fit_slacks_limits() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))
    many = tuple(Button(f"b{n}", str(n)) for n in range(30))
    rendered = blocks.message(Reply(text=text, buttons=many))
    sections = [b for b in rendered["blocks"] if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= blocks.SECTION_MAX for b in sections)
    assert "\n".join(b["text"]["text"] for b in sections) == text
    actions = [b for b in rendered["blocks"] if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert len(set(ids)) == 30
