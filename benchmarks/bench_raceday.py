"""Race-day mode: full-field update latency, and (``--quality``) the calls on real races
replayed as live.

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_raceday.py \
        [--season 2024 --event Monza] [--n-sims 100 --max-advised 5] [--quality --seasons 2023 2024]

Latency: one stored race replayed as live (``speed=inf``) through ``FieldAdvisor`` (the pre-race
build: models fitted on the seasons before it); every lap's full-field update (snapshot -> state
-> screen of the field -> Monte Carlo advice for the cars nearest their window -> rejoin and
threats for every car) is timed; p50 / p95 / max.

Quality (models fitted only on the seasons before each season, ``train_models_before``):

* at each SC/VSC start (the first snapshot showing it): does our majority call over the top-10
  (box / stay) agree with what the majority of the real top-10 did (boxed on the next lap)?
  Also per car;
* at each real stop (in-lap L, green or neutral): did the call say BOX (BOX_NOW or
  BOX_UNDER_SC) at the end of lap L-1 or L-2 (all calls; the Monte Carlo-advised ones apart);
* rejoin projection error: the position projected at the end of lap L-1 ("if it boxes now")
  against the real position at the end of the out-lap L+1; median and p90 of |error|.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BOX = {"BOX_NOW", "BOX_UNDER_SC"}


def _ingest(data: Path, tmp: Path, up_to: int):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    store = RaceStore(tmp / "store")
    files = [f for f in sorted((data / "laps").glob("*.csv.gz")) if int(f.name[:4]) <= up_to]
    ingest_files(files, store)
    return store


def replay_race(store, models, season: int, event, *, n_sims: int, max_advised: int):
    """(snapshots by lap, updates by lap, per-update seconds) of one race replayed as live."""
    from f1analyzer.app.raceday import FieldAdvisor
    from f1analyzer.data.feeds.replay import ReplayFeed
    from f1analyzer.simulation.scenario.build import build_race

    built = build_race(season, event, models=models, store=store, pre_race=True)
    # as the API and CLI do: today's tyre life against the circuit's earlier races
    advisor = FieldAdvisor.following(built, n_sims=n_sims, max_advised=max_advised)
    snaps, updates, secs = {}, {}, []
    for snap in ReplayFeed(store, season, event, speed=float("inf")).snapshots():
        t0 = time.perf_counter()
        upd = advisor.update(snap)
        if upd["calls"]:
            secs.append(time.perf_counter() - t0)
        snaps[snap.lap], updates[snap.lap] = snap, upd
    return snaps, updates, secs


def quality(snaps: dict, updates: dict) -> dict:
    """The three quality figures' raw counts of one race (see module docstring)."""
    out = {"sc_events": 0, "sc_agree": 0, "sc_car_agree": 0, "sc_cars": 0, "stops": 0, "stops_called": 0,
           "stops_advised": 0, "stops_called_advised": 0, "rejoin_err": []}
    laps = sorted(snaps)
    prev = "GREEN"
    for lap in laps:
        s = snaps[lap]
        if s.track_status in ("SC", "VSC") and prev == "GREEN" and lap + 1 in snaps and updates[lap]["calls"]:
            calls = {c["driver"]: c["call"] for c in updates[lap]["calls"]}
            top = [c.driver for c in s.cars if not c.retired][:10]
            nxt = snaps[lap + 1]
            real = {d: nxt.car(d) is not None and nxt.car(d).in_pit for d in top}
            ours = {d: calls.get(d) in BOX for d in top}
            out["sc_events"] += 1
            out["sc_agree"] += int((sum(real.values()) > len(top) / 2) == (sum(ours.values()) > len(top) / 2))
            out["sc_cars"] += len(top)
            out["sc_car_agree"] += sum(real[d] == ours[d] for d in top)
        prev = s.track_status
    for lap in laps:
        for c in snaps[lap].cars:
            if not c.in_pit or lap - 1 not in updates:
                continue
            out["stops"] += 1
            before = [updates.get(k, {}).get("calls", []) for k in (lap - 1, lap - 2)]
            mine = [x for calls in before for x in calls if x["driver"] == c.driver]
            out["stops_called"] += int(any(x["call"] in BOX for x in mine))
            advised = [x for x in mine if x["source"] == "advisor"]
            if advised:
                out["stops_advised"] += 1
                out["stops_called_advised"] += int(any(x["call"] in BOX for x in advised))
            proj = next((x["rejoin"]["rejoin_position"] for x in updates[lap - 1]["calls"] if x["driver"] == c.driver), None)
            after = snaps.get(lap + 1)
            real = after.car(c.driver) if after is not None else None
            if proj is not None and real is not None and not real.retired:
                out["rejoin_err"].append(abs(proj - real.position))
    return out


def _pct(tot: dict, a: str, b: str) -> str:
    return f"{100 * tot.get(a, 0) / tot[b]:.0f}% of {tot[b]}" if tot.get(b) else "–"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--season", type=int, default=2024)
    ap.add_argument("--event", default="Monza")
    ap.add_argument("--n-sims", type=int, default=100)
    ap.add_argument("--max-advised", type=int, default=5)
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--seasons", type=int, nargs="+", default=[2023, 2024])
    ap.add_argument("--rounds", type=int, default=None, help="only the first N rounds of each season")
    args = ap.parse_args()
    data = os.environ.get("F1_DATA_DIR")
    if not data:
        sys.exit("set F1_DATA_DIR to the shared lap data")
    from f1analyzer.errors import F1AnalyzerError
    from f1analyzer.simulation.backtest import train_models_before

    with tempfile.TemporaryDirectory() as tmp:
        seasons = args.seasons if args.quality else [args.season]
        store = _ingest(Path(data), Path(tmp), max(seasons))
        if not args.quality:
            models = train_models_before(store, args.season)
            _, _, secs = replay_race(store, models, args.season, args.event, n_sims=args.n_sims,
                                     max_advised=args.max_advised)
            ms = np.array(secs) * 1000
            print(f"| {args.season} {args.event} | {len(ms)} updates | n_sims {args.n_sims}, max_advised "
                  f"{args.max_advised} | p50 {np.percentile(ms, 50):.0f} ms | p95 {np.percentile(ms, 95):.0f} ms "
                  f"| max {ms.max():.0f} ms |")
            return
        print("| season | races | SC/VSC starts: majority agrees | per car | real stops: BOX said in the 2 laps "
              "before (all / advised) | rejoin error median / p90 (places) | update p50 / p95 ms |")
        print("|---|---|---|---|---|---|---|")
        for season in args.seasons:
            models = train_models_before(store, season)
            races = store.races(season)
            if args.rounds:
                races = races.head(args.rounds)
            tot: dict = {}
            secs_all = []
            for rnd in races["round"]:
                try:
                    snaps, updates, secs = replay_race(store, models, season, int(rnd), n_sims=args.n_sims,
                                                       max_advised=args.max_advised)
                except F1AnalyzerError as exc:  # one race that cannot be built does not stop the season
                    print(f"{season} R{rnd}: {exc}", file=sys.stderr)
                    continue
                q = quality(snaps, updates)
                secs_all += secs
                for k, v in q.items():
                    tot[k] = tot.get(k, 0 if not isinstance(v, list) else []) + v
                tot["races"] = tot.get("races", 0) + 1
                print(f"{season} R{rnd}: {q['stops']} stops, {q['sc_events']} SC/VSC", file=sys.stderr)
            err = np.array(tot.get("rejoin_err", []))
            ms = np.array(secs_all) * 1000

            print(f"| {season} | {tot.get('races', 0)} | {_pct(tot, 'sc_agree', 'sc_events')} | {_pct(tot, 'sc_car_agree', 'sc_cars')} "
                  f"| {_pct(tot, 'stops_called', 'stops')} / {_pct(tot, 'stops_called_advised', 'stops_advised')} "
                  f"| {np.median(err):.0f} / {np.percentile(err, 90):.0f} (n={err.size}) "
                  f"| {np.percentile(ms, 50):.0f} / {np.percentile(ms, 95):.0f} |")


if __name__ == "__main__":
    main()
