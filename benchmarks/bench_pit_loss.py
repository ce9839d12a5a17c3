"""Benchmark: pit loss under SC/VSC per circuit — lap-time sums (before) vs pre-neutralisation gaps.

*Before*: the estimator used until now (a stop's in-lap + out-lap against the median lap of the cars
that did not stop, median per circuit shrunk to the all-circuit ratio, then clipped at the green
loss). *After*: ``models/pitloss.py`` (the stopper against the cars that did not stop, compared with
the gaps at the end of the green lap before the neutralisation; a logistic curve per circuit shrunk
to the pooled SC/VSC ratios). Also: what a stop costs in places (non-stopping cars that got by), and
the green loss and SC/VSC shares against TU Munich's 2018–19 parameters (``--tum DIR``, compared,
never shipped). Goals (issue 11): SC ≤ 0.7 × green at every circuit with ≥ 3 observed SC stops, and
SC < VSC < green everywhere without a constraint applied after the fit.

    F1_DATA_DIR=/path/to/data .venv/bin/python benchmarks/bench_pit_loss.py \\
        [--tum /work/shared/reference/tumftm-race-simulation] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import parse_data_args, season_files  # benchmarks/ is on sys.path
from f1analyzer.models.tum_reference import TUM_TRACKS, read_section



def tum_pit(tum_dir: Path) -> dict[str, dict]:
    """Per circuit key: TUM green loss and SC / FCY (VSC) shares of it (mean of 2018 and 2019)."""
    out: dict[str, dict] = {}
    for track, key in TUM_TRACKS.items():
        vals = []
        for f in sorted(tum_dir.glob(f"pars_{track}_201[89].ini")):
            text = f.read_text(encoding="utf-8")
            tr, cars = read_section(text, "track_pars"), read_section(text, "car_pars")
            stand = tr["t_pit_tirechange_min"] + (float(np.median([c.get("t_pit_tirechange_add", 0.0)
                                                                    for c in cars.values()])) if cars else 0.0)
            green = tr["t_pitdrive_inlap"] + tr["t_pitdrive_outlap"] + stand
            sc = tr["t_pitdrive_inlap_sc"] + tr["t_pitdrive_outlap_sc"] + stand
            fcy = tr["t_pitdrive_inlap_fcy"] + tr["t_pitdrive_outlap_fcy"] + stand
            vals.append((green, sc / green, fcy / green))
        if vals:
            g, s, v = np.mean(vals, axis=0)
            out[key] = {"pit_loss_s": float(g), "sc_share": float(s), "vsc_share": float(v)}
    return out


def before(losses, circuit_keys, prior_stops: float = 5.0) -> dict[str, dict]:
    """The previous estimator: lap-time-sum medians shrunk to the all-circuit ratio, clipped at green."""
    g_all = losses.loc[losses["kind"] == "green", "loss_s"].median()
    ratio = {k: losses.loc[losses["kind"] == k, "loss_s"].median() / g_all for k in ("sc", "vsc")}
    out = {}
    for key in circuit_keys:
        d = losses[losses["circuit_key"] == key]
        g = d.loc[d["kind"] == "green", "loss_s"].to_numpy()
        w = len(g) / (len(g) + prior_stops)
        green = float(w * np.median(g) + (1 - w) * g_all) if len(g) else float(g_all)
        row = {"pit_loss_s": green}
        for k in ("sc", "vsc"):
            x = d.loc[d["kind"] == k, "loss_s"].to_numpy()
            w = len(x) / (len(x) + prior_stops)
            v = float(w * np.median(x) + (1 - w) * green * ratio[k]) if len(x) else green * ratio[k]
            row[f"pit_loss_{k}_s"] = min(v, green)
        out[key] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tum", type=Path, default=None, help="TUMFTM race-simulation parameter folder")
    args = parse_data_args(ap, argv)
    if args is None:
        return 2

    from f1analyzer.data import RaceStore
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.models import pitloss

    with tempfile.TemporaryDirectory(prefix="f1a_bench_pit_") as home:
        store = RaceStore(Path(home) / "store")
        ingest_files(season_files(args.data_dir), store)
        laps, stops, races = store.laps(), store.pit_stops(), store.races()
    circuit_of = races.set_index(["season", "round"])["circuit_key"].astype(str)
    glob, after = pitloss.fit_circuits(laps, stops, circuit_of)
    losses = pitloss.stop_losses(laps, stops)
    losses["circuit_key"] = circuit_of.reindex(list(zip(losses["season"], losses["round"]))).to_numpy()
    old = before(losses, sorted(after))
    pairs = pitloss.neutral_pairs(laps, losses, kinds=("green", "sc", "vsc"))
    places = (pairs.groupby(["kind", "season", "round", "driver", "lap"])["ahead"].sum()
              .groupby("kind").agg(["mean", "size"]))
    tum = tum_pit(args.tum) if args.tum else {}

    rows = []
    for key in sorted(after):
        a, b = after[key], old[key]
        rows.append({
            "circuit": key, "n_sc_stops": a["n_sc_stops"], "n_vsc_stops": a["n_vsc_stops"],
            "n_measured": a["n_neutral_stops_measured"], "green_s": round(a["pit_loss_s"], 2),
            "sc_share_before": round(float(b["pit_loss_sc_s"] / b["pit_loss_s"]), 3),
            "vsc_share_before": round(float(b["pit_loss_vsc_s"] / b["pit_loss_s"]), 3),
            "sc_share_after": round(a["pit_loss_sc_s"] / a["pit_loss_s"], 3),
            "vsc_share_after": round(a["pit_loss_vsc_s"] / a["pit_loss_s"], 3),
            "constrained": a["pit_loss_constrained"],
            **({"tum_green_s": round(tum[key]["pit_loss_s"], 2), "tum_sc_share": round(tum[key]["sc_share"], 3),
                "tum_vsc_share": round(tum[key]["vsc_share"], 3)} if key in tum else {}),
        })

    def ok(r, which):
        return r[f"sc_share_{which}"] < r[f"vsc_share_{which}"] < 1.0

    sc3 = [r for r in rows if r["n_sc_stops"] >= 3]
    summary = {
        "circuits": len(rows), "circuits_with_3_sc_stops": len(sc3),
        "sc_le_0.7_green_before": int(sum(r["sc_share_before"] <= 0.7 for r in sc3)),
        "sc_le_0.7_green_after": int(sum(r["sc_share_after"] <= 0.7 for r in sc3)),
        "sc_lt_vsc_lt_green_before": int(sum(ok(r, "before") for r in rows)),
        "sc_lt_vsc_lt_green_after": int(sum(ok(r, "after") for r in rows)),
        "constrained_after": int(sum(bool(r["constrained"]) for r in rows)),
        "pooled_sc_share": round(glob["pit_loss_sc_s"] / glob["pit_loss_s"], 3),
        "pooled_vsc_share": round(glob["pit_loss_vsc_s"] / glob["pit_loss_s"], 3),
        "places_lost_per_stop": {k: {"mean": round(float(v["mean"]), 2), "stops": int(v["size"])}
                                 for k, v in places.iterrows()},
    }
    if tum:
        both = [r for r in rows if "tum_green_s" in r]
        diff = np.array([r["green_s"] - r["tum_green_s"] for r in both])
        summary["tum"] = {
            "tracks": len(both), "green_mean_diff_s": round(float(diff.mean()), 2),
            "green_mean_abs_diff_s": round(float(np.abs(diff).mean()), 2),
            "green_corr": round(float(np.corrcoef([r["green_s"] for r in both],
                                                   [r["tum_green_s"] for r in both])[0, 1]), 3),
            "tum_sc_share_median": round(float(np.median([r["tum_sc_share"] for r in both])), 3),
            "tum_vsc_share_median": round(float(np.median([r["tum_vsc_share"] for r in both])), 3),
        }
    if args.json:
        print(json.dumps({"summary": summary, "circuits": rows}, indent=1))
        return 0
    head = ("| circuit | SC / VSC stops (measured) | green s | SC/green before → after | "
            "VSC/green before → after |" + (" TUM green s | TUM SC / VSC share |" if tum else ""))
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        line = (f"| {r['circuit']} | {r['n_sc_stops']} / {r['n_vsc_stops']} ({r['n_measured']}) | "
                f"{r['green_s']:.1f} | {r['sc_share_before']:.2f} → {r['sc_share_after']:.2f} | "
                f"{r['vsc_share_before']:.2f} → {r['vsc_share_after']:.2f} |")
        if tum:
            line += (f" {r['tum_green_s']:.1f} | {r['tum_sc_share']:.2f} / {r['tum_vsc_share']:.2f} |"
                     if "tum_green_s" in r else " | |")
        print(line)
    print()
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
