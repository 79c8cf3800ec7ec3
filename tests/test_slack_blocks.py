"""Rendering replies for Slack: escaping written once, Slack's size limits respected."""

from __future__ import annotations

from bot.ports import Button, Mention, Reply
from handlers.slack import blocks
from handlers.slack.mrkdwn import escape, received, unescape, with_mentions


def test_user_text_never_becomes_markup() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert unescape(escape("a < b & c > d &amp;")) == "a < b & c > d &amp;"


def test_only_the_people_the_kernel_named_become_mentions() -> None:
    text = "Meet Ana (<!channel> & <@U9>) and Bruno"
    ana, bruno = Mention(5, 8, "U1"), Mention(34, 39, "U2")
    assert with_mentions(text, [bruno, ana]) == "Meet <@U1> (&lt;!channel&gt; &amp; &lt;@U9&gt;) and <@U2>"
    rendered = blocks.message(Reply(text=text, mentions=(ana, bruno)))
    assert rendered["text"] == "Meet <@U1> (&lt;!channel&gt; &amp; &lt;@U9&gt;) and <@U2>"
    assert rendered["blocks"][0]["text"]["text"] == rendered["text"]
    # A span that overlaps another, runs past the text or names no Slack user stays plain text.
    odd = [Mention(5, 8, "U1"), Mention(6, 12, "U2"), Mention(34, 99, "U3"), Mention(23, 28, "U1> <!channel")]
    assert with_mentions(text, odd) == "Meet <@U1> (&lt;!channel&gt; &amp; &lt;@U9&gt;) and Bruno"


def test_a_message_reads_as_typed() -> None:
    """Slack marks up what people type in a message; the kernel reads the words typed."""
    typed = "Hi &lt;b&gt; &amp; <!channel> <!here> <!subteam^S1|@team> <#C1|general> <mailto:a@b.org|a@b.org> <@U2>"
    assert received(typed) == "Hi <b> & @channel @here @team #general a@b.org <@U2>"
    assert received("see <https://example.org|example.org> or <https://example.org/x>") == (
        "see example.org or https://example.org/x"
    )


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
