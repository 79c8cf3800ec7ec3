"""Stateless commands everyone may use: help, my posts, withdraw, edit, language."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import N_, normalise_language, translator
from bot.members import Who
from bot.ports import Button, Reply
from bot.posts import PostError, editable_post, withdraw
from bot.text import shorten
from bot.topics import label
from handlers.application.flows.engine import FLOWS, start_flow
from handlers.application.turn import Turn
from storage.models import Post, PostKind, PostStatus
from storage.queries import posts_of_member

LIST_BUTTONS = 10  # buttons for the first posts only: a keyboard must stay usable on a phone
STATUS_KEYS = {
    PostStatus.open: N_("core.status_open"),
    PostStatus.matched: N_("core.status_matched"),
    PostStatus.closed: N_("core.status_closed"),
    PostStatus.withdrawn: N_("core.status_withdrawn"),
}
KIND_KEYS = {PostKind.offer: N_("core.kind_offer"), PostKind.need: N_("core.kind_need")}
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "fr": "Français",
    "it": "Italiano",
    "nl": "Nederlands",
    "pl": "Polski",
}


def help_command(turn: Turn, _args: str) -> list[Reply]:
    text = turn.tr.t("core.help")
    if turn.is_facilitator:
        text += "\n\n" + turn.tr.t("core.help_facilitator")
    return [Reply(text=text)]


def start_command(turn: Turn, _args: str) -> list[Reply]:
    """The welcome lists everyone's commands; a facilitator's own are one `/peer help` away."""
    welcome = turn.tr.t("core.welcome", name=turn.who.member.display_name or "👋")
    parts = [welcome, turn.tr.t("core.help")]
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


def _find(turn: Turn, args: str, usage_key: str, find: Callable[[Session, Who, int], Post]) -> Post | Reply:
    """The post numbered in `args`, through `find` (which applies the rules), or the reply saying why not."""
    token = args.strip().lstrip("#")
    if not token.isdigit():
        return turn.say(usage_key)
    try:
        return find(turn.session, turn.who, int(token))
    except PostError as problem:
        return Reply(text=turn.tr.t(problem.key, **problem.values))


def withdraw_command(turn: Turn, args: str) -> list[Reply]:
    post = _find(turn, args, N_("core.withdraw_usage"), withdraw)
    if isinstance(post, Reply):
        return [post]
    return [turn.say("core.withdrawn", number=post.id, title=post.title)]


def edit_command(turn: Turn, args: str) -> list[Reply]:
    post = _find(turn, args, N_("core.edit_usage"), editable_post)
    if isinstance(post, Reply):
        return [post]
    return start_flow(turn, FLOWS[post.kind.value], "", post=post)


def language_command(turn: Turn, args: str) -> list[Reply]:
    code = normalise_language(args.strip()) if args.strip() else None
    if code is None:
        options = ", ".join(f"{c} ({LANGUAGE_NAMES[c]})" for c in SUPPORTED_LANGUAGES)
        key = N_("core.language_unknown") if args.strip() else N_("core.language_current")
        buttons = tuple(Button(label=LANGUAGE_NAMES[c], value=f"/language {c}") for c in SUPPORTED_LANGUAGES)
        text = turn.tr.t(key, language=LANGUAGE_NAMES[turn.tr.language], options=options)
        return [Reply(text=text, buttons=buttons)]
    turn.who.member.language = code
    turn.session.add(turn.who.member)
    return [Reply(text=translator(code).t("core.language_set", language=LANGUAGE_NAMES[code]))]
