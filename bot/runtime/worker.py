"""The worker process (`peerlink worker`): the scheduler and outbox dispatcher, plus Telegram long
polling (no webhook set) and Slack Socket Mode (SLACK_APP_TOKEN set), all on one event loop.

It starts with no tokens at all (then only the console notifier is there and console messages are
printed), and stops cleanly on SIGTERM or SIGINT: the scheduler stops taking new runs, the outbox
tick in progress finishes (every sent row is committed), then the platform loops stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TextIO

from bot.deps import Deps
from bot.runtime.probes import serve_probes
from handlers.console import FILES, ConsoleNotifier, Files, Screen
from schedules.outbox import Dispatcher, OutboxPolicy
from schedules.scheduler import DISPATCH_EVERY_SECONDS, OutboxJob, build_scheduler
from schedules.scheduler import stop as stop_scheduler

log = logging.getLogger(__name__)

Loop = Coroutine[Any, Any, None]
EMBEDDED_STOP_SECONDS = 60  # the runs in progress and the last delivery; a daemon thread ends with the process anyway


def add_console_notifier(deps: Deps, stream: TextIO) -> None:
    """Messages planned for console users (`peerlink console`) are printed by the worker."""
    deps.notifiers.setdefault("console", ConsoleNotifier(Screen(stream), Files(FILES)))


def platform_loops(deps: Deps, stop: asyncio.Event) -> tuple[list[Loop], list[Loop]]:
    """The inbound side of the configured platforms that live in the worker: loops that end when
    `stop` is set (Telegram polling), and loops that run until cancelled (Slack Socket Mode)."""
    until_stop: list[Loop] = []
    until_cancelled: list[Loop] = []
    if deps.settings.telegram_enabled:
        from handlers.telegram.polling import polling_wanted, run_polling

        if polling_wanted(deps):
            until_stop.append(run_polling(deps, stop=stop))
    if deps.settings.slack_app_token is not None:
        from handlers.slack.socket_mode import run_socket_mode

        until_cancelled.append(run_socket_mode(deps))
    return until_stop, until_cancelled


def _on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """SIGTERM (the platform stopping the process) and SIGINT (Ctrl-C) set `stop`."""
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform / thread
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    return handled


async def run_worker(
    deps: Deps,
    *,
    stop: asyncio.Event | None = None,
    policy: OutboxPolicy | None = None,
    dispatch_every: float = DISPATCH_EVERY_SECONDS,
    stream: TextIO | None = None,
    inbound: bool = True,
    probes_port: int | None = None,
) -> None:
    """Run until `stop` is set (or SIGTERM/SIGINT arrives). `inbound=False` leaves Telegram polling
    and Slack Socket Mode to the real worker process; `probes_port` serves /healthz, /readyz (its
    scheduler running included) and /metrics there."""
    stop = stop or asyncio.Event()
    handled = _on_signals(stop)
    add_console_notifier(deps, stream or sys.stdout)
    outbox = OutboxJob(Dispatcher(deps, policy=policy))
    scheduler = build_scheduler(deps, outbox, dispatch_every=dispatch_every)
    scheduler.start()
    log.info("worker started: sending to %s", ", ".join(sorted(deps.notifiers)))
    until_stop, until_cancelled = platform_loops(deps, stop) if inbound else ([], [])
    if probes_port is not None:

        def scheduling() -> dict[str, bool]:
            return {"scheduler": bool(scheduler.running)}

        until_stop.append(serve_probes(deps, port=probes_port, more=scheduling, stop=stop))
    tasks = [asyncio.create_task(loop) for loop in until_stop]
    cancellable = [asyncio.create_task(loop) for loop in until_cancelled]
    try:
        await stop.wait()
    finally:
        log.info("worker stopping")
        await stop_scheduler(scheduler, outbox.running)
        for task in cancellable:
            task.cancel()
        for result in await asyncio.gather(*tasks, *cancellable, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("a platform loop ended with %r", result)
        for signum in handled:
            asyncio.get_running_loop().remove_signal_handler(signum)
        log.info("worker stopped")


async def _embedded(deps: Deps, stop: asyncio.Event) -> None:
    await run_worker(deps, stop=stop, inbound=False)
    await Dispatcher(deps).tick()  # what the last lines typed planned is delivered before the end


@contextlib.contextmanager
def embedded_worker(deps: Deps, notifier: ConsoleNotifier) -> Iterator[None]:
    """The scheduler and dispatcher on a background thread, for `peerlink console`: one process runs
    everything, so reminders and introductions reach the terminal (through `notifier`). What falls
    due while the last lines are typed is still delivered before the process ends."""
    deps.notifiers["console"] = notifier
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def serve() -> None:
        try:
            loop.run_until_complete(_embedded(deps, stop))
        except Exception:
            log.exception("the embedded worker stopped")
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    thread = threading.Thread(target=serve, name="embedded-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the worker has already stopped
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=EMBEDDED_STOP_SECONDS)


def main(deps: Deps) -> None:
    # every 2 s APScheduler would log "Running job …" twice; its warnings and errors still show
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    asyncio.run(run_worker(deps, probes_port=deps.settings.worker_port))
