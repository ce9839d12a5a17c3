"""Simulator benchmark: full-field races per second and optimiser latency.

    .venv/bin/python benchmarks/bench_simulate.py            # full table (markdown on stdout)
    .venv/bin/python benchmarks/bench_simulate.py --quick    # fewer points

Goal: >= 10,000 full-field (20 cars) 60-lap races per second on the 2-core machine, and a full
strategy optimisation under 0.5 s p50. Each case runs in a fresh process with the BLAS thread
variables at 1 (the engine uses no BLAS) and ``F1A_SIM_THREADS`` = the "sim threads" column: the
threads one simulation call splits its races over (results identical for any count; a call splits
only into shares of at least 2,500 races, so the optimiser's 300-race finalists run on one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _worker(spec: dict) -> dict:
    from f1analyzer.simulation.benchmark import measure_optimiser, measure_simulate

    if spec["kind"] == "optimiser":
        return measure_optimiser(spec["cars"], spec["laps"], n_sims=spec["sims"])
    return measure_simulate(spec["sims"], spec["cars"], spec["laps"], repeats=spec["repeats"])


def _run(spec: dict, threads: int) -> dict:
    env = dict(os.environ, F1A_SIM_THREADS=str(threads), **{v: "1" for v in THREAD_VARS})
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return

    rows = []
    headline = {"kind": "simulate", "sims": 10_000, "cars": 20, "laps": 60, "repeats": 3}
    for threads in (1, 2):
        rows.append(("headline", threads, _run(headline, threads)))
    sims = (1_000, 10_000) if args.quick else (1_000, 10_000, 50_000)
    cars = (10,) if args.quick else (10, 30)
    laps = (30,) if args.quick else (30, 80)
    scaling = ([{"sims": s, "cars": 20, "laps": 60} for s in sims]
               + [{"sims": 10_000, "cars": c, "laps": 60} for c in cars]
               + [{"sims": 10_000, "cars": 20, "laps": n} for n in laps])
    for spec in scaling:
        for threads in (1, 2):
            rows.append(("scaling", threads, _run({"kind": "simulate", "repeats": 3, **spec}, threads)))

    print("| case | sim threads | sims | cars | laps | seconds | races/s |")
    print("|---|---|---|---|---|---|---|")
    for case, threads, r in rows:
        print(f"| {case} | {r['sim_threads']} | {r['sims']} | {r['cars']} | {r['laps']} | "
              f"{r['seconds']:.3f} | {r['races_per_second']:,.0f} |")
    print()
    print("| optimiser (20 cars, 60 laps) | sim threads | sims/candidate | p50 s | p90 s | min s |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        r = _run({"kind": "optimiser", "cars": 20, "laps": 60, "sims": 300}, threads)
        print(f"| optimise() | {threads} | {r['sims_per_candidate']} | {r['p50_s']:.3f} | "
              f"{r['p90_s']:.3f} | {r['min_s']:.3f} |")


if __name__ == "__main__":
    main()
