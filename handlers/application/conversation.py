"""The dispatcher every adapter feeds: one incoming message in, the replies out.

A command starts or answers something; anything else continues the person's conversation, whose
state is a database row keyed by (platform, workspace, chat, user) — so a restart, or a second web
process, carries on at the same step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sqlmodel import Session

from bot import invites
from bot.claims import ask_approval
from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import N_, language_name, translator
from bot.language import Heard, detect_language, hear
from bot.members import resolve
from bot.membership import admit, may_register_group
from bot.ports import Incoming, Reply
from bot.posts import PostDraft
from bot.text import clean
from handlers.application import registry
from handlers.application.commands.relay import answer_to_message
from handlers.application.flows import Outcome
from handlers.application.flows.engine import (
    FLOWS,
    current_state,
    end_conversation,
    park,
    save_state,
    start_flow,
    submit_post,
)
from handlers.application.turn import Turn
from storage.db import transaction
from storage.models import ConversationState

log = logging.getLogger(__name__)

MAX_INPUT = 20_000  # longer messages are cut before anything else looks at them


class Conversations:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def handle(self, incoming: Incoming) -> list[Reply]:
        return self._answer(incoming, route)

    def submit_post(self, incoming: Incoming, draft: PostDraft, *, organisation: str | None) -> list[Reply]:
        """A post filled in all at once (the Slack modal), saved the way the conversation saves one."""
        return self._answer(incoming, lambda turn: submit_post(turn, draft, organisation=organisation))

    def _answer(self, incoming: Incoming, act: Callable[[Turn], list[Reply]]) -> list[Reply]:
        with transaction(self.deps.sessions) as session:
            who = resolve(session, incoming.sender)
            # Someone who named an existing organisation (here or in their platform profile) waits for approval.
            ask_approval(session, who.member, now=self.deps.clock.now())
            turn = Turn(self.deps, session, incoming, who, translator(who.language))
            if not admit(session, who, incoming) and not _stranger_may(session, incoming):
                return [turn.say("membership.how_to_join")]
            return answered(turn, act)


def _stranger_may(session: Session, incoming: Incoming) -> bool:
    """What someone who came through no door may still do: open an invite link (`/start <code>`),
    register their own group with a facilitator's code (`/peer link <code>`, see
    `may_register_group`) — both doors themselves —, choose the language they are told in, and see
    or erase what we hold about them (it is theirs, and shows nothing of the partnership)."""
    command = parse_command(clean(incoming.text[:MAX_INPUT]))
    if command is None:
        return False
    name, args = command
    if name == "peer" and args.split(" ", 1)[0].lower() == "link" and len(args.split()) > 1:
        return may_register_group(session, incoming)
    return (name == "start" and invites.looks_like_code(args)) or name in STRANGERS_MAY


def parse_command(text: str) -> tuple[str, str] | None:
    """`/offer@PeerlinkBot rest` -> ("offer", "rest"); None when the text is not a command."""
    if not text.startswith("/"):
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name else None


def answered(turn: Turn, act: Callable[[Turn], list[Reply]]) -> list[Reply]:
    """`act`'s replies. A request that cannot be done (`UserError`, from any command, step or save)
    is answered here, once, and nothing it had changed is kept. (The whole transaction is rolled
    back, not a savepoint: on SQLite a savepoint opened before the first write pins a snapshot that
    a concurrent writer makes stale, and the write then fails with "database is locked".)"""
    try:
        return act(turn)
    except UserError as problem:
        turn.session.rollback()
        return [turn.say(problem.key, **problem.values)]


def route(turn: Turn) -> list[Reply]:
    text = clean(turn.incoming.text[:MAX_INPUT])
    state = current_state(turn)
    command = parse_command(text)
    if command is not None:
        return _command(turn, *command, state)
    relayed = answer_to_message(turn, text)  # a reply to an introduction goes to the other side
    if relayed is not None:
        return relayed
    if state is not None:
        return _continue(turn, state, text)
    if not text:
        return [turn.say("core.error_empty_message")]
    heard = hear(text, BARE_WORDS, prefer=turn.tr.language, greeting="start") if turn.incoming.is_private else None
    if heard is not None:
        return _bare_word(turn, heard)
    return [_not_understood(turn, text)]


def _bare_word(turn: Turn, heard: Heard) -> list[Reply]:
    """A greeting ("hola", "cześć") or a command word ("ayuda", "ofrecer") in a private chat with no
    conversation going, in any of the seven languages, is answered in the language of the word.

    Someone who never told us their language (no `/language` choice, no platform locale) is then
    written to in it from now on, and told so, when the word belongs to that language alone; a
    choice already made is kept: "hola" answers in Spanish once, `/language es` changes it."""
    spoken = replace(turn, tr=translator(heard.language))
    notes: list[Reply] = []
    if heard.unambiguous and turn.who.own_language is None and heard.language != turn.tr.language:
        turn.who.member.language = heard.language
        turn.session.add(turn.who.member)
        notes.append(spoken.say("core.language_set", language=language_name(heard.language)))
    return [*_command(spoken, heard.name, "", None), *notes]


def _not_understood(turn: Turn, text: str) -> Reply:
    """In the person's language; for someone who never told us theirs, the language of what they
    wrote when it is long enough to tell."""
    language = turn.tr.language if turn.who.own_language else detect_language(text, turn.tr.language)
    return Reply(text=translator(language or turn.tr.language).t("core.not_understood"))


def _command(turn: Turn, name: str, args: str, state: ConversationState | None) -> list[Reply]:
    if name == "cancel":
        if state is None:
            return [turn.say("core.nothing_to_cancel")]
        end_conversation(turn.session, state)
        return [turn.say("core.cancelled")]
    if state is not None and name in KEEP_CONVERSATION:
        return [*_run(turn, name, args), *_reminder(turn, state)]
    notes: list[Reply] = []
    if state is not None:
        notes.append(park(turn, state))
    if name in FLOWS:
        return [*notes, *start_flow(turn, FLOWS[name], args)]
    return [*notes, *_run(turn, name, args)]


def _run(turn: Turn, name: str, args: str) -> list[Reply]:
    if name == "peer":
        return _peer(turn, args)
    handler = registry.COMMANDS.get(name)
    if handler is None:
        return [turn.say("core.unknown_command", command=f"/{name[:40]}")]
    return handler(turn, args)


def _reminder(turn: Turn, state: ConversationState) -> list[Reply]:
    """After help, the person is back where they were."""
    flow = FLOWS.get(state.flow)
    return flow.prompt(turn, state.step, flow.load(state.draft)) if flow else []


def _peer(turn: Turn, args: str) -> list[Reply]:
    sub, _, rest = args.strip().partition(" ")
    sub = sub.lower() or "help"
    if not turn.is_facilitator:
        if sub == "link" and rest.strip() and may_register_group(turn.session, turn.incoming):
            return registry.PEER_COMMANDS["link"](turn, rest.strip())
        return [turn.say(_refusal(turn))]
    handler = registry.PEER_COMMANDS.get(sub)
    if handler is None:
        return [turn.say("core.peer_unknown", command=sub[:40]), *registry.PEER_COMMANDS["help"](turn, "")]
    return handler(turn, rest.strip())


def _refusal(turn: Turn) -> str:
    """An admin of a group nobody registered is told how it gets registered; others who to ask."""
    if turn.incoming.sender.is_platform_admin and not turn.incoming.is_private:
        return N_("membership.peer_group_unregistered")
    return N_("core.peer_refused")


def _continue(turn: Turn, state: ConversationState, text: str) -> list[Reply]:
    flow = FLOWS.get(state.flow)
    if flow is None or state.step not in flow.steps:
        log.warning("dropping conversation in unknown flow/step %s/%s", state.flow, state.step)
        end_conversation(turn.session, state)
        return [turn.say("core.not_understood")]
    where = flow.load(state.draft)
    if not text:
        return [turn.say("core.error_empty_message"), *flow.prompt(turn, state.step, where)]
    outcome: Outcome = flow.steps[state.step](turn, text, where)
    save_state(turn, state, outcome, where)
    return outcome.replies


STRANGERS_MAY = frozenset({"language", "mydata", "forgetme"})

# Informational commands answer without ending the conversation in progress.
KEEP_CONVERSATION = frozenset({"help", "start"})

BARE_WORDS = {
    "start": N_("core.word_greetings"),
    "offer": N_("core.word_cmd_offer"),
    "need": N_("core.word_cmd_need"),
    "help": N_("core.word_cmd_help"),
    "mine": N_("core.word_cmd_mine"),
}
