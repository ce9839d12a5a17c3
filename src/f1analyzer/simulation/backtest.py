"""Backtest the strategy engine on a stored season, using only what was known before each race.

For every race of season ``S`` (``backtest(store, S)``):

1. **Recommendation.** The pre-race optimisation for the winner from its grid slot (the lap-1
   position: the data hold no grid): stops, compounds and the first-stop window, next to what the
   top-10 finishers really did. Wet races (``Race.is_wet()``) are flagged and left out of the
   strategy match rates: the optimiser plans dry races. The field's stops are pit stops: a tyre
   change under a red flag is free and no stop (``red_flag_changes``), so it counts in the
   compounds a car ran, not in its stops or its first stop. The field's stop counts are also
   given counting green-flag stops only (``green_stops``, a diagnostic: a stop under SC or VSC is
   a reaction, not the plan).
2. **Replay.** The race re-simulated from its real state at the end of lap 1 with every car on its
   real strategy, the real Safety Car laps and the real retirements (:func:`.replay.replay`: the
   race's events replayed, its plans and pace simulated); the Spearman rank correlation between
   the simulated order (by expected position) and the real classification, and the same over the
   cars that finished at their expected position if classified (``replay_spearman_classified``).
   The replay with sampled retirements is also given (``replay_spearman_sampled_retirements``,
   ``replay_winner_brier_sampled_retirements``): there a retirement lap 1 does not announce is
   luck that the order pays for.
3. **Advisor.** The live advisor asked at decision points of the top-10 finishers and compared
   with what they did: the lap before each real stop (did it say BOX?), the first lap of each
   Safety Car / VSC (did it box when they boxed, on that lap or the next?), and the middle of
   each driver's longest stint away from any stop (did it say STAY OUT?). Like a pit wall, the
   advisor knows that a SC/VSC is out, not how long it will stay: each simulated race draws its
   length from the fitted durations (:func:`~f1analyzer.simulation.core.engine.apply_state_status`),
   never the real one.
   Like race-day mode, it prices the tyres with today's life: every dry compound's life scaled
   by the race's first stints so far against the circuit's earlier races
   (:mod:`~f1analyzer.simulation.scenario.tyre_today`).

Models (``models_from``):

* ``"train"`` (default, honest): the physical models (tyres, fuel, pit loss, SC/VSC, start,
  overtaking, retirements) are fitted inside the backtest on the store's seasons ``< S`` only.
  Driver pace additionally uses the races of ``S`` *before* each event (``driver_pace(S, round)``
  only reads earlier rounds) from a pace fit on season ``S``; that fit's tyre coefficients are
  shrunk towards the season's all-circuit average, a negligible leak documented here.
* ``"asof"`` (honest, closest to the product, slower): every race runs on the models a pre-race
  answer for it uses — fitted on every race stored before it, the earlier rounds of ``S``
  included (:func:`~f1analyzer.models.asof.models_as_of`, cached under ``<models_dir>/asof``);
  one fit per race (~7–10 s on 2018–2024).
* a :class:`~f1analyzer.models.race_models.RaceModels` (e.g. the registry's): used as given;
  when it was trained on ``S`` itself the summary says ``"honest": false``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from f1analyzer.config import get_settings
from f1analyzer.errors import DataNotLoadedError, InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.models.asof import ASOF_DIR, models_as_of, span
from f1analyzer.simulation.planning.advisor import STAY_OUT, advise
from f1analyzer.simulation.scenario.build import build_race
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.scenario.field_plans import (
    TOP_N,
    modal_plan,
    pit_stops_only,
    plans_in_order,
    top_classified,
    venue_history,
)
from f1analyzer.simulation.scenario.replay import real_state, real_stops, replay, track_schedule
from f1analyzer.simulation.scenario.tyre_today import (
    first_stint_ends,
    life_evidence,
    with_life_factor,
)
from f1analyzer.simulation.planning.optimiser import MIN_STINT_LAPS
from f1analyzer.models.race_models import RaceModels
from f1analyzer.data.session import Race
from f1analyzer.models.bundled import as_race_models
from f1analyzer.simulation.seeds import task_seed

log = get_logger("simulation.backtest")

#: ``models_from`` of a backtest whose every race runs on the models a pre-race answer for it
#: would use (:func:`~f1analyzer.models.asof.models_as_of`: every race stored before it)
AS_OF = "asof"

def train_models_before(store, season: int, *, in_season_pace: bool = True):
    """RaceModels fitted on the store's seasons before ``season`` (+ in-season pace, see above)."""

    seasons = [s for s in store.seasons() if s < int(season)]
    if not seasons:
        raise DataNotLoadedError(
            f"A backtest of {season} trains on earlier seasons, and none is stored (stored: "
            f"{', '.join(map(str, store.seasons())) or 'none'}). Ingest earlier seasons or pass "
            "models_from='registry'."
        )
    t0 = time.perf_counter()
    laps = pd.concat([pd.DataFrame(store.laps(s)) for s in seasons], ignore_index=True)
    races = store.races()
    races = races[races["season"].isin(seasons)]
    stops = store.pit_stops()
    stops = stops[stops["season"].isin(seasons)]
    models = RaceModels().fit(laps, races, stops)
    if in_season_pace:
        cur_laps = pd.DataFrame(store.laps(season))
        cur_races = store.races(season)
        if len(cur_laps):
            cur = RaceModels().fit(cur_laps, cur_races, store.pit_stops(season))
            models.pace_ = pd.concat([models.pace_, cur.pace_], ignore_index=True)
    models.backtest_fit_seconds_ = round(time.perf_counter() - t0, 2)
    return models


def modal_match(modal: dict, options: list[dict]) -> dict:
    """How the recommended options (best first, each ``{"stops", "compounds",
    "first_stop_window"}``) compare with the race's modal plan."""
    best = options[0]
    win = best.get("first_stop_window")
    med = modal["median_first_stop_lap"]
    return {
        "stop_count": modal["stops"] is not None and best["stops"] == modal["stops"],
        "compound_sequence_in_top3": modal["compounds"] is not None
        and any(list(o["compounds"]) == modal["compounds"] for o in options[:3]),
        "first_stop_in_window": None if med is None or not win else bool(win[0] <= med <= win[1]),
        # a diagnostic, not the goal: the planned part of the field's plans (green-flag stops)
        "green_stop_count": None if modal.get("green_stops") is None else best["stops"] == modal["green_stops"],
        # the same against the field's planned count (``modal_plan``'s ``planned_stops``)
        "planned_stop_count": None if modal.get("planned_stops") is None else best["stops"] == modal["planned_stops"],
    }


def neutralisation_calls(race, sched, top: list[str], stops: dict, total_laps: int) -> list[dict]:
    """The real call of each of ``top`` still running at every SC/VSC start (its first neutralised
    lap ``p`` from lap 3 on, green before): ``{"driver", "lap": p - 1, "kind": "neutralisation",
    "real": "BOX" | "STAY"}``, BOX when the car stopped on lap ``p`` or ``p + 1``."""
    last_lap = dict(zip(race.results["driver"], race.results["laps"]))
    points = []
    for p in range(3, total_laps - 1):
        if sched[p - 1] != TrackStatus.GREEN and sched[p - 2] == TrackStatus.GREEN:
            for d in top:
                if last_lap.get(d, 0) < p:
                    continue
                boxed = any(lap in (p, p + 1) for lap, _ in stops.get(d, []))
                points.append({"driver": d, "lap": p - 1, "kind": "neutralisation",
                               "real": "BOX" if boxed else "STAY"})
    return points


def majority_calls(points: list[dict]) -> dict[int, str | None]:
    """lap → the majority real call (BOX / STAY) of the cars at that SC/VSC start, None on a tie."""
    out: dict[int, str | None] = {}
    for lap in {p["lap"] for p in points if p["kind"] == "neutralisation"}:
        real = [p["real"] for p in points if p["kind"] == "neutralisation" and p["lap"] == lap]
        n_box = sum(r == "BOX" for r in real)
        out[lap] = None if 2 * n_box == len(real) else ("BOX" if 2 * n_box > len(real) else "STAY")
    return out


def _decision_points(race, params, sched, top: list[str], stops: dict) -> list[dict]:
    total = params.total_laps
    stints = race.stints
    points = []
    for d in top:
        for lap, _ in stops.get(d, []):
            if 3 <= lap <= total - 2:
                points.append({"driver": d, "lap": lap - 1, "kind": "stop", "real": "BOX"})
    points += neutralisation_calls(race, sched, top, stops, total)
    for d in top:
        g = stints[stints["driver"] == d]
        if g.empty:
            continue
        longest = g.loc[g["laps"].idxmax()]
        mid = int((int(longest["start_lap"]) + int(longest["end_lap"])) // 2)
        near = any(abs(mid + 1 - lap) <= 3 for lap, _ in stops.get(d, []))
        if 3 <= mid <= total - 3 and not near and sched[mid] == TrackStatus.GREEN:
            points.append({"driver": d, "lap": mid, "kind": "mid_stint", "real": "STAY"})
    return points


def _advisor(race, built, sched, top: list[str], *, n_sims: int, seed: int) -> dict:
    params = built.params
    calls = []
    states: dict[int, object] = {}
    today: dict[int, object] = {}  # lap → params with the tyre life this race has shown so far
    stops = real_stops(race, params)
    # the pit wall's yardstick: where the circuit's earlier races made their first stops
    expected = built.expected_first_stops
    # a tyre change under a red flag is no call of the pit wall's: free, and made by everyone
    points = _decision_points(race, params, sched, top, pit_stops_only(race, stops))
    not_priced = 0  # decisions the advisor answers with "no call" (a wet track, no legal plan left)
    for pt in points:
        lap = pt["lap"]
        if lap not in states:
            states[lap] = real_state(race, params, lap, schedule=sched)
            if states[lap].track_status != TrackStatus.GREEN:
                # the pit wall knows a SC/VSC is out, not how long it will stay (as live)
                states[lap].neutral_laps_remaining, states[lap].neutral_laps_elapsed = None, 0
            running = {d for d, r in zip(params.drivers, states[lap].retired) if not r}
            ev = life_evidence(first_stint_ends(stops, sched, lap), expected, lap, running=running)
            today[lap] = with_life_factor(params, built.tyre_basis, ev.factor)
        st = states[lap]
        i = params.car_index(pt["driver"])
        if st.retired[i]:
            continue
        try:
            a = advise(today[lap], st, pt["driver"], n_sims=n_sims, seed=seed, stop_rates=built.stop_rates,
                       season=built.season)
        except InvalidRequestError as exc:  # a wet track, or no legal plan left from this state
            log.debug("advisor skipped %s lap %d: %s", pt["driver"], lap, exc.message)
            not_priced += 1
            continue
        call = "STAY" if a.action == STAY_OUT else "BOX"
        calls.append({**pt, "call": a.action, "agree": call == pt["real"],
                      "best_compound": a.best_compound,
                      "expected_positions_gained": round(a.expected_positions_gained, 3),
                      "margin_places": round(a.gain_vs_alternative, 3), "margin_se": round(a.gain_vs_alternative_se, 3),
                      "too_close_to_call": a.too_close_to_call, "field_box_rate": a.field_box_rate,
                      "decided_by": a.decided_by})

    # the majority call of the top-10 cars running at each SC/VSC start: what the pit wall did
    majority = majority_calls(points)
    for c in calls:
        if c["kind"] == "neutralisation":
            m = majority.get(c["lap"])
            c["majority"] = m
            c["agree_majority"] = None if m is None else ("STAY" if c["call"] == STAY_OUT else "BOX") == m

    def rate(kind: str | None) -> dict:
        sel = [c for c in calls if kind is None or c["kind"] == kind]
        return {"n": len(sel), "agreement": (round(float(np.mean([c["agree"] for c in sel])), 4)
                                             if sel else None)}

    return {"decisions": len(calls), "not_priced": not_priced, "agreement": rate(None)["agreement"],
            "at_real_stops": rate("stop"), "at_neutralisations": rate("neutralisation"),
            "mid_stint": rate("mid_stint"),
            "neutralisation_majority": _majority_rate(calls), "calls": calls}


def _majority_rate(calls: list[dict]) -> dict:
    sel = [c["agree_majority"] for c in calls if c.get("agree_majority") is not None]
    return {"n": len(sel), "agreement": round(float(np.mean(sel)), 4) if sel else None}


def backtest_race(store, season: int, rnd: int, models, *, opt_sims: int = 300, replay_sims: int = 500,
                  advisor_sims: int = 100, seed: int = 0, advisor: bool = True) -> dict:
    """One race of the backtest (see the module docstring); JSON-ready."""

    race = Race(season, rnd, store=store)
    results = race.results
    winner = str(results["driver"].iloc[0])
    if isinstance(models, str) and models == AS_OF:
        # the models a pre-race answer for this race uses: fitted on every race before it
        models, used = models_as_of(store, season, rnd, cache_dir=asof_cache_dir())
        seen = {"physical_models": used["models_fitted_on"], "driver_pace": used["models_fitted_on"],
                "honest": not used.get("hindsight", False)}
    else:
        seen = {"physical_models": f"seasons {span(models.seasons_)}",
                "driver_pace": (f"seasons before {season} + {season} rounds 1-{rnd - 1}" if rnd > 1
                                else f"seasons before {season}"),
                "honest": all(int(s) < int(season) for s in models.seasons_)}
    built = build_race(season, rnd, models=models, store=store, pre_race=True, driver=winner)
    built.data_used.update({**seen, "cutoff": {"season": int(season), "round": int(rnd)}})
    params = built.params
    grid = built.grid_of(winner)
    opt = optimise(params, winner, n_sims=opt_sims, seed=seed, top_k=3,
                   min_stint_laps=min(MIN_STINT_LAPS, params.total_laps // 4))
    best = opt.best
    top3 = [{"stops": o.n_stops, "compounds": list(o.strategy.compounds),
             "first_stop_window": list(o.pit_windows[0]) if o.pit_windows else None,
             "strategy": o.strategy.describe()} for o in opt.options[:3]]
    rec = {**top3[0], "pit_laps": list(best.strategy.pit_laps),
           "expected_position": round(best.expected_position, 3), "top3": top3}
    sched = track_schedule(race, params.total_laps)
    all_stops = real_stops(race, params)
    plans = plans_in_order(race, all_stops, sched)
    top10 = plans[:TOP_N]
    modal = modal_plan(top_classified(race, plans))
    win_real = top10[0]
    stops = pit_stops_only(race, all_stops).get(winner, [])
    rep = replay(built, race, from_lap=1, n_sims=replay_sims, seed=seed)
    rep_sampled = replay(built, race, from_lap=1, n_sims=replay_sims, seed=seed, retirements="sampled")
    out = {
        "round": int(rnd), "event": built.event, "circuit_key": built.circuit_key,
        "wet": bool(race.is_wet()), "winner": winner, "winner_grid": grid,
        "recommended": rec, "actual_top10": top10,
        "winner_match": {
            "stops": rec["stops"] == win_real["stops"],
            "compounds": [c for c in rec["compounds"]] == win_real["compounds"],
            "compound_set": set(rec["compounds"]) == set(win_real["compounds"]),
            "first_stop_in_window": bool(stops and rec["first_stop_window"]
                                         and rec["first_stop_window"][0] <= stops[0][0] <= rec["first_stop_window"][1]),
        },
        "modal_plan": modal, "modal_match": modal_match(modal, top3),
        "history_baseline": history_baseline(store, built.circuit_key, season, rnd, modal, rec["first_stop_window"]),
        "replay_order": rep["simulated_order"], "real_order": rep["real_order"],
        "replay_spearman": _r(rep["spearman"]), "replay_spearman_classified": _r(rep["spearman_classified"]),
        "replay_p_winner": rep["p_real_winner_wins"],
        "replay_winner_brier": _r(winner_brier(rep["drivers"], rep["real_winner"])),
        "replay_spearman_sampled_retirements": _r(rep_sampled["spearman"]),
        "replay_winner_brier_sampled_retirements": _r(winner_brier(rep_sampled["drivers"], rep_sampled["real_winner"])),
        "data_used": getattr(built, "data_used", {}) or {},
        "advisor": (_advisor(race, built, sched, [t["driver"] for t in top10], n_sims=advisor_sims, seed=seed)
                    if advisor else None),
        "notes": rep["notes"],
    }
    return out


def history_baseline(store, circuit_key: str, season: int, rnd: int, modal: dict,
                     window: list[int] | None) -> dict | None:
    """The naive forecast a reader would make without any model — "the field will do what it did
    here last time" — scored like the recommendation: the modal plan of the circuit's newest
    earlier dry race (any car era) as the plan (its one sequence as the top 3), its median first
    stop as the window's centre, the window as wide as the recommended one (so the two windows
    are compared at equal width). None when the store holds no earlier dry race there."""
    prev = next((h for h in venue_history(store, circuit_key, season, rnd, limit=5) if not h["wet"]), None)
    if prev is None or prev["stops"] is None:
        return None
    guess = naive_forecast(prev, (window[1] - window[0]) if window else 4)
    return {"race": {"season": prev["season"], "round": prev["round"], "event": prev["event"], "era": prev["era"]},
            "plan": guess, "match": modal_match(modal, [guess])}


def naive_forecast(prev: dict, width: int) -> dict:
    """An earlier race's modal plan (:func:`~.scenario.field_plans.modal_plan`) as a recommendation
    ``{"stops", "compounds", "first_stop_window"}``: the window ``width`` laps wide around its
    median first stop (None when it has none)."""
    med = prev["median_first_stop_lap"]
    lo = None if med is None else int(np.floor(med - width / 2))
    return {"stops": prev["stops"], "compounds": prev["compounds"] or [],
            "first_stop_window": None if lo is None else [lo, lo + width]}


def winner_brier(rows: list[dict], winner: str | None) -> float | None:
    """Multi-class Brier score of the simulated P(win) against the real winner:
    Σ_drivers (P(win) − 1[won])², 0 for a certain right call, 2 for a certain wrong one."""
    if winner is None or not rows:
        return None
    return float(sum((float(r["p_win"]) - (r["driver"] == winner)) ** 2 for r in rows))


def _r(x, nd: int = 4):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(float(np.mean(xs)), 4) if xs else None


def race_key(season: int, rnd: int) -> str:
    """The task key of one race of a backtest; its seed is ``task_seed(race_key(...), seed)``."""
    return f"backtest/{int(season)}/{int(rnd)}"


def backtest_rounds(store, season: int, rounds=None) -> list[int]:
    """The rounds of ``season`` a backtest runs (all stored ones, or ``rounds`` once checked)."""
    season = int(season)
    races = store.races(season)
    if races.empty:
        raise DataNotLoadedError(f"No races of {season} are stored. Stored seasons: "
                                 + (", ".join(map(str, store.seasons())) or "none") + ".")
    available = [int(r) for r in races["round"]]
    wanted = available if not rounds else [int(r) for r in rounds]
    bad = [r for r in wanted if r not in available]
    if bad:
        raise InvalidRequestError(
            f"Round(s) {', '.join(map(str, bad))} of {season} are not stored. Stored rounds: "
            + ", ".join(map(str, available)) + ".", details={"options": available})
    return wanted


def asof_cache_dir():
    """Where as-of model sets are cached (the same place pre-race answers look)."""
    return get_settings().models_dir / ASOF_DIR


def backtest_models(store, season: int, models_from="train") -> tuple[RaceModels | str, dict]:
    """The models a backtest of ``season`` runs on and the summary's ``models`` block
    (``"asof"``: the marker :data:`AS_OF`, each race fitting its own in :func:`backtest_race`)."""
    season = int(season)
    if isinstance(models_from, str) and models_from == AS_OF:
        return AS_OF, {"source": "as_of", "training_seasons": sorted(s for s in store.seasons() if s <= season),
                       "honest": True,
                       "data_used": {
                           "physical_models": f"per race: every race stored before it (earlier seasons and "
                                              f"the earlier rounds of {season}), as pre-race answers use",
                           "driver_pace": "the same models",
                           "knowledge": "none (the backtest does not narrate)"}}
    if isinstance(models_from, str) and models_from == "train":
        models = train_models_before(store, season)
        return models, {"source": "trained", "training_seasons": sorted(models.seasons_),
                        "in_season_pace": True, "fit_seconds": models.backtest_fit_seconds_, "honest": True,
                        "data_used": {
                            "physical_models": f"seasons {span(models.seasons_)} (all before {season})",
                            "driver_pace": f"{season} rounds before each race (from a pace fit on {season} "
                                           "whose tyre coefficients are shrunk to the season average)",
                            "knowledge": "none (the backtest does not narrate)"}}
    models = as_race_models(models_from)
    return models, {"source": "given", "training_seasons": sorted(models.seasons_),
                    "honest": all(s < season for s in models.seasons_),
                    "data_used": {"physical_models": f"seasons {span(models.seasons_)} (as given)",
                                  "driver_pace": f"{season} rounds before each race"}}


def summarise(out_races: list[dict], model_info: dict, seconds: float) -> dict:
    """The ``summary`` of a backtest from its races (any subset, in round order)."""
    dry = [r for r in out_races if not r["wet"]]
    calls = [c for r in out_races if r["advisor"] for c in r["advisor"]["calls"]]
    majority = [c["agree_majority"] for c in calls if c.get("agree_majority") is not None]
    scored_dry = [c for r in dry if r["advisor"] for c in r["advisor"]["calls"] if c.get("agree_majority") is not None]
    majority_dry = [c["agree_majority"] for c in scored_dry]
    # the field's habit alone (models.neutral_stops) on the same calls: the yardstick of the
    # "too close to call" rule, which uses it only where the simulation cannot separate the options
    habit_dry = [(c["field_box_rate"] >= 0.5) == (c["majority"] == "BOX") for c in scored_dry
                 if c.get("field_box_rate") is not None]

    base = [r for r in dry if r.get("history_baseline")]
    known_plans = [r["modal_plan"] for r in dry
                   if r["modal_plan"]["stops"] is not None and r["modal_plan"].get("planned_stops") is not None]

    def rate(matches: list[dict], key: str):
        return _mean([None if m.get(key) is None else float(m[key]) for m in matches])

    def modal_rate(key: str, races: list[dict] = dry):
        return rate([r["modal_match"] for r in races], key)

    def base_rate(key: str):
        return rate([r["history_baseline"]["match"] for r in base], key)

    def agree(kind=None):
        sel = [c["agree"] for c in calls if kind is None or c["kind"] == kind]
        return round(float(np.mean(sel)), 4) if sel else None

    return {
        "races": len(out_races), "dry_races": len(dry),
        "wet_races": [r["round"] for r in out_races if r["wet"]],
        "mean_replay_spearman": _mean([r["replay_spearman"] for r in out_races]),
        "mean_replay_spearman_dry": _mean([r["replay_spearman"] for r in dry]),
        "mean_replay_spearman_classified_dry": _mean([r["replay_spearman_classified"] for r in dry]),
        "mean_replay_spearman_sampled_retirements_dry": _mean([r.get("replay_spearman_sampled_retirements")
                                                              for r in dry]),
        "mean_p_real_winner": _mean([r["replay_p_winner"] for r in out_races]),
        "winner_stops_match_rate": _mean([float(r["winner_match"]["stops"]) for r in dry]),
        "winner_compounds_match_rate": _mean([float(r["winner_match"]["compounds"]) for r in dry]),
        "winner_compound_set_match_rate": _mean([float(r["winner_match"]["compound_set"]) for r in dry]),
        "winner_first_stop_in_window_rate": _mean([float(r["winner_match"]["first_stop_in_window"]) for r in dry]),
        "advisor_decisions": len(calls),
        "advisor_decisions_not_priced": sum(int(r["advisor"].get("not_priced", 0)) for r in out_races
                                            if r["advisor"]),
        "advisor_agreement": agree(),
        "advisor_box_rate_at_real_stops": agree("stop"),
        "advisor_agreement_at_neutralisations": agree("neutralisation"),
        "advisor_stay_rate_mid_stint": agree("mid_stint"),
        "modal_stop_count_match_rate": modal_rate("stop_count"),
        "modal_compound_sequence_in_top3_rate": modal_rate("compound_sequence_in_top3"),
        "modal_first_stop_in_window_rate": modal_rate("first_stop_in_window"),
        "modal_green_stop_count_match_rate": modal_rate("green_stop_count"),
        "modal_planned_stop_count_match_rate": modal_rate("planned_stop_count"),
        # how far a pre-race stop count can go: the share of races whose modal stop count is the
        # field's planned count (the rest were made by the race's SC/VSCs, which no plan foresees)
        "modal_stop_count_is_planned_rate": _mean([float(m["stops"] == m["planned_stops"]) for m in known_plans]),
        # the naive "as at this circuit last time" forecast on the same races (history_baseline)
        "history_baseline_races": len(base),
        "history_baseline_stop_count_match_rate": base_rate("stop_count"),
        "history_baseline_compound_sequence_rate": base_rate("compound_sequence_in_top3"),
        "history_baseline_first_stop_in_window_rate": base_rate("first_stop_in_window"),
        "modal_rates_on_history_baseline_races": {
            k: modal_rate(k, base) for k in ("stop_count", "compound_sequence_in_top3", "first_stop_in_window")},
        "replay_winner_brier": _mean([r["replay_winner_brier"] for r in out_races]),
        "replay_winner_brier_dry": _mean([r["replay_winner_brier"] for r in dry]),
        "replay_winner_brier_sampled_retirements": _mean([r.get("replay_winner_brier_sampled_retirements")
                                                          for r in out_races]),
        "advisor_neutralisation_agreement": round(float(np.mean(majority)), 4) if majority else None,
        "advisor_neutralisation_decisions": len(majority),
        "advisor_neutralisation_agreement_dry": round(float(np.mean(majority_dry)), 4) if majority_dry else None,
        "advisor_neutralisation_decisions_dry": len(majority_dry),
        "advisor_neutralisation_too_close_dry": sum(bool(c.get("too_close_to_call")) for c in scored_dry),
        "advisor_neutralisation_decided_by_field_dry": sum(c.get("decided_by") == "field_history" for c in scored_dry),
        "field_history_neutralisation_agreement_dry": round(float(np.mean(habit_dry)), 4) if habit_dry else None,
        "models": model_info,
        "seconds": round(float(seconds), 1),
    }


def backtest(store, season: int, *, rounds=None, models_from="train", opt_sims: int = 300,
             replay_sims: int = 500, advisor_sims: int = 100, seed: int = 0, advisor: bool = True) -> dict:
    """Backtest every stored race of ``season`` (or ``rounds``) here, one race after the other;
    JSON-ready (see module docstring). Each race runs with ``task_seed(race_key(season, round),
    seed)``, so the batch executors (``f1analyzer backtest --executor ...``, one task per race)
    give exactly this answer.

    Returns:
        ``{"season", "races": [{"round", "event", "recommended": {"stops", "compounds",
        "first_stop_window"}, "actual_top10": [{"driver", "stops", "compounds"}], "replay_order",
        "replay_spearman", "advisor": {...}, ...}], "summary": {...}}``.
    """
    season = int(season)
    wanted = backtest_rounds(store, season, rounds)
    t0 = time.perf_counter()
    models, model_info = backtest_models(store, season, models_from)
    out_races = []
    for rnd in wanted:
        log.info("backtest %s round %s", season, rnd)
        out_races.append(backtest_race(store, season, rnd, models, opt_sims=opt_sims, replay_sims=replay_sims,
                                       advisor_sims=advisor_sims, seed=task_seed(race_key(season, rnd), seed),
                                       advisor=advisor))
    return {"season": season, "races": out_races,
            "summary": summarise(out_races, model_info, time.perf_counter() - t0)}


__all__ = ["backtest", "backtest_race", "backtest_rounds", "backtest_models", "summarise", "race_key",
           "train_models_before", "modal_plan", "modal_match", "history_baseline", "naive_forecast", "winner_brier"]
