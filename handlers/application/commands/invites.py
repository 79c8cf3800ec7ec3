"""`/start [payload]` (the first message of every Telegram chat, and where invite links land) and
`/peer invite [organisation]` (a facilitator creates an invite link)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import timedelta

from bot import invites
from bot.audit import Action
from bot.i18n import N_
from bot.numbers import parse_number
from bot.organisations import check_name, organisation_named
from bot.ports import Reply
from bot.reachability import member_started
from handlers.application.commands.general import start_command
from handlers.application.commands.privacy import record_action
from handlers.application.flows.engine import FLOWS
from handlers.application.turn import Turn
from storage.models import Community

_OPTION = re.compile(r"([0-9]+)([xd])")  # `5x`: at most five uses; `14d`: valid fourteen days


def start(turn: Turn, args: str, *, commands: Collection[str]) -> list[Reply]:
    """`/start [payload]`; `commands` are the registry's names, for links that carry a typed command."""
    if not turn.incoming.is_private:
        return [Reply(text=turn.tr.t("telegram.start_in_private"), private_link=True)]
    # Writing to us privately proves we may write back: messages that waited go out now.
    member_started(turn.session, turn.who.identity, now=turn.deps.clock.now())
    payload = args.strip()
    replies: list[Reply] = []
    if invites.looks_like_code(payload):
        replies.append(_redeem(turn, payload))
    if not turn.who.member.admitted:  # the invite did not let them in: how to join instead of help
        return [*replies, turn.say("membership.how_to_join")]
    replies.extend(start_command(turn, ""))
    name = payload.lower()
    if name.isalpha() and name != "start" and (name in FLOWS or name in commands):
        # "Continue in private" links carry the command that was typed in the group.
        replies.append(turn.say("telegram.continue_with", command=f"/{name}"))
    return replies


_REFUSED = {
    invites.Outcome.expired: N_("telegram.invite_expired"),
    invites.Outcome.revoked: N_("membership.invite_revoked"),
    invites.Outcome.used_up: N_("membership.invite_used_up"),
}


def _redeem(turn: Turn, code: str) -> Reply:
    result = invites.redeem(turn.session, turn.who, code, now=turn.deps.clock.now())
    if result.outcome in _REFUSED:
        return turn.say(_REFUSED[result.outcome])
    if result.outcome is invites.Outcome.unknown or result.community is None:
        return turn.say("telegram.invite_unknown")
    if result.organisation is not None:
        return turn.say(
            "telegram.invite_joined_organisation",
            community=result.community.name,
            organisation=result.organisation.name,
        )
    return turn.say("telegram.invite_joined", community=result.community.name)


def peer_invite(turn: Turn, args: str) -> list[Reply]:
    """`/peer invite [Nx] [Nd] [organisation]` joins the community (and that organisation), at most
    N times (`5x`) and for N days (`14d`, else 30); `/peer invite revoke <code>` closes one."""
    words = args.split()
    if words and words[0].lower() == "revoke":
        return [_revoke(turn, words[1] if len(words) == 2 else "")]
    limits = _limits(words)
    if limits is None:
        return [turn.say("membership.invite_usage", days=invites.MAX_DAYS, uses=invites.MAX_USES)]
    max_uses, days, rest = limits
    organisation = (
        organisation_named(turn.session, community_id=turn.who.community_id, name=check_name(rest)) if rest else None
    )
    invite = invites.create(
        turn.session,
        turn.who.community_id,
        organisation.id if organisation else None,
        turn.who.member_id,
        now=turn.deps.clock.now(),
        valid_for=timedelta(days=days),
        max_uses=max_uses,
    )
    record_action(turn, Action.invite, target=organisation.name if organisation else "-")
    community = turn.session.get(Community, invite.community_id)
    place = community.name if community else ""
    if organisation is not None:
        place = f"{organisation.name} ({place})"
    until = invite.expires_at.astimezone(turn.who.timezone).date().isoformat() if invite.expires_at else "-"
    limit = [turn.say("membership.invite_limit", uses=max_uses, code=invite.code)] if max_uses else []
    links = [link for make in turn.deps.links.values() if (link := make(invite.code))]
    if not links:
        return [turn.say("telegram.invite_code_only", place=place, code=invite.code, until=until), *limit]
    return [turn.say("telegram.invite_created", place=place, links="\n".join(links), until=until), *limit]


def _limits(words: list[str]) -> tuple[int | None, int, str] | None:
    """Leading `Nx` (uses) and `Nd` (days) options, then the organisation's name; None when an
    option is out of bounds."""
    max_uses: int | None = None
    days = invites.DEFAULT_VALIDITY.days
    while words and (found := _OPTION.fullmatch(words[0].lower())):
        uses = found.group(2) == "x"
        number = parse_number(found.group(1), maximum=invites.MAX_USES if uses else invites.MAX_DAYS)
        if number is None:
            return None
        max_uses, days = (number, days) if uses else (max_uses, number)
        words = words[1:]
    return max_uses, days, " ".join(words)


def _revoke(turn: Turn, code: str) -> Reply:
    invite = invites.revoke(turn.session, community_id=turn.who.community_id, code=code, now=turn.deps.clock.now())
    if invite is None:
        return turn.say("membership.invite_revoke_unknown")
    record_action(turn, Action.invite_revoke, target=invite.id)
    return turn.say("membership.invite_revoked_done", code=invite.code, uses=invite.uses)
