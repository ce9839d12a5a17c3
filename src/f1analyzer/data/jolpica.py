"""Jolpica (the Ergast-compatible F1 API) over httpx: the season schedule and official results.

The lap timing comes from FastF1; Jolpica adds what the timing does not say officially: the
calendar (which rounds have been run — what ``f1analyzer ingest --latest`` needs), the starting
grid and the classification with each car's status ("Finished", "+1 Lap", "Engine"...).

Responses have Ergast's JSON shape::

    {"MRData": {"RaceTable": {"season": "2024", "Races": [
        {"round": "5", "raceName": "Chinese Grand Prix", "date": "2024-04-21", "time": "07:00:00Z",
         "Circuit": {"circuitId": "shanghai", "Location": {"locality": "Shanghai", ...}},
         "Results": [{"position": "1", "grid": "1", "points": "25", "laps": "56",
                      "status": "Finished", "Driver": {"code": "VER", ...},
                      "Constructor": {"name": "Red Bull"}}, ...]}]}}}

Jolpica asks clients to stay under 4 requests/s and 500/h; this client is sequential, and on
429 (rate limited), 5xx or a connection failure it retries with exponential backoff, waiting
as long as a ``Retry-After`` header says when there is one. When it gives up it raises
:class:`~f1analyzer.errors.NetworkUnavailableError` with a one-line message.

Example:
    >>> with JolpicaClient() as api:
    ...     api.results(2021, 11)[["driver", "grid", "position", "status"]]
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pandas as pd
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .. import __version__
from ..errors import BackendUnavailableError, NetworkUnavailableError, NotFoundError
from ..log import get_logger

log = get_logger("data.jolpica")

#: the public Jolpica mirror of the Ergast API (a setting ``jolpica_base_url`` may override it)
DEFAULT_BASE_URL = "https://api.jolpi.ca/ergast/f1"

#: a race counts as completed this long after its scheduled start (results and timing are out)
COMPLETED_AFTER = timedelta(hours=4)

RESULT_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "driver": "string",
    "driver_number": "Int16",
    "team": "string",
    "grid": "Int16",  # 0 in Ergast = started from the pit lane; kept as 0
    "position": "Int16",  # classified position (every car gets one, retired cars too)
    "position_text": "string",  # "R" retired, "D" disqualified, "W" withdrawn, else the number
    "status": "string",
    "points": "float64",
    "laps": "Int16",
}

SCHEDULE_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "event": "string",
    "circuit_key": "string",
    "locality": "string",
    "country": "string",
    "race_start_utc": "datetime64[ns, UTC]",
}


class _RetryableResponse(Exception):
    def __init__(self, status: int, url: str, retry_after_s: float | None):
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.retry_after_s = retry_after_s


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


class JolpicaClient:
    """Small, polite client of the Jolpica / Ergast API.

    Args:
        base_url: API root including ``/ergast/f1``.
        timeout_s: connect/read timeout of each request.
        max_attempts: tries per request (1 = no retry).
        backoff_s: first wait; doubled after each failed try.
        max_backoff_s: cap on any single wait (also on a long ``Retry-After``).
        sleep: the waiting function (``time.sleep``); tests pass one that records the waits.
        transport: an ``httpx`` transport, e.g. to reuse a connection pool.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, timeout_s: float = 10.0,
                 max_attempts: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_attempts = max(1, int(max_attempts))
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": f"f1analyzer/{__version__}", "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "JolpicaClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after_s", None)
        if after is not None:
            return min(float(after), self.max_backoff_s)
        return min(self.backoff_s * 2 ** (state.attempt_number - 1), self.max_backoff_s)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("Jolpica: %s; retry %d/%d in %.1f s", exc, state.attempt_number,
                    self.max_attempts - 1, wait)

    def _get_once(self, url: str, params: dict | None) -> dict:
        r = self._client.get(url, params=params)
        if r.status_code == 429 or r.status_code >= 500:
            raise _RetryableResponse(r.status_code, url, parse_retry_after(r.headers.get("Retry-After")))
        if r.status_code >= 400:
            raise BackendUnavailableError(f"Jolpica answered HTTP {r.status_code} for {url}")
        try:
            return r.json()
        except ValueError:
            raise BackendUnavailableError(f"Jolpica sent something that is not JSON for {url}") from None

    def get_json(self, path: str, params: dict | None = None) -> dict:
        """GET ``base_url/path`` with retries; the decoded JSON body."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type((_RetryableResponse, httpx.TransportError)),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._get_once, url, params)
        except _RetryableResponse as exc:
            what = "kept rate-limiting us (HTTP 429)" if exc.status == 429 else f"kept failing (HTTP {exc.status})"
            raise NetworkUnavailableError(
                f"Jolpica at {self.base_url} {what} after {self.max_attempts} attempt(s); try again later",
                details={"url": url, "status": exc.status},
            ) from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise NetworkUnavailableError(
                f"cannot reach Jolpica at {self.base_url} ({reason}) after {self.max_attempts} attempt(s); "
                "check the internet connection",
                details={"url": url},
            ) from None

    def _races(self, path: str) -> list[dict]:
        body = self.get_json(path, params={"limit": 100})
        try:
            return list(body["MRData"]["RaceTable"]["Races"])
        except (KeyError, TypeError):
            raise BackendUnavailableError(
                f"Jolpica answer for {path} is not in the Ergast shape (MRData.RaceTable.Races missing)"
            ) from None

    # ------------------------------------------------------------------ queries
    def schedule(self, season: int) -> pd.DataFrame:
        """The season's Grands Prix: ``SCHEDULE_COLUMNS``, one row per round."""
        rows = []
        for race in self._races(f"{int(season)}.json"):
            circuit = race.get("Circuit") or {}
            loc = circuit.get("Location") or {}
            start = pd.to_datetime(f"{race.get('date', '')}T{race.get('time') or '00:00:00Z'}",
                                   utc=True, errors="coerce")
            rows.append({
                "season": int(race.get("season", season)),
                "round": int(race["round"]),
                "event": race.get("raceName"),
                "circuit_key": circuit.get("circuitId"),
                "locality": loc.get("locality"),
                "country": loc.get("country"),
                "race_start_utc": start,
            })
        return _typed(pd.DataFrame(rows), SCHEDULE_COLUMNS).sort_values("round").reset_index(drop=True)

    def completed_rounds(self, season: int, *, now: datetime | None = None) -> list[int]:
        """Rounds of ``season`` whose race started at least ``COMPLETED_AFTER`` ago."""
        sched = self.schedule(season)
        now = pd.Timestamp(now or datetime.now(timezone.utc))
        now = now.tz_localize("UTC") if now.tzinfo is None else now
        done = sched["race_start_utc"].notna() & (sched["race_start_utc"] + COMPLETED_AFTER <= now)
        return [int(r) for r in sched.loc[done, "round"]]

    def results(self, season: int, round: int) -> pd.DataFrame:
        """Official classification of one race: ``RESULT_COLUMNS``, ordered by position.

        Raises:
            NotFoundError: Jolpica has no results for that race (not run yet, or no such round).
        """
        races = self._races(f"{int(season)}/{int(round)}/results.json")
        if not races or not races[0].get("Results"):
            raise NotFoundError(f"Jolpica has no results for season {season} round {round} (not run yet?)")
        rows = []
        for res in races[0]["Results"]:
            drv = res.get("Driver") or {}
            rows.append({
                "season": int(season),
                "round": int(round),
                "driver": drv.get("code"),
                "driver_number": _int(res.get("number") or drv.get("permanentNumber")),
                "team": (res.get("Constructor") or {}).get("name"),
                "grid": _int(res.get("grid")),
                "position": _int(res.get("position")),
                "position_text": res.get("positionText"),
                "status": res.get("status"),
                "points": float(res.get("points") or 0.0),
                "laps": _int(res.get("laps")),
            })
        df = _typed(pd.DataFrame(rows), RESULT_COLUMNS)
        return df.sort_values("position", na_position="last").reset_index(drop=True)


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col, dtype in columns.items():
        s = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
        out[col] = s.astype(dtype) if dtype != "datetime64[ns, UTC]" else pd.to_datetime(s, utc=True)
    return out
