"""Executors on a season's backtest: serial vs local (process pool) vs Ray, and Ray's overhead per task.

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_executors.py \
        [--season 2023] [--rounds 1-8] [--workers 2] [--home DIR] [--noop-tasks 200] [--json]

Ingests the lap data into a temporary home (or uses ``--home`` with a filled store), fits the
backtest's models for ``--season`` once (on the seasons before it; a serial step every executor
would share) and then times the per-race tasks of :func:`f1analyzer.app.batch.backtest_seasons`
on ``serial``, ``local`` (``--workers`` processes) and ``ray`` (a local Ray instance of
``--workers`` CPUs, its start-up timed apart). It checks that the three answers are identical,
then measures the scheduling overhead per task: ``--noop-tasks`` tasks that do nothing, on each
executor, (wall time / tasks).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def noop(task, shared) -> int:
    """A task that does nothing (the overhead probe)."""
    return task.seed & 1


def _rounds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def _timeless(out: dict) -> dict:
    out = json.loads(json.dumps(out))
    out["summary"].pop("seconds")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--season", type=int, default=2023)
    ap.add_argument("--rounds", default="1-8", help="first-last round, or 'all'")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--home", type=Path, help="a home whose store is filled already (else a temporary one)")
    ap.add_argument("--noop-tasks", type=int, default=200)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    from f1analyzer.app.batch import backtest_seasons
    from f1analyzer.app.executors import LocalExecutor, RayExecutor, SerialExecutor, Task
    from f1analyzer.data.store import RaceStore
    from f1analyzer.simulation.backtest import backtest_models

    if args.home is None:
        data = os.environ.get("F1_DATA_DIR")
        if not data:
            sys.exit("set F1_DATA_DIR to the shared lap data (or pass --home with a filled store)")
        from f1analyzer.data.ingest import ingest_files

        home = Path(tempfile.mkdtemp(prefix="bench-executors-"))
        store = RaceStore(home / "store")
        ingest_files(sorted((Path(data) / "laps").glob("*.csv.gz")), store)
    else:
        store = RaceStore(Path(args.home) / "store")
    rounds = None if args.rounds == "all" else _rounds(args.rounds)
    t0 = time.perf_counter()
    models, _ = backtest_models(store, args.season, "train")
    fit_s = time.perf_counter() - t0
    print(f"models before {args.season} fitted in {fit_s:.1f} s (serial, shared by every run)", file=sys.stderr)

    figures: dict = {"season": args.season, "rounds": rounds or "all", "workers": args.workers,
                     "fit_seconds": round(fit_s, 1), "load_average_at_start": os.getloadavg()}
    answers, walls = {}, {}
    ray_ex = RayExecutor(num_cpus=args.workers)
    t0 = time.perf_counter()
    ray_ex.connect()
    figures["ray_start_seconds"] = round(time.perf_counter() - t0, 2)
    try:
        for name, ex in (("serial", SerialExecutor()), ("local", LocalExecutor(args.workers)), ("ray", ray_ex)):
            t0 = time.perf_counter()
            out = backtest_seasons(store, [args.season], rounds=rounds, models_from=models, executor=ex)
            walls[name] = time.perf_counter() - t0
            answers[name] = _timeless(out)
            print(f"{name}: {walls[name]:.1f} s", file=sys.stderr)
        figures["races"] = len(answers["serial"]["races"])
        figures["identical"] = answers["serial"] == answers["local"] == answers["ray"]
        figures["wall_seconds"] = {k: round(v, 1) for k, v in walls.items()}
        figures["speedup"] = {k: round(walls["serial"] / walls[k], 2) for k in ("local", "ray")}

        tasks = [Task.of(f"noop/{k}") for k in range(args.noop_tasks)]
        overhead = {}
        for name, ex in (("serial", SerialExecutor()), ("local", LocalExecutor(args.workers)), ("ray", ray_ex)):
            ex.map(noop, tasks[:4])  # warm: workers started, function exported
            t0 = time.perf_counter()
            ex.map(noop, tasks)
            overhead[name] = (time.perf_counter() - t0) / len(tasks) * 1000
        figures["ms_per_noop_task"] = {k: round(v, 2) for k, v in overhead.items()}
        figures["load_average_at_end"] = os.getloadavg()
    finally:
        ray_ex.close()

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    w, sp, ov = figures["wall_seconds"], figures["speedup"], figures["ms_per_noop_task"]
    print(f"| executor | wall s ({figures['races']} races of {args.season}) | speedup | ms per no-op task |")
    print("|---|---|---|---|")
    for name in ("serial", "local", "ray"):
        print(f"| {name}{'' if name == 'serial' else f' ({args.workers})'} | {w[name]} | "
              f"{'1.00' if name == 'serial' else sp[name]} | {ov[name]} |")
    print(f"\nidentical answers: {figures['identical']}; models fitted once before the runs in "
          f"{figures['fit_seconds']} s; Ray start {figures['ray_start_seconds']} s; load average "
          f"{figures['load_average_at_start'][0]:.1f} at start, {figures['load_average_at_end'][0]:.1f} at end")


if __name__ == "__main__":
    main()
