"""A local stand-in for Jolpica: a threaded ``http.server`` on 127.0.0.1 answering in Ergast's
documented JSON shape (MRData → RaceTable → Races → Results), with scripted failures."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PREFIX = "/ergast/f1"


def mrdata(season: int, races: list[dict], **extra) -> dict:
    return {"MRData": {
        "xmlns": "", "series": "f1", "url": f"http://api.jolpi.ca{PREFIX}/{season}.json",
        "limit": "100", "offset": "0", "total": str(len(races)),
        "RaceTable": {"season": str(season), **extra, "Races": races},
    }}


def race(season: int, rnd: int, name: str, circuit_id: str, locality: str, country: str,
         date: str, time: str = "13:00:00Z", results: list[dict] | None = None) -> dict:
    r = {
        "season": str(season), "round": str(rnd), "url": "https://en.wikipedia.org/wiki/x",
        "raceName": name,
        "Circuit": {"circuitId": circuit_id, "url": "", "circuitName": name.replace("Grand Prix", "Circuit"),
                    "Location": {"lat": "0", "long": "0", "locality": locality, "country": country}},
        "date": date, "time": time,
    }
    if results is not None:
        r["Results"] = results
    return r


def result(pos: int, code: str, number: int, team: str, grid: int, laps: int, status: str,
           points: float, position_text: str | None = None) -> dict:
    return {
        "number": str(number), "position": str(pos), "positionText": position_text or str(pos),
        "points": str(points),
        "Driver": {"driverId": code.lower(), "permanentNumber": str(number), "code": code,
                   "givenName": "G", "familyName": code.title(), "nationality": "X"},
        "Constructor": {"constructorId": team.lower().replace(" ", "_"), "name": team, "nationality": "X"},
        "grid": str(grid), "laps": str(laps), "status": status,
    }


SCHEDULE_2024 = mrdata(2024, [
    race(2024, 1, "Bahrain Grand Prix", "bahrain", "Sakhir", "Bahrain", "2024-03-02", "15:00:00Z"),
    race(2024, 2, "Saudi Arabian Grand Prix", "jeddah", "Jeddah", "Saudi Arabia", "2024-03-09", "17:00:00Z"),
    race(2024, 3, "Australian Grand Prix", "albert_park", "Melbourne", "Australia", "2024-03-24", "04:00:00Z"),
    race(2024, 4, "Japanese Grand Prix", "suzuka", "Suzuka", "Japan", "2024-04-07", "05:00:00Z"),
])

RESULTS_2024_1 = mrdata(2024, [race(
    2024, 1, "Bahrain Grand Prix", "bahrain", "Sakhir", "Bahrain", "2024-03-02", "15:00:00Z",
    results=[
        result(1, "VER", 1, "Red Bull", 1, 57, "Finished", 26),
        result(2, "PER", 11, "Red Bull", 5, 57, "Finished", 18),
        result(3, "SAI", 55, "Ferrari", 4, 57, "Finished", 15),
        result(19, "HUL", 27, "Haas F1 Team", 0, 56, "+1 Lap", 0),
        result(20, "SAR", 2, "Williams", 20, 20, "Retired", 0, position_text="R"),
    ])], round="1")


@contextlib.contextmanager
def ergast_server(routes: dict[str, list[tuple[int, dict, object]]]) -> Iterator[tuple[str, list[str]]]:
    """Serve ``routes``: path (after /ergast/f1) → responses (status, headers, body) given in
    order, the last one repeated. Yields (base URL including /ergast/f1, list of paths asked)."""
    asked: list[str] = []
    lock = threading.Lock()
    pending = {k: list(v) for k, v in routes.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            path = urlsplit(self.path).path
            with lock:
                asked.append(path)
                key = path[len(PREFIX):] if path.startswith(PREFIX) else path
                queue = pending.get(key)
                if queue is None:
                    status, headers, body = 404, {}, {"detail": "Not found"}
                else:
                    status, headers, body = queue.pop(0) if len(queue) > 1 else queue[0]
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
