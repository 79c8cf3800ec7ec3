"""Facilitators' view of matching: preview a round, post it, and propose peer working groups."""

from __future__ import annotations

from bot.groups import parse_size, propose_groups, save_groups
from bot.match_card import TITLE_SHOWN, card_text, suggestion_card
from bot.matching.report import groups_text, round_counts
from bot.ports import Button, Reply
from bot.text import shorten
from handlers.application.commands.schedule_peer import post_round_now
from handlers.application.turn import Turn
from storage.models import Organisation, Post

PREVIEW_LINES = 15  # a chat message, not a spreadsheet: `peerlink match` prints the whole round
UNMATCHED_LINES = 10


def peer_match(turn: Turn, args: str) -> list[Reply]:
    word = args.strip().lower()
    if word in turn.tr.words("core.word_preview"):
        return _preview(turn)
    if word in turn.tr.words("core.word_post"):
        # Posting a round is the digest, sent now: one way to put suggestions in the channel.
        return post_round_now(turn)
    return [turn.say("core.match_round_usage")]


def _organisation(turn: Turn, post: Post) -> str:
    organisation = turn.session.get(Organisation, post.organisation_id)
    return organisation.name if organisation else ""


def _preview(turn: Turn) -> list[Reply]:
    tr = turn.tr
    result = turn.deps.matcher.run_round(turn.session, turn.who.community_id)
    lines = [tr.t("core.round_header", **round_counts(tr, result))]
    for suggestion in result.suggestions[:PREVIEW_LINES]:
        lines.append(card_text(suggestion_card(turn.session, suggestion), tr))
    if len(result.suggestions) > PREVIEW_LINES:
        lines.append(tr.t("core.round_more", count=len(result.suggestions) - PREVIEW_LINES))
    if result.unmatched:
        lines.append(tr.t("core.round_unmatched", count=len(result.unmatched)))
        for item in result.unmatched[:UNMATCHED_LINES]:
            need = f"{shorten(item.need.title, TITLE_SHOWN)} ({_organisation(turn, item.need)})"
            lines.append(f"• {need}: {result.explain(item, tr.language)}")
    button = Button(label=tr.t("core.button_post_round"), value="/peer match post", style="primary")
    return [Reply(text="\n".join(lines), buttons=(button,) if result.suggestions else ())]


def peer_groups(turn: Turn, args: str) -> list[Reply]:
    """`/peer groups [3-6]` proposes; `/peer groups save [3-6]` also records the working groups."""
    words = args.split()
    save = bool(words) and words[0].lower() in turn.tr.words("core.word_save")
    size = words[1 if save else 0] if len(words) > (1 if save else 0) else "3-6"
    try:
        low, high = parse_size(size)
    except ValueError:
        return [turn.say("core.groups_usage")]
    proposal = propose_groups(turn.session, turn.deps.matcher, turn.who.community_id, min_size=low, max_size=high)
    text = groups_text(proposal, turn.tr.language)
    if save and proposal.groups:
        saved = save_groups(turn.session, proposal, language=turn.tr.language)
        return [Reply(text=text + "\n\n" + turn.tr.t("core.groups_saved", count=len(saved)))]
    buttons = (Button(label=turn.tr.t("core.button_save_groups"), value=f"/peer groups save {low}-{high}"),)
    return [Reply(text=text, buttons=buttons if proposal.groups else ())]
