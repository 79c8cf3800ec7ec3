"""Stateless commands everyone may use: help, my posts, withdraw, edit, language."""

from __future__ import annotations

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import N_, Translator, language_choices, language_from_name, language_name, translator
from bot.numbers import number
from bot.ports import Button, Reply
from bot.posts import editable_post, withdraw
from bot.text import shorten
from bot.topics import label
from bot.withdrawals import withdraw_pending
from handlers.application.flows.engine import FLOWS, start_flow
from handlers.application.flows.post import KIND_KEYS
from handlers.application.turn import Turn
from storage.models import PostStatus
from storage.queries import posts_of_member

LIST_BUTTONS = 10  # buttons for the first posts only: a keyboard must stay usable on a phone
STATUS_KEYS = {
    PostStatus.open: N_("core.status_open"),
    PostStatus.matched: N_("core.status_matched"),
    PostStatus.closed: N_("core.status_closed"),
    PostStatus.withdrawn: N_("core.status_withdrawn"),
}


def everyones_commands(tr: Translator) -> str:
    return tr.t("core.help") + "\n" + tr.t("privacy.help") + "\n" + tr.t("people.help")


FACILITATOR_HELP = (
    N_("core.help_facilitator"),
    N_("privacy.help_facilitator"),
    N_("membership.help_facilitator"),
    N_("people.help_facilitator"),
    N_("picture.help_facilitator"),
)


def facilitators_commands(tr: Translator) -> str:
    """Every `/peer` command, for `/help` (to facilitators) and `/peer help` alike."""
    return "\n".join(tr.t(key) for key in FACILITATOR_HELP)


def help_command(turn: Turn, _args: str) -> list[Reply]:
    text = everyones_commands(turn.tr)
    if turn.is_facilitator:
        text += "\n\n" + facilitators_commands(turn.tr)
    return [Reply(text=text)]


def start_command(turn: Turn, _args: str) -> list[Reply]:
    """The welcome lists everyone's commands; a facilitator's own are one `/peer help` away."""
    welcome = turn.tr.t("core.welcome", name=turn.who.member.display_name or "👋")
    parts = [welcome, everyones_commands(turn.tr)]
    if turn.is_facilitator:
        parts.append(turn.tr.t("conversation.help_facilitator_hint"))
    return [Reply(text="\n\n".join(parts))]


def mine_command(turn: Turn, _args: str) -> list[Reply]:
    posts = posts_of_member(session=turn.session, member_id=turn.who.member_id)
    if not posts:
        return [turn.say("core.mine_empty")]
    tr = turn.tr
    lines = [tr.t("core.mine_header")]
    buttons: list[Button] = []
    for post in posts:
        topics = ", ".join(label(slug, tr.language) for slug in post.topics) or tr.t("core.none")
        lines.append(
            tr.t(
                "core.mine_line",
                number=post.id,
                kind=tr.t(KIND_KEYS[post.kind]),
                title=shorten(post.title, 80),
                status=tr.t(STATUS_KEYS[post.status]),
                topics=topics,
            )
        )
        if len(buttons) < 2 * LIST_BUTTONS and post.status == PostStatus.open:
            buttons.append(Button(label=tr.t("core.button_edit_number", number=post.id), value=f"/edit {post.id}"))
            buttons.append(
                Button(label=tr.t("core.button_withdraw_number", number=post.id), value=f"/withdraw {post.id}")
            )
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


def withdraw_command(turn: Turn, args: str) -> list[Reply]:
    post = withdraw(turn.session, turn.who, number(args, usage=N_("core.withdraw_usage")))
    withdraw_pending(turn.session, [post], now=turn.deps.clock.now())
    return [turn.say("core.withdrawn", number=post.id, title=post.title)]


def edit_command(turn: Turn, args: str) -> list[Reply]:
    post = editable_post(turn.session, turn.who, number(args, usage=N_("core.edit_usage")))
    return start_flow(turn, FLOWS[post.kind.value], "", post=post)


def language_command(turn: Turn, args: str) -> list[Reply]:
    """`/language es`, `/language español`, `/language Spanish`, `/language hiszpański`: a code or a
    name in any of the seven languages. Anything else lists the choices (an unknown one says so)."""
    wanted = " ".join(args.split())
    code = language_from_name(wanted) if wanted else None
    if code is None:
        key = N_("core.language_unknown") if wanted else N_("core.language_current")
        buttons = tuple(Button(label=language_name(c), value=f"/language {c}") for c in SUPPORTED_LANGUAGES)
        text = turn.tr.t(key, language=language_name(turn.tr.language), options=language_choices())
        return [Reply(text=text, buttons=buttons)]
    turn.who.member.language = code
    turn.session.add(turn.who.member)
    return [Reply(text=translator(code).t("core.language_set", language=language_name(code)))]
