"""Slack installation tokens are sealed at rest (Fernet, PEERLINK_SECRET_KEY): the migration seals
what older versions stored in plain text, and keys rotate without losing a workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.runtime.cli import cli
from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from storage.sealed import Sealer, SealError, unseal_fields

PLAIN = {"team_id": "T1", "bot_token": "xoxb-plain-1", "user_token": "xoxp-plain-2", "bot_id": "B1"}


def _row(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        data = connection.execute(text("SELECT data FROM slackinstallation")).scalar_one()
    return json.loads(data) if isinstance(data, str) else dict(data)


def _plain_install_before_sealing(engine: Engine) -> None:
    downgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO slackinstallation (enterprise_id, team_id, user_id, data, installed_at) "
                "VALUES ('', 'T1', 'U1', :data, CURRENT_TIMESTAMP)"
            ),
            {"data": json.dumps(PLAIN)},
        )


def test_the_migration_seals_plain_tokens_and_the_way_back_opens_them(database_url: str) -> None:
    key = Fernet.generate_key().decode()
    engine = make_engine(database_url)
    try:
        _plain_install_before_sealing(engine)
        upgrade(engine, secret_keys=[key])
        sealed = _row(engine)
        assert "xoxb-plain-1" not in json.dumps(sealed)
        assert sealed["bot_id"] == "B1"  # only credentials are sealed
        assert unseal_fields(sealed, Sealer([key])) == PLAIN
        downgrade(engine, "0005", secret_keys=[key])
        assert _row(engine) == PLAIN
    finally:
        engine.dispose()


def test_stored_tokens_without_a_key_stop_the_migration_with_a_clear_message(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _plain_install_before_sealing(engine)
        with pytest.raises(SealError, match="PEERLINK_SECRET_KEY"):
            upgrade(engine)
        assert _row(engine) == PLAIN  # nothing half-done
    finally:
        engine.dispose()


def test_rotation_reseals_with_the_new_key(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    engine = make_engine(database_url)
    try:
        _plain_install_before_sealing(engine)
        upgrade(engine, secret_keys=[old])
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("PEERLINK_SECRET_KEY", f"{new},{old}")
        result = CliRunner().invoke(cli, ["secrets", "rotate"], obj={})
        assert result.exit_code == 0, result.output
        assert unseal_fields(_row(engine), Sealer([new])) == PLAIN  # the old key is no longer needed
        with pytest.raises(SealError):
            unseal_fields(_row(engine), Sealer([old]))
    finally:
        engine.dispose()


def test_a_new_key_is_printed_as_data_only() -> None:
    result = CliRunner().invoke(cli, ["secrets", "new-key"], obj={})
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())  # a valid key, nothing else on stdout


def test_settings_refuse_bad_keys_and_oauth_without_a_key() -> None:
    with pytest.raises(ValidationError, match="Fernet keys"):
        Settings(_env_file=None, peerlink_secret_key="not-a-key")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="PEERLINK_SECRET_KEY"):
        Settings(_env_file=None, slack_client_id="1.2", slack_client_secret="s")  # type: ignore[call-arg]
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings = Settings(_env_file=None, peerlink_secret_key=" , ".join(keys))  # type: ignore[call-arg]
    assert settings.secret_keys == keys
