"""What a log line is about (platform, community, request or delivery), carried by the running task.

`with about(platform="slack", request="Ev123"):` puts fields on every record logged inside,
including in worker threads started with `asyncio.to_thread` (which copies the context). The
JSON log format prints them; the text format leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_FIELDS: ContextVar[dict[str, str]] = ContextVar("peerlink_log_fields", default={})  # noqa: B039 (never mutated)


@contextmanager
def about(**fields: object) -> Iterator[None]:
    token = _FIELDS.set({**_FIELDS.get(), **{key: str(value) for key, value in fields.items() if value is not None}})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def current() -> dict[str, str]:
    return dict(_FIELDS.get())
