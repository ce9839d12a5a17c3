"""Load benchmark of the HTTP service against a real uvicorn server on 127.0.0.1.

    .venv/bin/python benchmarks/bench_load.py                      # fresh home: /health only
    .venv/bin/python benchmarks/bench_load.py --home ~/.f1analyzer --season 2023 --event Monza
    .venv/bin/python benchmarks/bench_load.py --url http://127.0.0.1:8000   # an existing server
    .venv/bin/python benchmarks/bench_load.py --redis              # cache + limits in Redis

What it measures (each phase bounded by --seconds):

- ``GET /health`` throughput and latency with one worker (``wrk`` when installed, else an httpx
  async loop). Goal: >= 3,000 req/s.
- ``POST /strategy/generate`` uncached (every request distinct: a cache miss that simulates) and
  cached (one request repeated) p50/p99. Goal: cached p99 < 10 ms.
- ``POST /query`` uncached and cached p50/p99.

Endpoints the server does not have are reported as missing. Rate limits are raised for the
run (one client would otherwise hit them). Needs ``wrk`` (Debian package) for the throughput
figure; everything else uses httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import cli_server, pct  # noqa: E402
from tests.helpers import redis_server  # noqa: E402

DRIVERS = ["VER", "LEC", "HAM", "NOR", "SAI", "PIA", "RUS", "PER", "ALO", "STR"]
QUESTIONS = ["Why does an undercut work at {e}?", "How much time does a pit stop cost at {e}?",
             "Which tyres degrade fastest at {e}?", "When did the leaders pit at {e} in {s}?",
             "What is the safety car probability at {e}?", "Is a one-stop possible at {e}?"]


def server(home: Path, env_extra: dict[str, str], workers: int = 1):
    return cli_server(home, {
        "F1A_RATE_LIMIT_DEFAULT": "1000000000/minute", "F1A_RATE_LIMIT_STRATEGY": "1000000000/minute",
        "F1A_RATE_LIMIT_GLOBAL": "1000000000/minute", "F1A_RATE_LIMIT_COST": "1000000000/minute",
        **env_extra}, workers=workers)


def run_wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout

    def lat(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"tool": "wrk", "connections": connections, "req_per_s": float(rps.group(1)) if rps else 0.0,
            "p50_ms": lat("50"), "p99_ms": lat("99"), "non_2xx": int(non2xx.group(1)) if non2xx else 0}


async def httpx_loop(url: str, seconds: float, connections: int) -> dict:
    lat: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:
        async def worker():
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await client.get(url)
                lat.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    return {"tool": "httpx", "connections": connections, "req_per_s": len(lat) / elapsed,
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99)}


def post_latencies(url: str, bodies, seconds: float, max_n: int) -> dict:
    """Sequential POSTs (one client, keep-alive): server latency plus ~0.2 ms of client."""
    lat, statuses, server_ms = [], {}, []
    deadline = time.perf_counter() + seconds
    with httpx.Client(timeout=120) as client:
        for i, body in enumerate(bodies):
            if i >= max_n or time.perf_counter() > deadline:
                break
            t = time.perf_counter()
            r = client.post(url, json=body)
            lat.append((time.perf_counter() - t) * 1000)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 200:
                v = r.json().get("latency_ms")
                if isinstance(v, (int, float)):
                    server_ms.append(float(v))
    return {"n": len(lat), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "max_ms": max(lat) if lat else float("nan"), "statuses": statuses,
            "reported_latency_ms_p50": pct(server_ms, 50)}


def wrk_post_script(tmp: Path, body: dict) -> Path:
    path = tmp / f"post_{abs(hash(json.dumps(body, sort_keys=True)))}.lua"
    payload = json.dumps(body).replace("\\", "\\\\").replace('"', '\\"')
    path.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.body = "{payload}"\n')
    return path


def bench(url: str, args, tmp: Path) -> dict:
    results: dict = {"url": url}
    paths = set(httpx.get(f"{url}/openapi.json").json()["paths"])
    if "/query" in paths:  # start-up work (index build, embedder load) must not skew phase 1
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            r = httpx.post(f"{url}/query", json={"query": "ready?", "top_k": 1}, timeout=300)
            if r.status_code != 503:
                break
            time.sleep(1)
    time.sleep(2)
    health_url = f"{url}/health"
    if shutil.which("wrk"):
        results["health"] = run_wrk(health_url, args.seconds, args.connections)
    else:
        results["health"] = asyncio.run(httpx_loop(health_url, args.seconds, args.connections))

    if "/strategy/generate" in paths:
        gen = f"{url}/strategy/generate"
        base = {"season": args.season, "event": args.event, "top_k": 3}
        distinct = ({**base, "driver": d, "grid": g} for g in range(1, 21) for d in DRIVERS)
        results["strategy_uncached"] = post_latencies(gen, distinct, args.seconds * 3, args.max_uncached)
        one = {**base, "driver": "LEC", "grid": 4}
        httpx.post(gen, json=one, timeout=300)  # warm the cache
        results["strategy_cached"] = post_latencies(gen, (one for _ in range(10**9)), args.seconds, 5000)
        if shutil.which("wrk"):
            results["strategy_cached_wrk"] = run_wrk(gen, args.seconds, 8, wrk_post_script(tmp, one))
    else:
        results["strategy"] = "POST /strategy/generate not in this build"

    if "/query" in paths:
        q = f"{url}/query"
        qs = ({"query": t.format(e=args.event, s=args.season) + f" ({i})", "top_k": 5}
              for i in range(10**6) for t in QUESTIONS)
        results["query_uncached"] = post_latencies(q, qs, args.seconds * 2, args.max_uncached)
        one = {"query": f"Why does an undercut work at {args.event}?", "top_k": 5}
        httpx.post(q, json=one, timeout=300)
        results["query_cached"] = post_latencies(q, (one for _ in range(10**9)), args.seconds, 5000)
    else:
        results["query"] = "POST /query not in this build"
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="benchmark this running server instead of starting one")
    p.add_argument("--home", type=Path, help="F1A_HOME of the started server (data, models, index)")
    p.add_argument("--redis", action="store_true", help="start redis-server and use it (REDIS_URL)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--max-uncached", type=int, default=40)
    p.add_argument("--season", type=int, default=2023)
    p.add_argument("--event", default="Monza")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="f1a-bench-")))
        if args.url:
            url = args.url.rstrip("/")
        else:
            env: dict[str, str] = {"REDIS_URL": ""}
            if args.redis:
                redis_url, _ = stack.enter_context(redis_server())
                env["REDIS_URL"] = redis_url
            home = (args.home or tmp / "home").expanduser()
            home.mkdir(parents=True, exist_ok=True)
            url = stack.enter_context(server(home, env, args.workers))
        results = bench(url, args, tmp)
    results["workers"] = args.workers
    results["redis"] = args.redis
    results["cpus"] = os.cpu_count()
    results["loadavg_1m"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
