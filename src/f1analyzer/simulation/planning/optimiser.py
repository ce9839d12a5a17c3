"""Strategy optimiser for one driver within a field.

Two stages:

1. **Screening** (:mod:`.screen`): every legal dry plan with 1-3 stops from the event's
   allocation (≥ 2 different dry compounds), pit laps on a coarse grid, then refined lap by lap
   around the best of each compound sequence. Deterministic, one car in clean air. Every plan
   keeps the race's tyre rules (``race.rules``: event caps per set, learned stint limits, minimum
   stops, nominated compounds); each option names the rules that shaped it (``rules_applied``).
2. **Full-field Monte Carlo** on the finalists (the best ``n_finalists`` sequences, always
   including the best of each stop count): every finalist is raced against the same field
   (others on their default plans) on *the same* random numbers (CRN), in one vectorised pass.
3. **Timing** of the ``timing_options`` best options: their first stop is also raced
   ``timing_shifts`` laps earlier (same draws). The screen prices a plan in clean air, so it
   cannot see what an earlier stop wins on track (the undercut on a car it cannot pass); the
   Monte Carlo can. Each compound sequence keeps its best-raced timing (one option per sequence).

Options are ranked by expected finishing position (over all sims, so a plan's effect on
retirements would count), then median race time, and come with what a strategist reads
(:meth:`.SimResult.outcomes`: P(win), P(podium), expected points, expected position *if
classified*, its 10th/50th/90th percentiles, P(DNF) apart), the probability of gaining places,
how the expectation moves when a SC/VSC does or does not appear (robustness to
neutralisations), pit windows (laps within ``window_tolerance_s`` of the best lap for each
stop) and the reasons in seconds (:func:`option_reasons`: pit loss, tyre time, gaps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core.draws import draw
from f1analyzer.simulation.core.engine import simulate_groups
from f1analyzer.simulation.core.params import RaceParams, TrackStatus, compound_code
from f1analyzer.simulation.planning.screen import Screen, ScreenedPlan, default_field_strategies
from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS, Strategy, validate_field

#: shortest stint the optimiser plans (the tyre models alone may favour a 3-lap opener)
MIN_STINT_LAPS = 6

log = get_logger("simulation.optimiser")


@dataclass
class StrategyOption:
    """One ranked strategy for the driver.

    ``expected_position_green`` / ``expected_position_neutralised`` split the sims by whether a
    SC or VSC appeared; a small difference means the plan is robust to neutralisation timing.
    """

    strategy: Strategy
    expected_position: float
    position_p10_p50_p90: tuple[float, float, float]
    race_time_p10_p50_p90_s: tuple[float, float, float]
    prob_gain_positions: float
    prob_podium: float
    expected_position_green: float
    expected_position_neutralised: float
    pit_windows: list[tuple[int, int]]
    screen_time_s: float
    #: ``[n_cars]`` P(finishing 1st, 2nd, ...) with this plan
    position_histogram: tuple[float, ...] = ()
    #: expected position when the first SC/VSC starts in the first, middle or last third of the
    #: race (``None`` when no sim had one there): how much the plan depends on SC timing
    expected_position_by_sc_phase: dict[str, float | None] = field(default_factory=dict)
    #: :meth:`.SimResult.outcomes` of the driver with this plan (P(win), P(podium),
    #: expected_points, expected_position_if_classified, position_*_percentile, p_dnf)
    outcomes: dict = field(default_factory=dict)
    #: why the plan costs what it costs, in seconds from the simulation's own parameters
    #: (:func:`option_reasons`)
    reasons: dict = field(default_factory=dict)
    #: the rules that shaped this plan, one sentence each ("max 18 laps per set (2023 Qatar ...)")
    rules_applied: list[str] = field(default_factory=list)

    @property
    def n_stops(self) -> int:
        return self.strategy.n_stops

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy.describe(),
            "start_compound": self.strategy.start_compound,
            "stops": [{"lap": lap, "compound": c} for lap, c in self.strategy.stops],
            "n_stops": self.n_stops,
            "expected_position": self.expected_position,
            **self.outcomes,
            "race_time_10th_percentile_s": self.race_time_p10_p50_p90_s[0],
            "race_time_median_s": self.race_time_p10_p50_p90_s[1],
            "race_time_90th_percentile_s": self.race_time_p10_p50_p90_s[2],
            "prob_gain_positions": self.prob_gain_positions,
            "prob_podium": self.prob_podium,
            "expected_position_green": self.expected_position_green,
            "expected_position_neutralised": self.expected_position_neutralised,
            "pit_windows": [list(w) for w in self.pit_windows],
            "screen_time_s": self.screen_time_s,
            "position_histogram": list(self.position_histogram),
            "expected_position_by_sc_phase": dict(self.expected_position_by_sc_phase),
            "reasons": dict(self.reasons),
            "rules_applied": list(self.rules_applied),
        }


#: options whose first stop is also raced earlier, and by how many laps (the timing stage)
TIMING_OPTIONS = 2
TIMING_SHIFTS = (-4, -2)


@dataclass
class OptimisationResult:
    driver: str
    options: list[StrategyOption]
    field_strategies: list[Strategy]
    n_sims: int
    seed: int | None
    n_screened: int = 0
    #: plans raced in the Monte Carlo (finalists and timing variants), each ``n_sims`` times
    n_raced: int = 0
    notes: list[str] = field(default_factory=list)
    #: every tyre rule in force at this race, one sentence each (event rules, learned caps)
    rules: list[str] = field(default_factory=list)

    @property
    def best(self) -> StrategyOption:
        return self.options[0]


def _finalists(plans: list[ScreenedPlan], n_finalists: int) -> list[ScreenedPlan]:
    chosen: list[ScreenedPlan] = []
    for n_stops in sorted({p.strategy.n_stops for p in plans}):
        chosen.append(next(p for p in plans if p.strategy.n_stops == n_stops))
    for p in plans:
        if len(chosen) >= n_finalists:
            break
        if p not in chosen:
            chosen.append(p)
    return sorted(chosen, key=lambda p: p.time_s)


#: the grid slots that run the qualifying session where the softest sets are used (Q3)
Q3_SLOTS = 10


def start_set_age(race: RaceParams, i: int, compound: str) -> int:
    """Laps on the set car ``i`` starts on with ``compound``: its own start set's for its own
    compound; another compound's as the cars starting on it from the same side of the Q3 line have
    them (the top ten start on sets they used in qualifying, 2022-2024: SOFT 1.5 laps on average,
    MEDIUM/HARD new), 0 when none of them does."""
    car = race.cars[i]
    if compound == car.start_compound:
        return int(car.start_tyre_age_laps)
    top = car.grid_position <= Q3_SLOTS
    ages = [c.start_tyre_age_laps for k, c in enumerate(race.cars)
            if k != i and c.start_compound == compound and (c.grid_position <= Q3_SLOTS) == top]
    return int(np.median(ages)) if ages else 0


def _timing_variants(screen: Screen, plans: list[ScreenedPlan], i: int, min_stint_laps: int,
                     shifts: Sequence[int]) -> list[ScreenedPlan]:
    """The same plans with the first stop ``shifts`` laps earlier/later (the rest fixed), legal
    and within the caps: the screen prices tyres and stops in clean air, so it cannot see what
    an earlier stop wins on track (the undercut, free air) or a later one (the overcut); the
    Monte Carlo races the variants and :func:`_one_per_sequence` keeps the best timing."""
    out = []
    for p in plans:
        s = p.strategy
        if not s.stops:
            continue
        codes = [compound_code(c) for c in s.compounds]
        age = start_set_age(screen.race, i, s.start_compound)
        for k in shifts:
            laps = np.array(s.pit_laps, dtype=np.int64)
            laps[0] += int(k)
            if laps[0] < 1 or (laps.size > 1 and laps[0] >= laps[1]) or laps[-1] > screen.race.total_laps - 1:
                continue
            if not (screen.stints_ok(laps[None], min_stint_laps)[0] and screen.caps_ok(codes, laps[None], age)[0]):
                continue
            variant = Strategy(s.start_compound, tuple((int(lap), comp) for lap, (_, comp) in zip(laps, s.stops)),
                               s.sc_window_laps, s.start_age_laps)
            out.append(ScreenedPlan(variant, float(screen.times(codes, laps[None], age)[0]), p.rules_applied))
    return out


def _one_per_sequence(options: list[StrategyOption]) -> list[StrategyOption]:
    """The best-ranked option of each compound sequence (options sorted best first)."""
    seen, out = set(), []
    for o in options:
        key = tuple(o.strategy.compounds)
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


def _option(res, i: int, plan: ScreenedPlan, windows, rules_applied: list[str]) -> StrategyOption:
    pos = res.finish_position[:, i].astype(np.float64)
    neutral = res.neutralised()
    green_mean = float(pos[~neutral].mean()) if (~neutral).any() else float("nan")
    neut_mean = float(pos[neutral].mean()) if neutral.any() else float("nan")
    q = res.time_quantiles(i)
    return StrategyOption(
        strategy=plan.strategy,
        expected_position=float(pos.mean()),
        position_p10_p50_p90=tuple(float(x) for x in np.quantile(pos, (0.1, 0.5, 0.9))),
        race_time_p10_p50_p90_s=tuple(float(x) for x in q),
        prob_gain_positions=res.prob_gain_positions(i),
        prob_podium=float((pos <= 3).mean()),
        expected_position_green=green_mean,
        expected_position_neutralised=neut_mean,
        pit_windows=windows,
        screen_time_s=plan.time_s,
        position_histogram=tuple(float(x) for x in res.position_histogram(i)),
        expected_position_by_sc_phase=_by_sc_phase(res, pos),
        outcomes=res.outcomes(i),
        rules_applied=rules_applied,
    )


def _median_gap(res, i: int, offset: int) -> float | None:
    """Median gap (s) at the flag to the car ``offset`` places behind (+1) or ahead (-1), over the
    sims where both finished."""
    pos = res.finish_position[:, i].astype(np.intp)
    other = pos + offset
    ok = ~res.retired[:, i] & (other >= 1) & (other <= res.n_cars)
    if not ok.any():
        return None
    order = np.argsort(res.finish_position, axis=1)  # car index by position - 1
    rows = np.nonzero(ok)[0]
    j = order[rows, other[rows] - 1]
    gap = res.race_time_s[rows, j] - res.race_time_s[rows, i]
    gap = gap[np.isfinite(gap)]
    return float(np.median(np.abs(gap))) if gap.size else None


def option_reasons(race: RaceParams, plan: Strategy, start_age_laps: int, res, i: int,
                   best_time_s: np.ndarray | None) -> dict:
    """The reasons of one option in seconds, all from the simulation's own parameters.

    ``pit_loss_s``: stops × (green pit loss + out-lap penalty) of ``race``; ``tyre_time_s``: time
    the plan's stints lose to tyres (compound offset + wear, :meth:`RaceParams.tyre_delta_table`)
    over the race; ``race_time_gap_to_best_s``: median per-sim race-time difference to the best
    option (same random numbers); ``gap_to_car_ahead_s`` / ``gap_to_car_behind_s``: median gaps at
    the flag (track position).
    """
    screen = Screen(race)
    codes = [compound_code(c) for c in plan.compounds]
    edges = [0, *plan.pit_laps, race.total_laps]
    tyre = 0.0
    for k, code in enumerate(codes):
        tyre += float(screen._stint(code, start_age_laps if k == 0 else 0, edges[k + 1] - edges[k]))
    t = res.race_time_s[:, i]
    gap_best = None
    if best_time_s is not None:
        d = t - best_time_s
        d = d[np.isfinite(d)]
        gap_best = float(np.median(d)) if d.size else None
    return {
        "pit_loss_s": float(plan.n_stops * screen.stop_cost_s),
        "pit_loss_per_stop_s": float(screen.stop_cost_s),
        "tyre_time_s": tyre,
        "race_time_gap_to_best_s": gap_best,
        "gap_to_car_ahead_s": _median_gap(res, i, -1),
        "gap_to_car_behind_s": _median_gap(res, i, +1),
    }


SC_PHASES = ("early", "middle", "late")


def _by_sc_phase(res, pos: np.ndarray) -> dict[str, float | None]:
    """Mean of ``pos`` [n_sims] grouped by the third of the race where the first SC/VSC began."""
    status = res.track_status[:, res.first_lap - 1:]
    neutral = status != TrackStatus.GREEN
    has = neutral.any(axis=1)
    first = np.argmax(neutral, axis=1) / max(status.shape[1], 1)
    phase = np.minimum((first * 3).astype(int), 2)
    out: dict[str, float | None] = {}
    for k, name in enumerate(SC_PHASES):
        sel = has & (phase == k)
        out[name] = float(pos[sel].mean()) if sel.any() else None
    return out


def optimise(
    race: RaceParams,
    driver: str,
    *,
    n_sims: int = 300,
    seed: int | None = 0,
    top_k: int = 3,
    n_finalists: int = 8,
    stops: Sequence[int] = (1, 2, 3),
    step_laps: int = 3,
    window_tolerance_s: float = 1.0,
    field_strategies: Sequence[Strategy] | None = None,
    fix_start_compound: bool = False,
    sc_window_laps: int = SC_OPPORTUNISM_LAPS,
    min_stint_laps: int = 1,
    timing_options: int = TIMING_OPTIONS,
    timing_shifts: Sequence[int] = TIMING_SHIFTS,
) -> OptimisationResult:
    """Best strategies for ``driver`` against the field.

    Args:
        race: race parameters.
        driver: driver code (unknown codes list the field).
        n_sims: Monte Carlo races per finalist (all finalists share the same draws).
        seed: seed of those draws.
        top_k: options returned.
        n_finalists: screened plans raced in the Monte Carlo stage.
        stops: stop counts to consider (each in 1..3; more when the race's stint caps need them,
            fewer are dropped when its ``rules.min_stops`` forbids them).
        step_laps: coarse grid spacing of pit laps before refinement.
        window_tolerance_s: a pit window holds the laps costing at most this much more.
        field_strategies: plans of all cars (the driver's entry is replaced); default: each
            car's best screened 1-2 stop plan from its starting tyres.
        fix_start_compound: keep the driver's qualifying start compound.
        sc_window_laps: make the driver's plans box early under SC/VSC within this many laps
            (as the field's default plans do; 0: only on the planned laps).
        min_stint_laps: no stint of the driver's plans is shorter than this (1 = any).
        timing_options: the best options (after the first Monte Carlo) whose first stop is also
            raced ``timing_shifts`` laps earlier/later (:func:`_timing_variants`); 0 = none.
        timing_shifts: those shifts, in laps (negative = earlier).
    """
    i = race.car_index(driver)
    race.validate()
    bad = [s for s in stops if s not in (1, 2, 3)]
    if bad or not stops:
        raise InvalidRequestError(
            f"stops must be chosen from 1, 2, 3; got {list(stops)}.", details={"options": [1, 2, 3]}
        )
    if n_sims < 1 or top_k < 1:
        raise InvalidRequestError("n_sims and top_k must be at least 1.")
    car = race.cars[i]
    if field_strategies is None:
        field_strategies = default_field_strategies(race)
    field_strategies = list(field_strategies)
    validate_field(race, field_strategies)

    screen = Screen(race)
    # the start age applies to the qualifying set only; other start compounds are new sets
    starts = [car.start_compound] if fix_start_compound else race.rules.allowed(race.dry_compounds)
    plans = []
    for start in starts:
        age = start_set_age(race, i, start)
        screened = screen.best_plans(start_compound=start, start_age_laps=age, stops=stops,
                                     step=step_laps, sc_window_laps=sc_window_laps,
                                     min_stint_laps=min_stint_laps)
        if start != car.start_compound:  # the engine races it on that set too
            screened = [ScreenedPlan(p.strategy.on_start_set(age), p.time_s, p.rules_applied) for p in screened]
        plans += screened
    plans.sort(key=lambda p: p.time_s)
    finalists = _finalists(plans, n_finalists)
    draws = draw(race, n_sims, seed)
    options, by_plan = [], {}

    def race_plans(candidates: list[ScreenedPlan]) -> None:
        if not candidates:
            return
        groups = []
        for p in candidates:
            strategies = list(field_strategies)
            strategies[i] = p.strategy
            groups.append(strategies)
        for p, res in zip(candidates, simulate_groups(race, groups, draws)):
            age = start_set_age(race, i, p.strategy.start_compound)
            windows = screen.pit_windows(p.strategy, age, window_tolerance_s)
            options.append(_option(res, i, p, windows, screen.rules_applied(p, age)))
            by_plan[id(options[-1])] = (res, age, p)
        options.sort(key=lambda o: (round(o.expected_position, 6), o.race_time_p10_p50_p90_s[1]))

    race_plans(finalists)
    # the timing of the leading plans, raced (same draws): the screen cannot see the undercut
    leaders = [by_plan[id(o)][2] for o in _one_per_sequence(options)[:timing_options]]
    race_plans(_timing_variants(screen, leaders, i, min_stint_laps, timing_shifts))
    options = _one_per_sequence(options)
    best_t = by_plan[id(options[0])][0].race_time_s[:, i]
    for o in options[:top_k]:
        res, age, _ = by_plan[id(o)]
        o.reasons = option_reasons(race, o.strategy, age, res, i, best_t)
    log.debug("optimise %s %s: %d plans screened, %d finalists, %d raced", race.circuit_key, car.driver,
              len(plans), len(finalists), len(by_plan))
    return OptimisationResult(
        driver=car.driver, options=options[:top_k], field_strategies=field_strategies,
        n_sims=n_sims, seed=seed, n_screened=len(plans), n_raced=len(by_plan), rules=race.rules.describe(),
    )
