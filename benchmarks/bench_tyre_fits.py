"""Benchmark: share of circuit × era tyre fits physically ordered as fitted (no override).

A fit counts when at least two of SOFT/MEDIUM/HARD ran ≥ 40 clean laps at the circuit in that car
era; it is *ordered* when each softer compound is faster when fresh and wears faster (mean slope over
20 laps) than the next harder one. Goal (issue 11): ≥ 90 %.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_tyre_fits.py [--bundled] [--json]

``--bundled`` scores the shipped model set instead of fitting one on the data (the "before" figure
when the bundled set predates the pooled tyre model). ``--models FILE`` scores a saved model set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_data_args, season_files  # benchmarks/ is on sys.path

GOAL = 0.90


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundled", action="store_true", help="score the bundled model set")
    ap.add_argument("--models", type=Path, default=None, help="score this saved race-models JSON")
    ap.add_argument("--verbose", action="store_true", help="list the fits that are not ordered")
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.models.race_models import RaceModels
    from f1analyzer.models.tyre_circuits import ordering_report

    fit_s = None
    if args.models is not None:
        models, source = RaceModels.load(args.models), str(args.models)
    elif args.bundled:
        from f1analyzer.models.bundled import as_race_models, load_bundled_models

        models, source = as_race_models(load_bundled_models()), "bundled"
    else:
        from f1analyzer.data import RaceStore
        from f1analyzer.data.ingest import ingest_files

        with tempfile.TemporaryDirectory(prefix="f1a_bench_tyres_") as home:
            store = RaceStore(Path(home) / "store")
            ingest_files(season_files(args.data_dir), store)
            t0 = time.perf_counter()
            models = RaceModels().fit(store.laps(), store.races(), store.pit_stops())
            fit_s = round(time.perf_counter() - t0, 2)
        source = "fitted on " + ", ".join(str(s) for s in models.seasons_)
    rep = ordering_report(models)
    rep.update({"source": source, "fit_seconds": fit_s, "goal": GOAL,
                "meets_goal": bool(rep["share_ordered"] is not None and rep["share_ordered"] >= GOAL)})
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(f"tyre fits ({source}): {rep['ordered']}/{rep['fits']} circuit x era fits ordered "
              f"({rep['share_ordered']:.0%}; fresh pace {rep['share_pace_ordered']:.0%}, "
              f"wear {rep['share_wear_ordered']:.0%}); goal >= {GOAL:.0%}"
              + (f"; fit {fit_s} s" if fit_s is not None else ""))
        for era, r in rep["by_era"].items():
            print(f"  {era}: {r['ordered']}/{r['fits']} ({r['share_ordered']:.0%})")
        if args.verbose:
            for r in rep["rows"]:
                if not r["ordered"]:
                    print("  not ordered:", r["circuit"], r["era"],
                          "; ".join(f"{p['softer']}<{p['harder']}: pace step {p['pace_step_s']:+.3f} s, "
                                    f"wear step {p['wear_step_s_per_lap']:+.4f} s/lap" for p in r["pairs"]))
    return 0 if rep["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
