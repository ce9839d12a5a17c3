"""Leftover temporary files of interrupted writes are removed at start (issue 13, item 10) —
only our own names, only older than the process, never one whose writer is alive."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from f1analyzer.app.housekeeping import clean_stale_temp_files, process_start_time
from f1analyzer.config import Settings

VERSION = "20261130T010203.123456Z-abcdef"


def _touch(path, *, age_s: float = 3600, folder: bool = False):
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        path.mkdir()
        (path / "race_models.json").write_text("{}")
    else:
        path.write_bytes(b"partial")
    old = time.time() - age_s
    os.utime(path, (old, old))
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_writers_are_removed_the_rest_is_left(tmp_path):
    s = Settings(home=tmp_path / "home")
    dead, alive = _dead_pid(), os.getppid()
    seasons = s.store_dir / "seasons"
    stale = [
        _touch(seasons / f".2023.parquet.{dead}.tmp"),
        _touch(seasons / f".2022.sprint.parquet.{dead}.tmp"),
        _touch(s.models_dir / "versions" / f".{VERSION}.tmp", folder=True),
        _touch(s.cache_dir / "models" / f".{VERSION}.{dead}.tmp", folder=True),
        _touch(s.index_dir.parent / f".index.build-{dead}-0123abcd.tmp", folder=True),
        _touch(s.index_dir.parent / f".index.old-{dead}-0123abcd.tmp", folder=True),
        _touch(s.index_dir / "bm25_corpus.tmp"),
    ]
    kept = [
        _touch(seasons / "2023.parquet"),                                    # data
        _touch(seasons / f".2024.parquet.{alive}.tmp"),                      # its writer runs
        _touch(seasons / f".2021.parquet.{dead}.tmp", age_s=-60),            # newer than us
        _touch(seasons / "notes.tmp"),                                       # not our name
        _touch(s.models_dir / "versions" / ".not-a-version.tmp", folder=True),
        _touch(s.index_dir.parent / f".other.build-{dead}-0123abcd.tmp", folder=True),
        _touch(s.home / "imports" / f".2023.parquet.{dead}.tmp"),            # not our folder
    ]
    removed = clean_stale_temp_files(s)
    assert sorted(map(str, removed)) == sorted(map(str, stale))
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert clean_stale_temp_files(s) == []  # idempotent


def test_process_start_time_is_before_now():
    assert time.time() - 3600 * 24 * 365 < process_start_time() <= time.time()
