"""Who is talking on Slack: users.info (with locale and timezone) made into a neutral `Sender`.

Looked-up profiles are kept for a few minutes so a conversation does not cost one users.info call
per message; private-chat ids from conversations.open are kept the same way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import Sender

log = logging.getLogger(__name__)

PROFILE_TTL = 600.0  # seconds a users.info answer is trusted


def sender_from_user(team_id: str, user: dict[str, Any]) -> Sender:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or ""
    return Sender(
        platform="slack",
        workspace=team_id,
        user_id=str(user.get("id", "")),
        display_name=str(name),
        locale=user.get("locale") or None,
        timezone=user.get("tz") or None,
        is_platform_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
    )


@dataclass
class Directory:
    """Per-process caches of Slack profiles and private-chat ids."""

    ttl: float = PROFILE_TTL
    _senders: dict[tuple[str, str], tuple[float, Sender]] = field(default_factory=dict)
    _dms: dict[tuple[str, str], str] = field(default_factory=dict)

    async def sender(self, client: AsyncWebClient, team_id: str, user_id: str) -> Sender:
        key = (team_id, user_id)
        cached = self._senders.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            response = await client.users_info(user=user_id, include_locale=True)
            found = sender_from_user(team_id, dict(response.get("user") or {"id": user_id}))
        except SlackApiError as problem:
            # Without a profile the member still gets answered, in the community's language.
            log.warning("users.info failed for %s: %s", user_id, problem.response.get("error"))
            return Sender(platform="slack", workspace=team_id, user_id=user_id)
        self._senders[key] = (time.monotonic(), found)
        return found

    def known(self, team_id: str, user_id: str) -> Sender | None:
        """A profile looked up earlier, without asking Slack (e.g. to apologise in their language)."""
        cached = self._senders.get((team_id, user_id))
        return cached[1] if cached else None

    async def dm_channel(self, client: AsyncWebClient, team_id: str, user_id: str) -> str:
        """The id of the bot's private chat with a user (the Messages tab)."""
        key = (team_id, user_id)
        if key not in self._dms:
            response = await client.conversations_open(users=user_id)
            self._dms[key] = str((response.get("channel") or {}).get("id") or user_id)
        return self._dms[key]


async def asker(context: AsyncBoltContext, client: AsyncWebClient, team_id: str, user_id: str) -> Sender:
    """Who sent this request, from the directory our middleware put in the context."""
    directory: Directory = context["directory"]
    return await directory.sender(client, team_id, user_id)
