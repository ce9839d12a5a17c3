"""One simulation call's races split over threads.

numpy releases the GIL inside its element-wise loops, and the engine is nothing but such loops
over ``[n_sims, n_cars]`` arrays, so two threads on two cores race ~1.5× as many simulations a
second as one. Every simulated race is independent of the others (no step of a lap mixes rows,
and each row's random numbers are drawn before the split), so a call gives **bit-identical
results for any thread count** - only the wall time changes. A test holds the engine to that.

How many threads (:func:`sim_threads`): :func:`set_sim_threads` when called (the batch
executors' workers call it with 1: they already keep every core busy with one race each), else
the ``F1A_SIM_THREADS`` setting, whose default 0 means the cores this process may use, at most
:data:`MAX_AUTO_THREADS`. A call splits only when each thread gets at least
:data:`MIN_ROWS_PER_THREAD` simulated races: below that the threads' Python overhead between the
numpy loops outweighs the parallel work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from f1analyzer.config import get_settings

T = TypeVar("T")

#: fewest simulated races (rows) per thread worth a split. Measured on 2 cores (benchmarks/
#: RESULTS.md, *Monte Carlo simulator*): 2 x 5,000 rows run 1.47x faster than one thread,
#: 2 x 2,500 1.21x, but 2 x 1,000 0.75x - on small arrays the threads mostly wait for the GIL
MIN_ROWS_PER_THREAD = 2500
#: the automatic thread count never exceeds this: on a big host the API's worker processes and
#: its slow-work threads each run simulations, and should not each claim every core
MAX_AUTO_THREADS = 4

_override: int | None = None
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None  # (pid, size): a forked child builds its own pool


def set_sim_threads(n: int | None) -> None:
    """Use ``n`` threads per simulation call in this process (None: back to the setting)."""
    global _override
    if n is not None and int(n) < 1:
        raise ValueError(f"sim threads must be at least 1, got {n}")
    _override = None if n is None else int(n)


@contextmanager
def using_threads(n: int | None) -> Iterator[None]:
    """:func:`set_sim_threads` for the ``with`` block, then the previous choice again (None: no
    change)."""
    global _override
    previous = _override
    if n is not None:
        set_sim_threads(n)
    try:
        yield
    finally:
        _override = previous


def available_cpus() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def sim_threads() -> int:
    """Threads a simulation call may use now (see the module docstring)."""
    if _override is not None:
        return _override
    configured = int(get_settings().sim_threads)
    return configured if configured > 0 else min(available_cpus(), MAX_AUTO_THREADS)


def row_slices(n_rows: int, threads: int | None = None) -> list[slice]:
    """Contiguous, near-equal slices of ``range(n_rows)``, one per thread that gets at least
    :data:`MIN_ROWS_PER_THREAD` rows (a single slice when the call is too small to split)."""
    k = sim_threads() if threads is None else int(threads)
    k = max(1, min(k, n_rows // MIN_ROWS_PER_THREAD))
    edges = [round(i * n_rows / k) for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def map_slices(fn: Callable[[slice], T], slices: list[slice]) -> list[T]:
    """``[fn(s) for s in slices]``, the slices run on the shared thread pool (in order)."""
    if len(slices) == 1:
        return [fn(slices[0])]
    pool = _get_pool(len(slices))
    futures = [pool.submit(fn, s) for s in slices[1:]]
    first = fn(slices[0])  # the calling thread takes the first share instead of waiting idle
    return [first, *(f.result() for f in futures)]


def _get_pool(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    with _lock:
        pid = os.getpid()
        mine = _pool is not None and _pool_key[0] == pid  # a forked child's copy has no threads
        if not mine or _pool_key[1] < size:
            if mine:
                _pool.shutdown(wait=False)  # a bigger pool replaces it; queued work still runs
            _pool, _pool_key = ThreadPoolExecutor(max_workers=size, thread_name_prefix="f1a-sim"), (pid, size)
        return _pool
