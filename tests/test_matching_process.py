"""A round's process-wide settings (one BLAS thread, short GIL switches, the collector paused): held while
rounds run, the original back when the last one ends."""

from __future__ import annotations

import gc
import sys

from threadpoolctl import threadpool_info, threadpool_limits

from bot.matching.process import collector_paused, one_blas_thread, short_switches


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_overlapping_rounds_keep_one_blas_thread_until_the_last_ends() -> None:
    with threadpool_limits(limits=2, user_api="blas"):  # the same start on a one-core machine
        assert _blas_threads() == {2}
        first, second = one_blas_thread(), one_blas_thread()
        first.__enter__()
        assert _blas_threads() == {1}
        second.__enter__()
        first.__exit__(None, None, None)  # the first round ends while the second still scores
        assert _blas_threads() == {1}
        second.__exit__(None, None, None)
        assert _blas_threads() == {2}


def test_overlapping_rounds_pause_the_collector_until_the_last_ends() -> None:
    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_rounds_keep_short_switches_until_the_last_ends() -> None:
    usual = sys.getswitchinterval()
    first, second = short_switches(), short_switches()
    first.__enter__()
    assert sys.getswitchinterval() < usual
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() < usual
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == usual
