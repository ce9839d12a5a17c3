"""Stints, pit stops and results derived from the lap table.

A *pit stop* here is a tyre change: the car came in at the end of lap k and left on lap k+1 on a
different set (other compound, or a set whose life does not simply continue). A drive through the
pit lane without a tyre change — which teams do under the safety car, and which FastF1 may count
as a new stint (FastF1 issue 717) — is not a stop. A tyre change during a red flag is a stop that
cost no time (``under_red_flag``; no pit-lane duration). Stints are re-numbered from the stops so
the two tables always agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import PIT_STOP_COLUMNS, RACE, RED_FLAG, SAFETY_CAR, STINT_COLUMNS, VSC, VSC_ENDING, conform, empty_frame


def _next(g: pd.core.groupby.SeriesGroupBy) -> pd.Series:
    return g.shift(-1)


def _race_key(laps: pd.DataFrame) -> list[pd.Series]:
    """Group keys of one car's laps in one session: a sprint and its Grand Prix share the round."""
    key = [laps["season"], laps["round"], laps["driver"]]
    if "session" in laps.columns:
        key.insert(2, laps["session"].astype("string").fillna(RACE))
    return key


def find_stops(laps: pd.DataFrame) -> pd.Series:
    """Boolean mask over ``laps`` (sorted by race, driver, lap): this lap is the in-lap of a stop."""
    if laps.empty:
        return pd.Series(False, index=laps.index)
    key = _race_key(laps)
    g = laps.groupby(key, sort=False)
    nxt_lap = g["lap_number"].shift(-1)
    consecutive = (nxt_lap == laps["lap_number"] + 1)
    nxt_comp = g["compound"].shift(-1)
    nxt_life = g["tyre_life_laps"].shift(-1).astype("float64")
    nxt_stint = g["stint"].shift(-1).astype("float64")
    nxt_out = g["pit_out"].shift(-1, fill_value=False).astype(bool)
    nxt_status = g["track_status"].shift(-1).fillna("")
    life = laps["tyre_life_laps"].astype("float64")
    stint = laps["stint"].astype("float64")

    same_comp = (nxt_comp == laps["compound"]).fillna(False).astype(bool)
    life_known = life.notna() & nxt_life.notna()
    life_continues = life_known & (nxt_life == life + 1)
    new_set = ~same_comp | (life_known & ~life_continues)
    stint_changed = (nxt_stint.notna() & stint.notna() & (nxt_stint != stint))
    # without tyre-life data a FastF1 stint change is the only evidence of a new set
    new_set = new_set | (~life_known & stint_changed)
    pitted = laps["pit_in"].astype(bool) | nxt_out
    red = laps["track_status"].fillna("").str.contains(RED_FLAG) | nxt_status.str.contains(RED_FLAG)
    evidence = pitted | (stint_changed & red)
    return (consecutive & evidence & new_set).fillna(False).astype(bool)


def derive_tables(laps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (laps with re-numbered ``stint``, stints, pit stops) for any number of races."""
    if laps.empty:
        return laps, empty_frame(STINT_COLUMNS), empty_frame(PIT_STOP_COLUMNS)
    laps = laps.copy()
    # laps without a session (older stores, frames built in code) are Grand Prix laps
    sess = laps["session"] if "session" in laps.columns else pd.Series(pd.NA, index=laps.index)
    laps["session"] = sess.astype("string").fillna(RACE)
    laps = laps.sort_values(["season", "round", "session", "driver", "lap_number"]).reset_index(drop=True)
    stop = find_stops(laps)
    key = _race_key(laps)
    stops_before = stop.groupby(key, sort=False).cumsum() - stop.astype(int)
    laps["stint"] = (stops_before + 1).astype("Int8")

    # --- pit stops --------------------------------------------------------------------------
    g = laps.groupby(key, sort=False)
    nxt_out_time = g["pit_out_time_s"].shift(-1)
    nxt_comp = g["compound"].shift(-1)
    st = laps[stop].copy()
    st["duration_s"] = (nxt_out_time[stop] - st["pit_in_time_s"]).astype("float64")
    st.loc[~st["duration_s"].between(0, 200), "duration_s"] = np.nan
    st["compound_before"] = st["compound"]
    st["compound_after"] = nxt_comp[stop]
    status = st["track_status"].fillna("")
    st["under_sc"] = status.str.contains(SAFETY_CAR)
    st["under_vsc"] = status.str.contains(VSC) | status.str.contains(VSC_ENDING)
    st["under_red_flag"] = status.str.contains(RED_FLAG) | (st["duration_s"].isna() & ~st["pit_in"])
    st["lap"] = st["lap_number"]
    st["stop_number"] = stops_before[stop] + 1
    pit_stops = conform(st, PIT_STOP_COLUMNS)

    # --- stints -----------------------------------------------------------------------------
    agg = laps.groupby(["season", "round", "session", "driver", "stint"], sort=True, observed=True).agg(
        team=("team", "last"),
        compound=("compound", lambda s: s.mode().iat[0] if not s.mode().empty else "UNKNOWN"),
        compound_code=("compound_code", "first"),
        start_lap=("lap_number", "min"),
        end_lap=("lap_number", "max"),
        laps=("lap_number", "size"),
        tyre_life_start=("tyre_life_laps", "first"),
        fresh_tyre=("fresh_tyre", "first"),
    ).reset_index()
    stints = conform(agg, STINT_COLUMNS)
    return laps, stints, pit_stops


def red_flag_changes(pit_stops: pd.DataFrame | None) -> set[tuple[int, int, str, int]]:
    """``(season, round, driver, in-lap)`` of the tyre changes of a pit-stop table (:func:`derive_tables`)
    made during a red flag (``under_red_flag``): free, and no pit stop of anybody's plan. A table with
    a ``session`` column counts its Grand Prix stops only (a sprint shares its weekend's round)."""
    if pit_stops is None or pit_stops.empty or "under_red_flag" not in pit_stops.columns:
        return set()
    red = pit_stops[pit_stops["under_red_flag"].astype(bool)]
    if "session" in red.columns:
        red = red[red["session"].astype("string").fillna(RACE) == RACE]
    return {(int(s), int(r), str(d), int(lap))
            for s, r, d, lap in zip(red["season"], red["round"], red["driver"], red["lap"])}


def classification(laps: pd.DataFrame) -> pd.DataFrame:
    """Finishing order of one race from its laps.

    A car finished when it covered 90 % of the distance and its last recorded lap ended within
    three typical laps of the leader taking the flag: some races' data lack the final lap or two of
    every car but the winner, and a lapped car ends its last lap after the leader took the flag. Finished
    cars are ordered by their official position at their last lap when FastF1 gives one to each,
    else by laps completed and time; retired cars follow by laps completed.
    Columns: position, driver, team, laps, finished, last_session_time_s.
    """
    last = laps.sort_values("lap_number").groupby("driver", sort=False).tail(1)
    res = pd.DataFrame({
        "driver": last["driver"].to_numpy(),
        "team": last["team"].to_numpy(),
        "laps": last["lap_number"].astype(int).to_numpy(),
        "last_session_time_s": last["session_time_s"].astype("float64").to_numpy(),
        "last_position": last["position"].astype("float64").to_numpy(),
    })
    if res.empty:
        res["finished"] = pd.Series(dtype=bool)
        res.insert(0, "position", pd.Series(dtype=int))
        return res.drop(columns=["last_position"])
    t = res["last_session_time_s"]
    total = int(res["laps"].max())
    if t.notna().all():
        typical_lap_s = float(laps["lap_time_s"].median()) if laps["lap_time_s"].notna().any() else 120.0
        leader_end = t[res["laps"] == total].min()
        # 90 % of the distance is also the FIA's condition for being classified
        finished = (t >= leader_end - 3.0 * typical_lap_s) & (res["laps"] >= 0.9 * total)
    else:
        finished = res["laps"] >= total - 3
    res["finished"] = finished.to_numpy()
    fin = res[res["finished"]]
    pos = fin["last_position"]
    if len(fin) and pos.notna().all() and pos.is_unique:
        fin = fin.sort_values("last_position")
    else:
        fin = fin.sort_values(["laps", "last_session_time_s"], ascending=[False, True], na_position="last")
    dnf = res[~res["finished"]].sort_values(["laps", "last_session_time_s"], ascending=[False, False],
                                             na_position="last")
    res = pd.concat([fin, dnf]).reset_index(drop=True)
    res.insert(0, "position", np.arange(1, len(res) + 1))
    return res.drop(columns=["last_position"])
