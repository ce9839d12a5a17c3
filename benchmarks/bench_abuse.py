"""Abuse benchmark: can four clients sending the most expensive legal requests starve the rest?

    .venv/bin/python benchmarks/bench_abuse.py                  # 60 s, fresh home
    .venv/bin/python benchmarks/bench_abuse.py --seconds 20 --json out.json

A real server is started the project's way (``f1analyzer serve``) with the LLM pointed at a
local endpoint that accepts connections and never answers (``tests/fakes/silent.py``). For
``--seconds``, four abusers (threads, each its own API key, so each its own client) send, one
after the other without pause, the most expensive requests the server accepts:

- ``POST /strategy/simulate``: 20 cars on 5-stop plans x 20,000 sims (the request maximum);
- ``POST /strategy/batch``: as many 2,000-sim generate requests as ``max_simulated_races`` allows;
- ``POST /strategy/generate``: n_sims 2,000, top_k 10 (narration waits on the hung LLM);
- ``POST /query``: a new question each time (narration waits on the hung LLM).

Every one is new (fresh seed or question), so nothing is answered from the cache. The route
and strategy rate limits are raised so that the work is really done (the per-request cap, the
cost charge, the deadlines and the slow-work pool stay as configured by default). A fifth
client measures ``GET /health`` and a cached ``POST /strategy/generate`` all the while.

Reported: p50/p99/max latency of the fifth client (goal p99 < 100 ms; the cached answer, narrated
offline because the LLM hangs, is kept only ``llm_fallback_cache_s`` and so recomputed about once a
minute: ``cached_generate_recomputed`` counts those, their time is in the figures), the abusers' answers
by status, and the slowest abuser answer against ``request_deadline_s`` (goal: none past it,
with a 1 s margin for the HTTP round trip).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import cli_server, pct  # noqa: E402
from tests.fakes.silent import NeverAnswering  # noqa: E402

KEYS = [f"abuser-{k}" for k in range(4)] + ["probe"]
EVENT = {"season": 2024, "event": "Monza"}


def server(home: Path, llm_url: str, extra: dict[str, str]):
    return cli_server(home, {
        "REDIS_URL": "", "API_KEYS": ",".join(KEYS),
        "ANTHROPIC_API_KEY": "sk-ant-bench", "F1A_LLM_PROVIDER": "anthropic", "ANTHROPIC_BASE_URL": llm_url,
        # the work must really be done: only the cost machinery stays at its defaults
        "F1A_RATE_LIMIT_DEFAULT": "1000000/minute", "F1A_RATE_LIMIT_STRATEGY": "1000000/minute",
        "F1A_RATE_LIMIT_GLOBAL": "1000000/minute", "F1A_RATE_LIMIT_COST": "1000000000/minute",
        **extra}, timeout_s=180)


def field_drivers(url: str) -> list[str]:
    """The 20 driver codes of the field (from a small simulate answer)."""
    r = httpx.post(f"{url}/strategy/simulate", headers={"X-API-Key": "probe"}, timeout=300, json={
        **EVENT, "n_sims": 10, "strategies": [{"driver": "LEC", "start_compound": "MEDIUM",
                                               "stops": [{"lap": 25, "compound": "HARD"}]}]})
    r.raise_for_status()
    drivers = [d["driver"] for d in r.json()["drivers"]]
    check = httpx.post(f"{url}/strategy/simulate", headers={"X-API-Key": "probe"}, timeout=300,
                       json={**EVENT, "n_sims": 10, "strategies": five_stop_plans(drivers)})
    if check.status_code != 200:
        raise SystemExit(f"the 5-stop plans are refused: {check.text}")
    return drivers


def five_stop_plans(drivers: list[str]) -> list[dict]:
    comps = ["SOFT", "MEDIUM", "HARD"]
    return [{"driver": d, "start_compound": "SOFT",
             "stops": [{"lap": 8 * (k + 1), "compound": comps[(k + 1) % 3]} for k in range(5)]}
            for d in drivers]


def expensive_requests(drivers: list[str], max_races: int, n: int):
    """The k-th abuser request: (path, body), every one new."""
    plans = five_stop_plans(drivers)
    per_generate = 2000 * 8
    in_batch = max(1, min(10, max_races // per_generate))
    kind = n % 4
    if kind == 0:
        return "/strategy/simulate", {**EVENT, "n_sims": 20000, "seed": n, "strategies": plans}
    if kind == 1:
        return "/strategy/batch", {"requests": [{**EVENT, "driver": drivers[j % len(drivers)],
                                                 "n_sims": 2000, "top_k": 10, "seed": n}
                                                for j in range(in_batch)]}
    if kind == 2:
        return "/strategy/generate", {**EVENT, "driver": drivers[n % len(drivers)], "n_sims": 2000,
                                      "top_k": 10, "seed": n}
    return "/query", {"query": f"Why would a team pit on lap {n} at Monza?", "top_k": 5}


def run(url: str, seconds: float, max_races: int, deadline_s: float) -> dict:
    drivers = field_drivers(url)
    probe_h = {"X-API-Key": "probe"}
    cached_body = {**EVENT, "driver": "LEC", "grid": 4, "top_k": 1, "n_sims": 50, "seed": 1}
    warm = httpx.post(f"{url}/strategy/generate", json=cached_body, headers=probe_h, timeout=300)
    warm.raise_for_status()
    stop = threading.Event()
    lock = threading.Lock()
    abuse: list[tuple[str, int, float]] = []
    health: list[float] = []
    cached: list[float] = []
    probe_errors: Counter = Counter()
    recomputed = [0]

    def abuser(k: int) -> None:
        headers = {"X-API-Key": KEYS[k]}
        n = k
        with httpx.Client(timeout=deadline_s + 60) as c:
            while not stop.is_set():
                path, body = expensive_requests(drivers, max_races, n)
                n += 4
                t0 = time.perf_counter()
                try:
                    status = c.post(url + path, json=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = -1
                with lock:
                    abuse.append((path, status, time.perf_counter() - t0))

    def prober() -> None:
        with httpx.Client(timeout=30) as c:
            while not stop.is_set():
                for target in ("health", "cached"):
                    t0 = time.perf_counter()
                    try:
                        if target == "health":
                            r = c.get(url + "/health")
                        else:
                            r = c.post(url + "/strategy/generate", json=cached_body, headers=probe_h)
                        ok = r.status_code == 200
                        if ok and target == "cached" and not r.json()["cached"]:
                            # narrated offline because the LLM hangs: kept only
                            # llm_fallback_cache_s (60 s), then computed again, by design
                            recomputed[0] += 1
                    except httpx.HTTPError:
                        ok = False
                    dt = time.perf_counter() - t0
                    if not ok:
                        probe_errors[target] += 1
                    (health if target == "health" else cached).append(dt)
                time.sleep(0.05)

    threads = [threading.Thread(target=abuser, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=prober))
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=deadline_s + 120)

    def summary(values: list[float]) -> dict:
        return {"n": len(values), "p50_ms": round(pct(values, 50) * 1000, 2),
                "p99_ms": round(pct(values, 99) * 1000, 2), "max_ms": round(max(values) * 1000, 2)}

    by_route: dict[str, Counter] = {}
    slowest: dict[str, float] = {}
    for path, status, dt in abuse:
        by_route.setdefault(path, Counter())[str(status)] += 1
        slowest[path] = max(slowest.get(path, 0.0), dt)
    worst = max((dt for _, _, dt in abuse), default=0.0)
    return {
        "seconds": seconds, "health": summary(health), "cached_generate": summary(cached),
        "probe_failures": dict(probe_errors), "cached_generate_recomputed": recomputed[0],
        "abuse_answers": {p: dict(c) for p, c in by_route.items()},
        "abuse_slowest_s": {p: round(v, 2) for p, v in slowest.items()},
        "request_deadline_s": deadline_s, "past_deadline": sum(
            1 for _, _, dt in abuse if dt > deadline_s + 1.0),
        "worst_abuse_s": round(worst, 2),
        "goal_probe_p99_under_100ms": max(pct(health, 99), pct(cached, 99)) < 0.100,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--home", type=Path, help="F1A_HOME of the server (default: a fresh one)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    from f1analyzer.config import Settings

    defaults = Settings()
    with tempfile.TemporaryDirectory(prefix="f1a-abuse-") as tmp:
        home = args.home or Path(tmp)
        with NeverAnswering() as llm, server(home, llm.url, {}) as url:
            out = run(url, args.seconds, defaults.max_simulated_races, defaults.request_deadline_s)
            out["llm_connections"] = llm.accepted
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0 if out["goal_probe_p99_under_100ms"] and out["past_deadline"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
