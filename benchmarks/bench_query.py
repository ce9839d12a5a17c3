"""Benchmark: knowledge-base build and hybrid query latency (MiniLM + LanceDB + BM25, CPU).

Builds a knowledge base in a temporary home from the rule notes plus ``--docs`` synthetic race
passages (phase 2 replaces these with documents written from the race store), then times
``KnowledgeBase.search`` over a fixed question list. Reports the model load, the cold build, the
idempotent re-build and query latency percentiles. Goal: p95 query under 100 ms on one thread.

    .venv/bin/python benchmarks/bench_query.py [--docs 500] [--queries 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

GOAL_P95_MS = 100.0
QUESTIONS = [
    "Why is a pit stop cheaper under the safety car?",
    "Does a VSC stop save as much time?",
    "Can teams change tyres during a red flag?",
    "How did Verstappen win Abu Dhabi 2021?",
    "What is the two-compound rule?",
    "Leclerc Monaco 2022 strategy",
    "How much time does a pit stop cost at Monza?",
    "When is DRS enabled after a restart?",
]
EVENTS = [("Bahrain Grand Prix", "bahrain"), ("Monaco Grand Prix", "monaco"),
          ("Italian Grand Prix", "monza"), ("Abu Dhabi Grand Prix", "yas_marina"),
          ("British Grand Prix", "silverstone"), ("Japanese Grand Prix", "suzuka")]
DRIVERS = ["VER", "HAM", "LEC", "NOR", "PER", "SAI", "RUS", "ALO", "PIA", "BOT"]


def synthetic_docs(n: int):
    from f1analyzer.knowledge.documents import Document

    docs = []
    for i in range(n):
        season = 2018 + i % 7
        event, circuit = EVENTS[i % len(EVENTS)]
        a, b = DRIVERS[i % len(DRIVERS)], DRIVERS[(i * 3 + 1) % len(DRIVERS)]
        docs.append(Document(
            id=f"bench:{i:05d}", kind="race", title=f"{season} {event} note {i}", season=season,
            round=1 + i % 22, event=event, circuit=circuit, drivers=(a, b),
            text=(f"{a} ran a {'one' if i % 2 else 'two'}-stop at the {season} {event}, pitting "
                  f"on lap {10 + i % 30}; {b} stayed out under a "
                  f"{'Safety Car' if i % 3 == 0 else 'Virtual Safety Car'} and lost "
                  f"{3 + i % 5} places. Tyre wear was {'high' if i % 4 else 'low'}."),
        ))
    return docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np

    from f1analyzer.knowledge.documents import rule_documents
    from f1analyzer.knowledge.embeddings import MiniLMEmbedder
    from f1analyzer.knowledge.index import LanceDBIndex
    from f1analyzer.knowledge.retrieval import KnowledgeBase

    docs = rule_documents() + synthetic_docs(args.docs)
    embedder = MiniLMEmbedder(threads=args.threads)
    t0 = time.perf_counter()
    embedder.encode(["warm up"])
    load_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="f1a_bench_kb_") as home:
        kb = KnowledgeBase(embedder=embedder, index=LanceDBIndex(Path(home) / "lancedb"),
                           corpus_dir=home)
        t0 = time.perf_counter()
        kb.build(docs)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        kb.build(docs)
        rebuild_s = time.perf_counter() - t0

        latencies_ms = []
        for i in range(args.queries):
            t0 = time.perf_counter()
            kb.search(QUESTIONS[i % len(QUESTIONS)], top_k=5)
            latencies_ms.append((time.perf_counter() - t0) * 1000)

    p50, p95 = np.percentile(latencies_ms, [50, 95])
    figures = {"documents": len(docs), "threads": args.threads, "model_load_s": round(load_s, 2),
               "build_s": round(build_s, 2), "rebuild_s": round(rebuild_s, 2),
               "query_p50_ms": round(float(p50), 1), "query_p95_ms": round(float(p95), 1),
               "goal_p95_ms": GOAL_P95_MS, "meets_goal": bool(p95 <= GOAL_P95_MS)}
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>14}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
