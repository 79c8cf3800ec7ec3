"""Slack work that follows an acknowledgement, waited for when `peerlink serve` stops.

Bolt (with `process_before_response` off, our setting) runs each listener as an asyncio task of its
own (`AsyncioListenerRunner.run`: `asyncio.ensure_future`) and answers Slack as soon as the listener
calls `ack()`; it keeps no handle on that task. uvicorn's graceful stop waits for HTTP requests only,
so on SIGTERM the work after the ack (the conversation, the answer to Slack) was cancelled with the
event loop. Bolt calls its listener start handler first thing inside that task: ours notes the task,
and the web app's lifespan waits for the noted tasks before the process exits, for a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


class _NoteTask(AsyncListenerStartHandler):
    def __init__(self, previous: AsyncListenerStartHandler, tasks: set[asyncio.Task[Any]]) -> None:
        self.previous = previous
        self.tasks = tasks

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await self.previous.handle(request, response)


class ListenerTasks:
    """The listener tasks of one bolt app that have not finished yet."""

    def __init__(self, app: AsyncApp) -> None:
        self.running: set[asyncio.Task[Any]] = set()
        runner = app.listener_runner
        runner.listener_start_handler = _NoteTask(runner.listener_start_handler, self.running)

    async def finish(self, seconds: float) -> None:
        """Wait for every listener running (and any they start) to finish, for at most `seconds`;
        what is still running then is left to be cancelled with the loop, and logged."""
        deadline = asyncio.get_running_loop().time() + seconds
        if self.running:
            log.info("waiting for %d Slack listener(s) to finish (at most %g s)", len(self.running), seconds)
        while self.running:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                log.warning("stopping with %d Slack listener(s) unfinished after %g s", len(self.running), seconds)
                return
            await asyncio.wait(set(self.running), timeout=left)
