"""Process-wide settings held while rounds run, undone when the last one running ends (rounds of
two communities may overlap).

One BLAS thread: a round scores blocks on `MatchingConfig.workers` threads, each calling BLAS;
OpenBLAS would start as many threads again for every product, and on two cores the four then
fight over them: the scoring took a third more CPU time (3.5 s instead of 2.4 s for 10,000 x
10,000). Environment variables cannot be relied on where the bot is deployed, so the limit is set
here, only for the duration of the rounds.

A short GIL switch interval: while the workers score, the round's own thread reads its posts, pure
Python that holds the GIL; a worker back from a product waits for it up to the interval (5 ms by
default) before each step of Python between its products. At 0.5 ms a round of 10,000 x 10,000
on two cores took about 0.2 s less, and a quarter of a second less CPU time.

The cyclic garbage collector paused: building an index and loading a round's posts allocate
hundreds of thousands of containers (rows, ORM objects, their states) that all live on, so every
collection walks them again for nothing: a third of the CPU time of reading 20,000 posts. A round
leaves little cyclic garbage (its peak memory went down, 745 MB to 710 MB, for 10,000 x 10,000);
what other threads leave meanwhile waits the few seconds the round takes.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from threadpoolctl import threadpool_limits

_SWITCH_INTERVAL = 0.0005  # seconds


class _WhileRounds:
    """`start()` when the first user enters, the undo it returned when the last one leaves."""

    def __init__(self, start: Callable[[], Callable[[], object]]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._users = 0
        self._undo: Callable[[], object] = lambda: None

    @contextmanager
    def _held(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._undo = self._start()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._undo()

    def __call__(self) -> AbstractContextManager[None]:
        return self._held()


def _limit_blas() -> Callable[[], object]:
    undo: Callable[[], object] = threadpool_limits(limits=1, user_api="blas").restore_original_limits
    return undo


def _pause_collector() -> Callable[[], object]:
    if not gc.isenabled():  # someone else turned it off: theirs to turn back on
        return lambda: None
    gc.disable()
    return gc.enable


def _short_switches() -> Callable[[], object]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
    return lambda: sys.setswitchinterval(interval)


one_blas_thread = _WhileRounds(_limit_blas)
short_switches = _WhileRounds(_short_switches)
collector_paused = _WhileRounds(_pause_collector)
