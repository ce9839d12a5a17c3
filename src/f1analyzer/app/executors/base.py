"""The executor contract: tasks named by stable keys, data shared once, one result per task.

A batch (a season's backtest, a season preview, a parameter sweep) is a list of :class:`Task`
objects and one module-level function ``fn(task, shared) -> value``. ``shared`` is what every
task needs and is too big to send with each one (the race models, the race store): an executor
sends it to each worker **once** (the local pool's initializer, Ray's object store) and hands
every task the worker's copy. ``fn`` must not change it.

Every task's seed is fixed in the calling process from its key (:func:`Task.of`), never from the
worker it lands on, so a batch gives the same answer on any executor, in any order, after any
retry. A task that raises comes back as a :class:`TaskResult` with its key and the error; the
other tasks' results are kept.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from f1analyzer.errors import F1AnalyzerError
from f1analyzer.log import get_logger
from f1analyzer.simulation.seeds import task_seed

log = get_logger("app.executors")


@dataclass(frozen=True)
class Task:
    """One piece of a batch.

    Attributes:
        key: stable name, e.g. ``"backtest/2023/5"``; results and failures are reported by it.
        seed: the task's random seed, derived from ``key`` (or ``seed_key``) and the run's seed.
        payload: the task's own arguments (small; shared data go in ``shared``).
    """

    key: str
    seed: int = 0
    payload: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, base_seed: int = 0, *, seed_key: str | None = None, **payload) -> Task:
        """A task whose seed is ``task_seed(seed_key or key, base_seed)``.

        ``seed_key`` lets tasks share random numbers on purpose: a sweep gives every parameter
        value of one race the same draws (common random numbers), so differences between values
        are the parameter's, not noise.
        """
        return cls(key=key, seed=task_seed(seed_key or key, base_seed), payload=dict(payload))


@dataclass
class TaskResult:
    """What one task gave: ``value``, or ``error`` (``"ErrorType: message"``) when it raised."""

    key: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    #: ``host:pid`` that ran it (for the log; results never depend on it)
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


#: progress callback ``(result, done, total)``, called in the calling process: once with
#: ``(None, 0, total)`` when a batch starts, then after each finished task
Progress = Callable[[TaskResult | None, int, int], None]
#: a batch function: module-level (workers import it by name), pure in its arguments
TaskFn = Callable[[Task, Mapping[str, Any]], Any]


@runtime_checkable
class Executor(Protocol):
    """Runs a batch; ``serial``, ``local`` (process pool) and ``ray`` implement it."""

    #: ``"serial"`` / ``"local"`` / ``"ray"``
    name: str
    #: tasks that can run at once
    workers: int
    #: True when workers may run on other machines and cannot read this machine's files
    #: (the race store is then shipped as data, see :mod:`.shipping`)
    remote: bool

    def map(self, fn: TaskFn, tasks: Sequence[Task], *, shared: Mapping[str, Any] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        """Run ``fn(task, shared)`` for every task; one result per task, in the tasks' order.

        Raises:
            KeyboardInterrupt: after cancelling what is still running (nothing keeps running).
        """
        ...

    def close(self) -> None:
        """Release what the executor started (a local Ray instance)."""
        ...


class ClosingExecutor:
    """``with make_executor(...) as ex:`` for every executor: ``close()`` on the way out
    (subclasses release what they started; nothing by default)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_keys(tasks: Sequence[Task]) -> None:
    """Keys name results and seeds: two tasks with one key would be indistinguishable."""
    seen: set[str] = set()
    for t in tasks:
        if t.key in seen:
            raise ValueError(f"duplicate task key {t.key!r}: every task of a batch needs its own key")
        seen.add(t.key)


def run_task(fn: TaskFn, task: Task, shared: Mapping[str, Any]) -> TaskResult:
    """``fn(task, shared)`` as a :class:`TaskResult`; an exception becomes the result's error
    (Ctrl-C and interpreter exits are not caught: they stop the batch)."""
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        value = fn(task, shared)
    except Exception as exc:  # noqa: BLE001 - one task's failure must not lose the others
        msg = exc.message if isinstance(exc, F1AnalyzerError) else str(exc)
        # the caller reports failures (with the key); the log keeps the worker side
        log.info("task %s failed: %s: %s", task.key, type(exc).__name__, msg)
        return TaskResult(task.key, error=f"{type(exc).__name__}: {msg}"[:2000],
                          seconds=round(time.perf_counter() - t0, 3), worker=worker)
    return TaskResult(task.key, value=value, seconds=round(time.perf_counter() - t0, 3), worker=worker)


def lost(task: Task, why: str) -> TaskResult:
    """The result of a task whose worker died (after any retries the executor makes)."""
    log.warning("task %s lost: %s", task.key, why)
    return TaskResult(task.key, error=f"WorkerLost: {why}"[:2000])


__all__ = ["Task", "TaskResult", "Executor", "Progress", "TaskFn", "run_task", "check_keys", "lost"]
