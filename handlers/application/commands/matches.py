"""Matches as people see them: my suggestions with Accept / Decline, and a facilitator's introduction."""

from __future__ import annotations

from bot.audit import Action
from bot.i18n import Translator
from bot.matches import MatchError, introduce, my_matches, reasons_text, respond
from bot.ports import Button, Reply
from bot.text import shorten
from handlers.application.commands.privacy import record_action
from handlers.application.turn import Turn
from storage.models import Match, MatchStatus, Organisation, Response

MATCH_BUTTONS = 5  # cards with accept/decline/block buttons on one message: more would not fit a phone screen


def matches_command(turn: Turn, _args: str) -> list[Reply]:
    views = my_matches(turn.session, turn.who)
    if not views:
        return [turn.say("core.matches_none")]
    tr = turn.tr
    lines = [tr.t("core.matches_header")]
    buttons: list[Button] = []
    for view in views:
        organisation = turn.session.get(Organisation, view.theirs.organisation_id)
        lines.append(
            tr.t(
                "core.match_line",
                number=view.match.id,
                mine=shorten(view.mine.title, 60),
                theirs=shorten(view.theirs.title, 60),
                organisation=organisation.name if organisation else "",
                score=round(view.match.score * 100),
                reasons=reasons_text(tr.language, view.match),
            )
        )
        lines.append("   " + _state(turn, view.match, view.my_response))
        waiting = view.match.status == MatchStatus.suggested and view.my_response == Response.pending
        if waiting and len(buttons) < 3 * MATCH_BUTTONS:
            buttons.extend(answer_buttons(tr, view.match.id or 0, organisation))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


def answer_buttons(tr: Translator, match_id: int, theirs: Organisation | None) -> tuple[Button, ...]:
    """Accept, decline, and "don't suggest this organisation again" (`/block`) for one match card."""
    buttons = (
        Button(tr.t("core.button_accept_number", number=match_id), f"/accept {match_id}", style="primary"),
        Button(tr.t("core.button_decline_number", number=match_id), f"/decline {match_id}"),
    )
    if theirs is None or theirs.id is None:
        return buttons
    label = tr.t("core.button_block_organisation", organisation=shorten(theirs.name, 30))
    return (*buttons, Button(label, f"/block {theirs.id}"))


def _state(turn: Turn, match: Match, mine: Response) -> str:
    if match.status == MatchStatus.introduced:
        return turn.tr.t("core.match_state_introduced")
    if mine == Response.accepted:
        return turn.tr.t("core.match_state_waiting")
    return turn.tr.t("core.match_state_open")


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
    match = turn.session.get(Match, number) if number is not None else None
    if match is None or match.community_id != turn.who.community_id:
        return [turn.say("core.introduce_usage")]
    if match.status not in (MatchStatus.suggested, MatchStatus.accepted):
        return [turn.say("core.match_settled", number=match.id)]
    introduce(turn.session, match, now=turn.deps.clock.now())
    record_action(turn, Action.introduce, target=f"#{match.id}")
    return [turn.say("core.match_introduced", number=match.id)]
