"""Sending outbox messages to Slack (introductions, reminders, digests, exports).

`Address.chat` is a channel id, a user id (the bot's private chat with them) or `users:U1,U2` for
a group chat with several people, which conversations.open creates or finds. Slack's answers
become `DeliveryError`s the outbox understands: 429 says when to retry; an unknown, archived or
deactivated destination will never work.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse

from bot.deps import Deps
from bot.ports import Address, DeliveryError, Platform, Reply, SentRef
from handlers.slack import send
from handlers.slack.addresses import GROUP_PREFIX
from handlers.slack.app_home import refresh_stale
from handlers.slack.client import bot_token, web_client
from handlers.slack.installations import DatabaseInstallationStore

log = logging.getLogger(__name__)

USER_PREFIXES = ("U", "W")  # Slack user ids (W: Enterprise Grid)
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "account_inactive",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "no_installation",
    }
)
DEFAULT_RETRY_AFTER = 30.0


def delivery_error(problem: SlackApiError) -> DeliveryError:
    response = problem.response
    if not isinstance(response, AsyncSlackResponse | SlackResponse):  # e.g. a failed file upload
        return DeliveryError(str(problem)[:200])
    error = str(response.get("error") or "slack_error")
    if response.status_code == 429:
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            retry_after = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
        except ValueError:
            retry_after = DEFAULT_RETRY_AFTER
        return DeliveryError("ratelimited", retry_after=retry_after)
    return DeliveryError(error, permanent=error in PERMANENT)


class SlackNotifier:
    platform: Platform = "slack"

    def __init__(self, deps: Deps, installations: AsyncInstallationStore | None = None) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.installations = installations or DatabaseInstallationStore(deps.sessions, deps.settings.secret_keys)

    async def _token(self, team_id: str) -> str:
        token = await bot_token(self.settings, self.installations, team_id)
        if token is None:
            raise DeliveryError("no_installation", permanent=True)
        return token

    async def _channel(self, client: AsyncWebClient, chat: str) -> str:
        """A group of people gets its group chat opened (or found again: Slack keeps one per set)."""
        if not chat.startswith(GROUP_PREFIX):
            return chat
        response = await client.conversations_open(users=chat.removeprefix(GROUP_PREFIX))
        return str((response.get("channel") or {})["id"])

    async def send(self, to: Address, message: Reply) -> SentRef:
        client = web_client(self.settings, await self._token(to.workspace))
        try:
            channel = await self._channel(client, to.chat)
            if message.attachment is not None and channel.startswith(USER_PREFIXES):
                # files go to conversations only: a user id first becomes their private chat
                channel = await self._channel(client, GROUP_PREFIX + channel)
            message_id = await send.post(client, channel, message)
        except SlackApiError as problem:
            raise delivery_error(problem) from problem
        except (aiohttp.ClientError, TimeoutError) as problem:
            raise DeliveryError(f"network: {type(problem).__name__}") from problem
        await self._refresh_homes()
        return SentRef(platform="slack", chat=channel, message_id=message_id)

    async def _refresh_homes(self) -> None:
        """What the worker changed (a round recorded with its digest, a meeting reminder's
        meeting) shows on the homes of the people concerned; the message itself is sent already,
        so a failure here is only logged."""
        try:
            await refresh_stale(self.deps)
        except Exception:
            log.warning("could not redraw stale homes", exc_info=True)
