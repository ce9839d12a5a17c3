"""Benchmark: `f1analyzer train` end to end — full 2018–2024 and the --quick subset.

Goals: full training (race models + learned models + evaluation on 2024 + registration) under
3 minutes; --quick under 30 s. Each run starts from a fresh temporary home whose store is
ingested from F1_DATA_DIR first (not timed: `bench_ingest.py` covers ingestion), so the figure
is the training pipeline alone. Per-step times come from the TrainReport.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_train.py [--repeats 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_data_args, season_files  # benchmarks/ is on sys.path

GOALS_S = {"full": 180.0, "quick": 30.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.config import Settings
    from f1analyzer.data import RaceStore
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.models.training import train

    results: dict = {}
    for mode in ("quick", "full"):
        times, steps = [], {}
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="f1a_bench_train_") as home:
                settings = Settings(home=Path(home), data_dir=Path(args.data_dir))
                ingest_files(season_files(args.data_dir), RaceStore(settings.store_dir))
                t0 = time.perf_counter()
                rep = train(settings, 2018, 2024, quick=(mode == "quick"))
                times.append(time.perf_counter() - t0)
                steps = rep.timings_s
                laps, seasons, rm = rep.n_laps, rep.seasons, rep.race_models
        best = min(times)
        results[mode] = {"seconds": round(best, 2), "goal_s": GOALS_S[mode], "meets_goal": best < GOALS_S[mode],
                         "laps": laps, "seasons": seasons, "race_models": rm, "step_starts_s": steps}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for mode, r in results.items():
            flag = "OK" if r["meets_goal"] else "SLOW"
            print(f"train {mode:5s}: {r['seconds']:7.2f} s  (goal < {r['goal_s']:.0f} s, {flag}); "
                  f"{r['laps']} laps, seasons {r['seasons'][0]}–{r['seasons'][-1]}, race models {r['race_models']}")
    return 0 if all(r["meets_goal"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
