"""Instant suggestions shown when a post is saved: its best peers, or an honest "none yet"."""

from __future__ import annotations

from bot.ports import Reply
from bot.text import shorten
from handlers.turn import Turn
from storage.models import Organisation, Post, PostKind

INSTANT = 3


def suggestion_replies(turn: Turn, post: Post) -> list[Reply]:
    suggestions = turn.deps.matcher.suggest(turn.session, post, k=INSTANT)
    if not suggestions:
        return [turn.say("core.suggestions_none")]
    tr = turn.tr
    lines = [tr.t("core.suggestions_header")]
    for number, suggestion in enumerate(suggestions, start=1):
        other = suggestion.offer if post.kind == PostKind.need else suggestion.need
        organisation = turn.session.get(Organisation, other.organisation_id)
        lines.append(
            tr.t(
                "core.suggestion_line",
                number=number,
                title=shorten(other.title, 80),
                organisation=organisation.name if organisation else "?",
                score=round(suggestion.score * 100),
                reasons="; ".join(suggestion.reasons(tr.language)),
            )
        )
    return [Reply(text="\n".join(lines))]
