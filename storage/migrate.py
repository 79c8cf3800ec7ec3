"""Run Alembic migrations from code (`peerlink db upgrade`, first start of the embedded default)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, secret_keys: Sequence[str] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The engine is handed over whole so a URL with a password never passes through config strings.
    config.attributes["engine"] = engine
    # Migrations that seal stored credentials need the keys (PEERLINK_SECRET_KEY), never in a string.
    config.attributes["secret_keys"] = list(secret_keys)
    return config


def upgrade(engine: Engine, revision: str = "head", *, secret_keys: Sequence[str] = ()) -> None:
    command.upgrade(alembic_config(engine, secret_keys), revision)


def downgrade(engine: Engine, revision: str, *, secret_keys: Sequence[str] = ()) -> None:
    command.downgrade(alembic_config(engine, secret_keys), revision)


def at_head(engine: Engine) -> bool:
    """True when the database carries every migration this code knows (release phase done)."""
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
