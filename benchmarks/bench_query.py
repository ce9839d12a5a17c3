"""Benchmark: knowledge-base build and /query latency without an LLM (MiniLM + LanceDB + BM25).

Builds the knowledge base a fresh install gets (rule notes + the documents shipped in the
package; ``--data-dir`` writes them from the real race store instead) in a temporary home, then
times, over the questions of ``tests/knowledge/questions.json``:

- ``search``: ``KnowledgeBase.search`` alone, query embedding cached (a repeated question);
- ``search_cold``: the same with the embedding cache cleared before each query (MiniLM runs);
- ``service``: ``knowledge.service.answer_query`` (retrieval + offline narration), no answer cache;
- ``http``: ``POST /query`` through the FastAPI app (TestClient), answer cache disabled;
- ``server`` (``--server``): ``POST /query`` to a real uvicorn process over HTTP, distinct requests
  (answer-cache misses).

Goal: p50 under 20 ms for ``service`` and ``http`` on one torch thread.

    .venv/bin/python benchmarks/bench_query.py [--queries 300] [--threads 1] [--server] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_P50_MS = 20.0
REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [q["question"] for q in json.loads(
    (REPO / "tests" / "knowledge" / "questions.json").read_text(encoding="utf-8"))["questions"]]


class NullCache:
    """A cache that never hits (to time the work, not the cache)."""

    def get(self, key):
        return None

    def set(self, key, value, ttl_s=None):
        return None

    def healthy(self):
        return True


def _pct(values: list[float]) -> dict:
    import numpy as np

    p50, p95 = np.percentile(values, [50, 95])
    return {"p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2), "n": len(values)}


def _time(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _server(home: str, n: int) -> dict:
    import httpx

    sys.path.insert(0, str(REPO))
    from tests.helpers import free_port, stop_process, wait_for_http

    port = free_port()
    env = {**os.environ, "F1A_HOME": home, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "F1A_RATE_LIMIT_ENABLED": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "f1analyzer.api.main:create_app",
                             "--factory", "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning"], env=env, cwd=str(REPO),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/health", timeout_s=120, proc=proc)
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 120
            while client.post("/query", json={"query": "warm up"}).status_code != 200:
                if time.monotonic() > deadline:
                    raise TimeoutError("the server's index did not become ready")
                time.sleep(0.2)
            for q in QUESTIONS:  # embeddings cached, answers cached under top_k 20 only
                client.post("/query", json={"query": q, "top_k": 20})

            def one(i: int) -> None:
                r = client.post("/query", json={"query": QUESTIONS[i % len(QUESTIONS)],
                                                "top_k": 1 + i // len(QUESTIONS) % 19})
                r.raise_for_status()

            return _pct(_time(one, n))
    finally:
        stop_process(proc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="write the documents from this data's race store instead of the bundle")
    ap.add_argument("--server", action="store_true", help="also time a real uvicorn server")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    with tempfile.TemporaryDirectory(prefix="f1a_bench_query_") as home:
        os.environ["F1A_HOME"] = home
        os.environ["F1A_EMBEDDING_THREADS"] = str(args.threads)
        os.environ["F1A_RATE_LIMIT_ENABLED"] = "false"  # time the work, not the 429s
        from fastapi.testclient import TestClient

        from f1analyzer.api.caching import ResponseCache
        from f1analyzer.api.main import create_app
        from f1analyzer.config import get_settings, reset_settings
        from f1analyzer.data.store import RaceStore
        from f1analyzer.knowledge import build_index, get_knowledge_base
        from f1analyzer.knowledge import embeddings
        from f1analyzer.app.knowledge import answer_query

        reset_settings()
        settings = get_settings()
        store = RaceStore(settings.store_dir)
        if args.data_dir:
            from f1analyzer.data.ingest import ingest_files

            ingest_files(sorted((args.data_dir / "laps").glob("*.csv.gz")), store)
        kb = get_knowledge_base(settings)
        t0 = time.perf_counter()
        kb.embedder.encode(["warm up"])
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = build_index(settings, store=store)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_index(settings, store=store)
        rebuild_s = time.perf_counter() - t0

        n = args.queries
        for q in QUESTIONS:
            kb.search(q, top_k=5)  # fills the query-embedding cache
        search = _time(lambda i: kb.search(QUESTIONS[i % len(QUESTIONS)], top_k=5), n)

        def cold(i: int) -> None:
            embeddings._QUERY_CACHE.clear()
            kb.search(QUESTIONS[i % len(QUESTIONS)], top_k=5)

        search_cold = _time(cold, min(n, 2 * len(QUESTIONS)))
        for q in QUESTIONS:
            kb.search(q, top_k=5)
        service = _time(lambda i: answer_query(QUESTIONS[i % len(QUESTIONS)], top_k=5,
                                               settings=settings, kb=kb), n)

        app = create_app(settings)
        logging.getLogger("f1analyzer").setLevel(logging.WARNING)  # no access log per request
        with TestClient(app) as client:
            app.state.f1a.services.index.thread.join(120)
            app.state.f1a.response_cache = ResponseCache(NullCache())
            for q in QUESTIONS:
                client.post("/query", json={"query": q})

            def http(i: int) -> None:
                r = client.post("/query", json={"query": QUESTIONS[i % len(QUESTIONS)],
                                                "top_k": 5})
                r.raise_for_status()

            http_ms = _time(http, n)
        figures = {
            "documents": report.total, "threads": args.threads,
            "source": "store" if args.data_dir else "bundled",
            "model_load_s": round(load_s, 2), "build_s": round(build_s, 2),
            "rebuild_s": round(rebuild_s, 2),
            "search": _pct(search), "search_cold": _pct(search_cold), "service": _pct(service),
            "http": _pct(http_ms),
        }
        if args.server:
            figures["server"] = _server(home, n)
    figures["goal_p50_ms"] = GOAL_P50_MS
    figures["meets_goal"] = bool(figures["service"]["p50_ms"] <= GOAL_P50_MS
                                 and figures["http"]["p50_ms"] <= GOAL_P50_MS)
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>14}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
