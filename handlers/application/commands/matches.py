"""Matches as people see them: my suggestions with Accept / Decline, and a facilitator's introduction."""

from __future__ import annotations

from bot.match_card import cards_reply, my_cards
from bot.matches import MatchError, facilitate, respond
from bot.ports import Reply
from handlers.application.turn import Turn
from storage.models import MatchStatus

MATCH_BUTTONS = 5  # cards with accept/decline/block buttons on one message: more would not fit a phone screen


def matches_command(turn: Turn, _args: str) -> list[Reply]:
    cards = my_cards(turn.session, turn.who, now=turn.deps.clock.now())
    if not cards:
        return [turn.say("core.matches_none")]
    return [cards_reply(turn.tr.t("core.matches_header"), cards, turn.tr, buttons_for=MATCH_BUTTONS)]


def _match_id(args: str) -> int | None:
    token = args.strip().lstrip("#")
    return int(token) if token.isdigit() else None


def _answer(turn: Turn, args: str, *, accept: bool) -> list[Reply]:
    number = _match_id(args)
    if number is None:
        return [turn.say("core.match_usage")]
    try:
        view = respond(turn.session, turn.who, number, accept=accept, now=turn.deps.clock.now())
    except MatchError as problem:
        return [Reply(text=turn.tr.t(problem.key, **problem.values))]
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
    number = _match_id(args)
    if number is None:
        return [turn.say("core.introduce_usage")]
    try:
        match = facilitate(turn.session, turn.who, number, now=turn.deps.clock.now())
    except MatchError as problem:
        return [Reply(text=turn.tr.t(problem.key, **problem.values))]
    return [turn.say("core.match_introduced", number=match.id)]
