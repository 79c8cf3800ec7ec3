"""What a log line is about (platform, community, request or delivery), carried by the running task.

`with about(platform="slack", request="Ev123"):` puts fields on every record logged inside,
including in worker threads started with `asyncio.to_thread` and tasks started inside (both copy
the context). The JSON log format prints them; the text format leaves them out.

`note(community=7)` adds a field learnt along the way (the community, once the sender is known) to
the work under way: each `about` scope holds one dict of its own, and the threads and tasks started
inside share it (they copy the context, not the dict), so a field noted in a worker thread is on
the lines logged after it returns, and on those of a listener the request started.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_NOWHERE: dict[str, str] = {}  # outside any scope: never written to
_FIELDS: ContextVar[dict[str, str]] = ContextVar("peerlink_log_fields", default=_NOWHERE)


def _strings(fields: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value is not None}


@contextmanager
def about(**fields: object) -> Iterator[None]:
    token = _FIELDS.set({**_FIELDS.get(), **_strings(fields)})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def note(**fields: object) -> None:
    """Add fields to the innermost `about` scope, for the rest of it; outside one, nothing happens."""
    scope = _FIELDS.get()
    if scope is not _NOWHERE:
        scope.update(_strings(fields))


def current() -> dict[str, str]:
    return dict(_FIELDS.get())
