"""Benchmark: ingest every season file of F1_DATA_DIR/laps (2018–2024) into an empty store.

Goal: under 15 s per full ingest. Each repeat starts from a fresh temporary home, so it measures
reading and validating the CSVs, deriving races and writing the Parquet season files; a second
figure is the re-ingest into the filled store (the idempotent path a re-run takes).

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_ingest.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_data_args, season_files  # benchmarks/ is on sys.path

GOAL_S = 15.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.data import RaceStore
    from f1analyzer.data.ingest import ingest_files

    files = season_files(args.data_dir)
    cold, warm, laps = [], [], 0
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="f1a_bench_") as home:
            store = RaceStore(Path(home) / "store")
            t0 = time.perf_counter()
            results = ingest_files(files, store)
            cold.append(time.perf_counter() - t0)
            if not all(r.ok for r in results):
                print("ingest failed: " + "; ".join(r.error for r in results if not r.ok), file=sys.stderr)
                return 1
            laps = sum(r.report.rows_kept for r in results)
            t0 = time.perf_counter()
            ingest_files(files, store)
            warm.append(time.perf_counter() - t0)

    out = {
        "files": len(files),
        "laps": laps,
        "cold_s": [round(x, 2) for x in cold],
        "reingest_s": [round(x, 2) for x in warm],
        "best_cold_s": round(min(cold), 2),
        "laps_per_s": round(laps / min(cold)),
        "goal_s": GOAL_S,
        "ok": min(cold) < GOAL_S,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"ingest {out['files']} season files, {laps} laps ({args.repeats} repeats)")
        print(f"  into an empty store: {', '.join(f'{x:.2f}' for x in cold)} s  (best {min(cold):.2f} s, "
              f"{out['laps_per_s']} laps/s; goal < {GOAL_S:.0f} s: {'met' if out['ok'] else 'MISSED'})")
        print(f"  re-ingest (no change): {', '.join(f'{x:.2f}' for x in warm)} s")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
