"""Live ingestion: race laps from F1 live timing through FastF1, the calendar from Jolpica.

``f1analyzer ingest --live --season 2024 --round 5`` fetches one race; ``--live --season 2024``
every completed race of that season; ``--latest`` every completed race of the current season
that is not stored yet (what a weekly schedule runs). Each race is validated exactly like a file
(:func:`~f1analyzer.data.files.to_canonical_laps`) and stored in its own atomic write, so an
interrupted run keeps the races it finished and a re-run picks up the rest.

FastF1 keeps its HTTP and parsed-data cache under ``settings.fastf1_cache_dir`` and applies its
own rate limiter (F1 live timing and Jolpica ask for at most 4 requests/s and a few hundred per
hour); races are fetched one after the other, never in parallel.

Without the internet the first step — a short-timeout check that F1 live timing answers —
fails within seconds with :class:`~f1analyzer.errors.NetworkUnavailableError` (FastF1 itself sets
no timeout, so a silent network could otherwise hang it for minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pandas as pd

from ..config import get_settings
from ..errors import (
    BackendUnavailableError,
    DataValidationError,
    InvalidRequestError,
    NetworkUnavailableError,
    NotFoundError,
)
from ..log import get_logger
from .compounds import load_allocation
from .files import ValidationReport, to_canonical_laps
from .ingest import IngestResult, _count_rejected_per_round, store_laps
from .jolpica import JolpicaClient
from .sources import Fetched
from .store import RaceStore

log = get_logger("data.live")

#: answered by F1 live timing whenever it is reachable (any HTTP status counts as reachable)
LIVETIMING_URL = "https://livetiming.formula1.com/static/"

#: (season, round) → (FastF1 ``Session.laps`` frame, event name)
RaceLoader = Callable[[int, int], tuple[pd.DataFrame, str]]


def check_reachable(url: str = LIVETIMING_URL, *, timeout_s: float = 5.0, what: str = "F1 live timing") -> None:
    """Raise :class:`NetworkUnavailableError` unless ``url`` answers within ``timeout_s``."""
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s)) as client:
            client.get(url)
    except httpx.HTTPError as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise NetworkUnavailableError(
            f"cannot reach {what} at {url} ({reason}); --live needs the internet — "
            "offline, ingest lap files instead: f1analyzer ingest $F1_DATA_DIR/laps",
            details={"url": url},
        ) from None


def laps_from_fastf1(laps: pd.DataFrame, *, season: int, round: int, event: str,
                     location: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Map a FastF1 ``Session.laps`` frame (Timedelta times, float lap numbers...) to canonical laps.

    ``Session.laps`` has no ``RoundNumber``/``EventName`` columns; they come from the session's
    event. Rows are validated like a file's (see :func:`to_canonical_laps`). ``location`` (the
    event's ``Location``) names the venue, which decides the circuit.
    """
    raw = pd.DataFrame(laps).reset_index(drop=True)
    if "RoundNumber" not in raw.columns:
        raw["RoundNumber"] = int(round)
    if "EventName" not in raw.columns:
        raw["EventName"] = str(event)
    if location and "Location" not in raw.columns:
        raw["Location"] = str(location)
    return to_canonical_laps(raw, season=int(season), path=f"fastf1:{int(season)}/{int(round)}")


_configured_cache: Path | None = None


def configure_fastf1_cache(cache_dir: Path) -> None:
    """Point FastF1's cache at ``cache_dir`` (created if needed)."""
    global _configured_cache
    import fastf1

    cache_dir = Path(cache_dir)
    if _configured_cache == cache_dir:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(fastf1.Cache, "configure"):  # FastF1 >= 3.7
        fastf1.Cache.configure(cache_dir=str(cache_dir))
    else:  # pragma: no cover - older FastF1
        fastf1.Cache.enable_cache(str(cache_dir))
    _configured_cache = cache_dir


def load_fastf1_race(season: int, round: int, *, cache_dir: Path | None = None) -> tuple[pd.DataFrame, str]:
    """Load the Grand Prix laps of one round with FastF1; translate its failures into ours."""
    import fastf1
    import requests
    from fastf1.exceptions import DataNotLoadedError, NoLapDataError, RateLimitExceededError

    configure_fastf1_cache(cache_dir or get_settings().fastf1_cache_dir)
    where = f"season {season} round {round}"
    try:
        session = fastf1.get_session(int(season), int(round), "R")
        session.load(laps=True, telemetry=False, weather=False, messages=False)
        laps = session.laps
        event = str(session.event["EventName"])
    except RateLimitExceededError as exc:
        raise BackendUnavailableError(f"FastF1 rate limit reached ({exc}); wait an hour and run again") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkUnavailableError(f"FastF1 could not reach F1 live timing for {where} ({exc})") from None
    except (DataNotLoadedError, NoLapDataError):
        raise DataValidationError(f"FastF1 has no lap data for {where} (not run yet, or timing not published)") from None
    except ValueError as exc:
        msg = str(exc)
        if "schedule" in msg.lower():
            raise NetworkUnavailableError(
                f"FastF1 could not load the {season} schedule ({msg}); check the internet connection"
            ) from None
        if "round" in msg.lower():
            raise NotFoundError(f"FastF1 knows no {where} ({msg})") from None
        raise
    if laps is None or len(laps) == 0:
        raise DataValidationError(f"FastF1 returned no laps for {where}")
    laps = pd.DataFrame(laps)
    # the venue, not the event's name, decides the circuit (renamed and moved Grands Prix)
    location = session.event.get("Location") if hasattr(session.event, "get") else None
    if location and "Location" not in laps.columns:
        laps["Location"] = str(location)
    return laps, event


class FastF1Source:
    """F1 live timing through FastF1 as a :class:`~f1analyzer.data.sources.LapSource`.

    Args:
        cache_dir: FastF1's cache (default ``settings.fastf1_cache_dir``).
        load_race: ``(season, round) -> (Session.laps frame, event name)``; default FastF1.
        rounds: ``season -> completed rounds`` used when ``fetch`` gets no round (default Jolpica).
        probe_url: checked once with a short timeout before the first fetch; None skips it.
        timeout_s: timeout of that check.
    """

    name = "fastf1"

    def __init__(self, cache_dir: Path | None = None, *, load_race: RaceLoader | None = None,
                 rounds: Callable[[int], list[int]] | None = None,
                 probe_url: str | None = LIVETIMING_URL, timeout_s: float = 5.0):
        self.cache_dir = cache_dir
        self._load_race = load_race
        self._rounds = rounds
        self.probe_url = probe_url
        self.timeout_s = timeout_s
        self._checked = False

    def check(self) -> None:
        """Fail fast (NetworkUnavailableError) when live timing cannot be reached."""
        if self.probe_url and not self._checked:
            check_reachable(self.probe_url, timeout_s=self.timeout_s)
        self._checked = True

    def load_race(self, season: int, round: int) -> tuple[pd.DataFrame, str]:
        if self._load_race is not None:
            return self._load_race(int(season), int(round))
        return load_fastf1_race(season, round, cache_dir=self.cache_dir)

    def fetch(self, season: int, round: int | None = None) -> list[Fetched]:
        self.check()
        if round is not None:
            rounds = [int(round)]
        elif self._rounds is not None:
            rounds = self._rounds(int(season))
        else:
            with JolpicaClient(max_attempts=3) as api:
                rounds = api.completed_rounds(int(season))
        out = []
        for r in rounds:
            raw, event = self.load_race(int(season), r)
            out.append(Fetched(*laps_from_fastf1(raw, season=season, round=r, event=event)))
        return out


def default_allocation() -> dict[tuple[int, int], list[str]]:
    """The compound allocation next to ``F1_DATA_DIR`` when there is one, else none."""
    d = get_settings().data_dir
    path = Path(d) / "compound_selection.toml" if d else None
    return load_allocation(path) if path and path.is_file() else {}


def ingest_live(store: RaceStore, season: int | None = None, round_: int | None = None, latest: bool = False, *,
                source=None, jolpica: JolpicaClient | None = None, compounds_file: Path | None = None,
                now: datetime | None = None,
                on_result: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
    """Fetch races live and store them; one :class:`IngestResult` per race.

    Args:
        store: where races go.
        season: championship year (default with ``latest``: the current year).
        round_: one round only; otherwise every completed round of the season (Jolpica calendar).
        latest: only completed rounds that are not stored yet.
        source: a LapSource (default :class:`FastF1Source`).
        jolpica: calendar client (default :class:`JolpicaClient` on the public API).
        compounds_file: compound_selection.toml for C-numbers (default: the one in F1_DATA_DIR).
        now: the current time (for "completed").

    Raises:
        NetworkUnavailableError: live timing or Jolpica cannot be reached (nothing more is tried;
            races stored before the failure stay stored).
        InvalidRequestError: no season, or both a round and ``latest``.
    """
    now = now or datetime.now(timezone.utc)
    if latest and round_ is not None:
        raise InvalidRequestError("give --round or --latest, not both")
    if season is None:
        if not latest:
            raise InvalidRequestError("--live needs --season YEAR (or use --latest for the current season)")
        season = now.year
    season = int(season)
    source = source or FastF1Source()
    if hasattr(source, "check"):
        source.check()

    if round_ is not None:
        rounds = [int(round_)]
    else:
        own = jolpica is None
        api = jolpica or JolpicaClient(max_attempts=3)
        try:
            rounds = api.completed_rounds(season, now=now)
        finally:
            if own:
                api.close()
        if latest:
            stored = {int(r) for r in store.races(season)["round"]}
            rounds = [r for r in rounds if r not in stored]
        log.info("season %s: %d race(s) to fetch %s", season, len(rounds), rounds)

    allocation = load_allocation(compounds_file) if compounds_file else default_allocation()
    results: list[IngestResult] = []
    for rnd in rounds:
        res = IngestResult(source=f"{source.name}:{season}/{rnd}", season=season)
        try:
            for laps, report in source.fetch(season, rnd):
                res.report = report
                if laps.empty:
                    raise DataValidationError(f"{res.source}: no usable laps (all {report.rows_read} rows rejected)")
                res.rounds += store_laps(store, laps, season=season, source=source.name,
                                         rejected_by_round=_count_rejected_per_round(report, laps),
                                         allocation=allocation)
                if report.rejected:
                    log.info(report.summary())
        except (DataValidationError, NotFoundError) as exc:
            res.error = exc.message
            log.info("refused: %s", exc.message)
        results.append(res)
        if on_result:
            on_result(res)
    return results


__all__ = ["FastF1Source", "ingest_live", "laps_from_fastf1", "load_fastf1_race", "check_reachable",
           "LIVETIMING_URL"]
