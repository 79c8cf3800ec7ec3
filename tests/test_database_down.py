"""With PostgreSQL out of reach, `peerlink serve` and `peerlink worker` wait at start (saying so),
`/readyz` answers 503 while `/healthz` stays 200, and both recover when the database is back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from storage.migrate import downgrade
from tests.slack_standin import wait_until
from tests.tcp_proxy import Proxy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def proxy(database_url: str) -> Iterator[tuple[Proxy, str]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the database-down cases need a database server (PostgreSQL)")
    url = make_url(database_url)
    cut = Proxy((url.host or "127.0.0.1", url.port or 5432))
    yield cut, url.set(host="127.0.0.1", port=cut.port).render_as_string(hide_password=False)
    cut.down()


def _start(command: list[str], database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from bot.runtime.cli import main; main()", *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _status(http: httpx.Client, path: str) -> int:
    try:
        return http.get(path).status_code
    except httpx.HTTPError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_waits_for_the_database_and_reports_readiness(proxy: tuple[Proxy, str], tmp_path: Path) -> None:
    cut, url = proxy
    port = _free_port()
    serve = _start(["serve", "--host", "127.0.0.1", "--port", str(port)], url, tmp_path / "serve.log")
    try:
        wait_until(lambda: "database is unreachable" in (tmp_path / "serve.log").read_text())
        cut.up()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            wait_until(lambda: _status(http, "/readyz") == 200)
            cut.down()
            wait_until(lambda: _status(http, "/readyz") == 503)
            assert http.get("/readyz").json() == {"database": False, "migrations": False}
            assert http.get("/healthz").status_code == 200  # alive: restarting would not help
            assert http.get("/metrics").status_code == 200  # the process's own figures still count
            cut.up()
            wait_until(lambda: _status(http, "/readyz") == 200)
    finally:
        _stop(serve)
    assert serve.returncode == 0  # SIGTERM is a requested, clean stop


def test_the_worker_waits_for_the_database_at_start(proxy: tuple[Proxy, str], tmp_path: Path) -> None:
    cut, url = proxy
    worker = _start(["worker"], url, tmp_path / "worker.log")
    try:
        wait_until(lambda: "database is unreachable" in (tmp_path / "worker.log").read_text())
        assert worker.poll() is None  # still there, waiting
        cut.up()
        wait_until(lambda: "the database answers" in (tmp_path / "worker.log").read_text())
        wait_until(lambda: "worker started" in (tmp_path / "worker.log").read_text())  # SIGTERM is handled from here
    finally:
        _stop(worker)
    assert worker.returncode == 0


async def test_readiness_needs_every_migration(sqlite_url: str) -> None:
    deps = build_deps(Settings(_env_file=None, database_url=sqlite_url), migrate=False)  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=build_web_app(deps))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://peerlink") as http:
            assert (await http.get("/readyz")).json() == {"database": True, "migrations": True}
            downgrade(deps.engine, "0004")  # a release phase that has not run yet
            response = await http.get("/readyz")
            assert (response.status_code, response.json()) == (503, {"database": True, "migrations": False})
    finally:
        deps.engine.dispose()
