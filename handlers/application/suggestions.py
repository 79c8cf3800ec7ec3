"""Instant suggestions shown when a post is saved: its best peers, each ready to accept or decline,
or an honest "none yet"."""

from __future__ import annotations

from bot.home import mark_posts
from bot.ports import Button, Reply
from bot.text import shorten
from handlers.application.commands.matches import answer_buttons
from handlers.application.turn import Turn
from storage.models import MatchStatus, Organisation, Post, PostKind

INSTANT = 3


def suggestion_replies(turn: Turn, post: Post) -> list[Reply]:
    matcher = turn.deps.matcher
    suggestions = matcher.suggest(turn.session, post, k=INSTANT)
    if not suggestions:
        return [turn.say("core.suggestions_none")]
    # Recorded like a round's suggestions, so they appear in /matches and on Slack's Home too.
    matches = matcher.record(turn.session, post.community_id, suggestions)
    mark_posts(turn.session, [post_id for pair in matches for post_id in pair])
    tr = turn.tr
    lines = [tr.t("core.suggestions_header")]
    buttons: list[Button] = []
    for suggestion in suggestions:
        other = suggestion.offer if post.kind == PostKind.need else suggestion.need
        organisation = turn.session.get(Organisation, other.organisation_id)
        match = matches[(suggestion.need.id or 0, suggestion.offer.id or 0)]
        lines.append(
            tr.t(
                "core.suggestion_line",
                number=match.id,
                title=shorten(other.title, 80),
                organisation=organisation.name if organisation else "?",
                score=round(suggestion.score * 100),
                reasons="; ".join(suggestion.reasons(tr.language)),
            )
        )
        if match.status == MatchStatus.suggested:
            buttons.extend(answer_buttons(tr, match.id or 0, organisation))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]
