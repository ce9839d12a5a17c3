"""The training pipeline behind ``f1analyzer train`` and ``python train_models.py``.

Steps: make sure the seasons are in the store (ingesting ``$F1_DATA_DIR/laps/<season>.csv.gz``
when a season is missing), fit the physical race models (``RaceModels``, when that module is
available), evaluate the learned models on the last season after training them on the earlier
ones, refit them on every season, and register the set with its metadata (training seasons,
data hash, metrics, code version).

After fitting, the race models are filled per circuit from the previous registered set, then the
bundled one (:func:`fill_race_models`): a quick or partial training never knows less than them.

``quick=True`` trains on a documented small subset — the two most recent seasons available in
the range, the first :data:`QUICK_ROUNDS` rounds of each, smaller boosters — in well under 30 s.
Seasons with no data are skipped and reported, never fatal, as long as one season remains.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import Settings
from ..data.store import RaceStore
from ..errors import BackendUnavailableError, DataNotLoadedError, InvalidRequestError, NotFittedError, NotFoundError, UntrustedArtifactError
from ..log import get_logger
from .bundled import load_bundled_models
from .evaluate import prepare_for_season, score_models
from .features import attach_priors, prepare_laps
from .laptime import LapTimeModel
from .pitstop import PitStopModel
from .race_models import RaceModels
from ..data.ingest import ingest_files
from ..data.session import Laps
from .registry import get_registry

log = get_logger("models.training")

#: progress(step description, steps done, steps total)
ProgressFn = Callable[[str, int, int], None]

QUICK_SEASONS = 2
QUICK_ROUNDS = 8
QUICK_PARAMS = {"n_estimators": 150, "learning_rate": 0.1}
STEPS = 8


@dataclass
class TrainReport:
    version: str | None
    seasons: list[int]
    skipped_seasons: list[int]
    ingested_seasons: list[int]
    quick: bool
    n_laps: int
    data_hash: str
    evaluation: dict | None
    race_models: str
    timings_s: dict = field(default_factory=dict)
    rounds: dict = field(default_factory=dict)
    #: circuit key → the model set its race model was taken from (not fitted in this run)
    filled_circuits: dict = field(default_factory=dict)

    @property
    def skipped_message(self) -> str | None:
        return no_data_message(self.skipped_seasons)

    def to_dict(self) -> dict:
        return {"version": self.version, "seasons": self.seasons, "skipped_seasons": self.skipped_seasons,
                "skipped_message": self.skipped_message, "ingested_seasons": self.ingested_seasons,
                "quick": self.quick, "n_laps": self.n_laps, "data_hash": self.data_hash,
                "evaluation": self.evaluation, "race_models": self.race_models, "timings_s": self.timings_s,
                "rounds": self.rounds, "filled_circuits": self.filled_circuits}


def no_data_message(seasons: list[int]) -> str | None:
    """'no data for 2015–2017: skipped' (ranges collapsed)."""
    if not seasons:
        return None
    seasons = sorted(seasons)
    parts, start, prev = [], seasons[0], seasons[0]
    for s in seasons[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if s is not None:
            start = prev = s
    return f"no data for {', '.join(parts)}: skipped"


def data_hash(laps: pd.DataFrame) -> str:
    """Short content hash of the training laps (identity, times, tyres, status)."""
    cols = ["season", "round", "driver", "lap_number", "lap_time_s", "compound", "tyre_life_laps", "track_status"]
    h = pd.util.hash_pandas_object(laps[cols].reset_index(drop=True), index=False)
    return hashlib.sha256(h.to_numpy().tobytes()).hexdigest()[:16]


def ensure_seasons(store: RaceStore, seasons: list[int], data_dir: Path | None) -> tuple[list[int], list[int]]:
    """Ingest missing seasons from ``data_dir/laps`` when possible. Returns (available, ingested)."""
    stored = set(store.seasons())
    missing = [s for s in seasons if s not in stored]
    ingested: list[int] = []
    if missing and data_dir is not None:
        files = [Path(data_dir) / "laps" / f"{s}.csv.gz" for s in missing]
        files = [f for f in files if f.is_file()]
        if files:
            results = ingest_files(files, store)
            ingested = sorted({r.season for r in results if r.ok and r.season is not None})
            for r in results:
                if not r.ok:
                    log.warning("could not ingest %s: %s", r.source, r.error)
    stored = set(store.seasons())
    return [s for s in seasons if s in stored], ingested


def fit_race_models(laps, races, pit_stops) -> tuple[object | None, str]:
    """Fit ``RaceModels``: (models or None, a one-line status)."""
    try:
        return RaceModels().fit(laps, races, pit_stops), "fitted"
    except Exception as exc:  # the learned models are still worth registering; say why clearly
        log.warning("RaceModels.fit failed, registering the learned models without it: %r", exc)
        return None, f"not fitted: RaceModels.fit failed ({type(exc).__name__}: {exc})"


def fill_race_models(race_models, settings: Settings) -> dict[str, str]:
    """Fill circuits this fit lacks or knows from fewer races: first from the latest registered
    set, then from the bundled one. Returns circuit key → source (also on each ``CircuitModel``)."""
    from .registry import get_registry  # as in train(): the registry module loads its backends lazily here

    try:
        mv = get_registry(settings).latest()
        previous = mv.load("race_models") if mv is not None and "race_models" in mv.artifact_names() else None
        if isinstance(previous, RaceModels):
            race_models.fill_missing(previous, source=f"registered model set {mv.version}")
    except (BackendUnavailableError, NotFittedError, NotFoundError, UntrustedArtifactError, OSError, EOFError) as exc:
        log.warning("previous model set unavailable for filling gaps: %s", exc)
    try:
        race_models.fill_missing(load_bundled_models(), source="bundled model set")
    except NotFittedError as exc:
        log.warning("bundled race models unavailable for filling gaps: %s", exc)
    return race_models.filled_circuits()


def train(settings: Settings, start_year: int = 2018, end_year: int = 2024, *, quick: bool = False,
          progress: ProgressFn | None = None, register: bool = True, seed: int = 0) -> TrainReport:
    """Train, evaluate and register a model set on the seasons ``start_year..end_year``.

    Raises:
        InvalidRequestError: the range is empty or reversed.
        DataNotLoadedError: no season of the range is stored or ingestible (message says how).
    """
    if start_year > end_year:
        raise InvalidRequestError(f"--start-year {start_year} is after --end-year {end_year}.")
    say = progress or (lambda _d, _i, _n: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def step(name: str, i: int) -> None:
        timings[name] = round(time.perf_counter() - t0, 2)
        say(name, i, STEPS)

    store = RaceStore(settings.store_dir)
    requested = list(range(start_year, end_year + 1))
    step("checking the race store", 0)
    available, ingested = ensure_seasons(store, requested, settings.data_dir)
    skipped = [s for s in requested if s not in available]
    if not available:
        hint = ("set F1_DATA_DIR to the lap data (laps/<season>.csv.gz)" if settings.data_dir is None
                else f"{settings.data_dir}/laps has no file for these seasons")
        raise DataNotLoadedError(f"No data for {start_year}–{end_year}: the store has "
                                 f"{', '.join(map(str, store.seasons())) or 'nothing'}; {hint}.")
    if skipped:
        log.info(no_data_message(skipped))
    seasons = available[-QUICK_SEASONS:] if quick else available

    step("loading laps", 1)
    laps = pd.concat([store.laps(s) for s in seasons], ignore_index=True)
    races = store.races()
    races = races[races["season"].isin(seasons)]
    pit_stops = pd.concat([store.pit_stops(s) for s in seasons], ignore_index=True)
    if quick:
        races = races[races["round"] <= QUICK_ROUNDS]
        keep = laps["round"] <= QUICK_ROUNDS
        laps, pit_stops = laps[keep], pit_stops[pit_stops["round"] <= QUICK_ROUNDS]

    laps = Laps(laps.reset_index(drop=True))
    rounds = {int(s): sorted(int(r) for r in g["round"]) for s, g in races.groupby("season")}

    step("fitting race models (tyres, fuel, pit loss, SC/VSC, pace)", 2)
    race_models, rm_status = fit_race_models(laps, races.reset_index(drop=True), pit_stops.reset_index(drop=True))
    filled = fill_race_models(race_models, settings) if race_models is not None else {}
    if filled:
        rm_status += f"; {len(filled)} circuit(s) taken from earlier model sets"

    step("preparing features", 3)
    prep = prepare_laps(laps, races)
    params = {**(QUICK_PARAMS if quick else {}), "seed": seed}
    evaluation = None
    if len(seasons) >= 2:
        test_season = seasons[-1]
        step(f"evaluating on {test_season} (trained on {seasons[0]}–{seasons[-2]})", 4)
        train_rows, test_rows = prepare_for_season(prep, test_season)
        ev = score_models(LapTimeModel(**params).fit(train_rows), PitStopModel(**params).fit(train_rows),
                          test_rows, test_season, seasons[:-1])
        evaluation = ev.to_dict()
    else:
        log.warning("one season only: no held-out evaluation")

    step("fitting lap-time model on every season", 5)
    all_rows = attach_priors(prep, prep)
    laptime = LapTimeModel(**params).fit(all_rows)
    step("fitting pit-stop model on every season", 6)
    pitstop = PitStopModel(**params).fit(all_rows)

    dhash = data_hash(laps)
    version = None
    if register:
        step("registering the model set", 7)

        metadata = {"training_seasons": seasons, "rounds": rounds, "quick": quick, "data_hash": dhash,
                    "n_laps": int(len(laps)), "metrics": evaluation, "race_models": rm_status,
                    "skipped_seasons": skipped, "race_models_filled": filled}
        objects = {"laptime": laptime, "pitstop": pitstop}
        if race_models is not None:
            objects["race_models"] = race_models
        version = get_registry(settings).register(objects, metadata)
    timings["total"] = round(time.perf_counter() - t0, 2)
    say("done", STEPS, STEPS)
    return TrainReport(version=version, seasons=seasons, skipped_seasons=skipped, ingested_seasons=ingested,
                       quick=quick, n_laps=int(len(laps)), data_hash=dhash, evaluation=evaluation,
                       race_models=rm_status, timings_s=timings, rounds=rounds, filled_circuits=filled)
