#!/usr/bin/env python
"""Regenerate the bundled default race models (src/f1analyzer/bundled/race_models.json).

    .venv/bin/python scripts/build_bundled_models.py --data-dir $F1_DATA_DIR

Ingests ``<data-dir>/laps/*.csv.gz`` into a temporary store (nothing is written to the repo but the
fitted parameters), fits :class:`f1analyzer.models.RaceModels` on seasons 2018–2024 and writes the
JSON bundle plus its README (attribution, data hash, fit time). The bundle holds no laps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _common import add_data_args, ingested_store, parse_data_args, season_files  # scripts/ is on sys.path

from f1analyzer.models.bundled import BUNDLED_DIR
from f1analyzer.models.race_models import RaceModels
from f1analyzer.models.tum_reference import TUM_TRACKS, read_section

ATTRIBUTION = "Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_args(ap)
    ap.add_argument("--out-dir", type=Path, default=BUNDLED_DIR)
    ap.add_argument("--compare-tum", type=Path, default=None, metavar="DIR",
                    help="also fit 2018-2019 alone and print a markdown comparison with TU Munich's "
                         "pars_*.ini files in DIR (for docs/MODELS.md; nothing of theirs is stored)")
    args = parse_data_args(ap, argv)
    files = season_files(args.data_dir, range(args.first_season, args.last_season + 1))
    with ingested_store(files, "f1a-bundle-") as store:
        if store is None:
            return 1
        laps, races, stops = store.laps(), store.races(), store.pit_stops()
        t0 = time.perf_counter()
        models = RaceModels().fit(laps, races, stops)
        fit_s = time.perf_counter() - t0
        if args.compare_tum:
            early = races[races["season"] <= 2019]
            m1819 = RaceModels().fit(laps[laps["season"] <= 2019], early, stops[stops["season"] <= 2019])
            print(tum_table(m1819, Path(args.compare_tum)))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models.save(out / "race_models.json")
    size_kb = (out / "race_models.json").stat().st_size / 1024
    (out / "README.md").write_text(readme(models, len(races), fit_s, size_kb), encoding="utf-8")
    print(json.dumps({"circuits": len(models.circuits_), "races": int(len(races)), "laps": models.n_laps_,
                      "seasons": models.seasons_, "data_hash": models.data_hash_,
                      "fit_seconds": round(fit_s, 2), "size_kb": round(size_kb, 1)}))
    return 0


def readme(models: RaceModels, n_races: int, fit_s: float, size_kb: float) -> str:
    return f"""# Bundled race models

`race_models.json` is the default model set of f1analyzer: the fitted physical race models
(tyre degradation and fuel effect, pit loss, Safety Car / VSC, start, driver and team pace,
overtaking, retirements) of every circuit raced in {models.seasons_[0]}–{models.seasons_[-1]}.
It holds fitted parameters only, no lap data. Load it with
`f1analyzer.models.load_bundled_models()`; see docs/MODELS.md for what each number means.

{ATTRIBUTION}

| | |
|---|---|
| seasons | {", ".join(map(str, models.seasons_))} |
| races | {n_races} |
| circuits | {len(models.circuits_)} |
| laps | {models.n_laps_} |
| data hash | `{models.data_hash_}` |
| format | {models.to_dict()["format"]} |
| fit time | {fit_s:.1f} s |
| size | {size_kb:.0f} KB |

Regenerate with:

    .venv/bin/python scripts/build_bundled_models.py --data-dir $F1_DATA_DIR
"""




def tum_values(path: Path) -> dict:
    """Pit loss, fuel effect, start, overtaking and median linear wear (softest/hardest) of one file."""
    import numpy as np

    text = path.read_text(encoding="utf-8")
    tr, cars, tyres = read_section(text, "track_pars"), read_section(text, "car_pars"), read_section(text, "tireset_pars")
    add = float(np.median([c.get("t_pit_tirechange_add", 0.0) for c in cars.values()])) if cars else 0.0
    burn = float(np.median([c.get("b_fuel_perlap") or 0.0 for c in cars.values()])) if cars else 0.0
    # A1..A7 run hardest → softest (2018 names SH..HS; 2019 C-numbers mapped onto them)
    codes = sorted({k for d in tyres.values() for k in d if k.startswith("A")})
    k1 = {c: float(np.median([d[c]["k_1_lin"] for d in tyres.values() if c in d])) for c in codes}
    return {
        "pit_loss_s": tr["t_pitdrive_inlap"] + tr["t_pitdrive_outlap"] + tr["t_pit_tirechange_min"] + add,
        "fuel_s_per_lap": tr["t_lap_sens_mass"] * burn,
        "first_lap_loss_s": tr["t_loss_firstlap"], "per_grid_slot_loss_s": tr["t_loss_pergridpos"],
        "overtake_s": tr["t_gap_overtake"],
        "deg_soft": k1[codes[-1]] if codes else float("nan"), "deg_hard": k1[codes[0]] if codes else float("nan"),
    }


def tum_table(models: RaceModels, tum_dir: Path) -> str:
    """Markdown table: TUM 2018-19 (mean of the two files) | ours fitted on 2018-19."""
    import numpy as np

    rows = ["| track | pit loss TUM / ours (s) | fuel TUM / ours (s/lap) | lap-1 loss TUM / ours (s) "
            "| per slot TUM / ours (s) | overtake TUM / ours (s) | SOFT deg TUM / ours | HARD deg TUM / ours |",
            "|---|---|---|---|---|---|---|---|"]
    for track, key in sorted(TUM_TRACKS.items(), key=lambda kv: kv[1]):
        files = sorted(tum_dir.glob(f"pars_{track}_201[89].ini"))
        if not files or key not in models.circuits_:
            continue
        vals = [tum_values(f) for f in files]
        t = {k: float(np.nanmean([v[k] for v in vals])) for k in vals[0]}
        cm = models.circuits_[key]
        soft, hard = cm.compounds.get("SOFT"), cm.compounds.get("HARD")
        deg = lambda m: float(m.deg_s(20.0)) / 20.0 if m is not None else float("nan")  # noqa: E731
        rows.append(
            f"| {key} | {t['pit_loss_s']:.1f} / {cm.pit_loss_s:.1f} | {t['fuel_s_per_lap']:.3f} / "
            f"{cm.fuel_effect_s_per_lap:.3f} | {t['first_lap_loss_s']:.1f} / {cm.first_lap_loss_s:.1f} | "
            f"{t['per_grid_slot_loss_s']:.2f} / {cm.per_grid_slot_loss_s:.2f} | {t['overtake_s']:.1f} / "
            f"{cm.overtake_threshold_s:.1f} | {t['deg_soft']:.3f} / {deg(soft):.3f} | "
            f"{t['deg_hard']:.3f} / {deg(hard):.3f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
