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
import os
import sys
import tempfile
import time
from pathlib import Path

from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore
from f1analyzer.models.bundled import BUNDLED_DIR
from f1analyzer.models.race_models import RaceModels

ATTRIBUTION = "Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("F1_DATA_DIR"),
                    help="folder holding laps/*.csv.gz (default: $F1_DATA_DIR)")
    ap.add_argument("--first-season", type=int, default=2018)
    ap.add_argument("--last-season", type=int, default=2024)
    ap.add_argument("--out-dir", type=Path, default=BUNDLED_DIR)
    args = ap.parse_args(argv)
    if not args.data_dir or not (Path(args.data_dir) / "laps").is_dir():
        ap.error("--data-dir (or F1_DATA_DIR) must point at a folder with laps/")
    files = [f for f in sorted((Path(args.data_dir) / "laps").glob("*.csv.gz"))
             if any(str(y) in f.name for y in range(args.first_season, args.last_season + 1))]
    with tempfile.TemporaryDirectory(prefix="f1a-bundle-") as tmp:
        store = RaceStore(Path(tmp) / "store")
        results = ingest_files(files, store)
        bad = [r.error for r in results if not r.ok]
        if bad:
            print("refused:", *bad, sep="\n  ", file=sys.stderr)
            return 1
        laps, races, stops = store.laps(), store.races(), store.pit_stops()
        t0 = time.perf_counter()
        models = RaceModels().fit(laps, races, stops)
        fit_s = time.perf_counter() - t0
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


if __name__ == "__main__":
    sys.exit(main())
