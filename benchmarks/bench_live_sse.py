"""Race-day streams under load: N concurrent SSE clients on one API worker for a whole replay.

    F1_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_live_sse.py \
        [--clients 100] [--season 2024 --event Monza] [--seconds 60]

Ingests one season into a temporary home, starts the real API (uvicorn, one worker, no Redis),
starts a replay paced so that the race lasts about ``--seconds``, connects ``--clients`` SSE
clients at once and reads every stream to its ``end`` event. Reports, per client, whether it got
every event id of the session in order (dropped = missing ids), the spread of the time between
the first and the last client receiving the same lap, and the worker's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import api_server, service_env


async def client(base: str, sid: str, out: dict, k: int) -> None:
    ids, times = [], {}
    async with httpx.AsyncClient(timeout=None) as c, c.stream("GET", f"{base}/live/{sid}/stream") as r:
        cur = {}
        async for line in r.aiter_lines():
            if line == "" and "id" in cur:
                ids.append(int(cur["id"]))
                times[int(cur["id"])] = time.monotonic()
                if cur.get("event") == "end":
                    break
                cur = {}
            elif line and not line.startswith(":"):
                key, _, v = line.partition(": ")
                cur[key] = v
    out[k] = (ids, times)


async def run(base: str, sid: str, n: int) -> dict:
    out: dict = {}
    await asyncio.gather(*(client(base, sid, out, k) for k in range(n)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--season", type=int, default=2024)
    ap.add_argument("--event", default="Monza")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    data = os.environ.get("F1_DATA_DIR")
    if not data:
        sys.exit("set F1_DATA_DIR to the shared lap data")
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        store = RaceStore(home / "store")
        ingest_files([Path(data) / "laps" / f"{args.season}.csv.gz"], store)
        race = store.find_race(args.season, args.event)
        laps = store.laps(args.season, int(race["round"]))
        race_s = float(laps.groupby("lap_number")["session_time_s"].min().diff().sum())
        speed = race_s / args.seconds
        env = service_env(home, F1A_INDEX_ON_START="false", F1A_LIVE_IDLE_S=120)
        with api_server(env) as base:
            meta = httpx.post(f"{base}/live/sessions", json={"season": args.season, "event": args.event,
                                                            "speed": speed}, timeout=300).json()
            t0 = time.monotonic()
            res = asyncio.run(run(base, meta["id"], args.clients))
            wall = time.monotonic() - t0
            final = httpx.get(f"{base}/live/sessions", timeout=30).json()["sessions"][0]
    expected = list(range(1, int(final["last_id"]) + 1))
    complete = sum(ids == expected for ids, _ in res.values())
    dropped = sum(len(set(expected) - set(ids)) for ids, _ in res.values())
    spreads = []
    for i in expected:
        ts = [t[i] for _, t in res.values() if i in t]
        if len(ts) == len(res):
            spreads.append(max(ts) - min(ts))
    spreads.sort()
    p95 = spreads[int(0.95 * (len(spreads) - 1))] if spreads else float("nan")
    print(f"| {args.season} {args.event} | {args.clients} clients | {wall:.0f} s | {len(expected)} events each "
          f"| complete in order: {complete}/{len(res)} | dropped events: {dropped} "
          f"| fan-out spread p95 {p95 * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
