"""Reading the facts bundle shipped in the package (``f1analyzer/bundled/knowledge_docs.json.gz``).

The bundle holds derived race facts (classification, stints, pit laps...) and the knowledge
documents written from them; ``knowledge/writers_bundled.py`` writes it and builds documents
from it, the simulator reads its race calendar (``simulation/scenario/field.py``). Reading it
lives here, below both, so neither imports the other.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

from f1analyzer.log import get_logger

log = get_logger("data.bundle")

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[1] / "bundled" / "knowledge_docs.json.gz"
BUNDLE_FORMAT = 1


@lru_cache(maxsize=2)
def _load(path: str, _mtime_ns: int) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        payload = json.load(fh)
    if payload.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"unsupported knowledge bundle format {payload.get('format')!r}")
    return payload


def load_bundle(path: Path | None = None) -> dict | None:
    """The bundle as a dict (``facts``, ``documents``, ``attribution``...), or None when the
    package ships none or it cannot be read (logged)."""
    p = Path(path) if path is not None else BUNDLED_KNOWLEDGE
    if not p.is_file():
        return None
    try:
        return _load(str(p), p.stat().st_mtime_ns)
    except (OSError, ValueError, EOFError) as exc:
        log.warning("bundled knowledge documents unreadable (%s): %s", p, exc)
        return None
