"""Live pit-wall advisor: box now or stay out?

Given a :class:`~.state.RaceState` (lap, track status, positions, gaps, compounds, tyre ages,
stops made) and a driver, the advisor races the rest of the event from that state in the Monte
Carlo engine for each option, on common random numbers:

* ``STAY_OUT`` - the driver's best remaining plan that does not stop on the next lap;
* ``BOX_<COMPOUND>_TO_FLAG`` - box on the next lap onto each allocated dry compound and run it
  to the flag, whenever that is legal (two-compound rule with the compounds already used): the
  option a strategist always weighs, even when the screen would never pick it;
* ``BOX_<COMPOUND>`` - box on the next lap onto each compound, then the best rest-of-race plan
  with one or two more stops.

Every other car follows its own best remaining plan and, like real teams, boxes early under a
SC/VSC when its planned stop is close (``field_sc_window_laps``). The option with the best
expected finishing position wins; a winning stop while a SC/VSC is out is reported as
``BOX_UNDER_SC`` (the cheap stop), otherwise ``BOX_NOW``.

**Too close to call.** When the best box and the best stay are within :data:`TOO_CLOSE_SE` Monte
Carlo standard errors of each other, or their difference is under :data:`SMALL_EFFECT` of its
race-to-race spread (a small effect, whatever the number of simulations: at the race-day default of
100 the two bounds coincide), the simulation cannot separate them (``too_close_to_call``).
Under a SC/VSC the call is then the one most cars made in that spot in the races the models saw
(``field_box_rate`` ≥ 0.5: box; :class:`~f1analyzer.models.neutral_stops.NeutralStopRates`, by
neutralisation kind, race left, tyre age, compound, stops made and position) and ``decided_by``
says ``field_history``. Under green, or without that history, the simulation's better option
stands, flagged. Backtests of 2022–2024 (dry races, models of earlier seasons): agreement with the
top-ten majority at SC/VSC starts 0.674 / 0.647 / 0.683 with the simulation alone, 0.726 / 0.693
/ 0.717 with this rule (``benchmarks/RESULTS.md``, eleventh session).

Under a **red flag** (``RaceState.red_flag``: the race suspended, the cars in the pit lane) a
tyre change costs nothing and loses no place, and every team with a stop still to make makes it
then (2023 Albert Park, lap 8: the top ten changed to HARDs in the suspension). The options are
priced so: the change on the lap being run is free in the engine; every other car with a stop
left brings it to that lap; a winning change is ``BOX_UNDER_RED``. The field's SC/VSC habit is
not asked (it counts no red-flag change).

On a **wet track** — more than half of the running cars on INTERMEDIATE or WET tyres — no call is
priced (:func:`wet_track_reason`; :class:`~f1analyzer.errors.InvalidRequestError` saying so). The
simulator races dry tyres on a dry track: its wet-tyre parameters are illustrative offsets against
a dry MEDIUM, with no model of how wet the track is or how fast it dries, so every option that
fits slicks would win by those offsets (2022 Marina Bay, lap 21, the whole field on 21-lap-old
intermediates under a SC: "box onto HARD to the flag" for every car; the top ten stayed out and
went to slicks ten laps later). Calls resume once most of the field is on slicks, and a car still
on wet tyres then gets the dry options (the crossover made).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from f1analyzer.data.schema import WET_COMPOUNDS
from f1analyzer.errors import InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.models.neutral_stops import NeutralStopRates, NeutralStopSpot
from f1analyzer.simulation.core.draws import draw
from f1analyzer.simulation.core.engine import apply_state_status, simulate_groups
from f1analyzer.simulation.core.params import RaceParams, TrackStatus
from f1analyzer.simulation.planning.screen import Screen
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS, Strategy

log = get_logger("simulation.advisor")

BOX_NOW = "BOX_NOW"
STAY_OUT = "STAY_OUT"
BOX_UNDER_SC = "BOX_UNDER_SC"
#: a tyre change while the race is suspended (red flag): free
BOX_UNDER_RED = "BOX_UNDER_RED"
#: a box/stay margin within this many Monte Carlo standard errors is too close to call
TOO_CLOSE_SE = 2.0
#: ... or within this share of the standard deviation of the per-race difference (an effect size:
#: more simulations shrink the standard error, not how small the difference is)
SMALL_EFFECT = 0.2


def wet_track_reason(state: RaceState) -> str | None:
    """Why no call can be priced from ``state`` (see the module docstring), or None on a dry
    track: more than half of the running cars on wet-weather tyres."""
    retired = state.retired if state.retired is not None else [False] * len(state.compound)
    running = [str(c).upper() for c, r in zip(state.compound, retired) if not r]
    wet = sum(c in WET_COMPOUNDS for c in running)
    if not running or 2 * wet <= len(running):
        return None
    return (f"Wet track: {wet} of {len(running)} running cars are on wet-weather tyres. The simulator "
            "has no model of a wet or drying track, so box/stay calls are not priced until most of "
            "the field is on slicks.")


def continuation_plan(
    race: RaceParams,
    state: RaceState,
    car: int,
    *,
    first_stop: tuple[int, str] | None = None,
    first_stop_min: int | None = None,
    sc_window_laps: int = 0,
    later_stops: tuple[int, ...] = (0, 1),
) -> Strategy:
    """Best remaining plan of ``car`` from ``state`` (screened, clean air).

    ``first_stop=(lap, compound)`` forces the next stop, followed by ``later_stops`` more
    (``(0,)``: to the flag on that set); ``first_stop_min`` forbids stopping before that lap.
    Raises InvalidRequestError when no legal plan is left.
    """
    current = str(state.compound[car]).upper()
    used = state.used_names(car)
    # the race's tyre rules count the stops already made and the current set's age (Screen)
    done = int(state.stops_done[car])
    if first_stop is not None:
        lap, comp = int(first_stop[0]), str(first_stop[1]).upper()
        cap = race.rules.cap_laps(current, int(state.tyre_age_laps[car]), learned=False)
        if cap is not None and lap - state.lap > max(cap, 1):  # a set at its cap boxes at the first chance
            raise InvalidRequestError(f"{current} set cannot run to lap {lap}: {cap} laps left under the event rule.")
        plans = Screen(race, from_lap=lap).best_plans(
            start_compound=comp, start_age_laps=0, compounds_used=used + [comp], stops=later_stops,
            step=2, stops_done=done + 1, sc_window_laps=sc_window_laps,
        )
        if not plans:
            raise InvalidRequestError(f"No legal plan boxing on lap {lap} onto {comp} "
                                      f"with {'/'.join(map(str, later_stops))} more stop(s).")
        rest = plans[0].strategy
        return Strategy(current, ((lap, comp), *rest.stops), sc_window_laps)
    plan = Screen(race, from_lap=state.lap).best_plans(
        start_compound=current, start_age_laps=int(state.tyre_age_laps[car]),
        compounds_used=used, stops=(0, 1, 2), step=2, first_stop_min=first_stop_min, stops_done=done,
        sc_window_laps=sc_window_laps,  # early SC stops need room under the stint caps
    )[0].strategy
    return Strategy(plan.start_compound, plan.stops, sc_window_laps)


def continuation_plans(race: RaceParams, state: RaceState, *, sc_window_laps: int = 0) -> list[Strategy]:
    """Best remaining plan of every car (retired cars: no stops)."""
    retired = state.retired if state.retired is not None else [False] * race.n_cars
    out = []
    for c in range(race.n_cars):
        if retired[c]:
            out.append(Strategy(str(state.compound[c]).upper()))
        else:
            out.append(continuation_plan(race, state, c, sc_window_laps=sc_window_laps))
    return out


@dataclass
class AdviceOption:
    label: str  # "STAY_OUT", "BOX_<COMPOUND>" or "BOX_<COMPOUND>_TO_FLAG"
    strategy: Strategy
    expected_position: float
    prob_gain: float
    race_time_p50_s: float
    #: the compound fitted by boxing now (None for STAY_OUT)
    compound: str | None = None
    #: boxing now and running that set to the flag
    to_flag: bool = False
    #: P(win), P(podium), expected points, E[pos] if classified, P(DNF) (SimResult.outcomes)
    outcomes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"label": self.label, "strategy": self.strategy.describe(),
                "expected_position": self.expected_position, "prob_gain": self.prob_gain,
                "race_time_p50_s": self.race_time_p50_s, "compound": self.compound,
                "to_flag": self.to_flag, **self.outcomes}


@dataclass
class Advice:
    """The call for ``driver`` at the end of ``lap``.

    ``expected_positions_gained`` = current position - expected finish with the recommended
    option; ``prob_gain`` = P(finishing ahead of the current position) with it;
    ``gain_vs_alternative`` = how many places (in expectation) the call is worth against the
    best option of the other kind (stay vs. box).
    """

    driver: str
    lap: int
    track_status: str
    action: str
    best_compound: str | None
    current_position: int
    expected_position: float
    expected_positions_gained: float
    prob_gain: float
    gain_vs_alternative: float
    options: list[AdviceOption] = field(default_factory=list)
    #: the race's tyre rules every option keeps (event limits, learned stint limits)
    rules: list[str] = field(default_factory=list)
    #: Monte Carlo standard error of ``gain_vs_alternative`` (places; the options share random
    #: numbers, so it is the spread of the per-race difference, not of each option alone)
    gain_vs_alternative_se: float = float("nan")
    #: the best box and the best stay are within :data:`TOO_CLOSE_SE` standard errors, or
    #: :data:`SMALL_EFFECT` standard deviations of the per-race difference, of each other
    too_close_to_call: bool = False
    #: under a SC/VSC: how often cars in this spot boxed in the races the models saw
    #: (:class:`~f1analyzer.models.neutral_stops.NeutralStopRates`); None when not known
    field_box_rate: float | None = None
    #: "simulation" (the better expected position), or "field_history" (too close to call under a
    #: SC/VSC: the call most cars in this spot made)
    decided_by: str = "simulation"

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["options"] = [o.to_dict() for o in self.options]
        return d

    def close_call(self) -> dict:
        """What every answer carrying this call says about its closeness (live, race day)."""
        return {"too_close_to_call": self.too_close_to_call, "field_box_rate": self.field_box_rate,
                "decided_by": self.decided_by, "close_call_note": close_call_note(self)}


def advise(
    race: RaceParams,
    state: RaceState,
    driver: str,
    *,
    n_sims: int = 400,
    seed: int | None = 0,
    field_sc_window_laps: int = SC_OPPORTUNISM_LAPS,
    field_plans: list[Strategy] | None = None,
    stop_rates: NeutralStopRates | None = None,
    season: int | None = None,
) -> Advice:
    """BOX_NOW / STAY_OUT / BOX_UNDER_SC for ``driver`` from ``state`` (see module docstring).

    ``field_plans``: every car's remaining plan when the caller already has them
    (:func:`continuation_plans` with ``field_sc_window_laps``; race-day mode advises the whole
    field from one state and screens it once). ``stop_rates`` and ``season``: the field's box rate
    at SC/VSC starts (``BuiltRace.stop_rates``), for a call too close to call."""
    race.validate()
    state.validate(race)
    wet = wet_track_reason(state)
    if wet is not None:
        raise InvalidRequestError(wet)
    i = race.car_index(driver)
    if state.retired is not None and state.retired[i]:
        raise InvalidRequestError(f"{race.drivers[i]} has retired; advice needs a running car.")
    if n_sims < 1:
        raise InvalidRequestError(f"n_sims must be at least 1, got {n_sims}.")
    if field_plans is None:
        field_plans = continuation_plans(race, state, sc_window_laps=field_sc_window_laps)
    if state.red_flag:
        field_plans = changes_in_suspension(field_plans, state)
    options: list[tuple[str, Strategy, str | None, bool]] = []
    try:
        options.append((STAY_OUT, continuation_plan(race, state, i, first_stop_min=state.lap + 2),
                        None, False))
    except InvalidRequestError:
        pass
    box_lap = state.lap + 1
    if box_lap <= race.total_laps - 1:
        for comp in race.rules.allowed(race.dry_compounds):
            for label, later, to_flag in ((f"BOX_{comp}_TO_FLAG", (0,), True), (f"BOX_{comp}", (1, 2), False)):
                try:
                    plan = continuation_plan(race, state, i, first_stop=(box_lap, comp), later_stops=later)
                except InvalidRequestError:
                    continue
                if to_flag and plan.n_stops != 1:
                    continue  # the screen added stops (a cap or a rule): not a legal run to the flag
                options.append((label, plan, comp, to_flag))
    if not options:
        raise InvalidRequestError(f"No legal plan is left for {race.drivers[i]} from lap {state.lap}.")
    groups = []
    for _, plan, _, _ in options:
        g = list(field_plans)
        g[i] = plan
        groups.append(g)
    draws = draw(race, n_sims, seed, first_lap=state.lap + 1)
    apply_state_status(draws, state, race)
    results = simulate_groups(race, groups, draws, state=state)
    scored = []
    finish = {}
    for (label, plan, comp, to_flag), res in zip(options, results):
        finish[label] = res.finish_position[:, i].astype(float)
        scored.append(AdviceOption(label, plan, res.expected_position(i), res.prob_gain_positions(i),
                                   float(res.time_quantiles(i, (0.5,))[0]), compound=comp,
                                   to_flag=to_flag, outcomes=res.outcomes(i)))
    scored.sort(key=lambda o: (round(o.expected_position, 6), o.race_time_p50_s))
    neutral = TrackStatus(state.track_status) != TrackStatus.GREEN
    rate = field_box_rate(stop_rates, race, state, i, season) if neutral and not state.red_flag else None
    best = scored[0]
    boxing = best.label != STAY_OUT
    alt, se = _margin(scored, finish, boxing)
    sd = se * np.sqrt(n_sims)
    close = bool(np.isfinite(alt) and np.isfinite(se) and abs(alt) <= max(TOO_CLOSE_SE * se, SMALL_EFFECT * sd))
    decided_by = "simulation"
    if close and rate is not None and (rate >= 0.5) != boxing:
        # the simulation cannot separate the two: the call most cars made in this spot
        boxing, decided_by = not boxing, "field_history"
        best = next(o for o in scored if (o.label != STAY_OUT) == boxing)
        alt, se = _margin(scored, finish, boxing)
    action = (BOX_UNDER_RED if state.red_flag else BOX_UNDER_SC if neutral else BOX_NOW) if boxing else STAY_OUT
    current = int(state.position[i])
    log.debug("advise %s lap %d: %s (%s)", race.drivers[i], state.lap, action, decided_by)
    return Advice(
        driver=race.drivers[i], lap=state.lap,
        track_status="RED" if state.red_flag else TrackStatus(state.track_status).name,
        action=action, best_compound=best.compound if boxing else None,
        current_position=current, expected_position=best.expected_position,
        expected_positions_gained=float(current - best.expected_position),
        prob_gain=best.prob_gain, gain_vs_alternative=float(alt),
        options=[best] + [o for o in scored if o is not best],
        rules=race.rules.describe(), gain_vs_alternative_se=se, too_close_to_call=close,
        field_box_rate=None if rate is None else round(rate, 4), decided_by=decided_by,
    )


def changes_in_suspension(plans: list[Strategy], state: RaceState) -> list[Strategy]:
    """Every plan with its next stop (after ``state.lap``) brought to the lap being run: during a
    red flag the change is free, so a team with a stop left makes it then (the stint after it
    runs longer). Plans with no stop left are kept."""
    now = state.lap + 1
    out = []
    for p in plans:
        k = next((j for j, (lap, _) in enumerate(p.stops) if lap > state.lap), None)
        if k is None or p.stops[k][0] == now:
            out.append(p)
            continue
        stops = (*p.stops[:k], (now, p.stops[k][1]), *p.stops[k + 1:])
        out.append(Strategy(p.start_compound, stops, p.sc_window_laps, p.start_age_laps))
    return out


def close_call_note(a: Advice) -> str | None:
    """One sentence on a call too close to call (None otherwise), with the numbers it used."""
    if not a.too_close_to_call:
        return None
    boxing = a.action != STAY_OUT
    chosen, other = ("boxing", "staying out") if boxing else ("staying out", "boxing")
    margin, se = a.gain_vs_alternative, a.gain_vs_alternative_se
    rate = ("" if a.field_box_rate is None else
            f"{100 * a.field_box_rate:.0f}% of cars in this spot boxed in the races the models saw")
    if a.decided_by == "field_history":
        return (f"Too close to call: the simulation has {other} ahead by {abs(margin):.2f} ± {se:.2f} expected "
                f"places, too small a difference to call; {rate}, so the call is {chosen}.")
    return (f"Too close to call: {chosen} is ahead by {margin:.2f} ± {se:.2f} expected places, too small a "
            f"difference to call" + (f"; {rate}." if rate else "."))


def _margin(scored: list[AdviceOption], finish: dict, boxing: bool) -> tuple[float, float]:
    """(E[pos] of the best option of the other kind − E[pos] of the best of this kind, its Monte
    Carlo standard error); NaN when there is no option of the other kind."""
    mine = next(o for o in scored if (o.label != STAY_OUT) == boxing)
    others = [o for o in scored if (o.label != STAY_OUT) != boxing]
    if not others:
        return float("nan"), float("nan")
    diff = finish[others[0].label] - finish[mine.label]
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else float("nan")
    return float(others[0].expected_position - mine.expected_position), se


def field_box_rate(stop_rates: NeutralStopRates | None, race: RaceParams, state: RaceState, car: int,
                   season: int | None) -> float | None:
    """How often cars in ``car``'s spot boxed at a SC/VSC start in the races the models saw
    (None without rates or season, or off a dry compound)."""
    if stop_rates is None or season is None:
        return None
    kind = "SC" if TrackStatus(state.track_status) == TrackStatus.SC else "VSC"
    used = set(state.used_names(car))
    spot = NeutralStopSpot(kind=kind, lap=int(state.lap), total_laps=int(race.total_laps),
                           position=int(state.position[car]), compound=str(state.compound[car]).upper(),
                           tyre_age_laps=float(state.tyre_age_laps[car]), stops_done=int(state.stops_done[car]),
                           dry_compounds_used=max(len(used & set(race.dry_compounds)), 1), season=int(season))
    return stop_rates.rate(spot)
