"""OpenF1 (https://openf1.org) polled during a session, producing :class:`RaceSnapshot`\\ s.

Endpoints used (all ``GET {base_url}/<name>?session_key=<key>``; field names as OpenF1 documents
them):

* ``/sessions``: ``year``, ``session_name``, ``meeting_key``, ``circuit_short_name``,
  ``location``, ``country_name`` (the event name and season);
* ``/drivers``: ``driver_number``, ``name_acronym`` (three-letter codes);
* ``/laps``: ``driver_number``, ``lap_number``, ``lap_duration`` (None until the lap is
  complete), ``date_start``, ``is_pit_out_lap``; polled from two laps before the leader's on
  (``lap_number>=``), so a late lap duration still arrives;
* ``/stints``: ``driver_number``, ``stint_number``, ``compound``, ``lap_start``, ``lap_end``,
  ``tyre_age_at_start`` (tyre life = age at start + laps run on it, FastF1 ``TyreLife``);
* ``/pit``: ``driver_number``, ``lap_number``, ``pit_duration``, ``date``;
* ``/position``: ``driver_number``, ``position``, ``date`` (latest per car wins);
* ``/intervals``: ``driver_number``, ``gap_to_leader``, ``interval``, ``date`` (seconds, or a
  string such as ``"+1 LAP"`` for a lapped car, None for the leader);
* ``/race_control``: ``date``, ``category``, ``flag``, ``message``, ``lap_number``
  (SAFETY CAR DEPLOYED / VIRTUAL SAFETY CAR DEPLOYED / ... ENDING / RED flag / GREEN / CHEQUERED);
* ``/weather``: ``date``, ``air_temperature``, ``track_temperature``, ``humidity``,
  ``rainfall``, ``wind_speed`` (latest record).

Time-stamped endpoints are polled incrementally with ``date>=`` (last date seen minus an
overlap, so records that arrive late are still picked up). Every record is merged into a table
keyed by what identifies it (car and lap, car and stint, date and message), so duplicates
change nothing and out-of-order records land in place; for "latest" tables (position,
intervals, weather) a record older than the one held is ignored.

Faults: 429 and 5xx answers and transport errors are retried with exponential backoff, honouring
``Retry-After``; an endpoint still failing after ``max_retries`` is skipped for this poll (the
snapshot is built from what is known) and retried on the next.

A snapshot is emitted whenever the leader completes a lap or the track status changes; the
iterator ends after the chequered flag (or on ``close()``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx

from ...errors import BackendUnavailableError
from ...log import get_logger
from .base import CarSnapshot, RaceSnapshot, ordered_cars

log = get_logger("data.feeds.openf1")

DEFAULT_BASE_URL = "https://api.openf1.org/v1"
DATED = ("position", "intervals", "race_control", "weather", "pit")
RETRY_STATUS = {429, 500, 502, 503, 504}
_LAPPED = re.compile(r"\+\s*\d+\s*LAP", re.IGNORECASE)


def _parse_date(s) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(str(s))  # Python 3.11 reads "Z" too
    except ValueError:
        return None


def _date_key(r: dict) -> float:
    d = _parse_date(r.get("date"))
    return d.timestamp() if d is not None else float("-inf")


def _num(x) -> float | None:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return None


def race_control_status(messages: list[dict], current: str = "GREEN") -> str:
    """Track status after ``messages`` (in date order): SC / VSC deployed, ended, red flag,
    green. ``current`` is the status before them."""
    status = current
    for m in messages:
        text = str(m.get("message") or "").upper()
        flag = str(m.get("flag") or "").upper()
        cat = str(m.get("category") or "").upper()
        if flag == "RED" and cat in ("FLAG", ""):
            status = "RED"
        elif "VIRTUAL SAFETY CAR DEPLOYED" in text:
            status = "VSC"
        elif "VIRTUAL SAFETY CAR ENDING" in text:
            status = "GREEN"
        elif "SAFETY CAR DEPLOYED" in text:
            status = "SC"
        elif "SAFETY CAR IN THIS LAP" in text:
            status = "GREEN"  # the restart is at the end of this lap; stops are no longer cheap
        elif flag == "GREEN" and scope_is_track(m) and status in ("RED", "SC", "VSC"):
            status = "GREEN"
    return status


def scope_is_track(m: dict) -> bool:
    return str(m.get("scope") or "Track").upper() == "TRACK"


class OpenF1Feed:
    """Poll OpenF1 for one session (see module docstring).

    Args:
        base_url: API root (``https://api.openf1.org/v1``; tests point it at a local server).
        session_key: the OpenF1 session (``latest`` follows the current one).
        poll_s: seconds between polls.
        client: an ``httpx.Client`` (one is made, with a timeout, when None).
        max_retries: attempts per endpoint and poll on 429/5xx/transport errors.
        backoff_s / max_backoff_s: first retry delay and its cap (doubled each retry) when the
            server sends no ``Retry-After``.
        overlap_s: how far before the last date seen incremental polls start (late records).
        total_laps: the race distance when known (OpenF1 does not publish it).
        max_polls: stop after this many polls (None: until the chequered flag or ``close()``).
        clock: ``sleep(s)`` source (the ``time`` module; tests inject a fake).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, session_key: int | str = "latest", poll_s: float = 4.0,
                 client: httpx.Client | None = None, *, max_retries: int = 4, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, overlap_s: float = 30.0, total_laps: int | None = None,
                 max_polls: int | None = None, clock=time):
        self.base_url = base_url.rstrip("/")
        self.session_key = session_key
        self.poll_s = float(poll_s)
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=10.0)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.overlap_s = float(overlap_s)
        self.total_laps = total_laps
        self.max_polls = max_polls
        self.clock = clock
        self._stop = threading.Event()
        self.session: dict = {}
        self.drivers: dict[int, str] = {}
        self.laps: dict[tuple[int, int], dict] = {}
        self.stints: dict[tuple[int, int], dict] = {}
        self.pits: dict[tuple[int, int], dict] = {}
        self.position: dict[int, dict] = {}
        self.intervals: dict[int, dict] = {}
        self.race_control: dict[tuple, dict] = {}
        self.weather: dict | None = None
        self._since: dict[str, datetime] = {}
        self.retries = 0
        self.failed_polls: dict[str, int] = {}
        self._seq = 0

    # ------------------------------------------------------------------ HTTP
    def _sleep(self, s: float) -> None:
        if s <= 0:
            return
        if self.clock is time:
            self._stop.wait(s)
        else:
            self.clock.sleep(s)

    def _get(self, name: str, filters: list[str] | None = None) -> list[dict] | None:
        """Records of ``/name`` for the session (None when it keeps failing this poll)."""
        query = "&".join([f"session_key={self.session_key}", *(filters or [])])
        url = f"{self.base_url}/{name}?{query}"
        delay = self.backoff_s
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                return None
            try:
                r = self.client.get(url)
            except httpx.TransportError as exc:
                log.warning("openf1 %s: %s (attempt %d)", name, exc, attempt + 1)
                wait = delay
            else:
                if r.status_code == 200:
                    data = r.json()
                    return data if isinstance(data, list) else []
                if r.status_code == 404:
                    return []  # OpenF1 answers 404 "No results found" for an empty selection
                if r.status_code not in RETRY_STATUS:
                    raise BackendUnavailableError(f"OpenF1 {name} answered HTTP {r.status_code}: {r.text[:200]}")
                wait = _retry_after(r) if _retry_after(r) is not None else delay
                log.warning("openf1 %s: HTTP %d, retrying in %.1fs", name, r.status_code, wait)
            if attempt == self.max_retries:
                break
            self.retries += 1
            self._sleep(min(wait, self.max_backoff_s))
            delay = min(delay * 2, self.max_backoff_s)
        self.failed_polls[name] = self.failed_polls.get(name, 0) + 1
        return None

    def _dated(self, name: str) -> list[dict] | None:
        since = self._since.get(name)
        filters = [] if since is None else [f"date>={quote((since - timedelta(seconds=self.overlap_s)).isoformat())}"]
        rows = self._get(name, filters)
        if rows:
            dates = [d for d in (_parse_date(r.get("date")) for r in rows) if d is not None]
            if dates:
                self._since[name] = max([*dates, *([since] if since else [])])
        return rows

    # ------------------------------------------------------------------ merge
    def poll(self) -> None:
        """One round over every endpoint, merged into the tables."""
        if not self.session:
            rows = self._get("sessions")
            if rows:
                self.session = rows[-1]
        if not self.drivers:
            for r in self._get("drivers") or []:
                if r.get("driver_number") is not None and r.get("name_acronym"):
                    self.drivers[int(r["driver_number"])] = str(r["name_acronym"]).upper()
        lead = self.leader_lap()
        for r in self._get("laps", [f"lap_number>={max(lead - 2, 1)}"] if lead else []) or []:
            if r.get("driver_number") is None or r.get("lap_number") is None:
                continue
            key = (int(r["driver_number"]), int(r["lap_number"]))
            old = self.laps.get(key, {})
            self.laps[key] = {**old, **{k: v for k, v in r.items() if v is not None}}
        for r in self._get("stints") or []:
            if r.get("driver_number") is None or r.get("stint_number") is None:
                continue
            key = (int(r["driver_number"]), int(r["stint_number"]))
            self.stints[key] = {**self.stints.get(key, {}), **{k: v for k, v in r.items() if v is not None}}
        for r in self._dated("pit") or []:
            if r.get("driver_number") is not None and r.get("lap_number") is not None:
                self.pits[(int(r["driver_number"]), int(r["lap_number"]))] = r
        for name, table in (("position", self.position), ("intervals", self.intervals)):
            for r in self._dated(name) or []:
                if r.get("driver_number") is None:
                    continue
                d = int(r["driver_number"])
                old = table.get(d)
                if old is None or _date_key(r) >= _date_key(old):  # an older record arriving late loses
                    table[d] = r
        for r in self._dated("race_control") or []:
            self.race_control[(r.get("date"), r.get("category"), r.get("message"))] = r
        for r in self._dated("weather") or []:
            if self.weather is None or _date_key(r) >= _date_key(self.weather):
                self.weather = r

    # ------------------------------------------------------------------ state
    def leader_lap(self) -> int:
        """Laps the leader has completed (the highest lap number with a duration)."""
        done = [lap for (_, lap), r in self.laps.items() if r.get("lap_duration") is not None]
        return max(done, default=0)

    def track_status(self) -> str:
        msgs = sorted(self.race_control.values(), key=lambda m: str(m.get("date")))
        return race_control_status(msgs)

    def chequered(self) -> bool:
        return any(str(m.get("flag") or "").upper() == "CHEQUERED" for m in self.race_control.values())

    def _code(self, number: int) -> str:
        return self.drivers.get(number, str(number))

    def snapshot(self) -> RaceSnapshot:
        """The race as the tables hold it now."""
        lead = self.leader_lap()
        numbers = sorted(set(self.drivers) | {d for d, _ in self.laps} | set(self.position))
        cars = []
        for num in numbers:
            done = max((lap for (d, lap), r in self.laps.items() if d == num and r.get("lap_duration") is not None),
                       default=0)
            started = max((lap for (d, lap) in self.laps if d == num), default=0)
            stints = sorted((r for (d, _), r in self.stints.items() if d == num), key=lambda r: r["stint_number"])
            cur = next((s for s in reversed(stints) if int(s.get("lap_start") or 1) <= done + 1), stints[-1] if stints else None)
            in_pit = (num, done) in self.pits and done == lead
            compound = str(cur["compound"]).upper() if cur and cur.get("compound") else None
            life = None
            if cur is not None and cur.get("tyre_age_at_start") is not None:
                life = int(cur["tyre_age_at_start"]) + max(done - int(cur.get("lap_start") or 1) + 1, 0)
            stint = int(cur["stint_number"]) if cur else 1
            iv = self.intervals.get(num, {})
            gap = _num(iv.get("gap_to_leader"))
            lapped = isinstance(iv.get("gap_to_leader"), str) and bool(_LAPPED.search(iv["gap_to_leader"]))
            retired = lead - max(started, done) >= 2 and not lapped
            pos = self.position.get(num, {}).get("position")
            used = tuple(sorted({str(s["compound"]).upper() for s in stints
                                 if s.get("compound") and int(s.get("lap_start") or 1) <= done + 1}))
            if pos is not None and int(pos) == 1 and gap is None and not retired:
                gap = 0.0
            cars.append(CarSnapshot(
                driver=self._code(num), position=int(pos) if pos is not None else 99, gap_to_leader_s=gap,
                interval_s=None, compound=compound, tyre_life=life, stint=stint, stops=max(stint - 1, 0),
                in_pit=in_pit, retired=retired, compounds_used=used))
        # positions 1..n: OpenF1's order for running cars, retired cars behind
        cars.sort(key=lambda c: (c.retired, c.position, c.driver))
        cars = [CarSnapshot(**{**c.__dict__, "position": k}) for k, c in enumerate(cars, start=1)]
        self._seq += 1
        s = self.session
        event = " ".join(str(x) for x in (s.get("country_name") or s.get("location") or "", "Grand Prix") if x).strip()
        return RaceSnapshot(
            season=int(s.get("year") or 0), round=int(s.get("meeting_key") or 0), event=event or "OpenF1 session",
            lap=lead, total_laps=self.total_laps, track_status=self.track_status(), cars=ordered_cars(cars),
            weather=_weather(self.weather), source="openf1", seq=self._seq)

    def snapshots(self) -> Iterator[RaceSnapshot]:
        last_key = None
        polls = 0
        try:
            while not self._stop.is_set():
                self.poll()
                polls += 1
                lead, status = self.leader_lap(), self.track_status()
                if lead > 0 and (lead, status) != last_key:
                    last_key = (lead, status)
                    yield self.snapshot()
                if self.chequered() and lead > 0 and (self.total_laps is None or lead >= self.total_laps):
                    return
                if self.max_polls is not None and polls >= self.max_polls:
                    return
                self._sleep(self.poll_s)
        finally:
            if self._own_client:
                self.client.close()

    def close(self) -> None:
        self._stop.set()


def _retry_after(r: httpx.Response) -> float | None:
    v = r.headers.get("Retry-After")
    if v is None:
        return None
    try:
        return max(float(v), 0.0)
    except ValueError:
        return None


def _weather(w: dict | None) -> dict | None:
    if not w:
        return None
    keys = ("air_temperature", "track_temperature", "humidity", "rainfall", "wind_speed", "date")
    return {k: w.get(k) for k in keys if k in w}
