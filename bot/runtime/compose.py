"""The composition root: builds the one `Deps` every adapter, command and job receives."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.community_defaults import adopt_settings
from bot.config import Settings
from bot.deps import Deps
from bot.fairness import FairScheduler, Limits
from bot.home import watch
from bot.matching import Matcher
from bot.matching.encoder import UniversalSentenceEncoder
from bot.metrics import Metrics
from bot.ports import Clock, SystemClock
from storage.db import make_engine, reachable, session_factory, transaction
from storage.migrate import at_head, upgrade
from storage.models import Community

log = logging.getLogger(__name__)


def build_deps(settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None) -> Deps:
    """Wire the kernel. SQLite (the embedded default) is migrated on start; PostgreSQL is migrated
    by the release phase (`peerlink db upgrade`) unless `migrate=True`."""
    engine = make_engine(settings.database_url)
    if migrate if migrate is not None else engine.dialect.name == "sqlite":
        log.info("migrating the database to the latest revision")
        upgrade(engine, secret_keys=settings.secret_keys)
        adopt_settings_once(engine, settings)
    clock = clock or SystemClock()
    encoder = UniversalSentenceEncoder()
    sessions = session_factory(engine)
    metrics = Metrics.create(sessions, clock)
    deps = Deps(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        encoder=encoder,
        matcher=Matcher(clock=clock, encoder=encoder, on_round=metrics.round_seconds.observe),
        metrics=metrics,
        fairness=FairScheduler(
            Limits(per_minute=settings.requests_per_minute, per_hour=settings.requests_per_hour),
            counted=lambda verdict: metrics.fair_turns.labels(verdict=verdict.value).inc(),
        ),
    )
    # Slack's group DMs are a matter of addressing, not of this process talking to Slack: a
    # facilitator on Telegram may introduce two Slack members, whose worker then delivers it.
    from handlers.slack.addresses import group_chat  # the composition root may import adapters

    deps.group_chats["slack"] = group_chat
    if settings.slack_enabled:
        # Slack draws App Homes: from now on every write notes whose home it changes (bot.home).
        watch(deps.sessions, ["slack"])
    if settings.telegram_enabled:
        from handlers.telegram.application import install  # the composition root may import adapters

        install(deps)
    if settings.slack_enabled:
        from handlers.slack.notifier import SlackNotifier
        from handlers.slack.replay import slack_replay

        deps.notifiers["slack"] = SlackNotifier(deps)
        deps.inbox["slack"] = slack_replay(deps)  # requests stored by `serve`, taken up again by the worker
    return deps


def adopt_settings_once(engine: Engine, settings: Settings) -> None:
    """DEFAULT_LANGUAGE and DEFAULT_TIMEZONE become the default community's, on a migrated database."""
    with transaction(session_factory(engine)) as session:
        adopt_settings(session, settings)


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


def derived_secrets(settings: Settings) -> list[str]:
    """Secrets computed from the configured ones, which logs must not show either."""
    if not settings.telegram_enabled:
        return []
    from handlers.telegram.webhook import webhook_secret

    return [webhook_secret(settings)]


def database_checks(deps: Deps) -> dict[str, bool]:
    """What readiness probes report: the database answers, and it carries every migration."""
    database = reachable(deps.engine)
    return {"database": database, "migrations": database and at_head(deps.engine)}


def wait_for_database(deps: Deps, *, sleep: Callable[[float], None] = time.sleep, most: float = 30.0) -> None:
    """Block until the database answers, saying so in the log (a process started before its
    database — a deploy, a restart of both — waits instead of failing, and retries more slowly)."""
    delay = 1.0
    while not reachable(deps.engine):
        log.warning("the database is unreachable; trying again in %g s", delay)
        sleep(delay)
        delay = min(delay * 2, most)
    log.info("the database answers")
