"""Backtests of one or several seasons as executor tasks: one task per race.

Two rounds of tasks. First the models: with ``models_from="train"`` each season's models are
fitted on the seasons before it, one task per season (``"backtest-models/2023"``), so the fits of
a multi-season run go in parallel. Then the races (``"backtest/2023/5"``, seeded from that key by
:func:`~f1analyzer.simulation.backtest.race_key`), with the store and every season's models
shared once. The answer of a season is exactly :func:`~f1analyzer.simulation.backtest.backtest`'s
(same JSON, same numbers), whichever executor ran it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from f1analyzer.app.executors import Executor, Progress, SerialExecutor, Task, ship_store
from f1analyzer.errors import BatchFailedError
from f1analyzer.simulation.backtest import backtest_models, backtest_race, backtest_rounds, race_key, summarise


def _fit_models(task: Task, shared: Mapping[str, Any]) -> tuple:
    """Task: the models (and the summary's ``models`` block) of one season's backtest."""
    return backtest_models(shared["store"].open(), task.payload["season"], "train")


def _race(task: Task, shared: Mapping[str, Any]) -> dict:
    """Task: one race of a backtest (:func:`~f1analyzer.simulation.backtest.backtest_race`)."""
    p = task.payload
    models = shared["models"][p["season"]][0]
    return backtest_race(shared["store"].open(), p["season"], p["round"], models, seed=task.seed,
                         **shared["options"])


def backtest_seasons(store, seasons: Sequence[int], *, rounds=None, models_from="train", opt_sims: int = 300,
                     replay_sims: int = 500, advisor_sims: int = 100, seed: int = 0, advisor: bool = True,
                     executor: Executor | None = None, progress: Progress | None = None) -> dict:
    """Backtest ``seasons`` (each its stored races, or ``rounds`` of each) on ``executor``.

    Returns:
        one season: ``{"season", "races", "summary"}`` as :func:`.backtest` gives it; several:
        ``{"seasons": [one such dict per season], "summary": {...over every race...}}``. Races
        whose task failed are left out of ``races`` and listed in ``failed``
        (``[{"key", "error"}]``, present only when something failed).
    """
    executor = executor or SerialExecutor()
    seasons = sorted({int(s) for s in seasons})
    if not seasons:
        raise ValueError("seasons must name at least one season")
    wanted = {s: backtest_rounds(store, s, rounds) for s in seasons}
    t0 = time.perf_counter()
    shipment = ship_store(store, executor)
    try:
        return _backtest_on(executor, shipment, store, seasons, wanted, models_from, seed, progress, t0,
                            {"opt_sims": opt_sims, "replay_sims": replay_sims, "advisor_sims": advisor_sims,
                             "advisor": advisor})
    finally:
        shipment.release()


def _backtest_on(executor, shipment, store, seasons, wanted, models_from, seed, progress, t0, options) -> dict:
    """The two rounds of tasks of :func:`backtest_seasons` and the answer built from them."""
    failed: list[dict] = []
    models: dict[int, tuple] = {}
    if isinstance(models_from, str) and models_from == "train":
        tasks = [Task.of(f"backtest-models/{s}", seed, season=s) for s in seasons]
        for task, res in zip(tasks, executor.map(_fit_models, tasks, shared={"store": shipment},
                                                 progress=progress)):
            if res.ok:
                models[task.payload["season"]] = res.value
            else:
                failed.append({"key": res.key, "error": res.error})
    else:
        models = {s: backtest_models(store, s, models_from) for s in seasons}
    if not models:
        raise BatchFailedError("No season's models could be fitted: " + "; ".join(f"{f['key']}: {f['error']}" for f in failed))
    tasks = [Task.of(race_key(s, r), seed, season=s, round=r) for s in seasons if s in models for r in wanted[s]]
    results = executor.map(_race, tasks, shared={"store": shipment, "models": models, "options": options},
                           progress=progress)
    seconds = time.perf_counter() - t0
    by_season: dict[int, list[dict]] = {s: [] for s in models}
    for task, res in zip(tasks, results):
        if res.ok:
            by_season[task.payload["season"]].append(res.value)
        else:
            failed.append({"key": res.key, "error": res.error})
    if not any(by_season.values()):
        raise BatchFailedError("Every race of the backtest failed: "
                          + "; ".join(f"{f['key']}: {f['error']}" for f in failed[:5]))
    out = []
    for s in seasons:
        one = {"season": s, "races": by_season.get(s, []),
               "summary": summarise(by_season.get(s, []), models[s][1], seconds) if s in models else None}
        mine = [f for f in failed if f["key"].split("/")[1] == str(s)]
        if mine:
            one["failed"] = mine
        out.append(one)
    if len(out) == 1:
        return out[0]
    every = [r for s in seasons for r in by_season.get(s, [])]
    summary = summarise(every, {str(s): models[s][1] for s in models}, seconds)
    summary["wet_races"] = [f"{s}/{r['round']}" for s in seasons for r in by_season.get(s, []) if r["wet"]]
    summary["seasons"] = seasons
    combined = {"seasons": out, "summary": summary}
    if failed:
        combined["failed"] = failed
    return combined


__all__ = ["backtest_seasons"]
