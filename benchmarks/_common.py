"""Set-up shared by the benchmarks: the real lap data (ingest, train, evaluate), percentiles,
and the production server started as users start it (load, abuse).

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path`` and they
import it as ``_common``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


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


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


@contextmanager
def cli_server(home: Path, env: dict[str, str], *, workers: int = 1, timeout_s: float = 120.0) -> Iterator[str]:
    """``f1analyzer serve --no-reload`` (the production entry point, with its proxy and security
    set-up) on a free loopback port with ``F1A_HOME=home`` and ``env``; yields its URL. The log goes
    to ``home/bench_server.log``."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.helpers import free_port, stop_process, wait_for_http

    port = free_port()
    full = {**os.environ, "F1A_HOME": str(home), "HOST": "127.0.0.1", "PORT": str(port),
            "WORKERS": str(workers), "DEBUG": "false", **env}
    log = open(home / "bench_server.log", "ab")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "f1analyzer"), "serve", "--no-reload"],
                            env=full, cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health", proc=proc, timeout_s=timeout_s)
        yield url
    finally:
        stop_process(proc)
        log.close()
