"""The season views of the dashboard (issue 15), from the stored laps only.

- :func:`season_strategies`: every driver's tyre stints at every stored race of a season, so the
  dashboard can show one driver's strategies across the year at a glance.
- :func:`degradation_by_season`: per season, how lap times drift with tyre age (FastF1 ``TyreLife``)
  at one circuit, per compound: an empirical curve, no model fit, so seasons can be compared.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..data.circuits import fan_name, get_circuit, resolve_circuit
from ..data.schema import plain_value
from ..data.store import RaceStore
from ..errors import DataNotLoadedError, NotFoundError

#: fuel burn's lap-time effect used to correct laps (s per lap of fuel still aboard); the circuit
#: models fit 0.03–0.07, and a constant keeps seasons comparable
FUEL_S_PER_LAP = 0.06
#: tyre ages shown (laps); a point needs this many laps behind it
MAX_AGE, MIN_LAPS = 40, 8

DEGRADATION_METHOD = (
    "Clean laps only (green flag, no in/out lap, accurate timing), fuel-corrected as lap time − "
    f"{FUEL_S_PER_LAP} s × laps remaining; each lap minus its driver's median corrected lap of that "
    "race (removes car and driver pace); then the median over all drivers per compound and TyreLife "
    f"(laps on the set, FastF1), shown where at least {MIN_LAPS} laps exist, up to {MAX_AGE} laps.")


def season_strategies(store: RaceStore, season: int) -> dict:
    """``{"season", "races": [...], "drivers": {code: [{"round", "position", "finished", "stints"}]}}``."""
    races = store.races(season)
    if races.empty:
        raise DataNotLoadedError(f"No races of season {season} are stored. Run `f1analyzer ingest` first.")
    stints = store.stints(season)
    laps = store.laps(season)
    last = laps.sort_values("lap_number").groupby(["round", "driver"], observed=True).tail(1)
    out_races, drivers = [], {}
    for r in races.to_dict("records"):
        out_races.append({"round": int(r["round"]), "event": r["event"], "circuit_key": r["circuit_key"],
                          "circuit": fan_name(r["circuit_key"]), "total_laps": int(r["total_laps"]),
                          "compounds": list(r["compounds"]), "demo": bool(r["demo"])})
    finish = {(int(x["round"]), x["driver"]): x for x in last.to_dict("records")}
    totals = {int(r["round"]): int(r["total_laps"]) for r in races.to_dict("records")}
    for (rnd, drv), g in stints.groupby(["round", "driver"], sort=True, observed=True):
        end = finish.get((int(rnd), drv), {})
        drivers.setdefault(str(drv), []).append({
            "round": int(rnd),
            "position": plain_value(end.get("position")),
            "finished": int(end.get("lap_number", 0) or 0) >= totals.get(int(rnd), 0),
            "team": plain_value(g["team"].iloc[0]),
            "stints": [{"compound": s["compound"], "start_lap": int(s["start_lap"]), "end_lap": int(s["end_lap"]),
                        "fresh_tyre": plain_value(s["fresh_tyre"]), "tyre_life_start": plain_value(s["tyre_life_start"])}
                       for s in g.sort_values("stint").to_dict("records")],
        })
    return {"season": int(season), "races": out_races, "drivers": dict(sorted(drivers.items()))}


def degradation_by_season(store: RaceStore, circuit: str) -> dict:
    """``{"circuit_key", "circuit", "method", "seasons": [{"season", "round", "event", "curves":
    {compound: [[tyre_life, delta_s, laps], ...]}}]}`` for every stored race at ``circuit``."""
    key = resolve_circuit(circuit) or (circuit if get_circuit(circuit) else None)
    if key is None:
        raise NotFoundError(f"No circuit called {circuit!r}. Give a circuit key ('monza'), a name or a Grand Prix.")
    races = store.races()
    races = races[races["circuit_key"] == key]
    seasons = []
    for r in races.sort_values("season").to_dict("records"):
        laps = store.laps(int(r["season"]), int(r["round"]))
        df = pd.DataFrame(laps)
        df = df[df["is_clean"] & df["lap_time_s"].notna() & df["tyre_life_laps"].notna()]
        if df.empty:
            continue
        df = df.assign(corr=df["lap_time_s"] - FUEL_S_PER_LAP * (int(r["total_laps"]) - df["lap_number"]))
        df = df.assign(delta=df["corr"] - df.groupby("driver", observed=True)["corr"].transform("median"))
        df = df[df["tyre_life_laps"].between(1, MAX_AGE) & df["compound"].isin(["SOFT", "MEDIUM", "HARD"])]
        curves = {}
        for comp, g in df.groupby("compound", observed=True):
            agg = g.groupby("tyre_life_laps")["delta"].agg(["median", "size"])
            agg = agg[agg["size"] >= MIN_LAPS]
            if len(agg) >= 3:
                curves[str(comp)] = [[int(a), round(float(m), 3), int(n)] for a, (m, n) in agg.iterrows()]
        if curves:
            seasons.append({"season": int(r["season"]), "round": int(r["round"]), "event": r["event"],
                            "compounds": list(r["compounds"]), "curves": curves})
    return {"circuit_key": key, "circuit": fan_name(key), "method": DEGRADATION_METHOD, "seasons": seasons}


# ------------------------------------------------------------------------------ season preview
#: where `f1analyzer season-preview` keeps its latest answer per season, for the dashboard
PREVIEW_DIR = "previews"


def save_season_preview(home, result: dict) -> Path:
    """Keep ``result`` (:func:`f1analyzer.app.batch.season_preview`'s answer) as the season's latest
    preview under ``<home>/previews/<season>.json`` (written aside, then renamed: never half a file)."""
    folder = Path(home) / PREVIEW_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{int(result['season'])}.json"
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, default=str))
    tmp.replace(path)
    return path


def saved_season_preview(home, season: int) -> dict:
    """The season's latest saved preview, or ``{"season", "available": False, "message"}`` saying
    how to make one (the dashboard shows that line instead of a table)."""
    import json
    from pathlib import Path

    path = Path(home) / PREVIEW_DIR / f"{int(season)}.json"
    if not path.is_file():
        return {"season": int(season), "available": False,
                "message": f"No pre-race preview of {int(season)} is saved. Run "
                           f"`f1analyzer season-preview --season {int(season)}` (every driver's pre-race "
                           "optimum and expected points at every race, no hindsight) to see it here."}
    try:
        out = json.loads(path.read_text())
    except ValueError:
        return {"season": int(season), "available": False,
                "message": f"The saved preview of {int(season)} cannot be read; run "
                           f"`f1analyzer season-preview --season {int(season)}` again."}
    return {**out, "available": True}
