"""The composition root: builds the one `Deps` every adapter, command and job receives."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.ports import Clock, Notifier, SystemClock
from storage.db import SessionFactory, make_engine, session_factory
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: Clock = field(default_factory=SystemClock)
    notifiers: dict[str, Notifier] = field(default_factory=dict)


def build_deps(settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None) -> Deps:
    """Wire the kernel. SQLite (the embedded default) is migrated on start; PostgreSQL is migrated
    by the release phase (`peerlink db upgrade`) unless `migrate=True`."""
    engine = make_engine(settings.database_url)
    if migrate if migrate is not None else engine.dialect.name == "sqlite":
        log.info("migrating the database to the latest revision")
        upgrade(engine)
    return Deps(settings=settings, engine=engine, sessions=session_factory(engine), clock=clock or SystemClock())
