"""Build the demo race set shipped in ``src/f1analyzer/bundled/demo/`` (issue 15).

A fresh install has no races and may have no internet; four 2024 Grands Prix of the shared
FastF1-format data (a desert night race, Monaco, Monza and Singapore: different degradation,
pit loss and safety-car profiles) let the dashboard and the CLI show real races at once.

Only the FastF1 columns the ingester reads are kept (the publisher's derived columns are recomputed
or unused), rows keep their original values, and the file is a gzip CSV in FastF1's ``Laps``
format, so ``f1analyzer ingest`` reads it like any other file. The Pirelli allocation of those
rounds goes beside it as ``compound_selection.toml``.

Usage:
    python scripts/build_demo_set.py [--data-dir $F1_DATA_DIR]
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import re
from pathlib import Path

import pandas as pd

SEASON = 2024
#: round → why it is in the set
ROUNDS = {1: "Bahrain: high degradation, two stops", 8: "Monaco: one stop, no overtaking",
          16: "Monza: low downforce, one stop", 18: "Singapore: street circuit at night, safety cars"}
KEEP = ["Time", "Driver", "DriverNumber", "LapTime", "LapNumber", "Stint", "PitOutTime", "PitInTime",
        "IsPersonalBest", "Compound", "TyreLife", "FreshTyre", "Team", "TrackStatus", "Position",
        "IsAccurate", "RoundNumber", "EventName", "CompoundName"]
OUT = Path(__file__).resolve().parents[1] / "src" / "f1analyzer" / "bundled" / "demo"
LAPS_FILE = f"demo_laps_{SEASON}.csv.gz"


def build(data_dir: Path, out: Path = OUT) -> list[Path]:
    laps = pd.read_csv(data_dir / "laps" / f"{SEASON}.csv.gz", usecols=KEEP, dtype=str, keep_default_na=False)
    laps = laps[laps["RoundNumber"].astype(int).isin(ROUNDS)][KEEP]
    out.mkdir(parents=True, exist_ok=True)
    text = laps.to_csv(index=False, lineterminator="\n")
    laps_path = out / LAPS_FILE
    # mtime=0: the same input gives byte-identical output (a rebuild shows no diff)
    with open(laps_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(text.encode())
    alloc = _allocation(data_dir / "compound_selection.toml")
    alloc_path = out / "compound_selection.toml"
    alloc_path.write_text(alloc)
    return [laps_path, alloc_path]


def _allocation(path: Path) -> str:
    """The ``[2024]`` lines of the rounds kept, in the shared file's own format."""
    lines = [f"[{SEASON}]", "# Source: https://press.pirelli.com/all-compounds-on-track-to-end-the-season/"]
    section = None
    for line in path.read_text().splitlines():
        m = re.match(r"^\[(\d{4})\]", line)
        if m:
            section = int(m.group(1))
            continue
        r = re.match(r"^(\d+)\s*=", line)
        if section == SEASON and r and int(r.group(1)) in ROUNDS:
            lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("F1_DATA_DIR", "/work/shared/data")))
    args = ap.parse_args()
    for p in build(args.data_dir):
        print(f"{p} {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
