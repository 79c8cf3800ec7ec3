"""One BLAS thread while a round's own workers score.

A round scores blocks on `MatchingConfig.workers` threads, each calling BLAS; OpenBLAS would start
as many threads again for every product, and on two cores the four then fight over them: the
scoring took a third more CPU time (3.5 s instead of 2.4 s for 10,000 x 10,000). Environment
variables cannot be relied on where the bot is deployed, so the limit is set here, only for the
duration of the rounds, and restored when the last one running ends (rounds of two communities
may overlap)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_users = 0
_limits: threadpool_limits | None = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    global _users, _limits
    with _lock:
        if _users == 0:
            _limits = threadpool_limits(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _limits is not None:
                _limits.restore_original_limits()
                _limits = None
