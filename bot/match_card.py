"""How a match is shown, wherever it is shown: one `MatchCard`, built once from a match (or a round's
suggestion not recorded yet) with its posts, organisations, reasons, score and answer buttons.

`card_text` is the text of a card in conversations, instant suggestions, round previews and
digests; `card_buttons` are its answers. Adapters only render a card (Slack's Home as Block Kit, a
`Reply`'s buttons as Slack blocks or a Telegram inline keyboard): none looks anything up itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.i18n import N_, Translator
from bot.matches import MatchView, Side, my_matches, reasons_text
from bot.matching import Suggestion
from bot.members import Who
from bot.ports import Button, Reply
from bot.text import shorten
from storage.models import Match, MatchStatus, Organisation, Post, Response

TITLE_SHOWN = 60  # characters of a post title on a card
ORGANISATION_SHOWN = 30  # ... of an organisation's name on a button


@dataclass(frozen=True, slots=True)
class CardSide:
    title: str
    organisation_id: int | None
    organisation: str


@dataclass(frozen=True, slots=True)
class MatchCard:
    number: int | None  # the match id; None for a round previewed, not recorded
    need: CardSide
    offer: CardSide
    score: float  # in [0, 1]
    reasons: tuple[str, ...]  # language-neutral (`bot.matching.reasons`)
    status: MatchStatus
    side: Side | None = None  # the reader's side; None when a channel reads the card
    my_response: Response = Response.pending

    @property
    def mine(self) -> CardSide:
        return self.need if self.side == "need" else self.offer

    @property
    def theirs(self) -> CardSide:
        return self.offer if self.side == "need" else self.need

    @property
    def waiting(self) -> bool:
        """Still open for the reader's answer."""
        return self.number is not None and self.status == MatchStatus.suggested and self.my_response == Response.pending


def _side(session: Session, post: Post) -> CardSide:
    """The one lookup a card needs per post."""
    organisation = session.get(Organisation, post.organisation_id)
    return CardSide(
        title=post.title,
        organisation_id=organisation.id if organisation else None,
        organisation=organisation.name if organisation else "",
    )


def match_card(session: Session, match: Match, need: Post, offer: Post, *, side: Side | None = None) -> MatchCard:
    response = {"need": match.need_response, "offer": match.offer_response}.get(side or "", Response.pending)
    return MatchCard(
        number=match.id,
        need=_side(session, need),
        offer=_side(session, offer),
        score=match.score,
        reasons=tuple(match.reasons),
        status=match.status,
        side=side,
        my_response=response,
    )


def suggestion_card(session: Session, suggestion: Suggestion) -> MatchCard:
    """A round's suggestion before it is recorded (a facilitator's preview): nothing to answer yet."""
    return MatchCard(
        number=None,
        need=_side(session, suggestion.need),
        offer=_side(session, suggestion.offer),
        score=suggestion.score,
        reasons=tuple(suggestion.stored_reasons()),
        status=MatchStatus.suggested,
    )


def view_card(session: Session, view: MatchView) -> MatchCard:
    return match_card(session, view.match, view.need, view.offer, side=view.side)


def my_cards(session: Session, who: Who, *, now: datetime) -> list[MatchCard]:
    """The member's matches (`bot.matches.my_matches`) as cards, best first."""
    return [view_card(session, view) for view in my_matches(session, who, now=now)]


def card_text(card: MatchCard, tr: Translator) -> str:
    """A card as text: from the reader's side with its state, or both sides for a channel."""
    reasons = reasons_text(tr.language, card.reasons)
    score = round(card.score * 100)
    if card.side is None:
        return tr.t(
            "core.round_line",
            marker=f"#{card.number}" if card.number is not None else "•",
            need=shorten(card.need.title, TITLE_SHOWN),
            need_organisation=card.need.organisation,
            offer=shorten(card.offer.title, TITLE_SHOWN),
            offer_organisation=card.offer.organisation,
            score=score,
            reasons=reasons,
        )
    line = tr.t(
        "core.match_line",
        number=card.number,
        mine=shorten(card.mine.title, TITLE_SHOWN),
        theirs=shorten(card.theirs.title, TITLE_SHOWN),
        organisation=card.theirs.organisation,
        score=score,
        reasons=reasons,
    )
    return line + "\n   " + tr.t(_state_key(card))


def _state_key(card: MatchCard) -> str:
    if card.status == MatchStatus.introduced:
        return N_("core.match_state_introduced")
    if card.my_response == Response.accepted:
        return N_("core.match_state_waiting")
    return N_("core.match_state_open")


def card_buttons(card: MatchCard, tr: Translator) -> tuple[Button, ...]:
    """Accept and decline while the card waits for an answer; from a member's side also "don't
    suggest this organisation again" (`/block`). A channel's card offers Accept only: whoever presses
    it answers for their own side."""
    if not card.waiting:
        return ()
    number = card.number
    accept = Button(tr.t("core.button_accept_number", number=number), f"/accept {number}", style="primary")
    if card.side is None:
        return (accept,)
    buttons = (accept, Button(tr.t("core.button_decline_number", number=number), f"/decline {number}"))
    theirs = card.theirs
    if theirs.organisation_id is None:
        return buttons
    label = tr.t("core.button_block_organisation", organisation=shorten(theirs.organisation, ORGANISATION_SHOWN))
    return (*buttons, Button(label, f"/block {theirs.organisation_id}"))


def cards_reply(
    header: str,
    cards: Sequence[MatchCard],
    tr: Translator,
    *,
    footer: Sequence[str] = (),
    buttons_for: int | None = None,
) -> Reply:
    """A header, each card's text and a footer; the buttons of the first `buttons_for` cards still
    waiting for an answer (all by default)."""
    lines = [header, *(card_text(card, tr) for card in cards), *footer]
    answering = [card for card in cards if card.waiting][:buttons_for]
    return Reply(text="\n".join(lines), buttons=tuple(b for card in answering for b in card_buttons(card, tr)))
