"""Executors for batch work: one interface, three ways to run it.

=========  ===================================================================================
name       runs the tasks
=========  ===================================================================================
serial     in this process, one after the other (the reference)
local      on a process pool over this machine's cores (the default)
ray        on a Ray cluster (``--ray-address``/``RAY_ADDRESS``; ``auto`` joins the one running
           here; none starts a local Ray instance)
=========  ===================================================================================

Chosen by ``--executor`` / ``F1A_EXECUTOR``. All three give identical results for the same seed:
a task's seed comes from its key (:class:`Task`), never from the worker. Work that runs on them:
:mod:`f1analyzer.app.batch` (backtests, season previews, parameter sweeps).

Example:
    >>> with make_executor("local", workers=2) as ex:
    ...     results = ex.map(fn, [Task.of("backtest/2023/1", 0, round=1)], shared={"models": m})
"""

from __future__ import annotations

from f1analyzer.errors import ConfigError

from .base import Executor, Progress, Task, TaskFn, TaskResult, run_task
from .local import LocalExecutor, available_cpus
from .ray_cluster import INSTALL_HINT, RayExecutor, import_ray
from .serial import SerialExecutor
from .shipping import StoreShipment, asof_cache_dir, ship_store

EXECUTORS = ("serial", "local", "ray")


def make_executor(name: str = "local", *, workers: int | None = None, ray_address: str | None = None,
                  max_retries: int = 3) -> Executor:
    """The executor called ``name``; ``workers`` sizes the local pool (or the local Ray instance's
    CPUs); ``ray_address`` is where Ray runs (see the module docstring).

    Raises:
        ConfigError: unknown name, or ``ray`` without Ray installed (the message says how to
            install it).
    """
    key = str(name).strip().lower()
    if key == "serial":
        return SerialExecutor()
    if key == "local":
        return LocalExecutor(workers)
    if key == "ray":
        import_ray()  # fail now, with the install hint, not at the first batch
        return RayExecutor(ray_address, num_cpus=workers, max_retries=max_retries)
    raise ConfigError(f"Unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}.")


__all__ = ["Executor", "Task", "TaskResult", "Progress", "TaskFn", "run_task", "make_executor", "EXECUTORS",
           "SerialExecutor", "LocalExecutor", "RayExecutor", "StoreShipment", "ship_store", "asof_cache_dir", "available_cpus",
           "INSTALL_HINT"]
