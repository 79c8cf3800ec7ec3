"""Matches as people see them: my suggestions with Accept / Decline, and a facilitator's introduction."""

from __future__ import annotations

from bot.audit import Action
from bot.i18n import N_
from bot.match_card import cards_reply, my_cards
from bot.matches import facilitate, respond
from bot.numbers import number as parse_number
from bot.ports import Reply
from handlers.application.commands.privacy import record_action
from handlers.application.turn import Turn
from storage.models import MatchStatus

MATCH_BUTTONS = 5  # cards with accept/decline/block buttons on one message: more would not fit a phone screen


def matches_command(turn: Turn, _args: str) -> list[Reply]:
    cards = my_cards(turn.session, turn.who, now=turn.deps.clock.now())
    if not cards:
        return [turn.say("core.matches_none")]
    return [cards_reply(turn.tr.t("core.matches_header"), cards, turn.tr, buttons_for=MATCH_BUTTONS)]


def _answer(turn: Turn, args: str, *, accept: bool) -> list[Reply]:
    number = parse_number(args, usage=N_("core.match_usage"))
    now = turn.deps.clock.now()
    view = respond(turn.session, turn.who, number, accept=accept, now=now, group_chats=turn.deps.group_chats)
    if not accept:
        return [turn.say("core.match_declined", number=number)]
    if view.match.status == MatchStatus.introduced:
        return [turn.say("core.match_introduced", number=number)]
    return [turn.say("core.match_accepted", number=number)]


def accept_command(turn: Turn, args: str) -> list[Reply]:
    return _answer(turn, args, accept=True)


def decline_command(turn: Turn, args: str) -> list[Reply]:
    return _answer(turn, args, accept=False)


def peer_introduce(turn: Turn, args: str) -> list[Reply]:
    number = parse_number(args, usage=N_("core.introduce_usage"))
    now = turn.deps.clock.now()
    match = facilitate(turn.session, turn.who, number, now=now, group_chats=turn.deps.group_chats)  # or UserError
    record_action(turn, Action.introduce, target=f"#{match.id}")
    return [turn.say("core.match_introduced", number=match.id)]
