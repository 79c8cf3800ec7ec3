"""How peers may reach a member, as the member chose (`/contact`): their platform handle (a Telegram
`@username` / `t.me` link, a Slack profile mention), an e-mail address, or only through Peerlink.

`contact_of` is the one way to read it, as a neutral value that each reader renders; nothing else
looks at the member's contact columns. Imported posts keep their own `contact` column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from bot.errors import UserError
from bot.i18n import N_
from bot.ports import Sender
from storage.models import CONTACT_MAX, Member

EMAIL_LOCAL_MAX = 64
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_TELEGRAM = re.compile(r"(?:@|(?:https?://)?t\.me/)([A-Za-z][A-Za-z0-9_]{4,31})/?")


class ContactKind(StrEnum):
    handle = "handle"  # their account on a platform
    email = "email"
    peerlink = "peerlink"  # only through Peerlink: introductions carry no address


@dataclass(frozen=True, slots=True)
class Contact:
    """A member's chosen contact: `platform` and `value` for a handle (`telegram`, `@ana_lima`;
    `slack`, the user id), `value` for an e-mail, neither for "only through Peerlink"."""

    kind: ContactKind
    value: str | None = None
    platform: str | None = None


def contact_of(session: Session, member_id: int) -> Contact | None:
    """The member's chosen contact, or None while they have not chosen one."""
    member = session.get(Member, member_id)
    if member is None or member.contact_kind is None:
        return None
    return Contact(ContactKind(member.contact_kind), member.contact_value, member.contact_platform)


def parse(text: str, sender: Sender) -> Contact:
    """What a person typed after `/contact`: an e-mail address, a Telegram `@username` or `t.me`
    link, `handle` (their account on the platform they write from), or `peerlink`; else UserError."""
    typed = text.strip()
    word = typed.lower()
    if word == ContactKind.peerlink.value:
        return Contact(ContactKind.peerlink)
    if "@" in typed and not typed.startswith("@"):
        return Contact(ContactKind.email, check_email(typed))
    telegram = _TELEGRAM.fullmatch(typed)
    if telegram is not None:
        return Contact(ContactKind.handle, "@" + telegram.group(1), "telegram")
    if word == ContactKind.handle.value:
        return _own_handle(sender)
    raise UserError(N_("people.contact_usage"))


def _own_handle(sender: Sender) -> Contact:
    if sender.platform == "slack":
        return Contact(ContactKind.handle, sender.user_id, "slack")
    if sender.platform == "telegram" and sender.username:
        return Contact(ContactKind.handle, "@" + sender.username, "telegram")
    # A Telegram account without a public username cannot be reached by a link: they type one, or choose another way.
    raise UserError(N_("people.contact_no_handle"))


def check_email(text: str) -> str:
    address = text.strip()
    local = address.rsplit("@", 1)[0]
    if len(address) > CONTACT_MAX or len(local) > EMAIL_LOCAL_MAX or not _EMAIL.fullmatch(address):
        raise UserError(N_("people.contact_bad_email"), email=address[:60])
    return address


def choose(session: Session, member: Member, contact: Contact) -> None:
    member.contact_kind = contact.kind.value
    member.contact_value = contact.value
    member.contact_platform = contact.platform
    session.add(member)
