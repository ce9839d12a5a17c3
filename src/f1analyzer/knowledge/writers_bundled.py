"""The knowledge documents shipped inside the package (``f1analyzer/bundled/knowledge_docs.json.gz``).

A fresh install has no race store, yet ``/query`` should answer questions about 2018–2024. The
bundle holds, for every race of the shared data, the derived *facts* (classification, stints, pit
laps, neutralisation phases, undercuts — no lap times) and the race, circuit and season documents
written from them with the bundled race models. ``scripts/build_bundled_knowledge.py`` writes it.

Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from f1analyzer.knowledge.documents import Document
from f1analyzer.log import get_logger

log = get_logger("knowledge.bundled")

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[1] / "bundled" / "knowledge_docs.json.gz"
BUNDLE_FORMAT = 1
ATTRIBUTION = "Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1."


def write_bundle(path: Path, facts: list[dict], documents: list[Document], meta: dict) -> Path:
    """Write facts + documents as deterministic gzip JSON (same input, same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": BUNDLE_FORMAT, "attribution": ATTRIBUTION, **meta,
               "facts": facts, "documents": [asdict(d) for d in documents]}
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9,
                                               mtime=0, filename="") as gz:
        gz.write(body.encode("utf-8"))
    tmp.replace(path)
    return path


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


def bundled_facts(path: Path | None = None) -> list[dict]:
    bundle = load_bundle(path)
    return list(bundle["facts"]) if bundle else []


def bundled_documents(path: Path | None = None) -> list[Document]:
    """Race, circuit and season documents of the bundle (rule notes are added by the caller)."""
    bundle = load_bundle(path)
    if not bundle:
        return []
    return [Document(**{**d, "drivers": tuple(d.get("drivers") or ())})
            for d in bundle["documents"]]
