"""Set-up shared by the benchmarks that read the real lap data (ingest, train, evaluate).

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path`` and they
import it as ``_common``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_data_args(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | None:
    """Add ``--data-dir`` (default ``$F1_DATA_DIR``) and ``--json`` to ``ap`` and parse ``argv``.

    Returns None, after saying so on stderr, when the data folder holds no ``laps/``.
    """
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("F1_DATA_DIR"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not args.data_dir or not (Path(args.data_dir) / "laps").is_dir():
        print("set F1_DATA_DIR (or --data-dir) to the folder holding laps/*.csv.gz", file=sys.stderr)
        return None
    return args


def season_files(data_dir: Path) -> list[Path]:
    """Every season file ``<data_dir>/laps/*.csv.gz``, sorted."""
    return sorted((Path(data_dir) / "laps").glob("*.csv.gz"))
