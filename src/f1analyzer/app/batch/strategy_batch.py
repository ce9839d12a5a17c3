"""A large strategy batch as batch work: ``/strategy/batch`` beyond its cap, as an admin job.

``POST /strategy/batch`` answers at most ``BatchRequest``'s cap of generate requests inside one
HTTP request. An analyst who wants the best plan of every driver at several races sends them to
``POST /admin/strategy/batch`` instead: the job groups the requests by race (``season``, event,
``pre_race``) — one task per race, so each race is built and its field planned once, as
:func:`~f1analyzer.app.strategy.generate_batch` does — and runs the tasks on the configured
executor (``F1A_EXECUTOR``: serial, local process pool, or Ray). Each answer is exactly the one
``/strategy/generate`` gives for the same request: its seed is the request's own, so the
executor never changes a number. Narratives come from the offline writer (a job of hundreds of
answers does not call the LLM hundreds of times).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from f1analyzer.app.common import _build, pre_race_models, unpack_models
from f1analyzer.app.executors import Executor, Progress, SerialExecutor, Task, asof_cache_dir, ship_store
from f1analyzer.app.requests import GenerateRequest
from f1analyzer.app.strategy import _generate_on, attach_narrative, field_history_of
from f1analyzer.errors import BatchFailedError
from f1analyzer.simulation.planning.screen import default_field_strategies


def _race_task(task: Task, shared: Mapping[str, Any]) -> list[dict]:
    """Every request of one race, in the order given: ``[{"index", "result"}]``."""
    store = shared["store"].open()
    race_models, version = unpack_models(shared["models"])
    reqs = [GenerateRequest.of(r) for r in task.payload["requests"]]
    first = reqs[0]
    as_of = (pre_race_models(race_models, store, first.season, first.event, cache_dir=shared["asof_cache_dir"])
             if first.pre_race else None)
    built = _build(first, race_models, store, as_of=as_of)
    field = default_field_strategies(built.params)
    history = field_history_of(built, store)
    out = []
    for index, req in zip(task.payload["indices"], reqs):
        t1 = time.perf_counter()
        result = attach_narrative(_generate_on(built, race_models, version, req, field=field,
                                               field_history=history))
        result["latency_ms"] = round((time.perf_counter() - t1) * 1000, 1)
        out.append({"index": index, "result": result})
    return out


def race_tasks(requests: Sequence[GenerateRequest]) -> list[Task]:
    """One task per race, keyed ``strategy-batch/<season>/<event>[/pre-race]``, in first-seen order."""
    groups: dict[tuple, list[int]] = {}
    for k, req in enumerate(requests):
        groups.setdefault((req.season, req.event.strip().lower(), req.pre_race), []).append(k)
    tasks = []
    for (season, event, pre_race), idx in groups.items():
        key = f"strategy-batch/{season}/{event}" + ("/pre-race" if pre_race else "")
        tasks.append(Task.of(key, 0, indices=idx, requests=[requests[k].model_dump() for k in idx]))
    return tasks


def strategy_batch(requests: Sequence[GenerateRequest | dict], *, store, models, executor: Executor | None = None,
                   progress: Progress | None = None, check: Callable[[], None] | None = None) -> dict:
    """The answers of ``requests`` in request order, computed one race per task on ``executor``.

    ``check`` (a job's stop check) runs after every finished race; raising there stops the batch
    (the executor cancels what is left). Races that fail are reported in ``failed`` (their
    requests have no result); when every race fails the batch raises.

    Returns:
        ``{"results": [answer | None, ...], "count", "races", "failed": [{"key", "error",
        "requests"}], "executor", "seconds"}``.
    """
    executor = executor or SerialExecutor()
    reqs = [GenerateRequest.of(r) for r in requests]
    tasks = race_tasks(reqs)
    t0 = time.perf_counter()

    def on_progress(res, done, total):
        if progress is not None:
            progress(res, done, total)
        if check is not None and res is not None:
            check()

    shipment = ship_store(store, executor)
    shared = {"store": shipment, "models": models, "asof_cache_dir": asof_cache_dir(executor)}
    try:
        results = executor.map(_race_task, tasks, shared=shared, progress=on_progress)
    finally:
        shipment.release()
    answers: list[dict | None] = [None] * len(reqs)
    failed = []
    for task, res in zip(tasks, results):
        if res.ok:
            for item in res.value:
                answers[item["index"]] = item["result"]
        else:
            failed.append({"key": res.key, "error": res.error, "requests": list(task.payload["indices"])})
    if failed and len(failed) == len(tasks):
        raise BatchFailedError("Every race of the batch failed: "
                               + "; ".join(f"{f['key']}: {f['error']}" for f in failed[:5]))
    return {"results": answers, "count": sum(a is not None for a in answers), "races": len(tasks),
            "failed": failed, "executor": getattr(executor, "name", type(executor).__name__),
            "seconds": round(time.perf_counter() - t0, 1)}


__all__ = ["strategy_batch", "race_tasks"]
