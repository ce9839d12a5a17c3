"""``serial``: every task in this process, one after the other (the reference the others match)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import ClosingExecutor, Progress, Task, TaskFn, TaskResult, check_keys, run_task


class SerialExecutor(ClosingExecutor):
    """Runs tasks in the calling process; ``shared`` is passed as it is (nothing is copied)."""

    name = "serial"
    workers = 1
    remote = False

    def map(self, fn: TaskFn, tasks: Sequence[Task], *, shared: Mapping[str, Any] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        check_keys(tasks)
        out = []
        if progress is not None:
            progress(None, 0, len(tasks))
        for task in tasks:
            out.append(run_task(fn, task, shared or {}))
            if progress is not None:
                progress(out[-1], len(out), len(tasks))
        return out

