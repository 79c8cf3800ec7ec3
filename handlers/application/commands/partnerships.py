"""`/peer link`: one partnership across several workspaces (see `bot.partnerships`).

`/peer link` hands the facilitator a one-time code; `/peer link <code>`, typed by a facilitator in
another workspace, moves that workspace's community into the code's. (The dispatcher has already
checked the facilitator role.)"""

from __future__ import annotations

from bot import membership, partnerships
from bot.audit import Action
from bot.i18n import N_
from bot.ports import Reply
from handlers.application.commands.privacy import record_action
from handlers.application.turn import Turn
from storage.models import Community

CODE_INPUT_MAX = 64


def peer_link(turn: Turn, args: str) -> list[Reply]:
    if not args.strip():
        return [_new_code(turn)]
    return [_redeem(turn, args.strip()[:CODE_INPUT_MAX])]


def _new_code(turn: Turn) -> Reply:
    now = turn.deps.clock.now()
    row = partnerships.create_code(
        turn.session, community_id=turn.who.community_id, created_by=turn.who.member_id, now=now
    )
    record_action(turn, Action.link_code)
    community = turn.session.get(Community, row.community_id)
    return turn.say(
        "partnership.code_created",
        code=partnerships.shown_code(row.code),
        community=community.name if community else "",
        until=row.expires_at.astimezone(turn.who.timezone).strftime("%Y-%m-%d %H:%M"),
    )


def _redeem(turn: Turn, code: str) -> Reply:
    chat = turn.incoming.chat
    linked = partnerships.link(
        turn.session,
        code=code,
        platform=chat.platform,
        external_id=chat.workspace,
        member_id=turn.who.member_id,
        now=turn.deps.clock.now(),
    )
    name = linked.community.name if linked.community else ""
    registered = None
    if linked.outcome in (partnerships.Outcome.joined, partnerships.Outcome.same) and not turn.incoming.is_private:
        assert linked.community is not None
        assert linked.community.id is not None
        registered = _register(turn, linked.community.id)
    if registered is not None and linked.outcome is partnerships.Outcome.same:
        return turn.say(registered, community=name)
    if linked.outcome is partnerships.Outcome.unknown:
        return turn.say("partnership.code_unknown")
    if linked.outcome is partnerships.Outcome.used:
        return turn.say("partnership.code_used")
    if linked.outcome is partnerships.Outcome.expired:
        return turn.say("partnership.code_expired")
    if linked.outcome is partnerships.Outcome.same:
        return turn.say("partnership.already_together", community=name)
    assert linked.moved is not None
    assert linked.community is not None
    record_action(turn, Action.link, target=linked.moved.members, community_id=linked.community.id)
    return turn.say(
        "partnership.joined",
        community=name,
        members=turn.tr.n("partnership.moved_members", linked.moved.members),
        posts=turn.tr.n("partnership.moved_posts", linked.moved.posts),
        organisations=turn.tr.n("partnership.merged_organisations", linked.moved.organisations_merged),
    )


def _register(turn: Turn, community_id: int) -> str | None:
    """A code redeemed in a Telegram group registers the group too: its admin (who redeemed it)
    now facilitates there, and its members belong. The reply's key, or None (not a Telegram group)."""
    if turn.incoming.chat.platform != "telegram":
        return None
    group = membership.register_group(turn.session, community_id=community_id, address=turn.incoming.chat)
    if group is None:
        return N_("membership.channel_other_partnership")
    turn.who.member.admitted = True
    turn.session.add(turn.who.member)
    record_action(turn, Action.register, target=group.chat, community_id=community_id)
    return N_("membership.group_registered")
