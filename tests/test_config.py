"""Settings: defaults, validation, and secrets that never print."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from bot.config import Settings, parse_offsets
from bot.deps import Deps
from bot.i18n import translator
from bot.ports import Address, Incoming, Sender
from bot.runtime.compose import build_deps, warm_up
from handlers.application.conversation import Conversations
from storage.db import make_engine
from storage.models import Meeting
from storage.queries import default_community
from tests.conftest import FakeClock
from tests.slack_standin import SECRET_KEY


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "REMINDER_OFFSETS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///peerlink.db"
    assert settings.reminder_deltas == (timedelta(hours=24), timedelta(hours=1))
    assert not settings.slack_enabled
    assert not settings.telegram_enabled


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFAULT_LANGUAGE", raising=False)
    (tmp_path / ".env").write_text("DEFAULT_LANGUAGE=pt\nTELEGRAM_BOT_TOKEN=123:abc\n", encoding="utf-8")
    settings = Settings()
    assert settings.default_language == "pt"
    assert settings.telegram_enabled


def test_reminder_offsets() -> None:
    assert parse_offsets("1h, 2d,30m,1h") == (timedelta(days=2), timedelta(hours=1), timedelta(minutes=30))
    for bad in ("", "24", "1w", "0h", "h1", "-1h"):
        with pytest.raises(ValueError, match="invalid reminder offset"):
            parse_offsets(bad)
    with pytest.raises(ValidationError, match="invalid reminder offset"):
        Settings(_env_file=None, reminder_offsets="tomorrow")  # type: ignore[call-arg]


def test_unknown_language_and_timezone_are_refused() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_LANGUAGE"):
        Settings(_env_file=None, default_language="de")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="IANA"):
        Settings(_env_file=None, default_timezone="Mars/Olympus")  # type: ignore[call-arg]


def test_secrets_never_print() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxb-very-secret",
        slack_signing_secret="signing-secret",
        telegram_bot_token="123:telegram-secret",
        telegram_webhook_secret="hook-secret",
    )
    shown = f"{settings!r} {settings} {settings.model_dump()}"
    for secret in ("xoxb-very-secret", "signing-secret", "telegram-secret", "hook-secret"):
        assert secret not in shown
    with pytest.raises(ValidationError) as failure:
        Settings(_env_file=None, slack_bot_token="xoxb-very-secret", reminder_offsets="x")  # type: ignore[call-arg]
    assert "xoxb-very-secret" not in str(failure.value)


def test_warm_up_builds_every_index(deps: Deps) -> None:
    warm_up(deps).join()  # however long a busy machine takes; pytest-timeout ends a hang
    assert deps.matcher._indexes  # built before any suggestion was asked for


# --- every setting of README's configuration table is honoured ----------------------------------


def _cli(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`peerlink …` as a person runs it, in its own process, with only the settings given."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_NAMES}
    return subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**clean, **env},
        cwd=cwd,
        timeout=120,
        check=False,
    )


SETTINGS_NAMES = {name.upper() for name in Settings.model_fields}


def _incoming(who: str, text: str, *, timezone: str | None = None, locale: str | None = None) -> Incoming:
    sender = Sender(
        platform="console",
        workspace="local",
        user_id=who,
        display_name=who,
        locale=locale,
        timezone=timezone,
        is_platform_admin=True,
    )
    return Incoming(sender=sender, chat=Address(platform="console", workspace="local", chat=who), text=text)


def test_database_url_is_the_database_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chosen.db'}"
    deps = build_deps(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        with deps.sessions() as session:
            assert default_community(session=session).name
    finally:
        deps.engine.dispose()
    assert (tmp_path / "chosen.db").exists()
    assert not (tmp_path / "peerlink.db").exists()


def test_default_language_is_the_default_community_language(database_url: str, clock: FakeClock) -> None:
    settings = Settings(_env_file=None, database_url=database_url, default_language="es")  # type: ignore[call-arg]
    deps = build_deps(settings, clock=clock, migrate=True)
    try:
        with deps.sessions() as session:
            assert default_community(session=session).language == "es"
        conversations = Conversations(deps)
        assert conversations.handle(_incoming("ana", "/help"))[0].text.startswith("Esto es lo que puedo hacer")
        # a platform locale is the person's own language, and wins over the community's
        brazilian = conversations.handle(_incoming("bia", "/help", locale="pt-BR"))[0].text
        assert brazilian.startswith(translator("pt").t("core.help"))
        assert translator("pt").t("core.help_facilitator") in brazilian
    finally:
        deps.engine.dispose()
    # the settings stay the default community's: changing them changes it at the next start
    again = build_deps(settings.model_copy(update={"default_language": "pl"}), clock=clock, migrate=True)
    try:
        with again.sessions() as session:
            assert default_community(session=session).language == "pl"
    finally:
        again.engine.dispose()


def test_default_timezone_reads_and_shows_times_for_whoever_has_none(database_url: str, clock: FakeClock) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, default_timezone="Europe/Amsterdam"
    )
    deps = build_deps(settings, clock=clock, migrate=True)
    try:
        conversations = Conversations(deps)
        created = conversations.handle(_incoming("ana", "/peer meeting new 2026-05-14 16:00 Peer call"))[0].text
        assert "16:00 (Europe/Amsterdam)" in created
        own_zone = _incoming("lee", "/peer meeting new 2026-05-14 16:00 Other call", timezone="America/New_York")
        assert "16:00 (America/New_York)" in conversations.handle(own_zone)[0].text
        with deps.sessions() as session:
            starts = {m.title: m.start_at for m in session.exec(select(Meeting)).all()}
    finally:
        deps.engine.dispose()
    assert starts["Peer call"] == datetime(2026, 5, 14, 14, 0, tzinfo=UTC)  # CEST is UTC+2: stored as UTC
    assert starts["Other call"] == datetime(2026, 5, 14, 20, 0, tzinfo=UTC)


def test_default_timezone_in_a_console_session(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "DEFAULT_TIMEZONE": "Europe/Amsterdam"}
    result = _cli("console", env=env, cwd=tmp_path, stdin="/peer meeting new 2030-05-14 16:00 Peer call\n")
    assert result.returncode == 0, result.stderr
    assert "16:00 (Europe/Amsterdam)" in result.stdout
    engine = make_engine(env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            meeting = session.exec(select(Meeting)).one()
    finally:
        engine.dispose()
    assert meeting.start_at == datetime(2030, 5, 14, 14, 0, tzinfo=UTC)


def test_db_upgrade_applies_the_language_and_timezone(tmp_path: Path) -> None:
    """The release phase (PostgreSQL deployments) is where the default community takes the settings."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "DEFAULT_LANGUAGE": "pl",
        "DEFAULT_TIMEZONE": "Europe/Warsaw",
    }
    result = _cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == translator("pl").t("core.cli_database_ready")
    engine = make_engine(env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            community = default_community(session=session)
    finally:
        engine.dispose()
    assert (community.language, community.timezone) == ("pl", "Europe/Warsaw")


def test_log_level_decides_what_is_logged(tmp_path: Path) -> None:
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    loud = _cli("db", "upgrade", env={**base, "LOG_LEVEL": "INFO"}, cwd=tmp_path)
    assert "INFO alembic.runtime.migration: Running upgrade" in loud.stderr
    (tmp_path / "p.db").unlink()
    quiet = _cli("db", "upgrade", env={**base, "LOG_LEVEL": "ERROR"}, cwd=tmp_path)
    assert quiet.returncode == 0
    assert "INFO" not in quiet.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_port_is_where_serve_listens(tmp_path: Path) -> None:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_NAMES}
    env = {**clean, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PORT": str(port), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _healthz(port, process) == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthz(port: int, process: subprocess.Popen[bytes]) -> int:
    """The status of GET /healthz once the server answers (it may still be starting)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                return int(response.status)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"peerlink serve never answered on PORT={port} (exit code {process.poll()})")


def test_tokens_enable_their_platform(database_url: str) -> None:
    bare = build_deps(Settings(_env_file=None, database_url=database_url), migrate=False)  # type: ignore[call-arg]
    assert set(bare.notifiers) == set()
    bare.engine.dispose()
    with_tokens = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        telegram_bot_token="123:abc",
    )
    deps = build_deps(with_tokens, migrate=False)
    try:
        assert {"slack", "telegram"} <= set(deps.notifiers)
    finally:
        deps.engine.dispose()
    oauth = Settings(_env_file=None, slack_client_id="1.2", slack_client_secret="s", peerlink_secret_key=SECRET_KEY)  # type: ignore[call-arg]
    assert oauth.slack_enabled
    assert not oauth.telegram_enabled
