"""The relay between the two sides of an introduction: `/reply <match> text` (and, on Telegram
and Slack, a reply to the introduction), `/close <match>`."""

from __future__ import annotations

from bot import relay
from bot.i18n import N_
from bot.numbers import number as parse_number
from bot.ports import Reply
from handlers.application.turn import Turn


def reply_command(turn: Turn, args: str) -> list[Reply]:
    head, _, text = args.strip().partition(" ")
    match_id = parse_number(head, usage=N_("core.relay_usage"))
    return _write(turn, match_id, text)


def close_command(turn: Turn, args: str) -> list[Reply]:
    match_id = parse_number(args, usage=N_("core.relay_close_usage"))
    relay.close(turn.session, turn.who, match_id, now=turn.deps.clock.now())
    return [turn.say("core.relay_closed_by_you", number=match_id)]


def answer_to_message(turn: Turn, text: str) -> list[Reply] | None:
    """A reply to an introduction or a relayed message (a Telegram reply, a Slack thread) goes to
    the other side; None when the message replied to is not one of those."""
    replied = turn.incoming.reply_to
    if replied is None:
        return None
    chat = turn.incoming.chat
    match_id = relay.answered_match(
        turn.session, turn.who, platform=chat.platform, workspace=chat.workspace, message_id=replied
    )
    return None if match_id is None else _write(turn, match_id, text)


def _write(turn: Turn, match_id: int, text: str) -> list[Reply]:
    relay.write(turn.session, turn.who, match_id, text, now=turn.deps.clock.now())
    return [turn.say("core.relay_sent", number=match_id)]
