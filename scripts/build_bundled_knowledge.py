#!/usr/bin/env python
"""Regenerate the bundled knowledge documents (src/f1analyzer/bundled/knowledge_docs.json.gz).

    .venv/bin/python scripts/build_bundled_knowledge.py --data-dir $F1_DATA_DIR

Ingests ``<data-dir>/laps/*.csv.gz`` into a temporary store (no lap data reaches the repo), reduces
every race to derived facts (classification, stints, pit laps, SC/VSC/red-flag phases, undercuts)
and writes those facts plus the race, circuit and season documents (written with the bundled race
models) as one deterministic gzip JSON file, and ``bundled/KNOWLEDGE.md`` with the attribution.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from _common import add_data_args, ingested_store, parse_data_args, season_files  # scripts/ is on sys.path

from f1analyzer.knowledge.documents import rule_documents
from f1analyzer.knowledge.embeddings import MiniLMEmbedder
from f1analyzer.knowledge.writers import race_facts, write_documents
from f1analyzer.knowledge.writers_bundled import ATTRIBUTION, BUNDLED_KNOWLEDGE, write_bundle
from f1analyzer.models.bundled import load_bundled_models

MAX_BYTES = 2_000_000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_args(ap)
    ap.add_argument("--out", type=Path, default=BUNDLED_KNOWLEDGE)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch threads for embedding the documents")
    args = parse_data_args(ap, argv)
    seasons = range(args.first_season, args.last_season + 1)
    files = season_files(args.data_dir, seasons)
    t0 = time.perf_counter()
    with ingested_store(files, "f1a-knowledge-") as store:
        if store is None:
            return 1
        facts = race_facts(store, seasons=seasons)
    models = load_bundled_models()
    docs = write_documents(facts, models)
    kinds = Counter(d.kind for d in docs)
    meta = {"seasons": sorted({f["season"] for f in facts}), "races": len(facts),
            "documents": dict(sorted(kinds.items())), "race_models_data_hash": models.data_hash_}
    embedder = MiniLMEmbedder(threads=args.threads)
    t1 = time.perf_counter()
    embedded = rule_documents() + docs  # the rule notes' vectors ship too: no model at start-up
    vectors = embedder.encode([d.embedding_text() for d in embedded])
    print(f"embedded {len(embedded)} documents in {time.perf_counter() - t1:.1f} s")
    path = write_bundle(args.out, facts, docs, meta, vectors=vectors, embedded=embedded)
    size = path.stat().st_size
    took = time.perf_counter() - t0
    readme = path.with_name("KNOWLEDGE.md")
    readme.write_text(
        "# Bundled knowledge documents\n\n"
        f"`{path.name}` holds the knowledge base a fresh install searches when its race store is "
        "empty: derived facts of every race (classification, stints, pit laps, Safety Car / VSC / "
        "red-flag phases, undercuts; no lap times) and the race, circuit and season documents "
        "written from them with the bundled race models (`race_models.json`), with their "
        "all-MiniLM-L6-v2 embeddings (float16).\n\n"
        f"{ATTRIBUTION}\n\n"
        "| | |\n|---|---|\n"
        f"| seasons | {', '.join(map(str, meta['seasons']))} |\n"
        f"| races | {meta['races']} |\n"
        f"| documents | {', '.join(f'{k} {v}' for k, v in meta['documents'].items())} |\n"
        f"| race models data hash | `{models.data_hash_}` |\n"
        f"| size | {size // 1024} KB |\n\n"
        "Regenerate with:\n\n"
        "    .venv/bin/python scripts/build_bundled_knowledge.py --data-dir $F1_DATA_DIR\n",
        encoding="utf-8")
    print(f"wrote {path} ({size / 1024:.0f} KB, {len(docs)} documents from {len(facts)} races) "
          f"in {took:.1f} s")
    if size > MAX_BYTES:
        print(f"error: the bundle is larger than {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
