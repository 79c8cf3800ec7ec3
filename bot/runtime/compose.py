"""The composition root: builds the one `Deps` every adapter, command and job receives."""

from __future__ import annotations

import logging
import threading

from sqlmodel import select

from bot.config import Settings
from bot.deps import Deps
from bot.matching import Matcher
from bot.matching.encoder import UniversalSentenceEncoder
from bot.ports import Clock, SystemClock
from storage.db import make_engine, session_factory
from storage.migrate import upgrade
from storage.models import Community

log = logging.getLogger(__name__)


def build_deps(settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None) -> Deps:
    """Wire the kernel. SQLite (the embedded default) is migrated on start; PostgreSQL is migrated
    by the release phase (`peerlink db upgrade`) unless `migrate=True`."""
    engine = make_engine(settings.database_url)
    if migrate if migrate is not None else engine.dialect.name == "sqlite":
        log.info("migrating the database to the latest revision")
        upgrade(engine)
    clock = clock or SystemClock()
    encoder = UniversalSentenceEncoder()
    deps = Deps(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        encoder=encoder,
        matcher=Matcher(clock=clock, encoder=encoder),
    )
    if settings.telegram_enabled:
        from handlers.telegram.application import install  # the composition root may import adapters

        install(deps)
    if settings.slack_enabled:
        from handlers.slack.notifier import SlackNotifier

        deps.notifiers["slack"] = SlackNotifier(deps)
    return deps


def warm_up(deps: Deps) -> threading.Thread:
    """Load the sentence encoder and build every community's matching index in the background, so a
    long-running process starts at once and its first saved post and instant suggestion do not wait
    for them (seconds at 100,000 posts)."""

    def build() -> None:
        deps.encoder.encode(["warm-up"])  # loads the model, so the first saved post does not wait for it
        with deps.sessions() as session:
            for community_id in session.exec(select(Community.id)).all():
                if community_id is not None:
                    deps.matcher.index(session, community_id)
        log.info("matching indexes are warm")

    thread = threading.Thread(target=build, name="matcher-warm-up", daemon=True)
    thread.start()
    return thread
