"""Race-day mode: every lap, for every running car, the pit call, where it would rejoin and who
threatens it (issue 14). Sessions that follow a feed live in :mod:`.raceday_sessions`.

A feed (:mod:`f1analyzer.data.feeds`) hands over :class:`RaceSnapshot`\\ s; :class:`FieldAdvisor`
turns each into a simulator :class:`RaceState` of the race's :class:`BuiltRace` (built pre-race:
models fitted on the races before it, no hindsight - the same build as the pre-race optimiser)
and computes, per running car:

* **the call**: BOX_NOW / BOX_UNDER_SC / BOX_UNDER_RED (a free change while the race is
  suspended) / STAY_OUT, or BOX_IN_K (its best plan boxes within the
  next ``window_laps`` laps), with the margin in expected places against the best option of the
  other kind and that margin's Monte Carlo standard error (:func:`advise`, the same models and
  engine as the optimiser);
* **rejoin projection** if it boxes now, under the current status (:mod:`...rejoin`);
* **threats**: undercut from the car behind, undercut on the car ahead.

Budget: a full-field update must fit well inside a lap (1 s p95 on a 2-core machine, see
``benchmarks/bench_raceday.py``). The field's best remaining plans (closed-form screen) are
shared by every car and re-screened only where they may have changed (:class:`PlanCache`);
the full Monte Carlo advice then runs for at most
``max_advised`` cars, those whose window is closest (under a SC/VSC: those for which the stop
is cheapest, i.e. a free stop, nearest the front first). The other cars carry the screen's call
(``source: "screen"``, no margin).

On a wet track (most of the running field on intermediates or wets) a lap has no calls and its
``note`` says why (:func:`~f1analyzer.simulation.planning.advisor.wet_track_reason`): the
simulator cannot price slicks against wet tyres on a wet or drying track.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from f1analyzer.app.common import _build, _r, plain, unpack_models
from f1analyzer.app.live import positions_from_gaps
from f1analyzer.app.requests import GenerateRequest
from f1analyzer.data.feeds.base import RaceSnapshot
from f1analyzer.errors import InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.core.state import RaceState, status_from_name
from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS, Strategy
from f1analyzer.simulation.planning.advisor import (
    BOX_NOW,
    BOX_UNDER_RED,
    BOX_UNDER_SC,
    STAY_OUT,
    advise,
    continuation_plan,
    continuation_plans,
    wet_track_reason,
)
from f1analyzer.simulation.planning.rejoin import pit_threats, rejoin_projection
from f1analyzer.simulation.scenario.build import BuiltRace
from f1analyzer.simulation.scenario.tyre_today import (
    LifeEvidence,
    life_evidence,
    with_life_factor,
)

log = get_logger("app.raceday")

BOX_IN = "BOX_IN_K"
#: a change of today's tyre-life factor smaller than this keeps the race's tyres (and the screened plans)
LIFE_FACTOR_STEP = 0.02
#: the calls that stop now
BOX_CALLS = (BOX_NOW, BOX_UNDER_SC, BOX_UNDER_RED)


@dataclass
class StateTracker:
    """What a feed's snapshots do not repeat: the last known compound of each car, and for how
    many snapshots the current neutralisation has been out (to expect how long it stays)."""

    compounds: dict[str, str] = field(default_factory=dict)
    status: str = "GREEN"
    status_laps: int = 0
    last_lap: int = 0
    #: driver → (lap its first stop was seen on, whether the track was green): today's tyre life;
    #: None for a car that had already stopped when the feed was joined (its stop lap is unknown)
    first_stops: dict[str, tuple[int, bool] | None] = field(default_factory=dict)

    def update(self, snap: RaceSnapshot) -> None:
        joined_late = self.last_lap == 0 and snap.lap > 1
        if snap.track_status != self.status:
            self.status, self.status_laps = snap.track_status, 1
        elif snap.lap != self.last_lap:
            self.status_laps += 1
        self.last_lap = snap.lap
        for c in snap.cars:
            if c.compound:
                self.compounds[c.driver] = c.compound
            if c.stops and c.driver not in self.first_stops:
                self.first_stops[c.driver] = None if joined_late else (int(snap.lap), snap.track_status == "GREEN")


def snapshot_state(built: BuiltRace, snap: RaceSnapshot, tracker: StateTracker | None = None) -> RaceState:
    """The simulator's :class:`RaceState` of ``snap`` (cars in ``built.params.cars`` order).

    Cars the feed does not list are retired; a compound the race has no parameters for (None,
    UNKNOWN) is the car's last known one, else MEDIUM; a car ``in_pit`` gets its stop's loss
    under the current status added to its gap (the feed's gap is taken in the pit lane); gaps
    the feed does not know follow the car ahead by ``min_gap_s``.
    """
    params = built.params
    tracker = tracker or StateTracker()
    if not 1 <= snap.lap <= params.total_laps - 1:
        raise InvalidRequestError(f"lap {snap.lap} has no calls left: laps 1..{params.total_laps - 1} of "
                                  f"{built.event} can start a simulation.")
    status, red = status_from_name(snap.track_status)
    loss = stop_loss_s(params, status, red_flag=red)
    by_driver = {c.driver: c for c in snap.cars}
    n = params.n_cars
    comp, age, stops, used, retired, gaps, pos = [], [], [], [], [], [], []
    prev_gap = 0.0
    feed_order = sorted(range(n), key=lambda i: by_driver[params.drivers[i]].position
                        if params.drivers[i] in by_driver else 10_000 + i)
    gap_of: dict[int, float] = {}
    for i in feed_order:
        c = by_driver.get(params.drivers[i])
        if c is None or c.retired:
            continue
        g = c.gap_to_leader_s if c.gap_to_leader_s is not None else prev_gap + params.min_gap_s
        prev_gap = max(float(g), prev_gap)
        gap_of[i] = float(g) + (loss if c.in_pit else 0.0)
    for i, d in enumerate(params.drivers):
        c = by_driver.get(d)
        known = c.compound if c is not None and c.compound in params.compounds else tracker.compounds.get(d)
        name = known if known in params.compounds else "MEDIUM"
        comp.append(name)
        age.append(max(int(c.tyre_life), 0) if c is not None and c.tyre_life is not None else 0)
        stops.append(int(c.stops) if c is not None else 0)
        used.append(sorted({u for u in (c.compounds_used if c is not None else ()) if u in params.compounds} | {name}))
        out = c is None or c.retired
        retired.append(out)
        gaps.append(gap_of.get(i, 0.0))
        pos.append(feed_order.index(i) + 1)
    state = RaceState(lap=int(snap.lap), position=pos, gap_to_leader_s=gaps, compound=comp, tyre_age_laps=age,
                      stops_done=stops, track_status=status, compounds_used=used, retired=retired, red_flag=red)
    if status != TrackStatus.GREEN:
        # how long it stays is drawn per simulated race from the fitted durations, given its laps so far
        state.neutral_laps_remaining, state.neutral_laps_elapsed = None, max(tracker.status_laps - 1, 0)
    positions_from_gaps(state, params, {})  # positions follow the gaps (a car in the pits drops back)
    state.validate(params)
    return state


class PlanCache:
    """Every car's best remaining plan, screened again only when it may have changed.

    Screening the field is most of a lap's work, and a plan rarely changes from one lap to the
    next: a car's plan is reused while its tyres, stops and the track status are unchanged and
    its next stop is more than ``window_laps`` away; cars near their window, cars that stopped,
    any SC/VSC lap and, in turn, a fifth of the field every lap (each car at least every 5 laps)
    are screened afresh."""

    REFRESH_LAPS = 5

    def __init__(self, params):
        self.params = params
        self._plans: dict[int, tuple[tuple, Strategy]] = {}

    def plans(self, state: RaceState, *, window_laps: int = 3) -> list[Strategy]:
        out = []
        green = TrackStatus(state.track_status) == TrackStatus.GREEN
        for i in range(self.params.n_cars):
            if state.retired[i]:
                out.append(Strategy(str(state.compound[i]).upper()))
                continue
            key = (state.compound[i], int(state.stops_done[i]), tuple(state.used_names(i)))
            prev = self._plans.get(i)
            fresh = (prev is None or prev[0] != key or not green or (state.lap + i) % self.REFRESH_LAPS == 0
                     or (prev[1].stops and prev[1].stops[0][0] <= state.lap + window_laps))
            if fresh:
                self._plans[i] = (key, self._plan(state, i))
            out.append(self._plans[i][1])
        return out

    def _plan(self, state: RaceState, i: int) -> Strategy:
        """The car's best remaining plan; when the tyre rules leave none (a set already past its
        learned cap, e.g. after a red-flag change on lap 1), the plan the engine can still run:
        to the flag on the current set, else a stop next lap onto the other dry compound."""
        try:
            return continuation_plan(self.params, state, i, sc_window_laps=SC_OPPORTUNISM_LAPS)
        except InvalidRequestError:
            pass
        current = str(state.compound[i]).upper()
        used = state.used_names(i)
        candidates = [Strategy(current, (), SC_OPPORTUNISM_LAPS)]
        if state.lap + 1 <= self.params.total_laps - 1:
            candidates += [Strategy(current, ((state.lap + 1, c),), SC_OPPORTUNISM_LAPS)
                           for c in self.params.dry_compounds if c != current]
        for plan in candidates:
            try:
                plan.validate(self.params, from_lap=state.lap, compounds_used=used)
                return plan
            except InvalidRequestError:
                continue
        return candidates[-1]


class FieldAdvisor:
    """Calls for the whole field of one race, one snapshot at a time (see module docstring).

    Args:
        built: the race (:func:`~f1analyzer.app.common._build` with ``pre_race=True``).
        n_sims: Monte Carlo races per option of each advised car.
        max_advised: cars given the full Monte Carlo advice per update.
        window_laps: a best plan boxing within this many laps counts as "in the window".
        seed: the advice's seed (the same snapshot gives the same calls).
    """

    def __init__(self, built: BuiltRace, *, n_sims: int = 100, max_advised: int = 5, window_laps: int = 3,
                 seed: int = 0, expected_first_stops: dict[str, int] | None = None):
        self.built = built
        self.n_sims = int(n_sims)
        self.max_advised = int(max_advised)
        self.window_laps = int(window_laps)
        self.seed = seed
        self.tracker = StateTracker()
        # today's tyre life: first stints against the circuit's earlier races (history_yardstick)
        self.expected_first_stops = dict(expected_first_stops or {})
        self.life = LifeEvidence(1.0, None, 0)
        self.params = built.params
        self.plan_cache = PlanCache(built.params)

    @classmethod
    def following(cls, built: BuiltRace, **kwargs) -> "FieldAdvisor":
        """The advisor of a race followed live (API sessions, ``follow``, the benchmark): today's
        tyre life read against the circuit's earlier races (``built.expected_first_stops``)."""
        return cls(built, expected_first_stops=built.expected_first_stops, **kwargs)

    def _update_life(self, snap: RaceSnapshot) -> None:
        """Re-read today's tyre life; a factor that moved by 2 % or more rebuilds the tyres (and
        the plans screened on them)."""
        running = {c.driver for c in snap.cars if not c.retired}
        seen = self.tracker.first_stops
        ends = {d: e for d, e in seen.items() if e is not None}
        expected = {d: p for d, p in self.expected_first_stops.items() if not (d in seen and seen[d] is None)}
        ev = life_evidence(ends, expected, snap.lap, running=running)
        if abs(ev.factor - self.life.factor) >= LIFE_FACTOR_STEP:
            self.params = with_life_factor(self.built.params, self.built.tyre_basis, ev.factor)
            self.plan_cache = PlanCache(self.params)
        else:  # the tyres stay as built: the factor quoted is the one they were built with
            ev = replace(ev, factor=self.life.factor)
        self.life = ev

    def update(self, snap: RaceSnapshot) -> dict:
        """``{"lap", "track_status", "calls": [...], "latency_ms", ...}`` for ``snap`` (no calls
        once the race is on its last lap)."""
        t0 = time.perf_counter()
        self.tracker.update(snap)
        self._update_life(snap)
        params = self.built.params
        if not 1 <= snap.lap <= params.total_laps - 1:
            return {"lap": snap.lap, "track_status": snap.track_status, "calls": [], "advised": [],
                    "note": "no calls: the race is on its last lap or finished", "latency_ms": 0.0}
        try:
            state = snapshot_state(self.built, snap, self.tracker)
            wet = wet_track_reason(state)
            if wet is not None:  # a normal race condition, not a failure: said, not logged as one
                return {"lap": snap.lap, "track_status": snap.track_status, "calls": [], "advised": [],
                        "note": f"no calls this lap: {wet}",
                        "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}
            calls = field_calls(self.built, state, n_sims=self.n_sims, max_advised=self.max_advised,
                                window_laps=self.window_laps, seed=self.seed,
                                plans=self.plan_cache.plans(state, window_laps=self.window_laps),
                                params=self.params)
        except InvalidRequestError as exc:  # a state the engine cannot race: this lap has no calls, the feed goes on
            log.warning("race day %s lap %d: no calls (%s)", self.built.event, snap.lap, exc)
            return {"lap": snap.lap, "track_status": snap.track_status, "calls": [], "advised": [],
                    "note": f"no calls this lap: {exc}",
                    "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}
        return plain({"lap": snap.lap, "track_status": snap.track_status, "calls": calls,
                      "advised": [c["driver"] for c in sorted((c for c in calls if "advice_rank" in c),
                                                              key=lambda c: c["advice_rank"])],
                      "n_sims": self.n_sims, "tyre_life": self._life_dict(),
                      "latency_ms": round((time.perf_counter() - t0) * 1000, 1)})

    def _life_dict(self) -> dict:
        return {"factor": round(self.life.factor, 3),
                "ratio": None if self.life.ratio is None else round(self.life.ratio, 3),
                "n_cars": self.life.n_cars, "note": self.life.describe()}


def field_calls(built: BuiltRace, state: RaceState, *, n_sims: int = 100, max_advised: int = 5,
                window_laps: int = 3, seed: int = 0, plans: list[Strategy] | None = None,
                params=None) -> list[dict]:
    """One call per running car, in position order (see module docstring). ``plans``: every
    car's best remaining plan when the caller has them (:class:`PlanCache`), else screened here;
    ``params``: the race with today's tyre life (:mod:`~f1analyzer.simulation.scenario.tyre_today`),
    default ``built.params``. A dry track: :meth:`FieldAdvisor.update` answers a wet one with its
    note before screening anything (an advised car on a wet track gets ``advice_error``)."""
    params = params if params is not None else built.params
    if plans is None:
        plans = continuation_plans(params, state, sc_window_laps=SC_OPPORTUNISM_LAPS)
    loss = stop_loss_s(params, state.track_status, red_flag=state.red_flag)
    neutral = TrackStatus(state.track_status) != TrackStatus.GREEN
    running = sorted((i for i in range(params.n_cars) if not state.retired[i]), key=lambda i: state.position[i])
    rows = {}
    for i in running:
        plan = plans[i]
        next_stop = int(plan.stops[0][0]) if plan.stops else None
        k = None if next_stop is None else next_stop - state.lap  # 1 = boxes at the end of the next lap
        rj = rejoin_projection(params, state, i, loss)
        rows[i] = {
            "driver": params.drivers[i], "position": int(state.position[i]),
            "compound": state.compound[i], "tyre_age_laps": int(state.tyre_age_laps[i]),
            "plan": plan.describe(),
            "next_compound": plan.stops[0][1] if plan.stops else None,
            "rejoin": rj.to_dict(), "threats": [t.to_dict() for t in pit_threats(params, state, i)],
            **_screen_call(k, window_laps, neutral, state.red_flag),
        }
    for rank, i in enumerate(_to_advise(rows, running, window_laps, neutral, max_advised), start=1):
        rows[i]["advice_rank"] = rank
        try:
            a = advise(params, state, params.drivers[i], n_sims=n_sims, seed=seed,
                       field_plans=plans, stop_rates=built.stop_rates, season=built.season)
        except InvalidRequestError as exc:  # no legal plan left (a car at its last lap, a wet race)
            rows[i]["advice_error"] = str(exc)
            continue
        row = rows[i]
        call, k = a.action, row["box_in_laps"]
        if call == STAY_OUT and k is not None and 1 < k <= window_laps:
            call = BOX_IN
        row.update({"call": call, "source": "advisor", "box_in_laps": 1 if call in BOX_CALLS else k,
                    "next_compound": a.best_compound if a.best_compound else row["next_compound"],
                    "margin_places": _r(a.gain_vs_alternative), "margin_se": _r(a.gain_vs_alternative_se),
                    **a.close_call(),
                    "expected_position": _r(a.expected_position), "p_gain": _r(a.prob_gain, 4)})
    return [rows[i] for i in running]


def _screen_call(k: int | None, window_laps: int, neutral: bool, red_flag: bool = False) -> dict:
    """The call from the screened plan alone (no Monte Carlo) and ``box_in_laps``: box now when
    it stops next lap; in a red-flag suspension whenever it has a stop left (the change is free
    now, so its next stop is made at once)."""
    if red_flag and k is not None:
        call = BOX_UNDER_RED
    elif k == 1:
        call = BOX_UNDER_SC if neutral else BOX_NOW
    elif k is not None and k <= window_laps:
        call = BOX_IN
    else:
        call = STAY_OUT
    return {"call": call, "box_in_laps": 1 if call in BOX_CALLS else k, "source": "screen",
            "margin_places": None, "margin_se": None,
            "too_close_to_call": None, "field_box_rate": None, "decided_by": None, "close_call_note": None,
            "expected_position": None, "p_gain": None}


def _to_advise(rows: dict, running: list[int], window_laps: int, neutral: bool, max_advised: int) -> list[int]:
    """Cars given the full advice: nearest window first; under a SC/VSC free stops first, front
    first (that is where a call changes races)."""
    def key(i):
        r = rows[i]
        k = r["box_in_laps"] if r["box_in_laps"] is not None else 10_000
        if neutral:
            return (not r["rejoin"]["free_stop"], k > window_laps + 5, r["position"])
        return (k, r["position"])

    near = [i for i in running if neutral or (rows[i]["box_in_laps"] is not None
                                              and rows[i]["box_in_laps"] <= window_laps + 2)]
    return sorted(near, key=key)[:max(max_advised, 0)]


def summarise_calls(history: list[dict]) -> list[dict]:
    """The calls made over a race from the per-lap updates: every change of a car's call to a
    stop (BOX_NOW / BOX_UNDER_SC / BOX_UNDER_RED), with the lap and margin."""
    out, last = [], {}
    for upd in history:
        for c in upd.get("calls", []):
            d, call = c["driver"], c["call"]
            if call in BOX_CALLS and last.get(d) != call:
                out.append({"lap": upd["lap"], "driver": d, "call": call, "compound": c.get("next_compound"),
                            "margin_places": c.get("margin_places"), "source": c.get("source"),
                            "track_status": upd.get("track_status")})
            last[d] = call
    return out


def raceday_build(models, store, season: int, event) -> BuiltRace:
    """The race as the pre-race optimiser builds it: models fitted on the races before it
    (:func:`~f1analyzer.app.common.pre_race_models`), grid from the stored lap-1 order."""
    race_models, _ = unpack_models(models)
    return _build(GenerateRequest(season=season, event=str(event)), race_models, store)
