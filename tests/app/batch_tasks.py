"""Task functions of the executor tests; module-level so that pool and Ray workers import them."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np

from f1analyzer.errors import InvalidRequestError


def noisy_sum(task, shared) -> float:
    """A number that depends on the task's seed and the shared offset only."""
    rng = np.random.default_rng(task.seed)
    return float(rng.normal(size=1000).sum()) + shared["offset"]


def fail_on_odd(task, shared) -> int:
    if task.payload["n"] % 2:
        raise InvalidRequestError(f"odd number {task.payload['n']}")
    return task.payload["n"]


class UnpickleProbe:
    """Takes a fresh token every time it is unpickled: tells how often ``shared`` was sent."""

    def __init__(self, token: str = "caller"):
        self.token = token

    def __reduce__(self):
        return (_fresh_probe, ())


def _fresh_probe() -> UnpickleProbe:
    return UnpickleProbe(uuid.uuid4().hex)


def who_has_shared(task, shared) -> tuple[int, str]:
    return os.getpid(), shared["probe"].token


def _write_pid(path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()))
    tmp.replace(path)  # the test never reads half a pid


def killed_once(task, shared) -> float:
    """The victim's first run writes its pid and waits to be killed; its retry finds the pid file
    and computes the same number as any other run."""
    if task.payload.get("victim"):
        marker = Path(shared["dir"]) / "victim.pid"
        if not marker.exists():
            _write_pid(marker)
            time.sleep(300)
    return noisy_sum(task, shared)


def sleepy(task, shared) -> int:
    """Task 0 returns at once; the others write their pid and sleep (until cancelled)."""
    n = task.payload["n"]
    if n:
        _write_pid(Path(shared["dir"]) / f"{n}.pid")
        time.sleep(300)
    return n


def sim_threads_here(task, shared) -> int:
    """The thread count a simulation call would use in the worker running this task."""
    from f1analyzer.simulation.core.parallel import sim_threads  # only the worker's value matters

    return sim_threads()
