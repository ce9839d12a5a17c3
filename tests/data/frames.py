"""Small FastF1-shaped lap tables built in code (no real data copied into the repo).

One synthetic 10-lap race, three cars, each showing one case of the stop definition:

- ``AAA``: a normal stop, in at the end of lap 4, out on lap 5, SOFT → HARD, fresh set;
- ``BBB``: drives through the pit lane under the safety car on lap 6 without a tyre change
  (same MEDIUM set, tyre life continues) while FastF1 still starts a new stint (issue 717);
- ``CCC``: red flag on lap 3, tyres changed in the pit lane queue without a pit-in time:
  MEDIUM → HARD, stint and tyre life restart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

N_LAPS = 10
BASE_S = 90.0


def _td(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return ""
    return str(pd.Timedelta(seconds=round(seconds, 3)))


def race_rows(round_: int = 1, event: str = "Bahrain Grand Prix") -> list[dict]:
    """Rows of the reduced FastF1 file format (``LapTime`` in seconds, times as Timedelta text)."""
    rows: list[dict] = []
    for pos, (drv, num, team) in enumerate(
        [("AAA", 1, "Alpha"), ("BBB", 2, "Bravo"), ("CCC", 3, "Charlie")], start=1
    ):
        t = 3600.0 + pos
        for lap in range(1, N_LAPS + 1):
            status = "1"
            if lap == 3:
                status = "15" if drv == "CCC" else "1"
            if lap in (6, 7):
                status = "4"
            if drv == "AAA":
                stint, comp = (1, "SOFT") if lap <= 4 else (2, "HARD")
                life = lap + 2 if lap <= 4 else lap - 4
                fresh = lap > 4
                pit_in = lap == 4
                pit_out = lap == 5
            elif drv == "BBB":
                stint, comp = (1, "MEDIUM") if lap <= 6 else (2, "MEDIUM")
                life = lap  # same set all race
                fresh = False
                pit_in = lap == 6
                pit_out = lap == 7
            else:
                stint, comp = (1, "MEDIUM") if lap <= 3 else (2, "HARD")
                life = lap if lap <= 3 else lap - 3
                fresh = lap > 3
                pit_in = pit_out = False
            lap_time = BASE_S + (22.0 if pit_in or pit_out else 0.0) + (15.0 if status == "4" else 0.0)
            if drv == "CCC" and lap == 3:
                lap_time = 1500.0  # the lap spanning the red flag
            t += lap_time
            rows.append({
                "Time": _td(t),
                "Driver": drv,
                "DriverNumber": str(num),
                "LapTime": "" if lap == 1 else f"{lap_time:.3f}",
                "LapNumber": f"{lap}.0",
                "Stint": f"{stint}.0",
                "PitOutTime": _td(t - lap_time + 5.0) if pit_out else "",
                "PitInTime": _td(t - 2.0) if pit_in else "",
                "IsPersonalBest": "False",
                "Compound": comp,
                "TyreLife": f"{life}.0",
                "FreshTyre": str(fresh),
                "Team": team,
                "TrackStatus": status,
                "Position": f"{pos}.0",
                "IsAccurate": str(lap > 1 and not (pit_in or pit_out)),
                "RoundNumber": str(round_),
                "EventName": event,
            })
    return rows


def race_frame(round_: int = 1, event: str = "Bahrain Grand Prix") -> pd.DataFrame:
    return pd.DataFrame(race_rows(round_, event))


def season_frame(rounds: dict[int, str] | None = None) -> pd.DataFrame:
    rounds = rounds or {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix", 3: "Australian Grand Prix"}
    return pd.concat([race_frame(r, e) for r, e in rounds.items()], ignore_index=True)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, compression="gzip" if path.name.endswith(".gz") else None)
    return path


def fastf1_laps_frame(round_: int = 5) -> pd.DataFrame:
    """The synthetic race with the dtypes of FastF1's ``Session.laps`` (Timedelta, float...),
    without ``RoundNumber``/``EventName`` (Session.laps does not have them)."""
    df = race_frame(round_)
    out = pd.DataFrame({
        "Time": pd.to_timedelta(df["Time"]),
        "Driver": df["Driver"].astype(object),
        "DriverNumber": df["DriverNumber"].astype(object),
        "LapTime": pd.to_timedelta(pd.to_numeric(df["LapTime"].replace("", np.nan)), unit="s"),
        "LapNumber": df["LapNumber"].astype(float),
        "Stint": df["Stint"].astype(float),
        "PitOutTime": pd.to_timedelta(df["PitOutTime"].replace("", None)),
        "PitInTime": pd.to_timedelta(df["PitInTime"].replace("", None)),
        "Sector1Time": pd.to_timedelta(30.0, unit="s") * np.ones(len(df)),
        "SpeedST": np.full(len(df), 300.0),
        "IsPersonalBest": df["IsPersonalBest"] == "True",
        "Compound": df["Compound"].astype(object),
        "TyreLife": df["TyreLife"].astype(float),
        "FreshTyre": df["FreshTyre"] == "True",
        "Team": df["Team"].astype(object),
        "LapStartTime": pd.to_timedelta(df["Time"]) - pd.to_timedelta(90.0, unit="s"),
        "LapStartDate": pd.Timestamp("2024-04-21 07:00:00") + pd.to_timedelta(df["Time"]),
        "TrackStatus": df["TrackStatus"].astype(object),
        "Position": df["Position"].astype(float),
        "Deleted": False,
        "DeletedReason": "",
        "FastF1Generated": False,
        "IsAccurate": df["IsAccurate"] == "True",
    })
    return out
