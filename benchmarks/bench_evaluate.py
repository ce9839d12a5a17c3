"""Benchmark: the evaluation table — season 2024 scored by models trained on 2018–2023.

One-lap-ahead MAE vs persistence, stint-forecast MAE vs the constant level, pit-stop PR-AUC vs the
base rate (+ Brier, ECE and the 10-bin reliability table), each with the number of laps scored;
and how long the evaluation took. Uses a fresh temporary home ingested from F1_DATA_DIR.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_evaluate.py [--season 2024] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_data_args  # benchmarks/ is on sys.path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--season", type=int, default=2024)
    ap.add_argument("--first", type=int, default=2018, help="first training season")
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.data import RaceStore
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.models.evaluate import evaluate_season

    seasons = list(range(args.first, args.season + 1))
    with tempfile.TemporaryDirectory(prefix="f1a_bench_eval_") as home:
        store = RaceStore(Path(home) / "store")
        files = [Path(args.data_dir) / "laps" / f"{s}.csv.gz" for s in seasons]
        ingest_files([f for f in files if f.is_file()], store)
        t0 = time.perf_counter()
        rep = evaluate_season(store, args.season, train_seasons=[s for s in store.seasons() if s < args.season])
        seconds = time.perf_counter() - t0
    out = {**rep.to_dict(), "seconds": round(seconds, 2)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    one, st, pit = rep.one_lap_ahead, rep.stint_forecast, rep.pit_stop
    print(f"evaluation on {rep.season}, trained on {rep.train_seasons[0]}–{rep.train_seasons[-1]} ({seconds:.1f} s)")
    print("| task | model | baseline | baseline is | improvement | laps scored |")
    print("|---|---|---|---|---|---|")
    print(f"| one lap ahead, MAE | {one['mae_s']:.3f} s | {one['baseline_mae_s']:.3f} s | persistence | "
          f"{one['improvement_pct']} % | {one['n_laps']} |")
    print(f"| stint forecast, MAE | {st['mae_s']:.3f} s | {st['baseline_mae_s']:.3f} s | constant level | "
          f"{st['improvement_pct']} % | {st['n_laps']} ({st['stints']} stints) |")
    print(f"| pit within 3 laps, PR-AUC | {pit['pr_auc']:.3f} | {pit['base_rate']:.3f} | base rate | "
          f"Brier {pit['brier']:.4f}, ECE {pit['ece']:.4f} | {pit['n_laps']} |")
    print("\npit-stop reliability (10 bins): predicted range, laps, mean predicted, observed")
    for r in pit["reliability"]:
        mp = "—" if r["mean_predicted"] is None else f"{r['mean_predicted']:.3f}"
        ob = "—" if r["observed"] is None else f"{r['observed']:.3f}"
        print(f"  {r['bin']}  {r['n']:6d}  {mp}  {ob}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
