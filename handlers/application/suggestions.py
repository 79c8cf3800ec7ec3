"""Instant suggestions shown when a post is saved: its best peers, each ready to accept or decline,
or an honest "none yet"."""

from __future__ import annotations

from bot.home import mark_posts
from bot.match_card import cards_reply, match_card
from bot.matches import Side
from bot.ports import Reply
from handlers.application.turn import Turn
from storage.models import Post, PostKind

INSTANT = 3


def suggestion_replies(turn: Turn, post: Post) -> list[Reply]:
    matcher = turn.deps.matcher
    suggestions = matcher.suggest(turn.session, post, k=INSTANT)
    if not suggestions:
        return [turn.say("core.suggestions_none")]
    # Recorded like a round's suggestions, so they appear in /matches and on Slack's Home too.
    matches = matcher.record(turn.session, post.community_id, suggestions)
    mark_posts(turn.session, [post_id for pair in matches for post_id in pair])
    side: Side = "need" if post.kind == PostKind.need else "offer"
    cards = [
        match_card(turn.session, matches[(s.need.id or 0, s.offer.id or 0)], s.need, s.offer, side=side)
        for s in suggestions
    ]
    return [cards_reply(turn.tr.t("core.suggestions_header"), cards, turn.tr)]
