"""`/contact`: how peers may reach me. Asked once after the first post is saved (`ask_reply`)."""

from __future__ import annotations

from bot.contacts import Contact, ContactKind, choose, contact_of, parse
from bot.ports import Button, Reply
from handlers.application.turn import Turn


def contact_command(turn: Turn, args: str) -> list[Reply]:
    if not turn.incoming.is_private:  # an address is personal data: never shown in a group
        return [Reply(text=turn.tr.t("privacy.in_private"), private_link=True)]
    if not args.strip():
        return [ask_reply(turn, current=contact_of(turn.session, turn.who.member_id))]
    contact = parse(args, turn.incoming.sender)  # or UserError, answered by the dispatcher
    choose(turn.session, turn.who.member, contact)
    return [turn.say("people.contact_set", contact=describe(turn, contact))]


def describe(turn: Turn, contact: Contact) -> str:
    """The contact in the reader's words."""
    if contact.kind is ContactKind.peerlink:
        return turn.tr.t("people.contact_peerlink")
    if contact.kind is ContactKind.handle and contact.platform == "slack":
        return turn.tr.t("people.contact_slack_profile")
    return contact.value or ""


def ask_reply(turn: Turn, *, current: Contact | None = None) -> Reply:
    """The question, with a button for each choice that needs no typing."""
    now = describe(turn, current) if current else turn.tr.t("people.contact_none")
    buttons = (
        Button(label=turn.tr.t("people.button_contact_handle"), value="/contact handle"),
        Button(label=turn.tr.t("people.button_contact_peerlink"), value="/contact peerlink"),
    )
    return Reply(text=turn.tr.t("people.contact_ask", current=now), buttons=buttons)


def first_post_question(turn: Turn) -> list[Reply]:
    """After a post is saved: the question, once, to someone who has not chosen yet."""
    return [] if contact_of(turn.session, turn.who.member_id) is not None else [ask_reply(turn)]
