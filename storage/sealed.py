"""Credentials sealed at rest: Fernet with a list of keys (MultiFernet), newest first.

A sealed value is `fernet:<token>`. Sealing always uses the first key; unsealing tries each key, so
rotating is: put a new key first (`PEERLINK_SECRET_KEY=new,old`), reseal every stored value
(`peerlink secrets rotate`), then drop the old key. A plain value where a sealed one belongs is
refused, never used: it means a database that missed the migration that seals them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet:"
# The fields of a Slack installation (slack_sdk's Installation) that grant access to a workspace.
SLACK_SECRET_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token", "incoming_webhook_url")


class SealError(ValueError):
    """A key is missing or wrong, or a stored credential is not sealed."""


def valid_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True


class Sealer:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SealError("PEERLINK_SECRET_KEY is not set: stored credentials cannot be sealed or read")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def unseal(self, value: str) -> str:
        if not value.startswith(PREFIX):
            raise SealError("a stored credential is not sealed: run `peerlink db upgrade` with PEERLINK_SECRET_KEY")
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise SealError("no key in PEERLINK_SECRET_KEY opens a stored credential") from exc

    def reseal(self, value: str) -> str:
        """The same secret sealed with the first key (for rotation)."""
        return self.seal(self.unseal(value))


def _map(data: dict[str, Any], fields: Sequence[str], change: Any) -> dict[str, Any]:
    return {key: change(value) if key in fields and isinstance(value, str) else value for key, value in data.items()}


def seal_fields(data: dict[str, Any], sealer: Sealer, fields: Sequence[str] = SLACK_SECRET_FIELDS) -> dict[str, Any]:
    return _map(data, fields, lambda value: value if value.startswith(PREFIX) else sealer.seal(value))


def unseal_fields(data: dict[str, Any], sealer: Sealer, fields: Sequence[str] = SLACK_SECRET_FIELDS) -> dict[str, Any]:
    return _map(data, fields, sealer.unseal)


def reseal_fields(data: dict[str, Any], sealer: Sealer, fields: Sequence[str] = SLACK_SECRET_FIELDS) -> dict[str, Any]:
    return _map(data, fields, sealer.reseal)
