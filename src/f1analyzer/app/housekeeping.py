"""Start-up housekeeping: temporary files a crashed process left behind (issue 13, item 10).

Every atomic write in the project goes through a temporary name next to its target and a rename
(season files, registry versions, the knowledge index and its keyword corpus). A process killed
mid-write leaves that temporary file; nothing ever reads it, but it takes disk space (an index
rebuild or a season file can be large). :func:`clean_stale_temp_files` removes them when a server
starts. It only touches names written by this project's own code (the patterns below), only in
the store, registry, registry-download cache and index folders, only files older than this
process, and never one whose writer is still alive (the pid in its name) or while another
process holds the store's write lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from pathlib import Path

from f1analyzer.config import Settings
from f1analyzer.log import get_logger
from f1analyzer.models.registry_base import valid_version

log = get_logger("app.housekeeping")

#: ``data/store.py``: ``.<season>[.sprint].parquet.<pid>.tmp``
_STORE_TMP = re.compile(r"^\.\d{4}(?:\.sprint)?\.parquet\.(?P<pid>\d+)\.tmp$")
#: ``models/registry.py``: ``.<version>.tmp`` (a staging folder); ``registry_aws.py``'s download
#: cache: ``.<version>.<pid>.tmp``
_REGISTRY_TMP = re.compile(r"^\.(?P<version>[^/]+?)(?:\.(?P<pid>\d+))?\.tmp$")
#: ``knowledge/retrieval.py``: the BM25 corpus written aside
_CORPUS_TMP = "bm25_corpus.tmp"


def _index_tmp(index_name: str) -> re.Pattern:
    """``knowledge/index.py``: ``.<index>.build-<pid>-<hex>.tmp`` and ``.<index>.old-<pid>-<hex>.tmp``."""
    return re.compile(rf"^\.{re.escape(index_name)}\.(?:build|old)-(?P<pid>\d+)-[0-9a-f]{{8}}\.tmp$")


def process_start_time() -> float:
    """When this process started (epoch seconds), from /proc; now when /proc is not there."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process has not written anything yet: the name is a leftover
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _stale(path: Path, started: float, pid: str | None) -> bool:
    try:
        if path.lstat().st_mtime >= started:
            return False
    except FileNotFoundError:
        return False
    return pid is None or not _alive(int(pid))


def clean_stale_temp_files(settings: Settings, *, started: float | None = None) -> list[Path]:
    """Remove our own leftover temporary files and folders; returns what was removed.

    Args:
        started: only entries last modified before this (default: this process's start time).
    """
    started = process_start_time() if started is None else started
    removed: list[Path] = []

    def sweep(folder: Path, match) -> None:
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            pid = match(entry.name)
            if pid is False or not _stale(entry, started, pid):
                continue
            _remove(entry)
            removed.append(entry)

    def store_match(name: str):
        m = _STORE_TMP.match(name)
        return m.group("pid") if m else False

    def registry_match(name: str):
        m = _REGISTRY_TMP.match(name)
        return (m.group("pid") if m and valid_version(m.group("version")) else False)

    index_re = _index_tmp(settings.index_dir.name)

    def index_match(name: str):
        m = index_re.match(name)
        return m.group("pid") if m else False

    seasons = settings.store_dir / "seasons"
    if seasons.is_dir():
        with open(settings.store_dir / ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("store is being written by another process; its temporary files are left")
            else:
                try:
                    sweep(seasons, store_match)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
    sweep(settings.models_dir / "versions", registry_match)
    sweep(settings.cache_dir / "models", registry_match)
    sweep(settings.index_dir.parent, index_match)
    sweep(settings.index_dir, lambda name: None if name == _CORPUS_TMP else False)
    for path in removed:
        log.warning("removed a temporary file left by an interrupted write: %s", path)
    return removed
