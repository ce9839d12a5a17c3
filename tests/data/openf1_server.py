"""A local stand-in for OpenF1: a threaded ``http.server`` on 127.0.0.1 serving a stored race in
OpenF1's documented JSON shape (``/sessions``, ``/drivers``, ``/laps``, ``/stints``, ``/pit``,
``/position``, ``/intervals``, ``/race_control``, ``/weather``), as if it were running.

The race advances one lap per ``/laps`` request (one poll of the client = one lap). Scripted
faults: HTTP status codes answered before the real data (``faults={"intervals": [429, 500]}``,
with ``Retry-After``), every record sent twice and in shuffled order (``duplicate``,
``shuffle``), and pit/stint records that arrive one lap late (``late``).
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from f1analyzer.data.feeds.replay import race_snapshots

T0 = datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
STATUS_MESSAGES = {"SC": ("SafetyCar", None, "SAFETY CAR DEPLOYED"),
                   "VSC": ("SafetyCar", None, "VIRTUAL SAFETY CAR DEPLOYED"),
                   "RED": ("Flag", "RED", "RED FLAG"),
                   "GREEN": ("Flag", "GREEN", "TRACK CLEAR")}


def _iso(t0_s: float, session_s: float) -> str:
    return (T0 + timedelta(seconds=float(session_s) - t0_s)).isoformat()


def recorded_race(store, season: int, rnd: int) -> dict[str, list[tuple[int, dict]]]:
    """Per endpoint, ``(lap it becomes visible, record)`` of a stored race in OpenF1's shape."""
    info = store.find_race(season, rnd)
    laps = pd.DataFrame(store.laps(season, rnd)).sort_values(["driver", "lap_number"])
    t0 = float((laps["session_time_s"] - laps["lap_time_s"]).min())
    numbers = {str(d): int(n) for d, n in laps.groupby("driver")["driver_number"].first().items()}
    out: dict[str, list[tuple[int, dict]]] = {k: [] for k in
                                             ("laps", "stints", "pit", "position", "intervals", "race_control", "weather")}
    out["sessions"] = [(0, {"session_key": 9999, "meeting_key": 1200 + rnd, "year": season, "session_name": "Race",
                            "country_name": str(info["event"]).replace(" Grand Prix", ""), "location": "x",
                            "circuit_short_name": str(info["circuit_key"])})]
    out["drivers"] = [(0, {"session_key": 9999, "driver_number": n, "name_acronym": d}) for d, n in numbers.items()]
    for r in laps.itertuples():
        n, lap = numbers[r.driver], int(r.lap_number)
        start = _iso(t0, r.session_time_s - r.lap_time_s)
        # the lap is published as it starts (no duration yet) and completed when it ends
        out["laps"].append((lap - 1, {"session_key": 9999, "driver_number": n, "lap_number": lap,
                                      "date_start": start, "lap_duration": None,
                                      "is_pit_out_lap": bool(r.pit_out)}))
        out["laps"].append((lap, {"session_key": 9999, "driver_number": n, "lap_number": lap, "date_start": start,
                                  "lap_duration": round(float(r.lap_time_s), 3), "is_pit_out_lap": bool(r.pit_out)}))
        if r.pit_in:
            out["pit"].append((lap, {"session_key": 9999, "driver_number": n, "lap_number": lap,
                                     "pit_duration": 22.5, "date": _iso(t0, r.session_time_s)}))
    for r in store.stints(season, rnd).itertuples():
        life0 = 0 if pd.isna(r.tyre_life_start) else int(r.tyre_life_start) - 1
        out["stints"].append((int(r.start_lap) - 1, {
            "session_key": 9999, "driver_number": numbers[str(r.driver)], "stint_number": int(r.stint),
            "compound": str(r.compound), "lap_start": int(r.start_lap), "lap_end": int(r.end_lap),
            "tyre_age_at_start": life0}))
    prev = "GREEN"
    for snap in race_snapshots(laps, info):
        lead_t = float(laps[laps["lap_number"] == snap.lap]["session_time_s"].min())
        date = _iso(t0, lead_t + 1.0)
        for c in snap.cars:
            n = numbers[c.driver]
            out["position"].append((snap.lap, {"session_key": 9999, "driver_number": n, "position": c.position,
                                               "date": date}))
            out["intervals"].append((snap.lap, {"session_key": 9999, "driver_number": n,
                                                "gap_to_leader": c.gap_to_leader_s if c.position > 1 else None,
                                                "interval": c.interval_s, "date": date}))
        if snap.track_status != prev:
            cat, flag, msg = STATUS_MESSAGES[snap.track_status]
            if snap.track_status == "GREEN" and prev == "SC":
                cat, flag, msg = "SafetyCar", None, "SAFETY CAR IN THIS LAP"
            elif snap.track_status == "GREEN" and prev == "VSC":
                cat, flag, msg = "SafetyCar", None, "VIRTUAL SAFETY CAR ENDING"
            out["race_control"].append((snap.lap, {"session_key": 9999, "date": _iso(t0, lead_t + 0.5),
                                                   "category": cat, "flag": flag, "message": msg,
                                                   "scope": "Track", "lap_number": snap.lap}))
            prev = snap.track_status
        out["weather"].append((snap.lap, {"session_key": 9999, "date": date, "air_temperature": 25.0,
                                          "track_temperature": 40.0 + snap.lap / 10, "humidity": 50.0,
                                          "rainfall": 0, "wind_speed": 1.0}))
    last = int(laps["lap_number"].max())
    out["race_control"].append((last, {"session_key": 9999, "date": _iso(t0, float(laps["session_time_s"].max()) + 5),
                                       "category": "Flag", "flag": "CHEQUERED", "message": "CHEQUERED FLAG",
                                       "scope": "Track", "lap_number": last}))
    return out


class OpenF1Server:
    """State of the stand-in (see module docstring); ``requests`` logs every path served."""

    def __init__(self, records: dict, *, faults: dict[str, list[int]] | None = None, duplicate: bool = False,
                 shuffle: bool = False, late: bool = False, retry_after: str = "0", seed: int = 0,
                 start_lap: int = 1):
        self.records = records
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.duplicate, self.shuffle, self.late = duplicate, shuffle, late
        self.retry_after = retry_after
        self.rng = random.Random(seed)
        self.lap = start_lap - 1  # the first poll sees the race at the end of start_lap
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def answer(self, name: str, query: list[tuple[str, str]]) -> tuple[int, dict, object]:
        with self.lock:
            self.requests.append(name)
            if self.faults.get(name):
                code = self.faults[name].pop(0)
                return code, {"Retry-After": self.retry_after} if code == 429 else {}, {"detail": "scripted fault"}
            if name not in self.records:
                return 404, {}, {"detail": "Not Found"}
            if name == "laps":
                self.lap += 1
            now = self.lap
        delay = 1 if self.late and name in ("pit", "stints") else 0
        rows = [r for lap, r in self.records[name] if lap + delay <= now]
        if name == "laps":  # a lap still running has no duration; a completed one replaces it
            done = {(r["driver_number"], r["lap_number"]) for r in rows if r["lap_duration"] is not None}
            rows = [r for r in rows if r["lap_duration"] is not None
                    or (r["driver_number"], r["lap_number"]) not in done]
        for key, value in query:
            if key.endswith(">"):
                field = key[:-1]
                rows = [r for r in rows if _ge(r.get(field), value)]
        if self.duplicate:
            rows = rows + rows
        if self.shuffle:
            rows = list(rows)
            self.rng.shuffle(rows)
        return 200, {}, rows


def _ge(a, b: str) -> bool:
    if a is None:
        return False
    if isinstance(a, (int, float)):
        return float(a) >= float(b)
    return datetime.fromisoformat(str(a)) >= datetime.fromisoformat(b)


@contextlib.contextmanager
def openf1_server(state: OpenF1Server) -> Iterator[str]:
    """Serve ``state`` on a free loopback port; yields the base URL (``.../v1``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            name = parts.path.rstrip("/").rsplit("/", 1)[-1]
            query = parse_qsl(parts.query, keep_blank_values=True)
            code, headers, body = state.answer(name, [(k, v) for k, v in query if k != "session_key"])
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
