"""Parameter sweeps: how the pre-race optimum moves when one model parameter moves.

"What if pit loss were 2 s lower everywhere?" A sweep runs the pre-race optimisation (as
``f1analyzer strategy`` does: as-of models, no hindsight) for one driver at one race or every race
of a season, once per value of one parameter, one task per (value, race):
``"sweep/pit_loss_offset_s=-2/2023/5"``, after one task per race fitting its pre-race models
(``"sweep-models/2023/5"``, shared by the values' tasks). Every value of a race runs on the same random numbers
(its seed comes from ``"sweep/2023/5"``), so what changes between values is the parameter's doing,
not Monte Carlo noise.

==========================  =====================================================================
parameter                   applied to the race's simulation parameters
==========================  =====================================================================
``pit_loss_offset_s``       seconds added to the pit loss under green, SC and VSC (floored at 0)
``sc_probability_scale``    factor on the probability of at least one Safety Car and of at least
                            one VSC (capped at 1)
``degradation_scale``       factor on every compound's wear (linear, quadratic and cliff terms)
==========================  =====================================================================
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from f1analyzer.app.common import _build, pre_race_models, unpack_models
from f1analyzer.app.executors import Executor, Progress, SerialExecutor, Task, asof_cache_dir, ship_store
from f1analyzer.app.requests import GenerateRequest
from f1analyzer.app.strategy import _generate_on
from f1analyzer.errors import BatchFailedError, InvalidRequestError
from f1analyzer.simulation.backtest import backtest_rounds
from f1analyzer.simulation.core.params import RaceParams


def _pit_loss_offset(params: RaceParams, value: float) -> RaceParams:
    return replace(params, pit_loss_s=max(0.0, params.pit_loss_s + value),
                   pit_loss_sc_s=max(0.0, params.pit_loss_sc_s + value),
                   pit_loss_vsc_s=max(0.0, params.pit_loss_vsc_s + value))


def _sc_probability_scale(params: RaceParams, value: float) -> RaceParams:
    def scaled(n):
        return replace(n, p_at_least_one=float(min(1.0, max(0.0, n.p_at_least_one * value))))

    return replace(params, sc=scaled(params.sc), vsc=scaled(params.vsc))


def _degradation_scale(params: RaceParams, value: float) -> RaceParams:
    v = max(0.0, value)
    comps = {name: replace(c, linear_s_per_lap=c.linear_s_per_lap * v, quadratic_s_per_lap2=c.quadratic_s_per_lap2 * v,
                           cliff_slope_s_per_lap=c.cliff_slope_s_per_lap * v)
             for name, c in params.compounds.items()}
    return replace(params, compounds=comps)


#: parameter name → (what it does, its neutral value, how it changes RaceParams)
PARAMETERS: dict[str, tuple[str, float, Callable[[RaceParams, float], RaceParams]]] = {
    "pit_loss_offset_s": ("seconds added to every pit loss", 0.0, _pit_loss_offset),
    "sc_probability_scale": ("factor on P(Safety Car) and P(VSC)", 1.0, _sc_probability_scale),
    "degradation_scale": ("factor on tyre wear", 1.0, _degradation_scale),
}


def parse_values(text: str) -> list[float]:
    """``"-2,-1,0,1"`` or a range ``"0.5:1.5:0.25"`` (start:stop:step, stop included)."""
    text = str(text).strip()
    try:
        if ":" in text:
            a, b, step = (float(x) for x in text.split(":"))
            if step <= 0 or b < a:
                raise ValueError
            n = int(np.floor((b - a) / step + 1e-9)) + 1
            return [round(a + k * step, 6) for k in range(n)]
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InvalidRequestError(f"--values takes numbers separated by commas (-2,-1,0) or start:stop:step "
                                  f"(0.5:1.5:0.25); got {text!r}.") from None


def sweep_race(store, models, season: int, rnd: int, parameter: str, value: float, *, driver: str | None,
               n_sims: int, seed: int, as_of: tuple | None = None) -> dict | None:
    """The driver's best pre-race plan at one race with ``parameter`` set to ``value`` (None: the
    driver did not race there); ``as_of``: the race's pre-race models, fitted already."""
    race_models, version = unpack_models(models)
    req = GenerateRequest.of({"season": season, "event": str(rnd), "n_sims": n_sims, "seed": seed, "top_k": 1})
    built = _build(req, race_models, store, as_of=as_of)
    if driver and driver not in built.drivers:
        return None
    built = replace(built, params=PARAMETERS[parameter][2](built.params, float(value)))
    ans = _generate_on(built, race_models, version, req.model_copy(update={"driver": driver}))
    best = ans["strategies"][0]
    return {"value": float(value), "season": int(season), "round": int(built.round), "event": built.event,
            "driver": ans["driver"], "grid": ans["grid"], "strategy": best["strategy"], "stops": best["stops"],
            "expected_points": best["expected_points"], "expected_position": best["expected_position"],
            "p_win": best["p_win"], "p_podium": best["p_podium"]}


def _as_of_task(task: Task, shared: Mapping[str, Any]) -> tuple:
    """Task: the pre-race models of one race (fitted once, shared by every value's task)."""
    p = task.payload
    race_models, _ = unpack_models(shared["models"])
    return pre_race_models(race_models, shared["store"].open(), p["season"], str(p["round"]),
                           cache_dir=shared["asof_cache_dir"])


def _sweep_task(task: Task, shared: Mapping[str, Any]) -> dict | None:
    p = task.payload
    return sweep_race(shared["store"].open(), shared["models"], p["season"], p["round"], shared["parameter"],
                      p["value"], driver=shared["driver"], n_sims=shared["n_sims"], seed=task.seed,
                      as_of=shared["as_of"][p["round"]])


def sweep(store, season: int, *, models, parameter: str, values: Sequence[float], rounds=None,
          driver: str | None = None, n_sims: int = 100, seed: int = 0, executor: Executor | None = None,
          progress: Progress | None = None) -> dict:
    """Sweep ``parameter`` over ``values`` at ``rounds`` of ``season`` (default: every stored race).

    Returns:
        ``{"parameter", "values", "season", "rounds", "driver", "rows": [one per value and race],
        "table": [{"value", "races", "mean_expected_points", "mean_expected_position",
        "stops": {"1": n, ...}, "strategy" (one race: the plan)}], ...}``; ``failed`` when tasks
        failed.
    """
    if parameter not in PARAMETERS:
        raise InvalidRequestError(f"Unknown parameter {parameter!r}: choose one of {', '.join(PARAMETERS)}.",
                                  details={"options": list(PARAMETERS)})
    if not values:
        raise InvalidRequestError("--values needs at least one value.")
    executor = executor or SerialExecutor()
    season = int(season)
    wanted = backtest_rounds(store, season, rounds)
    code = str(driver).strip().upper() if driver else None
    t0 = time.perf_counter()
    values = [float(v) for v in values]
    shipment = ship_store(store, executor)
    try:
        return _sweep_on(executor, shipment, season, wanted, models, parameter, values, code, n_sims, seed,
                         progress, t0)
    finally:
        shipment.release()


def _sweep_on(executor, shipment, season, wanted, models, parameter, values, code, n_sims, seed, progress,
              t0) -> dict:
    """The two rounds of tasks of :func:`sweep` (as-of models per race, then value × race)."""
    fits = [Task.of(f"sweep-models/{season}/{r}", seed, season=season, round=r) for r in wanted]
    fitted = executor.map(_as_of_task, fits, shared={"store": shipment, "models": models,
                                                     "asof_cache_dir": asof_cache_dir(executor)},
                          progress=progress)
    failed = [{"key": res.key, "error": res.error} for res in fitted if not res.ok]
    as_of = {t.payload["round"]: res.value for t, res in zip(fits, fitted) if res.ok}
    wanted = [r for r in wanted if r in as_of]
    tasks = [Task.of(f"sweep/{parameter}={v:g}/{season}/{r}", seed, seed_key=f"sweep/{season}/{r}",
                     season=season, round=r, value=v) for v in values for r in wanted]
    shared = {"store": shipment, "models": models, "parameter": parameter, "driver": code,
              "n_sims": int(n_sims), "as_of": as_of}
    results = executor.map(_sweep_task, tasks, shared=shared, progress=progress)
    rows = [res.value for res in results if res.ok and res.value is not None]
    failed += [{"key": res.key, "error": res.error} for res in results if not res.ok]
    if not rows:
        if failed:
            raise BatchFailedError("Every task of the sweep failed: "
                                   + "; ".join(f"{f['key']}: {f['error']}" for f in failed[:5]))
        raise InvalidRequestError(f"{code} raced in none of the chosen races of {season}.")
    table = []
    for v in values:
        mine = [r for r in rows if r["value"] == v]
        line = {"value": v, "races": len(mine),
                "mean_expected_points": _mean(r["expected_points"] for r in mine),
                "mean_expected_position": _mean(r["expected_position"] for r in mine),
                "stops": {str(k): n for k, n in sorted(Counter(r["stops"] for r in mine).items())}}
        if len(wanted) == 1 and mine:
            line["strategy"] = mine[0]["strategy"]
        table.append(line)
    out = {"parameter": parameter, "description": PARAMETERS[parameter][0], "neutral": PARAMETERS[parameter][1],
           "values": values, "season": season, "rounds": wanted, "driver": code, "n_sims": int(n_sims),
           "seed": int(seed), "rows": rows, "table": table, "seconds": round(time.perf_counter() - t0, 1)}
    if failed:
        out["failed"] = failed
    return out


def _mean(xs) -> float | None:
    xs = [float(x) for x in xs if x is not None]
    return round(float(np.mean(xs)), 3) if xs else None


__all__ = ["sweep", "sweep_race", "parse_values", "PARAMETERS"]
