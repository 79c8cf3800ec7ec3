"""`/start [payload]` (the first message of every Telegram chat, and where invite links land) and
`/peer invite [organisation]` (a facilitator creates an invite link)."""

from __future__ import annotations

from collections.abc import Collection

from bot import invites
from bot.audit import Action
from bot.organisations import check_name, organisation_named
from bot.ports import Reply
from bot.reachability import member_started
from handlers.application.commands.general import start_command
from handlers.application.commands.privacy import record_action
from handlers.application.flows.engine import FLOWS
from handlers.application.turn import Turn
from storage.models import Community


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
    replies.extend(start_command(turn, ""))
    name = payload.lower()
    if name.isalpha() and name != "start" and (name in FLOWS or name in commands):
        # "Continue in private" links carry the command that was typed in the group.
        replies.append(turn.say("telegram.continue_with", command=f"/{name}"))
    return replies


def _redeem(turn: Turn, code: str) -> Reply:
    result = invites.redeem(turn.session, turn.who, code, now=turn.deps.clock.now())
    if result.outcome is invites.Outcome.expired:
        return turn.say("telegram.invite_expired")
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
    """`/peer invite` joins the community; `/peer invite Name of organisation` joins that one too."""
    organisation = (
        organisation_named(turn.session, community_id=turn.who.community_id, name=check_name(args))
        if args.strip()
        else None
    )
    invite = invites.create(
        turn.session,
        turn.who.community_id,
        organisation.id if organisation else None,
        turn.who.member_id,
        now=turn.deps.clock.now(),
    )
    record_action(turn, Action.invite, target=organisation.name if organisation else "-")
    community = turn.session.get(Community, invite.community_id)
    place = community.name if community else ""
    if organisation is not None:
        place = f"{organisation.name} ({place})"
    until = invite.expires_at.astimezone(turn.who.timezone).date().isoformat() if invite.expires_at else "-"
    links = [link for make in turn.deps.links.values() if (link := make(invite.code))]
    if not links:
        return [turn.say("telegram.invite_code_only", place=place, code=invite.code, until=until)]
    return [turn.say("telegram.invite_created", place=place, links="\n".join(links), until=until)]
