"""`/peer org …`: who waits to speak for an organisation (`/peer org`), approving them
(`/peer org approve <number>`, also the button in the facilitator's private message) and merging
two organisations that are one (`/peer org merge "A" "B"`, names quoted, or their numbers)."""

from __future__ import annotations

import shlex

from bot import audit
from bot.claims import approve, find_organisation, merge, pending_members
from bot.i18n import N_
from bot.numbers import number
from bot.ports import Button, Reply
from handlers.application.commands.privacy import record_action
from handlers.application.turn import Turn
from storage.models import Organisation


def peer_org(turn: Turn, args: str) -> list[Reply]:
    sub, _, rest = args.strip().partition(" ")
    if sub.lower() == "approve":
        return _approve(turn, rest)
    if sub.lower() == "merge":
        return _merge(turn, rest)
    if sub:
        return [turn.say("people.org_usage")]
    return _pending(turn)


def _pending(turn: Turn) -> list[Reply]:
    waiting = pending_members(turn.session, turn.who.community_id)
    if not waiting:
        return [turn.say("people.pending_none"), turn.say("people.org_usage")]
    lines = [turn.tr.n("people.pending_header", len(waiting))]
    buttons = []
    for member in waiting:
        organisation = turn.session.get(Organisation, member.organisation_id) if member.organisation_id else None
        name = organisation.name if organisation else "?"
        lines.append(turn.tr.t("people.pending_line", number=member.id, name=member.display_name, organisation=name))
        label = turn.tr.t("people.button_approve_number", number=member.id)
        buttons.append(Button(label=label, value=f"/peer org approve {member.id}"))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


def approve_command(turn: Turn, args: str) -> list[Reply]:
    """`/approve <number>`: someone who already speaks for the organisation vouches for a colleague."""
    return _approve(turn, args, usage=N_("people.approve_usage"))


def _approve(turn: Turn, args: str, *, usage: str = N_("people.org_usage")) -> list[Reply]:
    member_id = number(args, usage=usage)
    now = turn.deps.clock.now()
    member = approve(turn.session, turn.who.member, member_id, facilitator=turn.is_facilitator, now=now)
    organisation = turn.session.get(Organisation, member.organisation_id) if member.organisation_id else None
    name = organisation.name if organisation else ""
    return [turn.say("people.approved", name=member.display_name, organisation=name)]


def _merge(turn: Turn, args: str) -> list[Reply]:
    try:
        names = shlex.split(args)
    except ValueError:
        names = []
    if len(names) != 2:
        return [turn.say("people.org_usage")]
    keep, gone = (_organisation(turn, name) for name in names)
    kept, merged = keep.name, gone.name
    target = f"{keep.id} <- {gone.id}"
    moved = merge(turn.session, keep, gone)
    record_action(turn, audit.Action.org_merge, target=target)
    return [Reply(text=turn.tr.n("people.merged", moved, kept=kept, merged=merged))]


def _organisation(turn: Turn, text: str) -> Organisation:
    if text.isdigit():
        found = turn.session.get(Organisation, int(text))
        if found is not None and found.community_id == turn.who.community_id:
            return found
    return find_organisation(turn.session, turn.who.community_id, text)
