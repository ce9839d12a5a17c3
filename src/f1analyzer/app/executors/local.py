"""``local``: a process pool over this machine's cores.

Workers are started with ``forkserver`` (``spawn`` where there is none), not ``fork``: a forked
child inherits the parent's threads' locks (logging, BLAS pools) and can hang. ``shared`` is
pickled once in the calling process and unpickled once per worker by the pool's initializer, so a
season's models and store reach each worker once, not once per task.

Ctrl-C: workers ignore SIGINT (the terminal sends it to the whole process group); the calling
process cancels what has not started and terminates the workers, so nothing keeps computing.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from f1analyzer.simulation.core.parallel import available_cpus, set_sim_threads

from .base import ClosingExecutor, Progress, Task, TaskFn, TaskResult, check_keys, log, lost, run_task

#: the worker's copy of ``shared`` (set once by the pool initializer)
_SHARED: Mapping[str, Any] = {}


def _init_worker(shared_blob: bytes) -> None:
    global _SHARED
    # Ctrl-C is handled by the calling process, which terminates the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED = pickle.loads(shared_blob)
    # one race per worker already keeps every core busy: no threads inside a simulation call
    set_sim_threads(1)


def _run_in_worker(fn: TaskFn, task: Task) -> TaskResult:
    return run_task(fn, task, _SHARED)


def _start_method() -> str:
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


class LocalExecutor(ClosingExecutor):
    """Process pool of ``workers`` processes (default: the cores available)."""

    name = "local"
    remote = False

    def __init__(self, workers: int | None = None):
        self.workers = int(workers) if workers else available_cpus()
        if self.workers < 1:
            raise ValueError("workers must be at least 1")

    def map(self, fn: TaskFn, tasks: Sequence[Task], *, shared: Mapping[str, Any] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        check_keys(tasks)
        if not tasks:
            return []
        blob = pickle.dumps(dict(shared or {}), protocol=pickle.HIGHEST_PROTOCOL)
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                   mp_context=mp.get_context(_start_method()),
                                   initializer=_init_worker, initargs=(blob,))
        results: list[TaskResult | None] = [None] * len(tasks)
        pending = {pool.submit(_run_in_worker, fn, t): k for k, t in enumerate(tasks)}
        done_count = 0
        if progress is not None:
            progress(None, 0, len(tasks))
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    k = pending.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the worker died (BrokenProcessPool) or pickling failed
                        res = lost(tasks[k], f"{type(exc).__name__}: {exc}")
                    results[k] = res
                    done_count += 1
                    if progress is not None:
                        progress(res, done_count, len(tasks))
        except BaseException:
            log.warning("local executor interrupted: cancelling %d tasks", len(pending))
            _terminate(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [r for r in results if r is not None]



def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now, running tasks included."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # before 3.14 the pool offers no public way to stop a running task: end its processes (read
    # before shutdown(), which forgets them)
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
