"""Live sessions: a feed followed in a background thread, its per-lap updates kept as events
that any number of clients read (``/live/*``, the dashboard's Race-day tab, ``f1analyzer follow``).

One session = one feed (replay of a stored race, or OpenF1) + one :class:`~.raceday.FieldAdvisor`
in a daemon thread. Every snapshot becomes one event ``{"id": seq, "event": "lap" |
"track_status" | "end", "data": {...}}`` ("track_status" when the status changed since the
previous snapshot; "end" when the feed is over or the session stopped) appended to the
session's event log:

* without Redis: in this process (:class:`MemoryEventLog`);
* with ``REDIS_URL``: a Redis sorted set per session (sorted by event id, ``f1a:live:<id>:events``) plus its metadata
  (``f1a:live:<id>:meta``), so every API worker serves every stream (:class:`RedisEventLog`);
  the worker that started the session runs its feed.

Readers ask for the events after an id (``Last-Event-ID``): a reconnecting client gets what it
missed, in order. Followers *touch* the session while they read; a session nobody touched for
``live_idle_s`` stops its feed and thread (no work runs for nobody). At most
``live_max_sessions`` sessions run at once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from f1analyzer.app.raceday import FieldAdvisor, raceday_build, summarise_calls
from f1analyzer.config import Settings
from f1analyzer.data.feeds.openf1 import OpenF1Feed
from f1analyzer.data.feeds.replay import ReplayFeed
from f1analyzer.errors import (
    BackendUnavailableError,
    F1AnalyzerError,
    InvalidRequestError,
    NotFoundError,
)
from f1analyzer.log import get_logger

log = get_logger("app.raceday_sessions")

FEEDS = ("replay", "openf1")
EVENTS_TTL_S = 6 * 3600


class EventLog(Protocol):
    """Where sessions' events and metadata live (memory or Redis); ``blocking``: reads do I/O."""

    blocking: bool

    def append(self, sid: str, event: dict) -> None: ...

    def read(self, sid: str, after_id: int = 0) -> list[dict]: ...

    def put_meta(self, sid: str, meta: dict) -> None: ...

    def get_meta(self, sid: str) -> dict | None: ...

    def ids(self) -> list[str]: ...

    def touch(self, sid: str) -> None: ...

    def last_seen(self, sid: str) -> float: ...


class MemoryEventLog:
    """In-process event log (one API worker). Reads never block (no I/O)."""

    blocking = False

    def __init__(self):
        self._events: dict[str, list[dict]] = {}
        self._meta: dict[str, dict] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def append(self, sid, event):
        with self._lock:
            self._events.setdefault(sid, []).append(event)

    def read(self, sid, after_id=0):
        with self._lock:
            return [e for e in self._events.get(sid, []) if e["id"] > after_id]

    def put_meta(self, sid, meta):
        with self._lock:
            self._meta[sid] = dict(meta)

    def get_meta(self, sid):
        with self._lock:
            m = self._meta.get(sid)
            return dict(m) if m is not None else None

    def ids(self):
        with self._lock:
            return list(self._meta)

    def touch(self, sid):
        self._seen[sid] = time.time()

    def last_seen(self, sid):
        return self._seen.get(sid, 0.0)


class RedisEventLog:
    """Events in a Redis sorted set per session scored by event id (a reader fetches only the
    events after its last id, however long the race), metadata in a key, last follower touch in
    a key: every API worker reads every session. Redis failures surface as
    BackendUnavailableError."""

    blocking = True

    def __init__(self, url: str):
        import redis  # only when Redis is configured

        self._r = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, decode_responses=True)
        self._errors = (redis.RedisError, OSError)

    def _k(self, sid: str, part: str) -> str:
        return f"f1a:live:{sid}:{part}"

    def _do(self, fn):
        try:
            return fn()
        except self._errors as exc:
            raise BackendUnavailableError(f"Redis (live sessions) unavailable: {exc}. Check REDIS_URL.") from exc

    def append(self, sid, event):
        key = self._k(sid, "events")
        member = json.dumps(event, allow_nan=False)
        self._do(lambda: (self._r.zadd(key, {member: int(event["id"])}), self._r.expire(key, EVENTS_TTL_S)))

    def read(self, sid, after_id=0):
        rows = self._do(lambda: self._r.zrangebyscore(self._k(sid, "events"), f"({int(after_id)}", "+inf"))
        return [json.loads(x) for x in rows]

    def put_meta(self, sid, meta):
        self._do(lambda: (self._r.set(self._k(sid, "meta"), json.dumps(meta), ex=EVENTS_TTL_S),
                          self._r.sadd("f1a:live:sessions", sid), self._r.expire("f1a:live:sessions", EVENTS_TTL_S)))

    def get_meta(self, sid):
        raw = self._do(lambda: self._r.get(self._k(sid, "meta")))
        return json.loads(raw) if raw else None

    def ids(self):
        return sorted(self._do(lambda: self._r.smembers("f1a:live:sessions")))

    def touch(self, sid):
        self._do(lambda: self._r.set(self._k(sid, "seen"), str(time.time()), ex=EVENTS_TTL_S))

    def last_seen(self, sid):
        raw = self._do(lambda: self._r.get(self._k(sid, "seen")))
        return float(raw) if raw else 0.0


def event_log_for(settings: Settings) -> EventLog:
    url = settings.secret("redis_url")
    return RedisEventLog(url) if url else MemoryEventLog()


def open_feed(settings: Settings, store, built, feed: str = "replay", *, speed: float = 60.0, from_lap: int = 1,
              session_key: str | int | None = None):
    """The feed of ``built``'s race: a replay of the stored race, or OpenF1 (``session_key``)."""
    if feed == "replay":
        return ReplayFeed(store, built.season, built.round, speed=speed, from_lap=from_lap)
    if feed == "openf1":
        return OpenF1Feed(settings.openf1_base_url, session_key=session_key or "latest",
                          poll_s=settings.live_poll_s, total_laps=built.params.total_laps)
    raise InvalidRequestError(f"Unknown feed {feed!r}; choose one of: {', '.join(FEEDS)}.")


@dataclass
class _Running:
    feed: object
    thread: threading.Thread
    stop: threading.Event = field(default_factory=threading.Event)


class LiveSessions:
    """Start, read and stop live sessions (see module docstring).

    Args:
        settings: ``live_max_sessions``, ``live_idle_s``, ``live_n_sims``, ``live_max_advised``,
            ``openf1_base_url``, ``live_poll_s``.
        store: the race store (replays, and the pre-race build of the followed race).
        models: a callable returning the model set (``Services.model_set``).
        log: the event log (default: Redis when configured, else memory).
    """

    def __init__(self, settings: Settings, store, models, *, event_log: EventLog | None = None):
        self.settings = settings
        self.store = store
        self.models = models
        self.log = event_log or event_log_for(settings)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    # ------------------------------------------------------------------ what can be followed
    def available(self) -> dict:
        races = self.store.races()
        stored = [{"season": int(r["season"]), "round": int(r["round"]), "event": str(r["event"]),
                   "total_laps": int(r["total_laps"])} for r in races.to_dict("records")]
        return {"feeds": [{"name": "replay", "description": "a stored race replayed as live (speed, from_lap)"},
                          {"name": "openf1", "description": "OpenF1 live timing (session_key)",
                           "base_url": self.settings.openf1_base_url}],
                "races": stored, "sessions": self.list(),
                "max_sessions": self.settings.live_max_sessions, "idle_stop_s": self.settings.live_idle_s}

    def list(self) -> list[dict]:
        out = []
        for sid in self.log.ids():
            meta = self.log.get_meta(sid)
            if meta is not None:
                out.append(meta)
        return out

    # ------------------------------------------------------------------ start / stop
    def start(self, *, feed: str = "replay", season: int, event: str | int, speed: float = 60.0,
              from_lap: int = 1, session_key: str | int | None = None) -> dict:
        """Start following; returns the session's metadata (``id``)."""
        if feed not in FEEDS:
            raise InvalidRequestError(f"Unknown feed {feed!r}; choose one of: {', '.join(FEEDS)}.")
        with self._lock:
            alive = [s for s, r in self._running.items() if r.thread.is_alive()]
            if len(alive) >= self.settings.live_max_sessions:
                raise BackendUnavailableError(
                    f"{len(alive)} live sessions are running (the limit, live_max_sessions); follow one of them "
                    f"({', '.join(alive)}) or try again when one ends.")
        built = raceday_build(self.models(), self.store, season, event)  # 404 on an unknown race
        source = open_feed(self.settings, self.store, built, feed, speed=speed, from_lap=from_lap,
                           session_key=session_key)
        advisor = FieldAdvisor.following(built, n_sims=self.settings.live_n_sims,
                                         max_advised=self.settings.live_max_advised)
        sid = uuid.uuid4().hex[:12]
        meta = {"id": sid, "feed": feed, "season": built.season, "round": built.round, "event": built.event,
                "total_laps": built.params.total_laps, "speed": speed, "from_lap": from_lap, "state": "running",
                "lap": None, "track_status": None, "last_id": 0, "started_at": time.time(), "error": None,
                "drivers": list(built.drivers)}
        self.log.put_meta(sid, meta)
        self.log.touch(sid)
        run = _Running(feed=source, thread=threading.Thread(target=self._run, args=(sid, source, advisor),
                                                           name=f"live-{sid}", daemon=True))
        with self._lock:
            self._running[sid] = run
        run.thread.start()
        self._ensure_reaper()
        log.info("live session %s: %s %s %s (speed %s)", sid, feed, built.season, built.event, speed)
        return meta

    def _run(self, sid: str, feed, advisor: FieldAdvisor) -> None:
        meta = self.log.get_meta(sid) or {}
        prev_status, history, last_id = None, [], 0
        state = "finished"
        try:
            for snap in feed.snapshots():
                upd = advisor.update(snap)
                history.append(upd)
                kind = "track_status" if prev_status is not None and snap.track_status != prev_status else "lap"
                prev_status = snap.track_status
                last_id = snap.seq
                self.log.append(sid, {"id": snap.seq, "event": kind,
                                      "data": {"snapshot": snap.to_dict(), "update": upd}})
                meta.update(lap=snap.lap, track_status=snap.track_status, last_id=snap.seq)
                self.log.put_meta(sid, meta)
            if self._running.get(sid) is not None and self._running[sid].stop.is_set():
                state = "stopped"
        except F1AnalyzerError as exc:
            state, meta["error"] = "error", str(exc)
        except Exception as exc:  # the thread must record why it ended, not die silently
            log.exception("live session %s failed", sid)
            state, meta["error"] = "error", f"{type(exc).__name__}: {exc}"
        finally:
            meta["state"] = state
            meta["calls_summary"] = summarise_calls(history)
            self.log.append(sid, {"id": last_id + 1, "event": "end",
                                  "data": {"state": state, "error": meta.get("error"),
                                           "calls_summary": meta["calls_summary"]}})
            meta["last_id"] = last_id + 1
            self.log.put_meta(sid, meta)
            with self._lock:
                self._running.pop(sid, None)

    def stop(self, sid: str) -> None:
        with self._lock:
            run = self._running.get(sid)
        if run is not None:
            run.stop.set()
            run.feed.close()

    def running(self) -> list[str]:
        """Ids of the sessions whose feed thread runs in this process."""
        with self._lock:
            return [s for s, r in self._running.items() if r.thread.is_alive()]

    # ------------------------------------------------------------------ followers
    def meta(self, sid: str) -> dict:
        m = self.log.get_meta(sid)
        if m is None:
            known = ", ".join(self.log.ids()) or "none"
            raise NotFoundError(f"No live session {sid!r}. Sessions: {known} (GET /live/sessions).")
        return m

    def latest(self, sid: str) -> dict:
        """The session's metadata and its latest lap event (snapshot + calls)."""
        m = self.meta(sid)
        self.log.touch(sid)
        events = [e for e in self.log.read(sid, max(int(m.get("last_id") or 0) - 2, 0)) if e["event"] != "end"]
        return {"session": m, "latest": events[-1] if events else None}

    def events_after(self, sid: str, after_id: int) -> list[dict]:
        self.log.touch(sid)
        return self.log.read(sid, after_id)

    # ------------------------------------------------------------------ idle stop
    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        self._reaper = threading.Thread(target=self._reap_loop, name="live-reaper", daemon=True)
        self._reaper.start()

    def _reap_loop(self) -> None:
        idle = float(self.settings.live_idle_s)
        while not self._closed.wait(min(max(idle / 4, 0.1), 5.0)):
            for sid in self.running():
                try:
                    seen = self.log.last_seen(sid)
                except BackendUnavailableError:
                    continue
                if time.time() - seen > idle:
                    log.info("live session %s: nobody followed it for %.0f s, stopping", sid, idle)
                    self.stop(sid)
            if not self.running():
                return

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop every session of this process (shutdown)."""
        self._closed.set()
        for sid in self.running():
            self.stop(sid)
        with self._lock:
            threads = [r.thread for r in self._running.values()]
        for t in threads:
            t.join(timeout_s)

