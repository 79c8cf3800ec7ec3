"""Facilitators' `/peer` sub-commands that belong to the core: help, channel, role.
(The dispatcher has already checked the facilitator role.)"""

from __future__ import annotations

import io
import re

from bot.audit import Action
from bot.membership import register_group
from bot.ports import Attachment, Reply
from bot.roles import grant
from bot.transfer import export_rows, write_csv
from handlers.application.commands.general import facilitators_commands
from handlers.application.commands.privacy import record_action
from handlers.application.turn import Turn
from storage.models import Role

_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")  # Slack's escaped user mention
_ROLES = {"facilitator": Role.facilitator, "member": Role.member}
_USER_IDS = {
    "slack": re.compile(r"[UW][A-Z0-9]{2,20}"),
    "telegram": re.compile(r"[1-9][0-9]{0,19}"),
    "console": re.compile(r"[a-z0-9-]{1,64}"),
}


def peer_help(turn: Turn, _args: str) -> list[Reply]:
    return [Reply(text=facilitators_commands(turn.tr))]


def peer_channel(turn: Turn, args: str) -> list[Reply]:
    """`/peer channel here`: digests and notices go to this group, which (on Telegram) is registered
    with the partnership on the way: its members belong, its admins facilitate."""
    if args.strip().lower() not in turn.tr.words("core.word_here"):
        return [turn.say("core.channel_usage")]
    if turn.incoming.is_private:
        return [turn.say("core.channel_private")]
    channel = register_group(turn.session, community_id=turn.who.community_id, address=turn.incoming.chat)
    if channel is None:
        return [turn.say("membership.channel_other_partnership")]
    if channel.registered:
        record_action(turn, Action.register, target=channel.chat)
    channel.is_community_channel = True
    channel.language = turn.tr.language
    turn.session.add(channel)
    return [turn.say("core.channel_set", community=turn.who.community.name)]


def peer_role(turn: Turn, args: str) -> list[Reply]:
    """`/peer role <user> facilitator|member`, for a person of the caller's own partnership only."""
    parts = args.split()
    if len(parts) != 2 or parts[1].lower() not in _ROLES:
        return [turn.say("core.role_usage")]
    platform = turn.incoming.sender.platform
    mention = _MENTION.match(parts[0])
    user_id = mention.group(1) if mention else parts[0]
    if not _USER_IDS[platform].fullmatch(user_id):
        # A Telegram @username carries no user id: granting it would silently reach nobody.
        return [turn.say("core.role_unknown_user", user=parts[0][:40])]
    member = grant(
        turn.session,
        community_id=turn.who.community_id,
        platform=platform,
        user_id=user_id,
        role=_ROLES[parts[1].lower()],
    )
    if member is None:
        return [turn.say("membership.role_not_here", user=parts[0][:40])]
    record_action(turn, Action.role, subject=member.id, target=parts[1].lower())
    name = member.display_name or user_id
    return [turn.say("core.role_set", name=name, role=parts[1].lower())]


def peer_export(turn: Turn, _args: str) -> list[Reply]:
    """All posts of the community as a CSV file, sent to the facilitator."""
    rows = export_rows(turn.session, community_id=turn.who.community_id)
    record_action(turn, Action.export, target=len(rows))
    buffer = io.StringIO()
    write_csv(rows, buffer)
    stamp = turn.deps.clock.now().strftime("%Y%m%d-%H%M")
    attachment = Attachment(
        filename=f"peerlink-posts-{stamp}.csv",
        content=buffer.getvalue().encode("utf-8-sig"),  # the BOM lets spreadsheet apps read UTF-8
        mime_type="text/csv",
    )
    return [Reply(text=turn.tr.t("core.export_ready", count=len(rows)), attachment=attachment)]
