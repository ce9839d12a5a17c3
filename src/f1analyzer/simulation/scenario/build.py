"""Race parameters for the simulator from the fitted race models and the race store.

``race_params_for(2024, "Monza", models=models, store=store)`` turns what the models know about
a circuit (tyre degradation, fuel, pit loss, Safety Car / VSC odds, start, overtaking,
retirements, lap noise) and what the store knows about an event (distance, field, starting
tyres) into a :class:`~f1analyzer.simulation.core.params.RaceParams`.

How each part is chosen:

* **Event.** By round number, event name, circuit or location when the race is stored
  (``store.find_race``). A race that is not stored (a future event, or one not ingested) can be
  named by circuit: the distance comes from the circuit model and the field from the latest
  stored race of that season (of the latest stored season when that one has none). With **no
  race stored at all** (a fresh install) the field comes from the model set (:mod:`.field`).
* **Field and grid.** The lap files carry no starting grid, so the grid of a stored race is its
  **lap-1 order** (the position at the end of lap 1); cars without a lap-1 row start at the back.
  For an unstored race the grid is the **pace order**. ``grid=N`` moves ``driver`` to slot N and
  shifts the others. Because the lap-1 order already contains the start's shuffle, only
  :data:`START_SPREAD_SHARE` of the fitted lap-1 spread is applied again.
* **Pace.** ``models.driver_pace(season, round)``: in *pre-race* mode only races before the
  event (earlier rounds of the season, earlier seasons), so a past race can be backtested
  honestly; otherwise (hindsight, for replays) the event itself is included. A driver without a
  pace estimate takes the team mate's, else the team's season pace, else :data:`ROOKIE_PACE_S`.
* **Tyres.** The circuit's :class:`~f1analyzer.models.tyres.TyreModel` of the season's car era
  (else the latest era); ``coef_s`` → linear/quadratic, a ``cliff`` curve → ``cliff_lap`` and
  ``cliff_slope_s_per_lap``. Negative fitted coefficients are clipped to 0 (the simulator needs
  non-decreasing wear). Circuits with fewer than :data:`~.compounds.MIN_CIRCUIT_RACES` races and circuits the
  models do not know use the all-circuit model (``models.global_``) for tyres and fuel.
* **Compound ordering.** The three dry compounds are made physically consistent
  (:func:`~f1analyzer.simulation.scenario.tyre_sanity.order_compounds`): fresh pace SOFT < MEDIUM < HARD
  at least :func:`pace_step_for` apart (the era's typical step), linear wear SOFT ≥ MEDIUM ≥ HARD
  by precision-weighted pool-adjacent-violators on the fits' standard errors, a harder compound's
  cliff never before a softer one's. What moved is in ``BuiltRace.tyre_adjustments`` and a note.
* **Pit loss.** Green, SC and VSC losses as the circuit model fitted them
  (:mod:`f1analyzer.models.pitloss` orders them SC < VSC < green by shrinkage to the pooled
  ratios; a constraint it still had to apply is named in ``confidence_reasons``). Only a missing
  value falls back to the simulator's default share of the green loss.
* **Passing.** The circuit model's logistic P(pass | caught) (``PassingParams``, :mod:`.pit_and_passing`); a model
  set fitted before it existed gives the old threshold as a steep curve.
* **Allocation.** The three dry compounds (SOFT/MEDIUM/HARD are relative names, so every event's
  allocation maps to all three). INTERMEDIATE and WET get rough illustrative parameters so that
  replays of wet races can run; the optimiser never proposes them.
* **Tyre rules.** ``params.rules`` (:func:`~f1analyzer.simulation.scenario.tyre_rules.rules_for`):
  the event-rules table's entry for the race (e.g. 2023 Qatar: 18 laps per set) and the circuit
  model's learned stint limits for the era; every planner keeps them.
* **Starting tyres.** A stored race's real lap-1 compounds and set ages (known before the start);
  wet or unknown start tyres become MEDIUM in pre-race mode. Unstored races: MEDIUM, new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from f1analyzer.errors import DataNotLoadedError, InvalidRequestError, NotFoundError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core.params import (
    DRY_COMPOUNDS,
    CarParams,
    CompoundParams,
    NeutralisationParams,
    RaceParams,
)
from f1analyzer.simulation.scenario.compounds import (
    MIN_CIRCUIT_RACES,
    circuit_tyres_and_fuel,
    compound_params,
    event_allocation,
    new_era_reasons,
    ordered_compounds,
    pace_step_for,
    tyre_life_for,
    with_tyre_life,
    tyre_override_reason,
    tyre_se,
)
from f1analyzer.simulation.scenario.tyre_sanity import TyreAdjustment
from f1analyzer.simulation.scenario.tyre_today import TyreBasis, history_yardstick, pre_race_life, with_life_factor
from f1analyzer.simulation.scenario.tyre_rules import rules_for
from f1analyzer.simulation.scenario.weekend import NEW_VENUE_KEY, new_venue_reasons, sprint_laps_for, venue_and_weekend
from f1analyzer.simulation.scenario.pit_and_passing import neutral_loss, passing_params, pit_loss_reasons
from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.data.circuits import get_circuit, resolve_circuit
from f1analyzer.models.bundled import as_race_models
from f1analyzer.models.neutral_stops import NeutralStopRates
from f1analyzer.simulation.scenario.field import field_note, model_field, model_race

log = get_logger("simulation.build")

#: share of the fitted lap-1 time spread applied when the grid is the lap-1 order
START_SPREAD_SHARE = 0.5
#: pace delta (s/lap vs the field median) of a driver the models have never seen
ROOKIE_PACE_S = 0.5
#: illustrative wet-tyre parameters (offsets against a fresh MEDIUM in the dry)
WET_COMPOUNDS = {
    "INTERMEDIATE": CompoundParams("INTERMEDIATE", 4.0, 0.05),
    "WET": CompoundParams("WET", 8.0, 0.03),
}


@dataclass
class BuiltRace:
    """RaceParams plus where they came from (for answers and reports)."""

    params: RaceParams
    season: int
    round: int
    event: str
    circuit_key: str
    stored: bool
    grid_source: str  # "lap1_order" | "pace_order"
    model_circuit: str  # circuit model used ("_all" = all-circuit fallback)
    pre_race: bool
    notes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    #: dry-compound parameters moved for physical ordering (empty when the fits were ordered)
    tyre_adjustments: list[TyreAdjustment] = field(default_factory=list)
    #: why an answer from this race should be trusted less, one plain sentence each (a tyre fit
    #: that needed a physical-ordering override, a venue new to the models, ...); every part of
    #: the build that lowers confidence appends here and the answer reports them
    confidence_reasons: list[str] = field(default_factory=list)
    #: what the models and documents behind this build were allowed to see (no hindsight), e.g.
    #: {"models_fitted_on": "2018-2022 + 2023 rounds 1-4", "excluded_from": [2023, 5]}
    data_used: dict = field(default_factory=dict)
    #: what the tyre-life term was built from, for an in-race life update (:mod:`.tyre_today`)
    tyre_basis: TyreBasis = field(default_factory=TyreBasis)
    #: driver → the lap the circuit's earlier races (same era, before this one) say its first stop
    #: comes at (:func:`~.tyre_today.history_yardstick`, read once here; empty without history)
    expected_first_stops: dict[str, int] = field(default_factory=dict)
    #: the pre-race move of the tyre life towards the circuit's earlier first stops (1 = none;
    #: :func:`~.tyre_today.pre_race_life`), already in ``params`` and ``tyre_basis``
    life_factor: float = 1.0
    #: how often cars boxed at the SC/VSC starts the models saw (the advisor's field history for a
    #: call too close to separate; None with a model set fitted before it existed)
    stop_rates: NeutralStopRates | None = None

    def stint_end_params(self) -> RaceParams:
        """``params`` with the tyre life read from where the circuit's stints ended, without the
        pre-race move: the move is a preference for when to stop, and a replay races given plans
        (no stop is being chosen)."""
        if self.life_factor == 1.0:
            return self.params
        return with_life_factor(self.params, self.tyre_basis, 1.0 / self.life_factor)

    @property
    def confidence(self) -> str:
        """"high" with no reasons to doubt, "medium" with one, "low" with more."""
        n = len(self.confidence_reasons)
        return "high" if n == 0 else "medium" if n == 1 else "low"

    @property
    def drivers(self) -> list[str]:
        return self.params.drivers

    def grid_of(self, driver: str) -> int:
        return self.params.cars[self.params.car_index(driver)].grid_position


# ------------------------------------------------------------------------------ conversions
def neutralisation_params(sc) -> NeutralisationParams:
    """A :class:`~f1analyzer.models.safety_car.SafetyCarModel` as :class:`NeutralisationParams`.

    ``count_probs`` of the model are P(0), P(1), P(2), P(3+); the simulator wants
    P(k + 1 | at least one). ``duration_laps_probs`` {laps: p} becomes a tuple indexed laps - 1.
    """
    counts = np.asarray(sc.count_probs[1:], dtype=np.float64)
    counts = tuple((counts / counts.sum()).tolist()) if counts.sum() > 0 else (1.0,)
    frac = np.asarray(sc.start_fraction_hist, dtype=np.float64)
    frac = tuple((frac / frac.sum()).tolist()) if frac.size and frac.sum() > 0 else (1.0,)
    dur_map = {int(k): float(v) for k, v in (sc.duration_laps_probs or {}).items() if int(k) >= 1}
    if dur_map and sum(dur_map.values()) > 0:
        dur = np.zeros(max(dur_map))
        for k, v in dur_map.items():
            dur[k - 1] = v
        dur_t = tuple((dur / dur.sum()).tolist())
    else:
        dur_t = (1.0,)
    return NeutralisationParams(
        p_at_least_one=float(np.clip(sc.p_at_least_one, 0.0, 1.0)),
        count_probs=counts, start_fraction_probs=frac, duration_laps_probs=dur_t,
    )


# ------------------------------------------------------------------------------ lookups
def _store(store):
    if store is not None:
        return store

    return RaceStore(get_settings().store_dir)


def circuit_model_for(models, circuit_key: str):
    """(circuit model, key used): the circuit's own model; for a venue of the circuit table the
    models never saw, priors from similar tracks (:data:`NEW_VENUE_KEY`); else the all-circuit one."""
    cm = getattr(models, "circuits_", {}).get(circuit_key)
    if cm is None:
        prior = models.venue_prior(circuit_key) if hasattr(models, "venue_prior") else None
        if prior is not None:
            return prior, NEW_VENUE_KEY
        return models.global_, "_all"
    return cm, circuit_key


def _resolve_event(season: int, event, models, store) -> tuple[dict, bool]:
    """(race row, stored?) for a stored race, or a synthetic row for a circuit not stored."""
    try:
        return store.find_race(season, event), True
    except (NotFoundError, DataNotLoadedError) as exc:
        races = store.races()
        if races.empty:  # nothing stored (a fresh install): the field comes from the model set

            return model_race(season, event, models), False
        key = resolve_circuit(str(event))
        if key is None or str(event).strip().isdigit():
            raise exc
        same = races[races["season"] == int(season)]
        if key in set(same["circuit_key"]):  # stored under another name: find_race already failed
            raise exc
        cm, _ = circuit_model_for(models, key)  # a new venue's distance comes from its own lap length
        c = get_circuit(key)
        latest = same if len(same) else races[races["season"] == races["season"].max()]
        last = latest.sort_values("round").iloc[-1]
        rnd = int(last["round"]) + 1 if len(same) else 1
        total = int(cm.total_laps)
        row = {
            "season": int(season), "round": rnd,
            "event": (c.events[0] if c and c.events else (c.name if c else key)),
            "circuit_key": key, "total_laps": total, "compounds": [],
            "_field_from": (int(last["season"]), int(last["round"])),
        }
        return row, False


def _field(store, season: int, rnd: int) -> tuple[list[dict], dict[str, int], dict]:
    """(drivers with team, lap-1 position, start compound/age) of one stored race."""
    laps = store.laps(season, rnd)
    if laps.empty:
        raise DataNotLoadedError(f"Race {season} round {rnd} has no stored laps.")
    first = laps.sort_values("lap_number").groupby("driver", sort=False).head(1)
    team = laps.groupby("driver")["team"].last().to_dict()
    lap1 = laps[laps["lap_number"] == 1]
    pos1 = {str(d): int(p) for d, p in zip(lap1["driver"], lap1["position"]) if pd.notna(p)}
    start = {}
    for r in first.itertuples(index=False):
        life = r.tyre_life_laps
        age = int(max(float(life) - float(r.lap_number), 0)) if pd.notna(life) else 0
        start[str(r.driver)] = (str(r.compound), age)
    drivers = [{"driver": str(d), "team": str(team.get(d, ""))} for d in sorted(team)]
    return drivers, pos1, start


def _pace_for(models, season: int, rnd: int, drivers: list[dict]) -> tuple[dict[str, float], list[str]]:
    pace = models.driver_pace(season, rnd)
    out, notes = {}, []
    by_team: dict[str, list[str]] = {}
    for d in drivers:
        by_team.setdefault(d["team"], []).append(d["driver"])
    tp = getattr(models, "team_pace_", pd.DataFrame())
    for d in drivers:
        code = d["driver"]
        if code in pace:
            out[code] = float(pace[code])
            continue
        mates = [pace[m] for m in by_team.get(d["team"], []) if m != code and m in pace]
        if mates:
            out[code] = float(np.mean(mates))
            notes.append(f"{code}: no pace history, team mate's pace used")
            continue
        t = tp[(tp["team"] == d["team"]) & (tp["season"] <= season)] if len(tp) else tp
        if len(t):
            out[code] = float(t.sort_values("season")["pace_delta_s"].iloc[-1])
            notes.append(f"{code}: no pace history, team pace used")
        else:
            out[code] = ROOKIE_PACE_S
            notes.append(f"{code}: no pace history, {ROOKIE_PACE_S:+.1f} s/lap assumed")
    return out, notes


def unknown_driver(driver: str, drivers: list[str], where: str) -> NotFoundError:
    """404 naming the valid drivers (close matches first)."""
    err = NotFoundError.with_suggestions(f"driver in {where}", str(driver).upper(), drivers)
    err.message = (f"Unknown driver {str(driver).upper()!r} in {where}. Drivers in this race: "
                   + ", ".join(drivers) + ".")
    err.args = (err.message,)
    err.details["options"] = list(drivers)
    return err


# ------------------------------------------------------------------------------ build
def params_from_models(models, circuit_key: str, season: int, total_laps: int, cars: list[dict], *,
                       grid_source: str = "pace_order", allocation=None) -> tuple[RaceParams, str, list[str]]:
    """RaceParams of ``circuit_key`` for a field given in grid order.

    Args:
        cars: one dict per car in grid order: ``driver``, ``team``, ``base_pace_s``,
            ``start_compound``, ``start_tyre_age_laps``.
        grid_source: ``"lap1_order"`` applies only :data:`START_SPREAD_SHARE` of the start spread.

    Returns:
        ``(params, circuit model key used, notes)``; :func:`build_race` also keeps the tyre
        adjustments (:attr:`BuiltRace.tyre_adjustments`).
    """
    params, model_key, notes, _, _ = _params_from_models(models, circuit_key, season, total_laps, cars,
                                                      grid_source=grid_source, allocation=allocation)
    return params, model_key, notes


def _params_from_models(models, circuit_key: str, season: int, total_laps: int, cars: list[dict], *,
                        grid_source: str = "pace_order", allocation=None, weekend_laps=None,
                        event: str | int | None = None) -> tuple[RaceParams, str, list[str], list[TyreAdjustment],
                                                                 TyreBasis]:
    notes: list[str] = []
    era = models.era_of(season) if hasattr(models, "era_of") else None  # the season's car era
    cm, model_key = circuit_model_for(models, circuit_key)
    tyres, fuel, used_global, carried = circuit_tyres_and_fuel(models, cm, season, allocation)
    tyres, fuel, used_global, venue_notes = venue_and_weekend(models, cm, model_key, season, tyres, fuel,
                                                               used_global, weekend_laps)
    notes += ([carried] if carried else []) + venue_notes
    if model_key == "_all":
        notes.append(f"no fitted model for circuit {circuit_key}: all-circuit model used")
    elif used_global:
        notes.append(f"{circuit_key}: few races, all-circuit tyre and fuel models used")
    green = float(max(cm.pit_loss_s, 0.0))
    before_life, adjusted = ordered_compounds(models, tyres, season)
    life = tyre_life_for(models, cm, season, total_laps)
    compounds = with_tyre_life(before_life, life, green) if life else dict(before_life)
    basis = TyreBasis(compounds_before_life=dict(before_life), life=life, pit_loss_s=green)
    if adjusted:
        notes.append(f"tyre fit adjusted for physical ordering at {circuit_key}"
                     + (f" ({era} cars)" if era else "") + ": "
                     + "; ".join(a.describe() for a in adjusted))
        log.debug("%s %s: %d tyre parameters reordered", circuit_key, season, len(adjusted))
    compounds.update(WET_COMPOUNDS)
    noise = float(cm.lap_noise_sd_s)
    retire = float(np.clip(cm.retirement_prob, 0.0, 1.0))
    car_params = [
        CarParams(driver=c["driver"], team=c.get("team", ""), base_pace_s=float(c.get("base_pace_s", 0.0)),
                  lap_noise_sd_s=noise, retirement_prob=retire, grid_position=slot,
                  start_compound=c.get("start_compound", "MEDIUM"),
                  start_tyre_age_laps=int(c.get("start_tyre_age_laps", 0)))
        for slot, c in enumerate(cars, start=1)
    ]
    share = START_SPREAD_SHARE if grid_source == "lap1_order" else 1.0
    slot_loss = max(float(cm.per_grid_slot_loss_s), 0.0)
    base = float(cm.base_lap_time_s) + fuel * (total_laps - 1)  # the simulator's base: lap 1, full tank
    params = RaceParams(
        circuit_key=circuit_key, total_laps=int(total_laps), base_lap_time_s=base, cars=car_params,
        compounds=compounds, dry_compounds=DRY_COMPOUNDS, fuel_effect_s_per_lap=fuel,
        pit_loss_s=green, pit_loss_sc_s=neutral_loss(cm.pit_loss_sc_s, green, "sc"),
        pit_loss_vsc_s=neutral_loss(cm.pit_loss_vsc_s, green, "vsc"),
        pit_loss_sd_s=float(max(cm.pit_loss_sd_s, 0.0)),
        sc=neutralisation_params(cm.sc), vsc=neutralisation_params(cm.vsc),
        first_lap_loss_s=float(cm.first_lap_loss_s), per_grid_slot_loss_s=slot_loss,
        start_time_sd_s=float(share * max(cm.lap1_position_change_sd, 0.0) * max(slot_loss, 0.05)),
        # event rules (the editable table) and learned stint limits: every plan keeps them
        rules=rules_for(season, event, circuit_key, cm, total_laps=int(total_laps),
                        era=era),
        passing=passing_params(models, cm, era),
    )
    params.validate()
    return params, model_key, notes, adjusted, basis


def regrid(params: RaceParams, driver: str, grid: int) -> RaceParams:
    """A copy of ``params`` with ``driver`` moved to starting slot ``grid`` (others shifted)."""
    from dataclasses import replace

    n = params.n_cars
    if not 1 <= int(grid) <= n:
        raise InvalidRequestError(f"grid {grid} is impossible: valid slots are 1..{n}.",
                                  details={"valid_range": [1, n]})
    i = params.car_index(driver)
    order = sorted(range(n), key=lambda k: params.cars[k].grid_position)
    order.remove(i)
    order.insert(int(grid) - 1, i)
    slot = {k: s for s, k in enumerate(order, start=1)}
    cars = [replace(c, grid_position=slot[k]) for k, c in enumerate(params.cars)]
    return replace(params, cars=cars)


def build_race(
    season: int,
    event: str | int,
    *,
    models,
    store=None,
    pre_race: bool = True,
    driver: str | None = None,
    grid: int | None = None,
) -> BuiltRace:
    """Build :class:`RaceParams` for an event and say where every part came from.

    Args:
        season: championship year.
        event: round number, event name, circuit key or location (unstored races: a circuit).
        models: fitted :class:`~f1analyzer.models.race_models.RaceModels` (or a model set).
        store: the race store (default: the configured one).
        pre_race: use only races before the event for driver pace (honest backtests); False
            includes the event itself (replays).
        driver: a driver of the field (checked; required with ``grid``).
        grid: move ``driver`` to this starting slot (1..n_cars).
    """

    models = as_race_models(models)
    store = _store(store)
    season = int(season)
    row, stored = _resolve_event(season, event, models, store)
    rnd, key = int(row["round"]), str(row["circuit_key"])
    total = int(row["total_laps"])
    fs, fr = (season, rnd) if stored else row["_field_from"]
    from_models = row.get("_field_source") == "models"
    if from_models:
        (drivers, added), pos1, start = model_field(models, fs, fr), {}, {}
    else:
        drivers, pos1, start = _field(store, fs, fr)
    codes = [d["driver"] for d in drivers]
    where = f"{season} {row['event']}"
    if driver is not None and str(driver).strip().upper() not in codes:
        raise unknown_driver(driver, codes, where)
    if grid is not None and not 1 <= int(grid) <= len(codes):
        raise InvalidRequestError(
            f"grid {grid} is impossible: {where} has {len(codes)} cars, valid slots are 1..{len(codes)}.",
            details={"valid_range": [1, len(codes)]},
        )
    if grid is not None and driver is None:
        raise InvalidRequestError("grid needs a driver: give the driver whose starting slot it is.")

    ps, pr = row.get("_pace_at", (season, rnd))
    pace, notes = _pace_for(models, ps, pr if pre_race else pr + 1, drivers)
    if from_models:
        notes.insert(0, field_note(row, len(codes), added))
    # grid order: lap-1 order for a stored race, pace order otherwise
    if stored:
        order = sorted(codes, key=lambda c: (pos1.get(c, 99), pace[c]))
        grid_source = "lap1_order"
    else:
        order = sorted(codes, key=lambda c: pace[c])
        grid_source = "pace_order"
    if grid is not None:
        d = str(driver).strip().upper()
        order.remove(d)
        order.insert(int(grid) - 1, d)

    team = {d["driver"]: d["team"] for d in drivers}
    spec = []
    for code in order:
        comp, age = start.get(code, ("MEDIUM", 0)) if stored else ("MEDIUM", 0)
        if comp not in DRY_COMPOUNDS and (pre_race or comp not in WET_COMPOUNDS):
            comp, age = "MEDIUM", 0
        spec.append({"driver": code, "team": team.get(code, ""), "base_pace_s": pace[code],
                     "start_compound": comp, "start_tyre_age_laps": int(age)})
    params, model_key, more, adjusted, basis = _params_from_models(models, key, season, total, spec,
                                                            grid_source=grid_source, event=row["event"],
                                                            allocation=row.get("compounds"),
                                                            weekend_laps=sprint_laps_for(store, season, rnd, key, stored))
    notes += more
    reasons = [tyre_override_reason(key, models.era_of(season) if hasattr(models, "era_of") else "", adjusted)] \
        if adjusted else []
    cm = circuit_model_for(models, key)[0]
    reasons += new_venue_reasons(models, key, model_key)
    reasons += new_era_reasons(models, cm, season)
    info = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if not k.startswith("_")}
    log.debug("built %s %s: %d cars, %d laps, model %s", season, row["event"], params.n_cars, total, model_key)
    built = BuiltRace(
        params=params, season=season, round=rnd, event=str(row["event"]), circuit_key=key,
        stored=stored, grid_source=grid_source, model_circuit=model_key, pre_race=pre_race,
        notes=notes, info=info, tyre_adjustments=adjusted, confidence_reasons=reasons, tyre_basis=basis,
        stop_rates=models.neutral_stops_,
    )
    built.confidence_reasons.extend(pit_loss_reasons(cm, key))
    built.expected_first_stops = history_yardstick(store, built)
    built.params, built.tyre_basis, built.life_factor = pre_race_life(params, basis, built.expected_first_stops)
    if built.life_factor != 1.0:
        venue = c.name if (c := get_circuit(key)) else key
        built.notes.append(f"tyre life x{built.life_factor:.2f}: halfway to where the earlier races at {venue} "
                           "(same car era) made their first stops")
    return built


def race_params_for(season: int, event: str | int, *, models, store=None, pre_race: bool = True,
                    driver: str | None = None, grid: int | None = None) -> RaceParams:
    """:class:`RaceParams` of an event from the fitted models and the store (see :func:`build_race`).

    Example:
        >>> race = race_params_for(2024, "Monza", models=load_bundled_models(), store=store)
        >>> optimise(race, "LEC").best.strategy.describe()
    """
    return build_race(season, event, models=models, store=store, pre_race=pre_race,
                      driver=driver, grid=grid).params


__all__ = ["BuiltRace", "build_race", "race_params_for", "compound_params", "neutralisation_params",
           "circuit_model_for", "params_from_models", "regrid", "ordered_compounds", "pace_step_for",
           "circuit_tyres_and_fuel", "tyre_se", "event_allocation", "tyre_override_reason", "MIN_CIRCUIT_RACES",
           "START_SPREAD_SHARE", "ROOKIE_PACE_S"]
