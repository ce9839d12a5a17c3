"""Backtest of the strategy engine on the 2023 and 2024 seasons (models from earlier seasons).

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_backtest.py [--seasons 2023 2024]
        [--json out.json]

For each season it ingests the lap data into a temporary home (never the repo), fits the race
models on the seasons before it (plus in-season pace from earlier rounds only) and runs
``simulation.backtest.backtest``: the pre-race plan for the winner vs what the winner did, the
replay of every race from lap 1 with real strategies (Spearman of simulated vs real order) and
the live advisor's calls against the real pit walls. Prints the summary figures as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

FIGURES = [
    ("races (dry)", lambda s: f"{s['races']} ({s['dry_races']})"),
    ("wet races", lambda s: ", ".join(map(str, s["wet_races"])) or "–"),
    ("mean replay Spearman (all / dry)", lambda s: f"{_f(s['mean_replay_spearman'])} / {_f(s['mean_replay_spearman_dry'])}"),
    ("mean P(real winner wins) in replay", lambda s: _f(s["mean_p_real_winner"])),
    ("winner stop count matched (dry)", lambda s: _pct(s["winner_stops_match_rate"])),
    ("winner compound set matched (dry)", lambda s: _pct(s["winner_compound_set_match_rate"])),
    ("winner compound sequence matched (dry)", lambda s: _pct(s["winner_compounds_match_rate"])),
    ("winner's first stop inside the window (dry)", lambda s: _pct(s["winner_first_stop_in_window_rate"])),
    ("advisor agreement, all calls", lambda s: f"{_pct(s['advisor_agreement'])} of {s['advisor_decisions']}"),
    ("advisor said BOX at real stops", lambda s: _pct(s["advisor_box_rate_at_real_stops"])),
    ("advisor agreed at SC/VSC starts", lambda s: _pct(s["advisor_agreement_at_neutralisations"])),
    ("advisor said STAY mid-stint", lambda s: _pct(s["advisor_stay_rate_mid_stint"])),
    ("training seasons", lambda s: ", ".join(map(str, s["models"]["training_seasons"]))),
    ("seconds (fit + races)", lambda s: f"{s['seconds']:.0f}"),
]


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seasons", type=int, nargs="+", default=[2023, 2024])
    ap.add_argument("--json", type=Path, help="Also write the full backtests to this file.")
    args = ap.parse_args()
    data = os.environ.get("F1_DATA_DIR")
    if not data:
        sys.exit("set F1_DATA_DIR to the shared lap data")
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.simulation.backtest import backtest

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = RaceStore(Path(tmp) / "store")
        files = sorted((Path(data) / "laps").glob("*.csv.gz"))
        files = [f for f in files if int(f.name[:4]) <= max(args.seasons)]
        t0 = time.perf_counter()
        ingest_files(files, store)
        print(f"ingested {len(files)} seasons in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for season in args.seasons:
            results[season] = backtest(store, season)
            print(f"backtest {season}: {results[season]['summary']['seconds']} s", file=sys.stderr)
    print("| figure | " + " | ".join(map(str, args.seasons)) + " |")
    print("|---|" + "---|" * len(args.seasons))
    for name, fn in FIGURES:
        print(f"| {name} | " + " | ".join(fn(results[s]["summary"]) for s in args.seasons) + " |")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
