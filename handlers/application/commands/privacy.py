"""A person's own data: `/mydata` (everything we hold, as a JSON file) and `/forgetme` (erasure, after
a choice about the posts and a typed confirmation word); and facilitators' `/peer audit`.

`/forgetme` needs no conversation state: `/forgetme` explains and offers the choice as buttons,
`/forgetme keep|delete` asks for the word, `/forgetme keep|delete <word>` erases. The word is in the
person's language (English works too), so nobody erases themselves by pressing on by accident.
"""

from __future__ import annotations

from bot import audit
from bot.i18n import N_
from bot.ports import Button, Reply
from bot.privacy.erase import forget
from bot.privacy.export import export_file
from bot.privacy.person import Person, person_of
from bot.privacy.posts import others_remain, own_posts
from bot.text import shorten
from handlers.application.turn import Turn
from storage.models import Organisation

AUDIT_SHOWN = 20
CHOICES = {"keep": N_("privacy.word_keep"), "delete": N_("privacy.word_delete")}


def _in_private(turn: Turn) -> Reply | None:
    """Personal data is never shown in a group."""
    if turn.incoming.is_private:
        return None
    return Reply(text=turn.tr.t("privacy.in_private"), private_link=True)


def _person(turn: Turn) -> Person:
    found = person_of(turn.session, turn.who.member_id)
    assert found is not None  # the dispatcher resolved (or created) them in this transaction
    return found


def mydata_command(turn: Turn, _args: str) -> list[Reply]:
    refused = _in_private(turn)
    if refused is not None:
        return [refused]
    attachment = export_file(turn.session, _person(turn), now=turn.deps.clock.now())
    return [Reply(text=turn.tr.t("privacy.mydata_ready"), attachment=attachment)]


def forgetme_command(turn: Turn, args: str) -> list[Reply]:
    refused = _in_private(turn)
    if refused is not None:
        return [refused]
    words = args.split()
    choice = _choice(turn, words[0]) if words else None
    if choice is None:
        return [_explain(turn)]
    if choice == "keep" and not others_remain(turn.session, _person(turn)):
        return [_ask_word(turn, "delete")]  # nobody to hand the posts to: deleting them needs its own yes
    if len(words) < 2:
        return [_ask_word(turn, choice)]
    if words[1].lower() not in turn.tr.words("privacy.word_confirm"):
        return [turn.say("privacy.forget_not_confirmed")]
    return [_erase(turn, keep=choice == "keep")]


def _choice(turn: Turn, word: str) -> str | None:
    for choice, key in CHOICES.items():
        if word.lower() in turn.tr.words(key):
            return choice
    return None


def _organisation_name(turn: Turn) -> str:
    organisation_id = turn.who.member.organisation_id
    found = turn.session.get(Organisation, organisation_id) if organisation_id is not None else None
    return found.name if found else ""


def _explain(turn: Turn) -> Reply:
    person = _person(turn)
    count = len(own_posts(turn.session, person))
    delete = Button(label=turn.tr.t("privacy.button_delete"), value="/forgetme delete", style="danger")
    if count and others_remain(turn.session, person):
        label = turn.tr.t("privacy.button_keep", organisation=shorten(_organisation_name(turn), 30))
        keep = Button(label=label, value="/forgetme keep")
        text = turn.tr.t("privacy.forget_explain_choice", count=count, organisation=_organisation_name(turn))
        return Reply(text=text, buttons=(keep, delete))
    return Reply(text=turn.tr.t("privacy.forget_explain", count=count), buttons=(delete,))


def _ask_word(turn: Turn, choice: str) -> Reply:
    shown = turn.tr.t("privacy.word_confirm").split(",")[0].strip()
    value = f"/forgetme {choice} {shown}"
    button = Button(label=turn.tr.t("privacy.button_confirm"), value=value, style="danger")
    key = N_("privacy.forget_confirm_keep") if choice == "keep" else N_("privacy.forget_confirm_delete")
    return Reply(text=turn.tr.t(key, command=f"/forgetme {choice} {shown}"), buttons=(button,))


def _erase(turn: Turn, *, keep: bool) -> Reply:
    now = turn.deps.clock.now()
    erased = forget(turn.session, _person(turn), keep_posts=keep, now=now, source=audit.Source.own)
    return turn.say(
        "privacy.forgotten",
        deleted=erased.posts_deleted,
        kept=erased.posts_kept,
        withdrawn=erased.matches_withdrawn,
    )


def peer_audit(turn: Turn, _args: str) -> list[Reply]:
    """The latest facilitator actions of the caller's own partnership, in the caller's timezone."""
    entries = audit.latest(turn.session, turn.who.community_id, limit=AUDIT_SHOWN)
    if not entries:
        return [turn.say("privacy.audit_empty")]
    zone = turn.who.timezone
    lines = [turn.tr.t("privacy.audit_header", community=turn.who.community.name, zone=zone.key)]
    for entry in entries:
        when = entry.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{when} · {audit.describe(turn.session, entry, turn.tr)}")
    return [Reply(text="\n".join(lines))]


def record_action(
    turn: Turn,
    action: audit.Action,
    *,
    subject: int | None = None,
    target: object = "",
    community_id: int | None = None,
) -> None:
    """A facilitator's action in a chat, into the audit log (`bot.audit.record`); `community_id` when
    the action moved the facilitator to another partnership (`/peer link <code>`)."""
    turn.session.flush()  # a member just created by a role grant gets their id
    audit.record(
        turn.session,
        community_id=community_id or turn.who.community_id,
        action=action,
        now=turn.deps.clock.now(),
        actor_member_id=turn.who.member_id,
        subject_member_id=subject,
        target=target,
    )
