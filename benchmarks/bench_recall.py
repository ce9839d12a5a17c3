"""Benchmark: retrieval quality (recall@k, MRR) on tests/knowledge/questions.json.

Builds the knowledge base in a temporary home from the documents shipped in the package (what a
fresh install searches) or, with ``--data-dir``, from the real race store, and reports recall@k
and MRR overall and per question kind (race, circuit, season, rule), plus the misses.
Goal: recall@5 ≥ 0.9.

    .venv/bin/python benchmarks/bench_recall.py [--k 5] [--data-dir $F1_DATA_DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

GOAL_RECALL = 0.9
REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="write the documents from this data's race store instead of the bundle")
    ap.add_argument("--questions", type=Path,
                    default=REPO / "tests" / "knowledge" / "questions.json")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = json.loads(args.questions.read_text(encoding="utf-8"))["questions"]

    with tempfile.TemporaryDirectory(prefix="f1a_bench_recall_") as home:
        os.environ["F1A_HOME"] = home
        from f1analyzer.config import get_settings, reset_settings
        from f1analyzer.data.store import RaceStore
        from f1analyzer.knowledge import build_index, get_knowledge_base
        from f1analyzer.app.knowledge import retrieval_metrics

        reset_settings()
        settings = get_settings()
        store = RaceStore(settings.store_dir)
        if args.data_dir:
            from f1analyzer.data.ingest import ingest_files

            ingest_files(sorted((args.data_dir / "laps").glob("*.csv.gz")), store)
        t0 = time.perf_counter()
        report = build_index(settings, store=store)
        build_s = time.perf_counter() - t0
        kb = get_knowledge_base(settings)
        overall = retrieval_metrics(kb, questions, k=args.k)
        by_kind = {}
        for kind in sorted({q["kind"] for q in questions}):
            m = retrieval_metrics(kb, [q for q in questions if q["kind"] == kind], k=args.k)
            by_kind[kind] = {"questions": m["questions"], "recall": m["recall_at_k"],
                             "mrr": m["mrr"]}
    figures = {"source": "store" if args.data_dir else "bundled", "documents": report.total,
               "build_s": round(build_s, 1), "k": args.k, "questions": overall["questions"],
               f"recall_at_{args.k}": overall["recall_at_k"], "mrr": overall["mrr"],
               "by_kind": by_kind, "misses": overall["misses"], "goal_recall": GOAL_RECALL,
               "meets_goal": overall["recall_at_k"] >= GOAL_RECALL}
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>12}: {v}")
    return 0 if figures["meets_goal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
