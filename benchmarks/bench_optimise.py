"""Strategy generation latency: ``service.generate_strategy`` on real races with the bundled models.

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_optimise.py [--runs 20]

One call is the whole ``POST /strategy/generate`` computation without HTTP and cache: build the
race from the models and the store, screen every legal 1-3 stop plan, race the finalists against
the field in the Monte Carlo (300 sims each, common random numbers) and compute the risk figures
(P10/P50/P90, P(gain), histogram, robustness to SC timing). Each run uses another seed, after
one warm-up. Goal: p50 < 0.5 s. The lap data are ingested into a temporary home (never the repo).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

CASES = [  # (season, event, driver, grid)
    (2024, "Monza", "LEC", 4),
    (2024, "Bahrain", "VER", 1),
    (2024, "Monaco", "NOR", 5),
    (2024, "Silverstone", "HAM", 2),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--sims", type=int, default=300)
    args = ap.parse_args()
    data = os.environ.get("F1_DATA_DIR")
    if not data:
        sys.exit("set F1_DATA_DIR to the shared lap data")
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models
    from f1analyzer.app.strategy import generate_strategy

    with tempfile.TemporaryDirectory() as tmp:
        store = RaceStore(Path(tmp) / "store")
        ingest_files([Path(data) / "laps" / "2024.csv.gz"], store)
        models = load_bundled_models()
        print(f"| race | driver (grid) | runs | p50 s | p90 s | min s | best plan | E[pos] |")
        print("|---|---|---|---|---|---|---|---|")
        for season, event, driver, grid in CASES:
            req = {"season": season, "event": event, "driver": driver, "grid": grid, "n_sims": args.sims}
            out = generate_strategy({**req, "seed": 999}, models=models, store=store)  # warm-up
            times = []
            for seed in range(args.runs):
                t0 = time.perf_counter()
                out = generate_strategy({**req, "seed": seed}, models=models, store=store)
                times.append(time.perf_counter() - t0)
            times.sort()
            best = out["strategies"][0]
            print(f"| {season} {out['event']} | {driver} (P{grid}) | {len(times)} | {statistics.median(times):.3f} "
                  f"| {times[int(0.9 * (len(times) - 1))]:.3f} | {times[0]:.3f} | {best['strategy']} "
                  f"| {best['expected_position']:.2f} |")


if __name__ == "__main__":
    main()
