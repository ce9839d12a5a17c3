"""Background jobs for the admin endpoints: ingest, train, reindex.

What a job does is an application operation (:mod:`f1analyzer.app.admin`); the admin routes
submit it here as a callable. This module only runs and records jobs.

Each kind has one worker thread, so jobs of one kind run one at a time in submission order
while different kinds run side by side; at most ``max_queued_per_kind`` may wait. A job goes
``queued → running → succeeded | failed | cancelled`` and keeps its start and finish times, a
JSON result summary and, on failure, the error message (the traceback goes to the server log only).

Cancel and timeout (``DELETE /admin/jobs/{id}``, ``timeout_s``): a queued job is dropped at once.
A running job is stopped only where it can stop cleanly — a *stoppable* job (ingest, reindex)
receives a ``check()`` callable that raises :class:`JobStopped` once a cancel was asked or its
deadline passed, and calls it between units of work (files, batches, right before a commit).
Train jobs are not stoppable while running. What a stopped job had already committed is in its
``result`` (``partial``).

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

from ..errors import F1AnalyzerError, JobStopped
from ..log import get_logger
from .metrics import record_job

log = get_logger("api.jobs")

JOB_KINDS = ("ingest", "train", "reindex")
_JOB_TTL_S = 7 * 24 * 3600


class JobQueueFull(F1AnalyzerError):
    code = "job_queue_full"


class JobConflict(F1AnalyzerError):
    """The job cannot be cancelled (finished, or running and not stoppable)."""

    code = "job_conflict"


#: how often a running job's check() looks for a cancel asked through another worker (Redis)
_REMOTE_CANCEL_POLL_S = 0.5


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
    #: a cancel was asked (the job stops at its next check, or was dropped while queued)
    cancel_requested: bool = False
    stoppable: bool = False
    timeout_s: float | None = None

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
    def submit(self, kind: str, fn: Callable[..., dict | None], params: dict | None = None, *,
               requested_by: str | None = None, stoppable: bool = False,
               timeout_s: float | None = None) -> Job:
        """Queue ``fn``. With ``stoppable`` it is called as ``fn(check)`` (see the module doc);
        ``timeout_s`` needs ``stoppable`` (a job past it fails at its next check)."""
        if self._stopping.is_set():
            raise JobQueueFull("The server is shutting down; try again shortly.")
        with self._lock:
            q = self._queue(kind)
            waiting = sum(1 for j in self._jobs.values() if j.kind == kind and j.status == "queued")
            if waiting >= self.max_queued_per_kind:
                raise JobQueueFull(f"{waiting} {kind} jobs are already waiting; try again when "
                                   "one has finished.", details={"kind": kind, "queued": waiting})
            job = Job(id=uuid.uuid4().hex, kind=kind, params=_jsonable(params or {}),
                      requested_by=requested_by, stoppable=stoppable,
                      timeout_s=timeout_s if stoppable else None)
            self._jobs[job.id] = job
            self._trim()
        self._mirror(job)
        q.put((job, fn))
        log.info("job %s (%s) queued", job.id, kind)
        return job

    def get(self, job_id: str) -> dict | None:
        job = self._jobs.get(job_id)
        if job is not None:
            with self._lock:  # a record is read whole, never half-way through its update
                return job.to_dict()
        if self.cache is not None:
            try:
                return self.cache.get(self._key(job_id))
            except Exception:  # noqa: BLE001
                return None
        return None

    def cancel(self, job_id: str) -> dict | None:
        """Cancel a queued job now, or ask a running stoppable one to stop; the job's record
        (None: unknown). A job held by another worker is asked through the shared cache.

        Raises:
            JobConflict: the job already finished, or it is running and cannot stop cleanly.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                if job.status in ("succeeded", "failed", "cancelled"):
                    raise JobConflict(f"Job {job_id} already {job.status}; nothing to cancel.",
                                      details={"status": job.status})
                if job.status == "running" and not job.stoppable:
                    raise JobConflict(f"A running {job.kind} job cannot be stopped cleanly; wait for "
                                      "it to finish.", details={"status": job.status})
                job.cancel_requested = True
                if job.status == "queued":  # the worker skips it when it comes up
                    job.status, job.finished_at = "cancelled", _now()
                    job.error = "cancelled before it started"
        if job is not None:
            self._mirror(job)
            if job.status == "cancelled":
                record_job(job.kind, job.status)
            log.info("job %s (%s) cancel requested (%s)", job.id, job.kind, job.status)
            return job.to_dict()
        rec = self.get(job_id)  # another worker's job
        if rec is None:
            return None
        if rec["status"] not in ("queued", "running"):
            raise JobConflict(f"Job {job_id} already {rec['status']}; nothing to cancel.",
                              details={"status": rec["status"]})
        if rec["status"] == "running" and not rec.get("stoppable"):
            raise JobConflict(f"A running {rec['kind']} job cannot be stopped cleanly; wait for it "
                              "to finish.", details={"status": rec["status"]})
        try:
            self.cache.set(self._cancel_key(job_id), True, _JOB_TTL_S)
        except Exception as exc:  # noqa: BLE001 - the cache is the only way to reach that worker
            raise JobConflict(f"The worker running job {job_id} cannot be reached ({exc}).") from exc
        return {**rec, "cancel_requested": True}

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

    @staticmethod
    def _cancel_key(job_id: str) -> str:
        return f"f1a:job:{job_id}:cancel"

    def _remote_cancel(self, job: Job) -> bool:
        if self.cache is None:
            return False
        try:
            return bool(self.cache.get(self._cancel_key(job.id)))
        except Exception:  # noqa: BLE001
            return False

    def _checker(self, job: Job) -> Callable[[], None]:
        """The ``check()`` a stoppable job calls between units of work."""
        deadline = time.monotonic() + job.timeout_s if job.timeout_s else None
        polled = [0.0]

        def check() -> None:
            now = time.monotonic()
            if not job.cancel_requested and now - polled[0] >= _REMOTE_CANCEL_POLL_S:
                polled[0] = now
                if self._remote_cancel(job):  # only ever set here: a local cancel must not be undone
                    job.cancel_requested = True
            if job.cancel_requested or self._stopping.is_set():
                raise JobStopped("cancelled" if job.cancel_requested else "server shutting down")
            if deadline is not None and now > deadline:
                raise JobStopped(f"timed out after {job.timeout_s:g} s (the ingest_job_timeout_s "
                                 "setting)", timed_out=True)

        return check

    def _mirror(self, job: Job) -> None:
        if self.cache is None:
            return
        try:
            self.cache.set(self._key(job.id), job.to_dict(), _JOB_TTL_S)
        except Exception as exc:  # noqa: BLE001
            log.debug("job record not mirrored: %s", exc)

    def _trim(self) -> None:
        done = [k for k, j in self._jobs.items() if j.status in ("succeeded", "failed", "cancelled")]
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
            if job.status == "cancelled" or (job.status == "queued" and self._remote_cancel(job)):
                if job.status != "cancelled":
                    job.status, job.finished_at, job.cancel_requested = "cancelled", _now(), True
                    job.error = "cancelled before it started"
                    self._mirror(job)
                    record_job(job.kind, job.status)
                continue
            self._run(job, fn)

    def _run(self, job: Job, fn: Callable[..., dict | None]) -> None:
        with self._lock:
            if job.status == "cancelled":  # cancelled between the queue and here
                return
            job.status, job.started_at = "running", _now()
        self._mirror(job)
        t0 = time.perf_counter()
        log.info("job %s (%s) started", job.id, job.kind)
        # the outcome is collected first and published at once (under the lock), so a reader never
        # sees a finished status without its finish time, result or error
        result, error = None, None
        try:
            out = fn(self._checker(job)) if job.stoppable else fn()
            result, status = (_jsonable(out) if out is not None else {}), "succeeded"
        except JobStopped as exc:
            partial = exc.details.get("partial")
            result = _jsonable(partial) if partial is not None else None
            status, error = ("failed" if exc.timed_out else "cancelled"), exc.message
            log.warning("job %s (%s) stopped: %s", job.id, job.kind, exc.message)
        except F1AnalyzerError as exc:
            error, status = exc.message, "failed"
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc.message)
        except Exception as exc:  # noqa: BLE001 - recorded, never crashes the worker
            error, status = f"{type(exc).__name__}: {exc}", "failed"
            log.error("job %s (%s) failed\n%s", job.id, job.kind, traceback.format_exc())
        with self._lock:
            job.result, job.error = result, error
            job.finished_at = _now()
            job.duration_s = round(time.perf_counter() - t0, 3)
            job.status = status
        self._mirror(job)
        record_job(job.kind, job.status)
        log.info("job %s (%s) %s in %.1f s", job.id, job.kind, job.status, job.duration_s)
