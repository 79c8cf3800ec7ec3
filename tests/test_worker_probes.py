"""`peerlink worker` answers on a port of its own: /healthz, /readyz (database, migrations and its
scheduler running) and /metrics; and SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def test_the_worker_has_probes_and_metrics_of_its_own(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlink.db'}", "WORKER_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot.runtime.cli", "worker"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    try:
        wait_until(lambda: (found := _get(f"{base}/readyz")) is not None and found.status_code == 200, what="ready")
        ready = httpx.get(f"{base}/readyz", timeout=5).json()
        assert ready == {"database": True, "migrations": True, "scheduler": True}
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "peerlink_outbox_oldest_due_age_seconds" in metrics.text
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=120) == 0


def test_a_busy_probes_port_does_not_stop_the_worker(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlink.db'}",
            "WORKER_PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "bot.runtime.cli", "worker"], cwd=tmp_path, env=env, stdout=out, stderr=out
            )
        try:
            wait_until(lambda: "cannot listen on port" in log.read_text(), what="the refusal logged")
            wait_until(lambda: "worker started" in log.read_text(), what="the worker going on")
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=120) == 0
