"""Background jobs for the admin endpoints: ingest, train, reindex.

What a job does is an application operation (:mod:`f1analyzer.app.admin`); the admin routes
submit it here as a callable. This module only runs and records jobs.

Each kind has one worker thread, so jobs of one kind run one at a time in submission order
while different kinds run side by side; at most ``max_queued_per_kind`` may wait. A job goes
``queued → running → succeeded | failed`` and keeps its start and finish times, a JSON result
summary and, on failure, the error message (the traceback goes to the server log only).

Job records live in this process, and also in the app cache when it is Redis, so that with
several workers ``GET /admin/jobs/{id}`` answers from any of them.

Worker threads are daemons: at shutdown the server waits ``shutdown_timeout_s`` for a running
job (ingest replaces season files atomically, so an abandoned job leaves the store consistent).
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import F1AnalyzerError
from ..log import get_logger
from .metrics import record_job

log = get_logger("api.jobs")

JOB_KINDS = ("ingest", "train", "reindex")
_JOB_TTL_S = 7 * 24 * 3600


class JobQueueFull(F1AnalyzerError):
    code = "job_queue_full"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Job:
    id: str
    kind: str
    params: dict
    status: str = "queued"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    result: dict | None = None
    error: str | None = None
    requested_by: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class JobManager:
    """Runs callables in per-kind worker threads and keeps their records.

    Args:
        cache: where records are mirrored (shared between workers when it is Redis).
        max_queued_per_kind: more waiting jobs of one kind are refused (HTTP 409).
        keep: finished records kept in memory (oldest dropped first).
    """

    def __init__(self, *, cache=None, max_queued_per_kind: int = 8, keep: int = 500,
                 shutdown_timeout_s: float = 5.0):
        self.cache = cache
        self.max_queued_per_kind = max_queued_per_kind
        self.keep = keep
        self.shutdown_timeout_s = shutdown_timeout_s
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queues: dict[str, queue.Queue] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # --- public -------------------------------------------------------------------------------
    def submit(self, kind: str, fn: Callable[[], dict | None], params: dict | None = None, *,
               requested_by: str | None = None) -> Job:
        if self._stopping.is_set():
            raise JobQueueFull("The server is shutting down; try again shortly.")
        with self._lock:
            q = self._queue(kind)
            waiting = sum(1 for j in self._jobs.values() if j.kind == kind and j.status == "queued")
            if waiting >= self.max_queued_per_kind:
                raise JobQueueFull(f"{waiting} {kind} jobs are already waiting; try again when "
                                   "one has finished.", details={"kind": kind, "queued": waiting})
            job = Job(id=uuid.uuid4().hex, kind=kind, params=_jsonable(params or {}),
                      requested_by=requested_by)
            self._jobs[job.id] = job
            self._trim()
        self._mirror(job)
        q.put((job, fn))
        log.info("job %s (%s) queued", job.id, kind)
        return job

    def get(self, job_id: str) -> dict | None:
        job = self._jobs.get(job_id)
        if job is not None:
            return job.to_dict()
        if self.cache is not None:
            try:
                return self.cache.get(self._key(job_id))
            except Exception:  # noqa: BLE001
                return None
        return None

    def list(self, limit: int = 50) -> list[dict]:
        return [j.to_dict() for j in list(self._jobs.values())[-limit:]][::-1]

    def shutdown(self) -> None:
        """Stop accepting jobs, wait a little for running ones, drop queued ones."""
        self._stopping.set()
        for q in self._queues.values():
            q.put(None)
        deadline = time.monotonic() + self.shutdown_timeout_s
        for kind, t in self._threads.items():
            t.join(timeout=max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                log.warning("shutting down while a %s job is still running", kind)

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _key(job_id: str) -> str:
        return f"f1a:job:{job_id}"

    def _mirror(self, job: Job) -> None:
        if self.cache is None:
            return
        try:
            self.cache.set(self._key(job.id), job.to_dict(), _JOB_TTL_S)
        except Exception as exc:  # noqa: BLE001
            log.debug("job record not mirrored: %s", exc)

    def _trim(self) -> None:
        done = [k for k, j in self._jobs.items() if j.status in ("succeeded", "failed")]
        for k in done[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[k]

    def _queue(self, kind: str) -> queue.Queue:
        q = self._queues.get(kind)
        if q is None:
            q = self._queues[kind] = queue.Queue()
            t = threading.Thread(target=self._work, args=(q,), name=f"f1a-job-{kind}", daemon=True)
            self._threads[kind] = t
            t.start()
        return q

    def _work(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None or self._stopping.is_set():
                return
            job, fn = item
            self._run(job, fn)

    def _run(self, job: Job, fn: Callable[[], dict | None]) -> None:
        job.status, job.started_at = "running", _now()
        self._mirror(job)
        t0 = time.perf_counter()
        log.info("job %s (%s) started", job.id, job.kind)
        try:
            result = fn()
            job.result = _jsonable(result) if result is not None else {}
            job.status = "succeeded"
        except F1AnalyzerError as exc:
            job.error, job.status = exc.message, "failed"
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc.message)
        except Exception as exc:  # noqa: BLE001 - recorded, never crashes the worker
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
            log.error("job %s (%s) failed\n%s", job.id, job.kind, traceback.format_exc())
        job.finished_at = _now()
        job.duration_s = round(time.perf_counter() - t0, 3)
        self._mirror(job)
        record_job(job.kind, job.status)
        log.info("job %s (%s) %s in %.1f s", job.id, job.kind, job.status, job.duration_s)
