"""How one side of an introduction can reach the other, as a neutral value the introduction words.

`reach` is the one rule, in this order: the contact the person chose with `/contact`
(`bot.contacts`: an e-mail; "only through Peerlink" goes straight to the relay), the shared
conversation both are in (a Slack group DM of one workspace), their Telegram handle (the one they
chose, else the one Telegram gives), an imported post's `contact`; otherwise the relay
(`bot.relay`: answering the introduction reaches them). An imported post nobody speaks for and
without a contact is connected by a facilitator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from bot.contacts import ContactKind, contact_of
from bot.i18n import N_, Translator
from bot.ports import Platform
from storage.models import Member, Post
from storage.queries import identities_of_member


class ReachKind(StrEnum):
    chosen = "chosen"  # what the person chose to be reached by
    here = "here"  # the conversation the introduction is posted in, where both sides are
    telegram = "telegram"  # their public @username
    contact = "contact"  # an imported post's contact
    relay = "relay"  # through Peerlink: answering the introduction reaches them
    facilitator = "facilitator"  # nobody to write to: a facilitator connects them


@dataclass(frozen=True, slots=True)
class Reach:
    kind: ReachKind
    value: str = ""


def reach(session: Session, post: Post, member: Member | None, *, shared: bool) -> Reach:
    """How to reach `member`, who speaks for `post` (None: an imported post nobody speaks for)."""
    if member is None:
        return Reach(ReachKind.contact, post.contact) if post.contact else Reach(ReachKind.facilitator)
    chosen = contact_of(session, member.id or 0)
    if chosen is not None and chosen.kind is ContactKind.peerlink:
        return Reach(ReachKind.relay)
    if chosen is not None and chosen.kind is ContactKind.email and chosen.value:
        return Reach(ReachKind.chosen, chosen.value)
    if shared:
        return Reach(ReachKind.here)
    if chosen is not None and chosen.platform == "telegram" and chosen.value:
        return Reach(ReachKind.telegram, _telegram_username(chosen.value))
    for identity in identities_of_member(session=session, member_id=member.id or 0):
        if identity.platform == "telegram" and identity.username:
            return Reach(ReachKind.telegram, identity.username)
    return Reach(ReachKind.relay)


def _telegram_username(handle: str) -> str:
    """`@ana_lima` or `https://t.me/ana_lima` -> `ana_lima`."""
    return handle.strip().removeprefix("https://").removeprefix("t.me/").removeprefix("@")


REACH_KEYS = {
    ReachKind.chosen: N_("core.reach_chosen"),
    ReachKind.here: N_("core.reach_here"),
    ReachKind.telegram: N_("core.reach_telegram"),
    ReachKind.contact: N_("core.reach_contact"),
    ReachKind.relay: N_("core.reach_relay"),
    ReachKind.facilitator: N_("core.reach_facilitator"),
}


HOW_TO_ANSWER = {
    "telegram": N_("core.relay_how_telegram"),
    "slack": N_("core.relay_how_slack"),
    "console": N_("core.relay_how_console"),
}


def how_to_answer(tr: Translator, platform: Platform, number: int) -> str:
    """How a reader on `platform` answers a relayed message (or the introduction) of match `number`."""
    return tr.t(HOW_TO_ANSWER[platform], number=number)


def reach_text(tr: Translator, found: Reach, *, platform: Platform, number: int) -> str:
    """The reach in words, for a reader on `platform` of the introduction of match `number`."""
    how = how_to_answer(tr, platform, number)
    return tr.t(REACH_KEYS[found.kind], contact=found.value, username=found.value, how=how)
