"""Benchmark: how predictable is the field's plan before a race? Yardsticks for issue 11's goals.

The backtest scores a pre-race recommendation against the race's *modal plan* (the top-10
classified finishers' most common stop count and compound sequence, and their median first stop on
that stop count). This script measures, on the real races alone (no model), how much of that is
predictable at all:

* **within the field** — the share of the top ten on the modal stop count and on the modal compound
  sequence, and the interquartile range of their first stops (how much the best-informed
  strategists, on the day, agree with each other);
* **same as last time** — the naive forecast "the field will do what it did at this circuit in its
  newest earlier dry race": its stop count, its compound sequence and a window of ``--width`` laps
  centred on its median first stop, scored like the backtest scores the recommendation;
* **the field's own calls at SC/VSC starts** — the share of the top ten's real box/stay calls at
  each SC/VSC start (as the backtest's advisor check defines them) that match the majority call
  at that start: an advisor that called exactly what each team called would agree with the
  majority this often (the goal asks ≥ 0.80);
* **year-to-year spread** — per car era, the standard deviation (between years, within a circuit)
  of the log of the modal median first stop as a share of the race distance: how far a circuit's
  first stops move from one year to the next.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_predictability.py [--width 5] [--json]

``--home DIR`` reads an existing store (``f1analyzer --home DIR data ingest ...``) instead of
ingesting the data folder into a temporary one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import parse_data_args, season_files  # benchmarks/ is on sys.path


def race_rows(store) -> list[dict]:
    """One row per stored Grand Prix: its modal plan, the top ten's agreement with it, and the
    modal plan of the circuit's newest earlier dry race (None without one)."""
    from f1analyzer.data.session import Race
    from f1analyzer.simulation.backtest import majority_calls, neutralisation_calls
    from f1analyzer.models.features import era_label
    from f1analyzer.simulation.scenario.field_plans import (modal_plan, pit_stops_only, plans_in_order,
                                                           top_classified, venue_history)
    from f1analyzer.simulation.scenario.replay import real_stops, track_schedule

    rows = []
    races = store.races().sort_values(["season", "round"])
    for r in races.itertuples(index=False):
        race = Race(int(r.season), int(r.round), store=store)
        if race.results.empty:
            continue
        total = int(race.results["laps"].max())
        stops, sched = real_stops(race), track_schedule(race, total)
        top = top_classified(race, plans_in_order(race, stops, sched))
        # as the backtest's advisor check: a change in a red flag is no box
        calls = neutralisation_calls(race, sched, [t["driver"] for t in top], pit_stops_only(race, stops), total)
        majority = majority_calls(calls)
        with_majority = [c["real"] == majority[c["lap"]] for c in calls if majority.get(c["lap"])]
        modal = modal_plan(top)
        firsts = [t["first_stop_lap"] for t in top if t["stops"] == modal["stops"] and t["first_stop_lap"]]
        prev = next((h for h in venue_history(store, r.circuit_key, int(r.season), int(r.round), limit=6)
                     if not h["wet"]), None)
        rows.append({
            "season": int(r.season), "round": int(r.round), "circuit_key": str(r.circuit_key),
            "era": era_label(int(r.season)), "wet": bool(race.is_wet()), "total_laps": total, "modal": modal,
            "share_on_modal_stops": float(np.mean([t["stops"] == modal["stops"] for t in top])),
            "share_on_modal_sequence": float(np.mean([t["compounds"] == modal["compounds"] for t in top])),
            "first_stop_iqr_laps": (float(np.percentile(firsts, 75) - np.percentile(firsts, 25))
                                    if len(firsts) >= 3 else None),
            "previous": prev,
            # SC/VSC starts: how many of the top ten's calls match their start's majority
            "neutralisation_calls": len(with_majority),
            "neutralisation_calls_with_majority": int(sum(with_majority)),
        })
    return rows


def persistence(row: dict, width: int) -> dict | None:
    """The "same as last time" forecast of one race scored against its modal plan."""
    from f1analyzer.simulation.backtest import modal_match, naive_forecast

    prev = row["previous"]
    if prev is None or prev["stops"] is None:
        return None
    # scored exactly as the backtest scores its history baseline (one guess: "in the top 3" is equality)
    m = modal_match(row["modal"], [naive_forecast(prev, width)])
    return {"stop_count": m["stop_count"], "compound_sequence": m["compound_sequence_in_top3"],
            "first_stop_in_window": m["first_stop_in_window"]}


def year_to_year_sd(rows: list[dict]) -> dict[str, dict]:
    """Per era: the pooled within-circuit standard deviation of log(modal median first stop /
    race distance) over dry races, and how many races and circuits it rests on."""
    out = {}
    for era in sorted({r["era"] for r in rows}):
        by_circuit: dict[str, list[float]] = {}
        for r in rows:
            med = r["modal"]["median_first_stop_lap"]
            if r["era"] == era and not r["wet"] and med and r["total_laps"]:
                by_circuit.setdefault(r["circuit_key"], []).append(float(np.log(med / r["total_laps"])))
        groups = [np.asarray(v) for v in by_circuit.values() if len(v) >= 2]
        n = sum(g.size for g in groups)
        dof = n - len(groups)
        ss = sum(float(np.sum((g - g.mean()) ** 2)) for g in groups)
        out[era] = {"sd_log_share": round(float(np.sqrt(ss / dof)), 3) if dof > 0 else None,
                    "races": n, "circuits": len(groups)}
    return out


def summary(rows: list[dict], width: int) -> dict:
    def mean(xs):
        xs = [float(x) for x in xs if x is not None]
        return round(float(np.mean(xs)), 3) if xs else None

    seasons = {}
    for s in sorted({r["season"] for r in rows}):
        dry = [r for r in rows if r["season"] == s and not r["wet"]]
        pers = [p for p in (persistence(r, width) for r in dry) if p is not None]
        seasons[s] = {
            "dry_races": len(dry),
            "top10_share_on_modal_stop_count": mean(r["share_on_modal_stops"] for r in dry),
            "top10_share_on_modal_sequence": mean(r["share_on_modal_sequence"] for r in dry),
            "median_first_stop_iqr_laps": (round(float(np.median([r["first_stop_iqr_laps"] for r in dry
                                                                   if r["first_stop_iqr_laps"] is not None])), 1)
                                           if any(r["first_stop_iqr_laps"] is not None for r in dry) else None),
            "neutralisation_calls": sum(r["neutralisation_calls"] for r in dry),
            "top10_calls_with_sc_vsc_majority": (
                round(sum(r["neutralisation_calls_with_majority"] for r in dry)
                      / sum(r["neutralisation_calls"] for r in dry), 3)
                if sum(r["neutralisation_calls"] for r in dry) else None),
            "same_as_last_time_races": len(pers),
            "same_as_last_time_stop_count_rate": mean(p["stop_count"] for p in pers),
            "same_as_last_time_sequence_rate": mean(p["compound_sequence"] for p in pers),
            "same_as_last_time_first_stop_in_window_rate": mean(p["first_stop_in_window"] for p in pers),
        }
    return {"window_laps": width, "seasons": seasons, "year_to_year": year_to_year_sd(rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=5, help="window width (laps) of the same-as-last-time forecast")
    ap.add_argument("--home", type=Path, default=None, help="read this f1analyzer home's store")
    args = parse_data_args(ap, argv)
    if args is None:
        return 2
    if args.width < 0:
        print("--width must be at least 0", file=sys.stderr)
        return 2
    from f1analyzer.data import RaceStore

    if args.home is not None:
        rows = race_rows(RaceStore(args.home / "store"))
    else:
        from f1analyzer.data.ingest import ingest_files

        with tempfile.TemporaryDirectory(prefix="f1a_bench_predict_") as home:
            store = RaceStore(Path(home) / "store")
            ingest_files(season_files(args.data_dir), store)
            rows = race_rows(store)
    out = summary(rows, args.width)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"| season | dry races | top ten on the modal stop count | on the modal sequence | first-stop IQR (laps) "
          f"| same as last time: stop count / sequence / first stop in a {args.width}-lap window (races) |")
    print("|---|---|---|---|---|---|")
    for s, v in out["seasons"].items():
        print(f"| {s} | {v['dry_races']} | {v['top10_share_on_modal_stop_count']} | {v['top10_share_on_modal_sequence']} "
              f"| {v['median_first_stop_iqr_laps']} | {v['same_as_last_time_stop_count_rate']} / "
              f"{v['same_as_last_time_sequence_rate']} / {v['same_as_last_time_first_stop_in_window_rate']} "
              f"({v['same_as_last_time_races']}) |")
    print()
    print("| season | top ten's calls at SC/VSC starts matching the start's majority (calls), dry races |")
    print("|---|---|")
    for s, v in out["seasons"].items():
        print(f"| {s} | {v['top10_calls_with_sc_vsc_majority']} ({v['neutralisation_calls']}) |")
    for era, v in out["year_to_year"].items():
        print(f"year-to-year sd of log(first stop share), {era}: {v['sd_log_share']} "
              f"({v['races']} races at {v['circuits']} circuits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
