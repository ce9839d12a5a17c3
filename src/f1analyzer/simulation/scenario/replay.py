"""Replay a stored real race in the simulator, from its real state at the end of any lap.

``replay(built, race, from_lap=1)`` takes the race as it really stood at the end of lap
``from_lap`` (``from_lap=0``: the grid, i.e. the lap-1 order, see :mod:`.build`) and races the
rest of it ``n_sims`` times with every car on its **real** remaining strategy (its real stints
and pit laps), optionally with some decisions changed (``"VER:pit=18:HARD"``). The answer puts
the simulated finishing order, with probabilities, next to the real one.

The real state at the end of lap N (:func:`real_state`):

* position: order of the session time at which each car finished lap N (lapped cars finish it
  later); cars with no lap N are retired and classified behind, later retirements first;
* gap to the leader: that session time minus the leader's;
* tyres: the compound of lap N and its life (laps on the set, FastF1 ``TyreLife``); a car whose
  in-lap is lap N has already made that stop: it is on the new set (age 0) and the stop's loss
  (green, SC or VSC) is added to its gap;
* stops made and compounds used so far from the derived pit stops and stints.

Track status: ``"real"`` (default) replays the race's real Safety Car / VSC laps (read from the
race leader's laps, a red flag counted as a Safety Car); ``"sampled"`` draws them from the
circuit model instead (a what-if on neutralisations too).

Retirements: ``"real"`` (default) replays them as they happened — a car that retired stops on
the lap after its last completed lap in every simulated race, and no other car retires — like
the real Safety Cars: they are events of the race, not its strategy or pace, and a replay asks
what the plans and the pace made of that race. ``"sampled"`` draws them from the fitted
retirement rates (what a pre-race answer faces).

A real plan the simulator cannot run as it stands (a car that retired in reality before using a
second dry compound, unknown compounds) is completed with its best legal continuation; the
answer lists those drivers in ``notes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from f1analyzer.data.derive import red_flag_changes
from f1analyzer.errors import InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.params import COMPOUNDS, DRY_COMPOUNDS, RaceParams, TrackStatus
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.planning.screen import Screen
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.core.strategy import Strategy
from f1analyzer.models.safety_car import status_by_lap
from f1analyzer.simulation.planning.advisor import continuation_plan

log = get_logger("simulation.replay")

_CHANGE_RE = re.compile(
    r"^\s*(?P<driver>[A-Za-z0-9]{3})\s*:\s*(?:pit\s*=\s*(?P<lap>\d+)\s*:\s*(?P<comp>[A-Za-z]+)"
    r"|plan\s*=\s*(?P<plan>[A-Za-z0-9\-]+)|(?P<nostop>nostop|stay))\s*$"
)


@dataclass(frozen=True)
class Change:
    """A changed decision in a replay.

    ``pit``: the driver's next remaining stop moves to ``lap`` onto ``compound`` (later real
    stops are kept when they come after it; with no stop left, one is added). ``plan``: the whole
    remaining plan (``"M-18-H"``; it starts on the compound fitted at ``from_lap``). ``nostop``:
    the next remaining stop is dropped.
    """

    driver: str
    kind: str  # "pit" | "plan" | "nostop"
    lap: int | None = None
    compound: str | None = None
    plan: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Change":
        m = _CHANGE_RE.match(str(text))
        if not m:
            raise InvalidRequestError(
                f"Cannot read change {text!r}. Use DRIVER:pit=LAP:COMPOUND (e.g. 'VER:pit=18:HARD'), "
                "DRIVER:plan=M-18-H or DRIVER:nostop."
            )
        drv = m.group("driver").upper()
        if m.group("lap"):
            return cls(drv, "pit", lap=int(m.group("lap")), compound=m.group("comp").upper())
        if m.group("plan"):
            return cls(drv, "plan", plan=m.group("plan"))
        return cls(drv, "nostop")

    def describe(self) -> str:
        if self.kind == "pit":
            return f"{self.driver}:pit={self.lap}:{self.compound}"
        if self.kind == "plan":
            return f"{self.driver}:plan={self.plan}"
        return f"{self.driver}:nostop"


# ------------------------------------------------------------------------------ real data
def track_schedule(race, total_laps: int) -> np.ndarray:
    """``[total_laps]`` int8 :class:`TrackStatus` of the real race (leader's laps)."""

    status = status_by_lap(pd.DataFrame(race.laps)) if len(race.laps) else pd.Series(dtype=str)
    out = np.full(total_laps, TrackStatus.GREEN, dtype=np.int8)
    for lap, s in status.items():
        lap = int(lap)
        if not 1 <= lap <= total_laps:
            continue
        s = str(s)
        if "4" in s or "5" in s:
            out[lap - 1] = TrackStatus.SC
        elif "6" in s or "7" in s:
            out[lap - 1] = TrackStatus.VSC
    return out


def red_flag_laps(race) -> list[int]:
    """The in-laps of the race's tyre changes made during a red flag
    (:func:`f1analyzer.data.derive.red_flag_changes`): a replay charges those stops nothing."""
    return sorted({lap for _, _, _, lap in red_flag_changes(race.pit_stops)})


def _known(compound: str, fallback: str, params: RaceParams | None) -> str:
    c = str(compound).upper()
    return c if c in (COMPOUNDS if params is None else params.compounds) else fallback


def _driver_stints(race, params: RaceParams | None) -> dict[str, list[dict]]:
    """Per driver, its stints in order with a usable compound (UNKNOWN → neighbouring stint;
    usable: one ``params`` has parameters for, any named compound without ``params``)."""
    out: dict[str, list[dict]] = {}
    names = COMPOUNDS if params is None else params.compounds
    for drv, g in race.stints.sort_values(["driver", "stint"]).groupby("driver", sort=False):
        rows = g.to_dict("records")
        known = [str(r["compound"]).upper() for r in rows if str(r["compound"]).upper() in names]
        prev = known[0] if known else "MEDIUM"
        for r in rows:
            r["compound"] = _known(r["compound"], prev, params)
            prev = r["compound"]
        out[str(drv)] = rows
    return out


def real_stops(race, params: RaceParams | None = None) -> dict[str, list[tuple[int, str]]]:
    """Per driver, its real tyre changes ``[(in_lap, compound_after), ...]`` (compounds as
    ``params`` knows them; without ``params`` as the data name them)."""
    stints = _driver_stints(race, params)
    out: dict[str, list[tuple[int, str]]] = {}
    for drv, rows in stints.items():
        out[drv] = [(int(a["end_lap"]), b["compound"]) for a, b in zip(rows[:-1], rows[1:])]
    return out


def real_state(race, params: RaceParams, lap: int, *, schedule: np.ndarray | None = None) -> RaceState:
    """The real race at the end of ``lap`` as a :class:`RaceState` in ``params.cars`` order."""
    if not 1 <= lap <= params.total_laps - 1:
        raise InvalidRequestError(
            f"lap {lap} is outside the race: valid laps are 1..{params.total_laps - 1} "
            f"({params.total_laps}-lap race)."
        )
    laps = pd.DataFrame(race.laps)
    at = laps[laps["lap_number"] == lap].set_index("driver")
    done = dict(zip(race.results["driver"], race.results["laps"]))  # laps each car completed
    stints = _driver_stints(race, params)
    stops = real_stops(race, params)
    sched = schedule if schedule is not None else track_schedule(race, params.total_laps)
    # a stop whose in-lap is ``lap`` costs what it cost under that lap's status; the state's
    # status is the one of the lap being run next (known when the next call is made)
    loss = stop_loss_s(params, TrackStatus(int(sched[lap - 1])))
    status_now = TrackStatus(int(sched[lap])) if lap < sched.size else TrackStatus.GREEN
    n = params.n_cars
    times, comp, age, n_stops, used, retired = [], [], [], [], [], []
    for car in params.cars:
        d = car.driver
        rows = stints.get(d, [])
        if d in at.index and pd.notna(at.loc[d, "session_time_s"]):
            r = at.loc[d]
            t = float(r["session_time_s"])
            cur = next((s for s in rows if s["start_lap"] <= lap <= s["end_lap"]), rows[-1] if rows else None)
            c = cur["compound"] if cur else _known(r["compound"], "MEDIUM", params)
            life = r["tyre_life_laps"]
            a = int(life) if pd.notna(life) else (lap - int(cur["start_lap"]) + 1 if cur else lap)
            made = [s for s in stops.get(d, []) if s[0] <= lap]
            u = {s["compound"] for s in rows if s["start_lap"] <= lap}
            if made and made[-1][0] == lap:  # in-lap now: the stop is made, the new set fitted
                c, a = made[-1][1], 0
                t += loss
                u.add(c)
            times.append(t)
            comp.append(c)
            age.append(max(a, 0))
            n_stops.append(len(made))
            used.append(sorted(u | {c}))
            retired.append(False)
        else:
            times.append(np.nan)
            c = rows[-1]["compound"] if rows else "MEDIUM"
            comp.append(c)
            age.append(0)
            n_stops.append(len(stops.get(d, [])))
            used.append(sorted({s["compound"] for s in rows} | {c}))
            retired.append(True)
    times = np.asarray(times, dtype=np.float64)
    lead = np.nanmin(times) if np.isfinite(times).any() else 0.0
    gaps = np.where(np.isfinite(times), times - lead, 0.0)
    # runners by time; retired behind them, later retirements first
    key = [(0, gaps[i], 0) if not retired[i] else (1, -done.get(c.driver, 0), i) for i, c in enumerate(params.cars)]
    order = sorted(range(n), key=lambda i: key[i])
    pos = np.empty(n, dtype=int)
    pos[order] = np.arange(1, n + 1)
    return RaceState(
        lap=lap, position=pos.tolist(), gap_to_leader_s=gaps.tolist(), compound=comp,
        tyre_age_laps=age, stops_done=n_stops, track_status=status_now, compounds_used=used,
        retired=retired, neutral_laps_remaining=_remaining_neutral(sched, lap),
    )


def _remaining_neutral(sched: np.ndarray, lap: int) -> int:
    """Laps the neutralisation running on lap ``lap + 1`` lasts from there (2 when green)."""
    k, n = lap, 0
    if k >= sched.size or sched[k] == TrackStatus.GREEN:
        return 2
    s = sched[k]
    while k < sched.size and sched[k] == s:
        n, k = n + 1, k + 1
    return max(n, 1)


def _legal(params: RaceParams, plan: Strategy, from_lap: int, used) -> bool:
    try:
        plan.validate(params, from_lap=from_lap, compounds_used=used)
    except InvalidRequestError:
        return False
    return True


def _complete(params: RaceParams, state: RaceState | None, i: int, plan: Strategy) -> Strategy:
    """The best legal plan from the same start compound (the real one cannot run)."""
    if state is None:
        car = params.cars[i]
        return Screen(params).best_plans(start_compound=plan.start_compound,
                                         start_age_laps=car.start_tyre_age_laps, stops=(1, 2))[0].strategy

    return continuation_plan(params, state, i)


def real_plans(race, params: RaceParams, state: RaceState | None) -> tuple[list[Strategy], list[str]]:
    """Every car's real remaining plan from ``state`` (None: from the grid) and the drivers whose
    plan had to be completed to be legal."""
    from_lap = 0 if state is None else state.lap
    stops = real_stops(race, params)
    stints = _driver_stints(race, params)
    plans, fixed = [], []
    for i, car in enumerate(params.cars):
        d = car.driver
        start = car.start_compound if state is None else str(state.compound[i]).upper()
        if state is None and stints.get(d):
            start = stints[d][0]["compound"]
        rest = []
        for lap, c in stops.get(d, []):
            if from_lap < lap <= params.total_laps - 1 and (not rest or lap > rest[-1][0]):
                rest.append((lap, c))
        plan = Strategy(start, tuple(rest))
        used = () if state is None else state.used_names(i)
        retired = state is not None and state.retired is not None and state.retired[i]
        if not retired and not _legal(params, plan, from_lap, used):
            plan = _complete(params, state, i, plan)
            fixed.append(d)
        elif retired and not _legal(params, plan, from_lap, used):
            # out of the race: any legal plan will do, it is never run
            plan = Strategy(start, ((from_lap + 1, next(c for c in params.dry_compounds if c != start)),)) \
                if from_lap + 1 <= params.total_laps - 1 and start in DRY_COMPOUNDS else plan
        plans.append(plan)
    return plans, fixed


def apply_change(params: RaceParams, plans: list[Strategy], state: RaceState | None, change: Change) -> None:
    """Apply one :class:`Change` to ``plans`` in place (raises with the valid options)."""
    i = params.car_index(change.driver)
    old = plans[i]
    from_lap = 0 if state is None else state.lap
    if change.kind == "plan":
        new = Strategy.parse(change.plan)
        if new.start_compound != old.start_compound:
            raise InvalidRequestError(
                f"{change.driver}: the plan must start on the compound fitted at lap {from_lap} "
                f"({old.start_compound}), e.g. '{old.start_compound[0]}-{from_lap + 5}-H'.")
    elif change.kind == "nostop":
        new = Strategy(old.start_compound, old.stops[1:])
    else:
        last = params.total_laps - 1
        if not from_lap < change.lap <= last:
            raise InvalidRequestError(
                f"{change.driver}: pit lap {change.lap} is impossible; valid laps are "
                f"{from_lap + 1}..{last} ({params.total_laps}-lap race, replay from lap {from_lap}).",
                details={"valid_range": [from_lap + 1, last]})
        later = tuple(s for s in old.stops[1:] if s[0] > change.lap)
        new = Strategy(old.start_compound, ((change.lap, change.compound), *later))
    used = () if state is None else state.used_names(i)
    try:
        new.validate(params, from_lap=from_lap, compounds_used=used)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{change.driver}: {exc.message}", details=exc.details) from None
    plans[i] = new


def real_retire_laps(race, params: RaceParams, from_lap: int = 0) -> list[int | None]:
    """Per car of ``params``: the lap it retired on in reality (the lap after its last completed
    one), None for a car that finished — or one already out at ``from_lap`` (the state has it)."""
    res = race.results  # the classification knows each car's laps and whether it finished
    retired_after = dict(zip(res["driver"].astype(str), np.where(res["finished"].astype(bool), -1, res["laps"])))
    out: list[int | None] = []
    for car in params.cars:
        lap = int(retired_after.get(car.driver, -1)) + 1
        out.append(lap if lap > 0 and from_lap < lap <= params.total_laps else None)
    return out


def spearman(a, b) -> float:
    """Spearman rank correlation of two equal-length sequences (average ranks for ties)."""
    ra = pd.Series(list(a), dtype="float64").rank().to_numpy()
    rb = pd.Series(list(b), dtype="float64").rank().to_numpy()
    if len(ra) < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def replay(
    built,
    race,
    *,
    from_lap: int = 1,
    changes=(),
    n_sims: int = 1000,
    seed: int | None = 0,
    track_status: str = "real",
    retirements: str = "real",
) -> dict:
    """Re-simulate a stored race from its real state at the end of ``from_lap``.

    Args:
        built: :class:`~.build.BuiltRace` of the race (``pre_race=False`` for its real pace).
        race: the stored :class:`~f1analyzer.data.session.Race`.
        from_lap: laps completed when the simulation takes over (0 = from the grid).
        changes: :class:`Change` objects or strings like ``"VER:pit=18:HARD"``.
        n_sims: simulated races.
        track_status: ``"real"`` (the real SC/VSC laps) or ``"sampled"``.
        retirements: ``"real"`` (the real retirements, on their laps) or ``"sampled"``.

    Returns:
        ``{season, round, event, from_lap, ..., drivers: [...], simulated_order, real_order,
        spearman, spearman_classified, real_winner, p_real_winner_wins, notes}`` (see
        ``docs/API.md``).
    """
    # the real plans are raced, so the tyre life is the one read from where stints ended, without
    # the pre-race preference for the circuit's earlier first stops (BuiltRace.stint_end_params)
    params = built.stint_end_params()
    if track_status not in ("real", "sampled"):
        raise InvalidRequestError("track_status must be 'real' or 'sampled'.",
                                  details={"options": ["real", "sampled"]})
    if retirements not in ("real", "sampled"):
        raise InvalidRequestError("retirements must be 'real' or 'sampled'.",
                                  details={"options": ["real", "sampled"]})
    if not 0 <= int(from_lap) <= params.total_laps - 1:
        raise InvalidRequestError(
            f"from_lap {from_lap} is outside the race: valid laps are 0..{params.total_laps - 1} "
            f"({params.total_laps}-lap race; 0 = from the grid).",
            details={"valid_range": [0, params.total_laps - 1]})
    sched = track_schedule(race, params.total_laps)
    state = None if from_lap == 0 else real_state(race, params, int(from_lap), schedule=sched)
    if state is not None and track_status == "real":
        state.track_status = TrackStatus.GREEN  # the real schedule paints the neutralisations
    plans, fixed = real_plans(race, params, state)
    parsed = [c if isinstance(c, Change) else Change.parse(c) for c in changes]
    for c in parsed:
        apply_change(params, plans, state, c)
    results = race.results
    real = track_status == "real"
    # the real tyre changes of a red-flag suspension cost nothing (the schedule reads those laps
    # as SC laps, whose stops are otherwise charged)
    free = [lap for lap in red_flag_laps(race) if lap > int(from_lap)] if real else []
    res = simulate(params, plans, n_sims=n_sims, seed=seed, state=state,
                   sc_schedule=sched if real else None,
                   retire_laps=real_retire_laps(race, params, int(from_lap)) if retirements == "real" else None,
                   free_stop_laps=free)
    real_pos = dict(zip(results["driver"], results["position"].astype(int)))
    finished = dict(zip(results["driver"], results["finished"].astype(bool)))
    rows = []
    changed = {c.driver for c in parsed}
    for i, car in enumerate(params.cars):
        hist = res.position_histogram(i)
        rows.append({
            "driver": car.driver, "team": car.team,
            "start_position": int(res.reference_position[i]),
            "real_position": int(real_pos.get(car.driver, params.n_cars)),
            "real_finished": bool(finished.get(car.driver, False)),
            "expected_position": round(res.expected_position(i), 3),
            "most_likely_position": int(np.argmax(hist)) + 1,
            # percentiles over the races the car finishes: "in 10 % of races P2 or better"
            **{k: round(v, 3) for k, v in res.outcomes(i).items()},
            "p_win": round(float(hist[0]), 4), "p_podium": round(float(hist[:3].sum()), 4),
            "p_points": round(float(hist[:10].sum()), 4),
            "p_retired": round(float(res.retired[:, i].mean()), 4),
            "position_histogram": {str(k + 1): round(float(p), 4) for k, p in enumerate(hist) if p > 0},
            "strategy": plans[i].describe(), "changed": car.driver in changed,
        })
    rows.sort(key=lambda r: (r["expected_position"], r["real_position"]))
    real_order = [d for d in results["driver"] if d in set(params.drivers)]
    winner = real_order[0] if real_order else None
    notes = list(built.notes)
    if fixed:
        notes.append("real plan completed to be legal for: " + ", ".join(fixed))
    if free:
        notes.append("red flag: the tyre changes made in the suspension (in-lap "
                     + ", ".join(map(str, free)) + ") cost nothing; those laps run as Safety Car laps")
    return {
        "season": built.season, "round": built.round, "event": built.event,
        "circuit_key": built.circuit_key, "total_laps": params.total_laps, "from_lap": int(from_lap),
        "n_sims": int(n_sims), "seed": seed, "track_status": track_status, "retirements": retirements,
        "changes": [c.describe() for c in parsed],
        "drivers": rows,
        "simulated_order": [r["driver"] for r in rows],
        "real_order": real_order,
        "spearman": spearman([r["expected_position"] for r in rows], [r["real_position"] for r in rows]),
        # the order of the cars that really finished, each at its E[pos] if classified: a
        # retirement the laps so far do not announce is luck, not strategy or pace
        "spearman_classified": spearman(
            [r["expected_position_if_classified"] for r in rows if r["real_finished"]],
            [r["real_position"] for r in rows if r["real_finished"]]),
        "real_winner": winner,
        "p_real_winner_wins": next((r["p_win"] for r in rows if r["driver"] == winner), None),
        "notes": notes,
    }


__all__ = ["Change", "replay", "real_state", "real_plans", "real_retire_laps", "real_stops", "red_flag_laps", "track_schedule", "spearman",
           "apply_change"]
