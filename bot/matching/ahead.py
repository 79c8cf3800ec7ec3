"""Sentence vectors made ahead of the code that stores them, in batches, in order.

The encoder's Python holds the GIL between its many small numpy steps, so beside a thread that
writes to the database it got a slice every switch interval and the two ran one after the other:
1,024 texts took 4.3 s alone and 63 s beside a busy Python thread. A large import therefore
encodes in a process of its own (spawned, so no lock or thread of this process is copied; the model
loads there once, about 1 s), where encoding and storing really overlap on two cores; a small one
encodes on a thread, which costs no start-up.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from bot.ports import Encoder

PROCESS_BATCHES = 8  # from this many batches on, the vectors are made in processes of their own
PROCESSES = 2  # one per core of a small machine, each with one BLAS thread


def _one_blas_thread() -> None:
    """In an encoding process: BLAS's own threads would fight the other process for the cores."""
    threadpool_limits(limits=1, user_api="blas")


@contextmanager
def encoded_ahead(
    encoder: Encoder, batches: Sequence[Sequence[str]], *, process_from: int = PROCESS_BATCHES
) -> Iterator[Iterator[npt.NDArray[np.float32]]]:
    """The vectors of each batch of texts, in the batches' order, made while the caller works on
    the ones before. Leaving early cancels the batches not started (an import that failed)."""
    pool: Executor
    if len(batches) >= process_from:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(PROCESSES, mp_context=context, initializer=_one_blas_thread)
    else:
        pool = ThreadPoolExecutor(1, thread_name_prefix="encoder")
    try:
        yield pool.map(encoder.encode, batches)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
