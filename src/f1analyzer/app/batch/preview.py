"""Season preview: the pre-race optimum and expected points of every driver at every race.

What the pre-race strategy answer (``f1analyzer strategy``) would have said before each race of a
season, for the whole field: one task per race (``"season-preview/2023/5"``). Each task builds the
race as the answer does (:func:`~f1analyzer.app.common._build` with ``pre_race``: models fitted
only on the races before it, driver pace from earlier rounds, no hindsight) and optimises every
driver's plan from their grid slot on the same random numbers (the task's seed), so the drivers of
a race are compared on equal terms. Summed over the season, the expected points make a
championship table as the models saw it race by race.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from f1analyzer.app.common import _build, pre_race_models, unpack_models
from f1analyzer.app.executors import Executor, Progress, SerialExecutor, Task, asof_cache_dir, ship_store
from f1analyzer.app.requests import GenerateRequest
from f1analyzer.app.strategy import _generate_on
from f1analyzer.errors import BatchFailedError, InvalidRequestError
from f1analyzer.simulation.backtest import backtest_rounds
from f1analyzer.simulation.planning.screen import default_field_strategies

#: columns of the preview's CSV, in order
COLUMNS = ["season", "round", "event", "driver", "grid", "strategy", "stops", "compounds", "pit_laps",
           "expected_points", "expected_position_if_classified", "p_win", "p_podium", "p_dnf",
           "models_fitted_on", "confidence"]


def preview_race(store, models, season: int, rnd: int, *, drivers: Sequence[str] | None = None,
                 n_sims: int = 100, seed: int = 0, cache_dir=None) -> list[dict]:
    """Rows (``COLUMNS``) of one race: each driver's best pre-race plan from their grid slot
    (as-of models cached under ``cache_dir``; None: fitted without a cache)."""
    race_models, version = unpack_models(models)
    base = GenerateRequest.of({"season": season, "event": str(rnd), "n_sims": n_sims, "seed": seed, "top_k": 1})
    as_of = pre_race_models(race_models, store, season, str(rnd), cache_dir=cache_dir)
    built = _build(base, race_models, store, as_of=as_of)
    field = default_field_strategies(built.params)
    wanted = [d for d in built.drivers if not drivers or d in set(drivers)]
    rows = []
    for driver in wanted:
        req = base.model_copy(update={"driver": driver})
        ans = _generate_on(built, race_models, version, req, field=field)
        best = ans["strategies"][0]
        rows.append({"season": int(season), "round": int(built.round), "event": built.event, "driver": driver,
                     "grid": ans["grid"], "strategy": best["strategy"], "stops": best["stops"],
                     "compounds": "-".join(best["compounds"]), "pit_laps": " ".join(map(str, best["pit_laps"])),
                     "expected_points": best["expected_points"],
                     "expected_position_if_classified": best["expected_position_if_classified"],
                     "p_win": best["p_win"], "p_podium": best["p_podium"], "p_dnf": best["p_dnf"],
                     "models_fitted_on": (ans.get("data_used") or {}).get("models_fitted_on"),
                     "confidence": ans["confidence"]})
    return rows


def _preview_task(task: Task, shared: Mapping[str, Any]) -> list[dict]:
    p = task.payload
    return preview_race(shared["store"].open(), shared["models"], p["season"], p["round"],
                        drivers=shared["drivers"], n_sims=shared["n_sims"], seed=task.seed,
                        cache_dir=shared["asof_cache_dir"])


def season_preview(store, season: int, *, models, drivers: Sequence[str] | None = None, rounds=None,
                   n_sims: int = 100, seed: int = 0, executor: Executor | None = None,
                   progress: Progress | None = None) -> dict:
    """The preview of ``season`` (its stored races, or ``rounds``), on ``executor``.

    Returns:
        ``{"season", "rows": [COLUMNS...], "standings": [{"driver", "races", "expected_points"}],
        "n_sims", "seed", "seconds"}``, plus ``failed`` (``[{"key", "error"}]``) when races failed.
    """
    executor = executor or SerialExecutor()
    season = int(season)
    wanted = backtest_rounds(store, season, rounds)
    codes = sorted({str(d).strip().upper() for d in drivers}) if drivers else None
    t0 = time.perf_counter()
    tasks = [Task.of(f"season-preview/{season}/{r}", seed, season=season, round=r) for r in wanted]
    shipment = ship_store(store, executor)
    shared = {"store": shipment, "models": models, "drivers": codes, "n_sims": int(n_sims),
              "asof_cache_dir": asof_cache_dir(executor)}
    try:
        results = executor.map(_preview_task, tasks, shared=shared, progress=progress)
    finally:
        shipment.release()
    rows = [row for res in results if res.ok for row in res.value]
    failed = [{"key": res.key, "error": res.error} for res in results if not res.ok]
    if not rows and failed:
        raise BatchFailedError("Every race of the preview failed: "
                               + "; ".join(f"{f['key']}: {f['error']}" for f in failed[:5]))
    if codes and not rows:
        raise InvalidRequestError(f"None of {', '.join(codes)} raced in the stored races of {season}.")
    totals: dict[str, list] = {}
    for row in rows:
        t = totals.setdefault(row["driver"], [0, 0.0])
        t[0] += 1
        t[1] += float(row["expected_points"] or 0.0)
    standings = sorted(({"driver": d, "races": n, "expected_points": round(p, 2)} for d, (n, p) in totals.items()),
                       key=lambda r: (-r["expected_points"], r["driver"]))
    out = {"season": season, "rounds": wanted, "rows": rows, "standings": standings, "n_sims": int(n_sims),
           "seed": int(seed), "seconds": round(time.perf_counter() - t0, 1)}
    if failed:
        out["failed"] = failed
    return out


__all__ = ["season_preview", "preview_race", "COLUMNS"]
