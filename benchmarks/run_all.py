"""Run every benchmark in turn (``make bench``); each prints its own table.

The figures in benchmarks/RESULTS.md come from these scripts. Benchmarks that need the real lap
data read ``F1_DATA_DIR``; they are skipped with a note when it is not set. Run on an otherwise idle
machine: the numbers are wall-clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (script, needs F1_DATA_DIR, extra arguments)
BENCHMARKS = [
    ("bench_simulate.py", False, []),
    ("bench_optimise.py", False, []),
    ("bench_query.py", False, []),
    ("bench_recall.py", False, []),
    ("bench_ingest.py", True, []),
    ("bench_train.py", True, []),
    ("bench_evaluate.py", True, []),
    ("bench_load.py", False, []),
    ("bench_backtest.py", True, []),
    ("bench_executors.py", True, []),
]


def main() -> int:
    have_data = bool(os.environ.get("F1_DATA_DIR"))
    failed = []
    for script, needs_data, args in BENCHMARKS:
        print(f"\n=== {script} ===", flush=True)
        if needs_data and not have_data:
            print("skipped: set F1_DATA_DIR to the FastF1-format lap data")
            continue
        rc = subprocess.call([sys.executable, str(HERE / script), *args])
        if rc:
            failed.append(script)
    if failed:
        print("\nfailed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
