"""``ray``: tasks on a Ray cluster (or a local Ray instance started for the run).

``address``: ``None`` starts a local Ray instance on this machine (stopped by :meth:`close`);
``"auto"`` joins the cluster running on this machine (``ray start --head`` / a cluster node);
``"ray://host:10001"`` connects a Ray client to a remote head. ``shared`` goes into Ray's object
store once (``ray.put``); each worker process fetches and unpickles it once and keeps it for the
batch's other tasks. A task whose worker dies (a killed process, a lost node) is re-run by Ray
up to ``max_retries`` times with the same key and seed, so the answer is unchanged.

Ctrl-C cancels every task still pending or running (``ray.cancel(force=True)``) before the
interrupt goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from f1analyzer.errors import BackendUnavailableError, ConfigError
from f1analyzer.simulation.core.parallel import set_sim_threads

from .base import ClosingExecutor, Progress, Task, TaskFn, TaskResult, check_keys, log, lost, run_task

INSTALL_HINT = ("--executor ray needs Ray, which is not installed: pip install 'f1analyzer[ray]' "
                "(or pip install ray), or use --executor local.")

#: the worker's unpickled ``shared`` objects by object id (only the latest batch's is kept)
_SHARED_BY_ID: dict[str, Mapping[str, Any]] = {}


def import_ray():
    """The ``ray`` module, or a ConfigError saying how to install it."""
    try:
        import ray  # optional dependency: the [ray] extra
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def _run_on_worker(fn: TaskFn, task: Task, shared_box: list) -> TaskResult:
    # the ObjectRef arrives boxed in a list so Ray does not resolve it per task: the worker
    # resolves it on its first task of the batch and reuses the object for the others
    import ray  # runs on a Ray worker, where ray is installed

    ref = shared_box[0]
    key = ref.hex()
    if key not in _SHARED_BY_ID:
        _SHARED_BY_ID.clear()
        _SHARED_BY_ID[key] = ray.get(ref)
    set_sim_threads(1)  # a Ray task holds one CPU: no threads inside its simulation calls
    return run_task(fn, task, _SHARED_BY_ID[key])


class RayExecutor(ClosingExecutor):
    """Tasks as Ray tasks of one CPU each."""

    name = "ray"
    remote = True

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, max_retries: int = 3):
        self.address = address or None
        self.num_cpus = num_cpus
        self.max_retries = int(max_retries)
        self._ray = None
        self._started_here = False

    # ------------------------------------------------------------------ connection
    def connect(self):
        """Join (or start) Ray once; a Ray already initialised in this process is used as it is."""
        if self._ray is not None:
            return self._ray
        ray = import_ray()
        if not ray.is_initialized():
            if self.address:
                log.info("joining the Ray cluster at %s", self.address)
                try:
                    ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
                except ConnectionError as exc:
                    raise BackendUnavailableError(
                        f"Cannot join the Ray cluster at {self.address!r} ({str(exc).splitlines()[0]}). Start one "
                        "(`ray start --head`, docs/DEPLOYMENT.md), fix --ray-address / RAY_ADDRESS, or leave "
                        "them unset to start a local Ray instance.") from None
            else:
                log.info("starting a local Ray instance (%s CPUs)", self.num_cpus or "all")
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False)
                self._started_here = True
        self._ray = ray
        return ray

    @property
    def workers(self) -> int:
        ray = self.connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        if self._ray is not None and self._started_here:
            self._ray.shutdown()
        self._ray, self._started_here = None, False

    # ------------------------------------------------------------------ batches
    def map(self, fn: TaskFn, tasks: Sequence[Task], *, shared: Mapping[str, Any] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        check_keys(tasks)
        if not tasks:
            return []
        ray = self.connect()
        shared_ref = ray.put(dict(shared or {}))
        remote = ray.remote(num_cpus=1, max_retries=self.max_retries)(_run_on_worker)
        index = {}
        for k, t in enumerate(tasks):
            index[remote.remote(fn, t, [shared_ref])] = k
        results: list[TaskResult | None] = [None] * len(tasks)
        done_count = 0
        if progress is not None:
            progress(None, 0, len(tasks))
        try:
            while index:
                ready, _ = ray.wait(list(index), num_returns=1)
                rest = [r for r in index if r not in ready]
                if rest:  # collect everything else that is ready too (many short tasks)
                    more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                    ready = list(ready) + list(more)
                for ref in ready:
                    k = index.pop(ref)
                    try:
                        res = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - retries used up (worker/node lost)
                        res = lost(tasks[k], f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                    results[k] = res
                    done_count += 1
                    if progress is not None:
                        progress(res, done_count, len(tasks))
        except BaseException:
            log.warning("ray executor interrupted: cancelling %d tasks", len(index))
            for ref in index:
                try:
                    ray.cancel(ref, force=True)
                except Exception as exc:  # noqa: BLE001 - already finished or gone: nothing to cancel
                    log.debug("cancel %s: %s", ref, exc)
            raise
        finally:
            del shared_ref  # the object store may free it once no task holds it
        return [r for r in results if r is not None]
