"""Set-up shared by the bundle builders: the lap-data arguments and a temporary ingested store.

The scripts run as ``python scripts/<name>.py``, so this folder is on ``sys.path`` and they import
it as ``_common``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore


def add_data_args(ap: argparse.ArgumentParser) -> None:
    """``--data-dir`` (default ``$F1_DATA_DIR``), ``--first-season`` and ``--last-season``."""
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("F1_DATA_DIR"),
                    help="folder holding laps/*.csv.gz (default: $F1_DATA_DIR)")
    ap.add_argument("--first-season", type=int, default=2018)
    ap.add_argument("--last-season", type=int, default=2024)


def parse_data_args(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``; exits with a usage error when the data folder holds no ``laps/``."""
    args = ap.parse_args(argv)
    if not args.data_dir or not (Path(args.data_dir) / "laps").is_dir():
        ap.error("--data-dir (or F1_DATA_DIR) must point at a folder with laps/")
    return args


def season_files(data_dir: Path, seasons: Iterable[int]) -> list[Path]:
    """The sorted ``<data_dir>/laps/*.csv.gz`` files whose name holds one of ``seasons``."""
    seasons = list(seasons)
    return [f for f in sorted((Path(data_dir) / "laps").glob("*.csv.gz"))
            if any(str(y) in f.name for y in seasons)]


@contextmanager
def ingested_store(files: list[Path], prefix: str) -> Iterator[RaceStore | None]:
    """A store in a temporary folder with ``files`` ingested; None (reasons on stderr) when any is refused."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        store = RaceStore(Path(tmp) / "store")
        results = ingest_files(files, store)
        bad = [r.error for r in results if not r.ok]
        if bad:
            print("refused:", *bad, sep="\n  ", file=sys.stderr)
            yield None
        else:
            yield store
