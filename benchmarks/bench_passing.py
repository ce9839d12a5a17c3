"""Benchmark: simulated vs real on-track passes per race, per circuit, before/after the calibration.

Every stored race of the chosen seasons is re-simulated from the grid with its real field, lap-1
order, real plans and real SC/VSC laps (``replay`` from lap 0), and its passes are counted the way
``models/overtaking.py`` counts the real ones (all-pairs swaps on green laps from lap 3, no pit
in/out lap, no retired car). *Before*: the fitted passing curve steepened for the lap noise
(``passing_sim_offset = 0``). *After*: plus the simulation-calibrated circuit intercept
(``simulation/scenario/passing_calibration.py``). Goal (issue 11): within ±25 % of the real count
at most circuits.

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_passing.py \\
        [--home H] [--seasons 2022 2023 2024] [--n-sims 100] [--json]

With ``--home`` the stored races there are used (ingest first); otherwise the data is ingested
into a temporary store. The race models are fitted on every stored season (the calibration target
is the fitted ``passes_per_dry_race``). Figures are given over all races and over the dry ones
(the calibration's target; a wet race is reordered by the weather).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import parse_data_args, season_files  # benchmarks/ is on sys.path


def sim_passes(built, race, n_sims: int, seed: int = 0) -> float:
    from f1analyzer.simulation.core.engine import simulate
    from f1analyzer.simulation.scenario.passing_calibration import count_passes
    from f1analyzer.simulation.scenario.replay import real_plans, track_schedule

    params = built.params
    plans, _ = real_plans(race, params, None)
    sched = track_schedule(race, params.total_laps)
    res = simulate(params, plans, n_sims=n_sims, seed=seed, sc_schedule=sched, record_positions=True)
    k = max(1, max(len(p.stops) for p in plans))
    pit = np.zeros((params.n_cars, k), dtype=np.int64)
    for i, p in enumerate(plans):
        for j, (lap, _) in enumerate(p.stops):
            pit[i, j] = lap
    last = np.where(res.retired, res.laps_done, params.total_laps)
    return float(count_passes(res.positions_by_lap, res.track_status, pit, last).mean())


def run(store, seasons: list[int], n_sims: int) -> dict:
    from f1analyzer.data.session import load_race
    from f1analyzer.models import overtaking as ot
    from f1analyzer.models.race_models import RaceModels
    from f1analyzer.simulation.scenario.build import build_race

    t0 = time.perf_counter()
    laps = pd.DataFrame(store.laps())
    models = RaceModels().fit(laps, store.races(), store.pit_stops())
    print(f"fitted race models in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    _, real = ot.pass_events(laps, pd.Series(np.nan, index=laps.index))
    real = real.set_index(["season", "round"])
    from f1analyzer.simulation.scenario.passing_calibration import target_passes
    rows = []
    for season in seasons:
        for rnd, key in store.races(season)[["round", "circuit_key"]].itertuples(index=False):
            race = load_race(int(season), int(rnd), store)
            row = {"season": int(season), "round": int(rnd), "circuit_key": str(key),
                   "real": int(real["passes"].get((int(season), int(rnd)), 0)),
                   "wet": bool(real["wet"].get((int(season), int(rnd)), False))}
            for label in ("before", "after"):
                cms = list(models.circuits_.values()) + [models.global_]
                for cm in cms:
                    cm.passing_sim_offset = 0.0 if label == "before" else None
                built = build_race(int(season), int(rnd), models=models, store=store, pre_race=False)
                row[label] = sim_passes(built, race, n_sims)
                if label == "after":
                    cm = models.circuits_.get(str(key), models.global_)
                    row["offset"] = float(cm.passing_sim_offset or 0.0)
                    row["target"] = target_passes(cm)
            rows.append(row)
            print(f"{season} {rnd:2d} {key:14s} real {row['real']:3d}  before {row['before']:5.1f}  "
                  f"after {row['after']:5.1f}", file=sys.stderr)
    df = pd.DataFrame(rows)
    out = {"seasons": seasons, "n_sims": n_sims, "all": summary(df), "dry": summary(df[~df["wet"]]),
           "seconds": round(time.perf_counter() - t0, 1)}
    return out


def summary(df: pd.DataFrame) -> dict:
    per = df.groupby("circuit_key").agg(races=("real", "size"), real=("real", "mean"), before=("before", "mean"),
                                        after=("after", "mean"), offset=("offset", "first")).reset_index()
    for label in ("before", "after"):
        per[f"{label}_ratio"] = per[label] / per["real"].clip(lower=1e-9)
    within = {label: float((per[f"{label}_ratio"].sub(1).abs() <= 0.25).mean()) for label in ("before", "after")}
    return {"circuits": per.round(3).to_dict("records"), "share_within_25pct": within,
            "mean_ratio": {label: float(per[f"{label}_ratio"].mean()) for label in ("before", "after")},
            "total": {"real": float(df["real"].mean()), "before": float(df["before"].mean()),
                      "after": float(df["after"].mean())}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="an F1A_HOME whose store holds the races")
    ap.add_argument("--seasons", type=int, nargs="+", default=[2022, 2023, 2024])
    ap.add_argument("--n-sims", type=int, default=100)
    args = parse_data_args(ap, argv)
    if args is None:
        sys.exit(1)
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    with tempfile.TemporaryDirectory() as tmp:
        if args.home:
            store = RaceStore(Path(args.home) / "store")
        else:
            store = RaceStore(Path(tmp) / "store")
            ingest_files(season_files(args.data_dir), store)
        out = run(store, args.seasons, args.n_sims)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for which in ("dry", "all"):
        s = out[which]
        print(f"\n{which} races\n\n| circuit | races | real | sim before | sim after | offset |")
        print("|---|---|---|---|---|---|")
        for r in s["circuits"]:
            print(f"| {r['circuit_key']} | {r['races']} | {r['real']:.1f} | {r['before']:.1f} ({r['before_ratio']:.2f}x) "
                  f"| {r['after']:.1f} ({r['after_ratio']:.2f}x) | {r['offset']:+.2f} |")
        print(f"\nwithin ±25 %: before {s['share_within_25pct']['before']:.0%}, "
              f"after {s['share_within_25pct']['after']:.0%} of circuits; real {s['total']['real']:.1f}, "
              f"before {s['total']['before']:.1f}, after {s['total']['after']:.1f} passes per race")
    print(f"\n({out['seconds']} s)")


if __name__ == "__main__":
    main()
