"""Undercut and overcut against a named rival.

*Undercut*: the car behind pits first; on fresh tyres it laps faster than the rival on worn
tyres, and if it has made up the gap by the time the rival pits and rejoins, it is ahead.
*Overcut*: the car ahead stays out while the rival behind pits, hoping its old tyres (in clean
air) lose less than the rival gains on new ones before it pits in turn.

Closed form, ignoring traffic and noise: both cars pay the same pit loss and out-lap penalty, so
those cancel; fuel is the same for both and cancels. With the attacker boxing at the end of lap
``P`` and the rival at the end of ``P + k``, the attacker's margin when the rival rejoins is::

    margin(k) = -gap_s + Σ_{laps before P} Δ_old + Σ_{j=1..k} gain_j

where ``gain_j`` = rival lap on old tyres − attacker lap on the new set (age ``j - 1``) on lap
``P + j`` (car pace + compound offset + wear). The undercut works once ``margin(k) ≥ min_gap_s``.
An optional Monte Carlo check races the field from the given state twice (box now vs. stay out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import RaceParams, compound_code
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.planning.advisor import continuation_plan, continuation_plans
from f1analyzer.simulation.core.draws import draw
from f1analyzer.simulation.core.engine import apply_state_status, simulate_groups


@dataclass
class UndercutResult:
    """Undercut/overcut numbers for ``driver`` against ``rival``.

    Attributes:
        gap_s: rival's lead over the driver now (negative = the driver is ahead).
        pit_lap: driver's in-lap for the undercut (``state.lap + 1`` by default).
        gain_per_lap_s: ``[max_delay]`` gain of the driver on lap ``pit_lap + j`` (j = 1..) while
            the rival stays out on worn tyres - the gain per lap of the rival's delay.
        margin_s: ``[max_delay]`` the driver's margin when the rival rejoins after a delay of
            ``k`` laps (positive = the driver is ahead).
        works_after_laps: smallest delay ``k`` for which the undercut works (None: not within
            ``max_delay`` laps).
        undercut_lap: lap on which it works (``pit_lap + works_after_laps``).
        gap_needed_s: largest gap the undercut overturns if the rival reacts one lap later.
        overcut_margin_s: ``[max_delay]`` if instead the *rival* pits on ``pit_lap`` and the driver
            stays out ``k`` more laps: the driver's lead when it rejoins (for the car ahead).
        mc_prob_ahead_box / mc_prob_ahead_stay: P(driver finishes ahead of rival) from the
            Monte Carlo check (None when not run).
    """

    driver: str
    rival: str
    gap_s: float
    pit_lap: int
    compound: str
    rival_compound: str
    gain_per_lap_s: np.ndarray
    margin_s: np.ndarray
    works_after_laps: int | None
    undercut_lap: int | None
    gap_needed_s: float
    overcut_margin_s: np.ndarray
    mc_prob_ahead_box: float | None = None
    mc_prob_ahead_stay: float | None = None

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items()}
        for k in ("gain_per_lap_s", "margin_s", "overcut_margin_s"):
            out[k] = [float(x) for x in out[k]]
        return out


def undercut(
    race: RaceParams,
    state: RaceState,
    driver: str,
    rival: str,
    *,
    compound: str | None = None,
    rival_compound: str | None = None,
    pit_lap: int | None = None,
    max_delay_laps: int = 8,
    n_sims: int = 0,
    seed: int | None = 0,
) -> UndercutResult:
    """Undercut/overcut of ``driver`` on ``rival`` from ``state``.

    Args:
        compound: the driver's new compound (default: the softest allocated dry compound that
            keeps the two-compound rule, else the softest).
        rival_compound: the rival's new compound (default: same rule for the rival).
        pit_lap: the driver's in-lap (default ``state.lap + 1``).
        max_delay_laps: rival delays considered.
        n_sims: > 0 runs the Monte Carlo check from ``state`` with that many sims.
    """
    state.validate(race)
    i, j = race.car_index(driver), race.car_index(rival)
    if i == j:
        raise InvalidRequestError(f"{driver} cannot undercut itself; pick another driver: "
                                  + ", ".join(d for d in race.drivers if d != race.drivers[i]))
    pit_lap = state.lap + 1 if pit_lap is None else int(pit_lap)
    if not state.lap < pit_lap <= race.total_laps - 1:
        raise InvalidRequestError(
            f"pit_lap {pit_lap} impossible: valid laps are {state.lap + 1}..{race.total_laps - 1}."
        )
    compound = _pick(race, state, i, compound)
    rival_compound = _pick(race, state, j, rival_compound)
    table = race.tyre_delta_table().astype(np.float64)
    hi = table.shape[1] - 1
    pace_i, pace_j = race.cars[i].base_pace_s, race.cars[j].base_pace_s
    old_i, old_j = compound_code(state.compound[i]), compound_code(state.compound[j])
    age_i, age_j = int(state.tyre_age_laps[i]), int(state.tyre_age_laps[j])
    new_i, new_j = compound_code(compound), compound_code(rival_compound)

    def lap(pace, code, age):
        return pace + table[code, np.minimum(age, hi)]

    pre = np.arange(pit_lap - state.lap)  # laps state.lap+1..pit_lap, both on old tyres
    pre_gain = float(np.sum(lap(pace_j, old_j, age_j + pre) - lap(pace_i, old_i, age_i + pre)))
    n_before = pit_lap - state.lap
    k = np.arange(1, max_delay_laps + 1)
    k = k[pit_lap + k <= race.total_laps - 1] if pit_lap + 1 <= race.total_laps - 1 else k[:0]
    gain = lap(pace_j, old_j, age_j + n_before + k - 1) - lap(pace_i, new_i, k - 1)
    gap = float(state.gap_to_leader_s[i]) - float(state.gap_to_leader_s[j])
    margin = -gap + pre_gain + np.cumsum(gain)
    works = np.flatnonzero(margin >= race.min_gap_s)
    after = int(k[works[0]]) if works.size else None
    gap_needed = float(pre_gain + gain[0] - race.min_gap_s) if gain.size else float("nan")
    # overcut: rival (behind) pits on pit_lap, the driver stays out k laps on old tyres
    over_gain = lap(pace_j, new_j, k - 1) - lap(pace_i, old_i, age_i + n_before + k - 1)
    overcut = -gap + pre_gain + np.cumsum(over_gain)  # the driver's lead when it rejoins
    out = UndercutResult(
        driver=race.drivers[i], rival=race.drivers[j], gap_s=gap, pit_lap=pit_lap,
        compound=compound, rival_compound=rival_compound, gain_per_lap_s=gain,
        margin_s=margin, works_after_laps=after,
        undercut_lap=None if after is None else pit_lap + after, gap_needed_s=gap_needed,
        overcut_margin_s=overcut,
    )
    if n_sims > 0:
        out.mc_prob_ahead_box, out.mc_prob_ahead_stay = _mc_check(
            race, state, i, j, compound, pit_lap, n_sims, seed)
    return out


def _pick(race: RaceParams, state: RaceState, car: int, compound: str | None) -> str:
    dry = [c for c in ("SOFT", "MEDIUM", "HARD") if c in race.dry_compounds]
    if compound is not None:
        name = str(compound).upper()
        if name not in race.compounds:
            raise InvalidRequestError(
                f"Compound {compound!r} not available; valid: {', '.join(race.compounds)}."
            )
        return name
    used = set(state.used_names(car))
    for c in dry:
        if len((used | {c}) & set(dry)) >= 2:
            return c
    return dry[0]


def _mc_check(race, state, i, j, compound, pit_lap, n_sims, seed) -> tuple[float, float]:
    field = continuation_plans(race, state)
    box = continuation_plan(race, state, i, first_stop=(pit_lap, compound))
    stay = continuation_plan(race, state, i, first_stop_min=pit_lap + 1)
    draws = draw(race, n_sims, seed, first_lap=state.lap + 1)
    apply_state_status(draws, state, race)
    groups = []
    for plan in (box, stay):
        g = list(field)
        g[i] = plan
        groups.append(g)
    res_box, res_stay = simulate_groups(race, groups, draws, state=state)
    return res_box.prob_finish_ahead(i, j), res_stay.prob_finish_ahead(i, j)
