"""Shared fixtures: a fresh, migrated database per test on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.deps import Deps
from bot.runtime.compose import build_deps
from storage.db import make_engine
from storage.migrate import upgrade
from tests.telegram_standin import StandIn

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("PEERLINK_REQUIRE_POSTGRES") == "1"
_TEMPLATE = f"peerlink_template_{uuid.uuid4().hex[:8]}"


class FakeClock:
    """Time under the test's control."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _admin_url(url: str, database: str = "postgres") -> str:
    return make_url(url).set(drivername="postgresql+psycopg", database=database).render_as_string(hide_password=False)


@pytest.fixture(autouse=True, scope="session")
def _only_the_settings_a_test_gives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No setting leaks in from outside: the developer's exported variables are removed, and the run
    happens in an empty working directory, where no `.env` (README: tokens go there) is found. A
    test that wants a setting passes it (Settings(...), monkeypatch.setenv, a subprocess's env)."""
    patch = pytest.MonkeyPatch()
    for name in Settings.model_fields:
        patch.delenv(name.upper(), raising=False)
    patch.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """A test that configures logging (the CLI sets levels) leaves the next test as it found it."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    before = [(logger, logger.level, logger.disabled) for logger in loggers]
    yield
    for logger, level, disabled in before:
        logger.setLevel(level)
        logger.disabled = disabled


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """Migrate once into a template database; each test clones it (fast, and fully isolated)."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("PEERLINK_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)")
    admin = create_engine(_admin_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{_TEMPLATE}"'))
    engine = make_engine(_admin_url(POSTGRES_URL, _TEMPLATE))
    upgrade(engine)
    engine.dispose()
    yield _TEMPLATE
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database (one default community), new for each test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "peerlink.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    template = request.getfixturevalue("postgres_template")  # skips (or fails in CI) without a server
    assert POSTGRES_URL is not None
    name = f"peerlink_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _admin_url(POSTGRES_URL, name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database, for tests that do not need to run on both back-ends."""
    path = tmp_path_factory.mktemp("db") / "peerlink.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
def deps(settings: Settings, clock: FakeClock) -> Iterator[Deps]:
    built = build_deps(settings, clock=clock, migrate=False)
    yield built
    built.engine.dispose()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A local stand-in of Telegram's Bot API on 127.0.0.1."""
    server = StandIn().start()
    yield server
    server.stop()
