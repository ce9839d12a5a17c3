"""Benchmark: share of circuit × era tyre fits physically ordered as fitted (no override).

A fit counts when at least two of SOFT/MEDIUM/HARD ran ≥ 40 clean laps at the circuit in that car
era; it is *ordered* when each softer compound is faster when fresh and wears faster (mean slope over
20 laps) than the next harder one. Goal (issue 11): ≥ 90 %.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_tyre_fits.py [--bundled] [--json]

``--bundled`` scores the shipped model set instead of fitting one on the data (the "before" figure
when the bundled set predates the pooled tyre model). ``--models FILE`` scores a saved model set.
``--cross-era`` also prints how well a circuit's 2022+ wear is predicted before it is raced with
those cars (leave one circuit out: its own pre-2022 fit, the 2022+ all-circuit model, and that
model with the circuit's pre-2022 severity carried over — what the simulator uses).
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
    ap.add_argument("--compare-tum", type=Path, default=None, metavar="DIR",
                    help="also compare per-compound offsets and wear with TU Munich's 2018-19 pars_*.ini "
                         "in DIR (printed as markdown; nothing of theirs is stored)")
    ap.add_argument("--cross-era", action="store_true",
                    help="also score the prediction of each circuit's 2022+ wear from before it was raced")
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.models.race_models import RaceModels
    from f1analyzer.models.tyre_circuits import ordering_report

    fit_s, races = None, None
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
            races = store.races()
            models = RaceModels().fit(store.laps(), races, store.pit_stops())
            fit_s = round(time.perf_counter() - t0, 2)
        source = "fitted on " + ", ".join(str(s) for s in models.seasons_)
    models._bench_races = races  # the TUM comparison maps each race to its allocation
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
    if args.cross_era:
        print(cross_era_table(models))
    if args.compare_tum is not None:
        print(tum_comparison(models, Path(args.compare_tum)))
    return 0 if rep["meets_goal"] else 1


def cross_era_table(models) -> str:
    """Markdown of :func:`~f1analyzer.models.tyre_circuits.cross_era_check`."""
    from f1analyzer.models.tyre_circuits import cross_era_check

    r = cross_era_check(models)
    names = {"own_earlier_era": f"the circuit's own {r['from_era']} fit (before)",
             "era_all_circuits": f"the {r['era']} all-circuit model by code",
             "carried_severity": f"the same with the circuit's {r['from_era']} severity carried over (after)"}
    lines = [f"{r['era']} linear wear predicted before the circuit is raced with those cars "
             f"(leave one circuit out; {r['circuits']} circuits, {r['fits']} compound fits):", "",
             "| predictor | mean abs log error | median | off by a factor of |", "|---|---|---|---|"]
    for key, label in names.items():
        e = r[key]
        lines.append(f"| {label} | {e['mean_abs_log']:.3f} | {e['median_abs_log']:.3f} | {e['times']:.2f} |"
                     if e else f"| {label} | - | - | - |")
    return "\n".join(lines)


def tum_comparison(models, tum_dir: Path) -> str:
    """Markdown: per TUM 2018/2019 race, fresh-pace steps and linear wear by relative compound, TUM
    (median over drivers of ``k_0`` / ``k_1_lin``) against ours (that event's codes at the circuit)."""
    import re

    import numpy as np

    from f1analyzer.data.circuits import resolve_circuit
    from f1analyzer.models.tyre_circuits import relative_models

    rows, tum_all, ours_all = [], [], []
    for f in sorted(tum_dir.glob("pars_*_201[89].ini")):
        track, season = f.stem.split("_")[1], int(f.stem.split("_")[2])
        text = f.read_text(encoding="utf-8")
        m = re.search(r"tireset_pars = (\{.*?\})\s*(\n\[|\Z)", text, re.S)
        if not m:
            continue
        import json as _json

        tyres = _json.loads(m.group(1))
        codes = sorted({k for d in tyres.values() for k in d if k.startswith("A")})  # hardest → softest
        if len(codes) != 3:
            continue
        med = {c: (float(np.median([d[c]["k_0"] for d in tyres.values() if c in d])),
                   float(np.median([d[c]["k_1_lin"] for d in tyres.values() if c in d]))) for c in codes}
        tum = {rel: med[c] for rel, c in zip(("HARD", "MEDIUM", "SOFT"), codes)}
        key = resolve_circuit(track) or {"Sakhir": "bahrain", "Spielberg": "red_bull_ring", "YasMarina": "yas_marina",
                                         "LeCastellet": "ricard", "MexicoCity": "rodriguez",
                                         "SaoPaulo": "interlagos", "MonteCarlo": "monaco"}.get(track)
        cm = models.circuits_.get(key)
        if cm is None:
            continue
        era = models.era_of(season)
        alloc = next((a for (s, r), a in _race_allocs(models, cm, season)), None)
        codes_m = cm.tyre_codes_by_era.get(era) or {}
        ours = relative_models(codes_m, alloc) if alloc and all(c in codes_m for c in alloc.values()) else \
            cm.compounds_by_era.get(era, {})
        if len(ours) < 3:
            continue
        t_row = [tum["SOFT"][0] - tum["MEDIUM"][0], tum["HARD"][0] - tum["MEDIUM"][0],
                 tum["SOFT"][1], tum["MEDIUM"][1], tum["HARD"][1]]
        o_row = [ours["SOFT"].pace_offset_s, ours["HARD"].pace_offset_s,
                 *(float(ours[c].deg_s(20.0)) / 20.0 for c in ("SOFT", "MEDIUM", "HARD"))]
        tum_all.append(t_row)
        ours_all.append(o_row)
        rows.append(f"| {key} {season} | " + " | ".join(f"{a:+.2f} / {b:+.2f}" if i < 2 else f"{a:.3f} / {b:.3f}"
                                                       for i, (a, b) in enumerate(zip(t_row, o_row))) + " |")
    t, o = np.array(tum_all), np.array(ours_all)

    def ordered(x):
        return float(np.mean((x[:, 0] < 0) & (x[:, 1] > 0))), float(np.mean((x[:, 2] > x[:, 3]) & (x[:, 3] > x[:, 4])))

    head = ["| race | SOFT−MEDIUM fresh (s) TUM / ours | HARD−MEDIUM fresh (s) | SOFT wear (s/lap) | MEDIUM wear "
            "| HARD wear |", "|---|---|---|---|---|---|"]
    summary = [f"| mean | {t[:, 0].mean():+.2f} / {o[:, 0].mean():+.2f} | {t[:, 1].mean():+.2f} / {o[:, 1].mean():+.2f} | "
               + " | ".join(f"{t[:, i].mean():.3f} / {o[:, i].mean():.3f}" for i in (2, 3, 4)) + " |",
               "", f"{len(rows)} races. Ordered (fresh pace / wear): TUM {ordered(t)[0]:.0%} / {ordered(t)[1]:.0%}, "
               f"ours {ordered(o)[0]:.0%} / {ordered(o)[1]:.0%}. Correlation across races: "
               + ", ".join(f"{n} {np.corrcoef(t[:, i], o[:, i])[0, 1]:.2f}" for i, n in
                           enumerate(("soft step", "hard step", "soft wear", "medium wear", "hard wear")))]
    return "\n".join(head + rows + summary)


def _race_allocs(models, cm, season):
    """(season, round), allocation of the circuit's races in ``season`` (from the models' data)."""
    from f1analyzer.models.tyre_circuits import allocations

    races = getattr(models, "_bench_races", None)
    if races is None:
        return []
    sel = races[(races["season"] == season) & (races["circuit_key"] == cm.key)]
    return list(allocations(sel).items())


if __name__ == "__main__":
    sys.exit(main())
