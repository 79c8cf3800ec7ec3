"""OAuth mode: each workspace's installation (its bot token) and the one-time OAuth `state`
values, kept in our own database tables (created by migration 0003, never at run time)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from logging import Logger
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.partnerships import own_community
from bot.ports import Clock
from storage.db import SessionFactory, transaction
from storage.models import SlackInstallation, SlackOAuthState
from storage.queries import delete_slack_installations, latest_slack_installation, slack_oauth_state
from storage.sealed import Sealer, seal_fields, unseal_fields

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)


def _plain(value: Any) -> Any:
    """Installation fields as JSON: datetimes become Unix timestamps, which the model accepts back."""
    return value.timestamp() if isinstance(value, datetime) else value


def to_row(installation: Installation, sealer: Sealer) -> SlackInstallation:
    data = seal_fields({key: _plain(value) for key, value in installation.to_dict_for_copying().items()}, sealer)
    return SlackInstallation(
        enterprise_id=installation.enterprise_id or "",
        team_id=installation.team_id or "",
        user_id=installation.user_id or "",
        bot_user_id=installation.bot_user_id,
        data=data,
        installed_at=datetime.fromtimestamp(installation.installed_at, tz=UTC),
    )


def to_installation(row: SlackInstallation, sealer: Sealer) -> Installation:
    data = unseal_fields(dict(row.data), sealer)
    custom_values = data.pop("custom_values", None) or {}
    return Installation(**data, custom_values=custom_values)


class DatabaseInstallationStore(AsyncInstallationStore):
    """Tokens are sealed with PEERLINK_SECRET_KEY (storage/sealed.py) before they reach a row."""

    def __init__(self, sessions: SessionFactory, secret_keys: Sequence[str]) -> None:
        self.sessions = sessions
        self._keys = list(secret_keys)

    @property
    def sealer(self) -> Sealer:
        return Sealer(self._keys)  # raises SealError, naming the setting, when no key is configured

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self._save, installation)

    def _save(self, installation: Installation) -> None:
        with transaction(self.sessions) as session:
            session.add(to_row(installation, self.sealer))
            if installation.team_id:  # each installed workspace is its own partnership until linked
                name = installation.team_name or installation.team_id
                own_community(session, platform="slack", external_id=installation.team_id, name=name)

    def _find(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> Installation | None:
        with self.sessions() as session:
            row = latest_slack_installation(
                session=session, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
            return to_installation(row, self.sealer) if row is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = None if is_enterprise_install else team_id
        return await asyncio.to_thread(self._find, enterprise_id, team, user_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        team = None if is_enterprise_install else team_id
        found = await asyncio.to_thread(self._find, enterprise_id, team, None)
        return found.to_bot() if found is not None and found.bot_token else None

    def _delete(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> None:
        with transaction(self.sessions) as session:
            delete_slack_installations(session=session, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self._delete, enterprise_id, team_id, None)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(self._delete, enterprise_id, team_id, user_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """A state is issued for one visit to the install page and accepted once, within ten minutes."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await asyncio.to_thread(self._issue, state)
        return state

    def _issue(self, state: str) -> None:
        with transaction(self.sessions) as session:
            session.add(SlackOAuthState(state=state, expires_at=self.clock.now() + STATE_LIFETIME))

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._consume, state)

    def _consume(self, state: str) -> bool:
        with transaction(self.sessions) as session:
            row = slack_oauth_state(session=session, state=state)
            if row is None:
                return False
            session.delete(row)
            return row.expires_at > self.clock.now()
