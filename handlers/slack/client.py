"""Web API clients: pointed at `SLACK_API_URL` (GovSlack, a local stand-in), holding the bot token
of one workspace (the single `SLACK_BOT_TOKEN`, or the workspace's OAuth installation)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.ports import SEND_TIMEOUT

SLACK_API = "https://slack.com/api/"


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    timeout = int(SEND_TIMEOUT.total_seconds())
    return AsyncWebClient(token=token, base_url=api_url(settings), timeout=timeout)


async def bot_token(settings: Settings, installations: AsyncInstallationStore, team_id: str) -> str | None:
    """The token to act in `team_id`; None when that workspace has not installed the app."""
    if settings.slack_bot_token is not None:
        return settings.slack_bot_token.get_secret_value()
    bot = await installations.async_find_bot(enterprise_id=None, team_id=team_id)
    return str(bot.bot_token) if bot is not None and bot.bot_token else None
