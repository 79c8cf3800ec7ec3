"""Where a Slack message goes, as a neutral `Address`: a channel or private chat by its id, or a group
DM by its people (`users:U1,U2`, which the notifier finds or opens with conversations.open).

Kept apart from the Slack SDK so the composition root can hand `group_chat` to the kernel cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.ports import Address

GROUP_PREFIX = "users:"


def chat_address(team_id: str, channel_id: str) -> Address:
    return Address(platform="slack", workspace=team_id, chat=channel_id)


def group_chat(team_id: str, user_ids: Sequence[str]) -> Address:
    """The group DM of several people of one workspace, as an address the outbox can keep."""
    return Address(platform="slack", workspace=team_id, chat=GROUP_PREFIX + ",".join(sorted(set(user_ids))))


def is_private_channel(channel_id: str) -> bool:
    """Slack's ids: D… is a private chat with the bot; C… and G… are channels and group chats."""
    return channel_id.startswith("D")
