"""Tyre life under management, revealed by where real stints end (used by :mod:`.stint_limits`).

Why: race laps are driven on managed tyres. The pooled lap-time fit (:mod:`.tyre_pool`) measures
what a set loses per lap *while it is being managed* (2022+: ~0.03–0.04 s/lap, a small step
between compounds), so a simulator that charges only that wear finds long stints cheap: its
optimal plans stop late (lap 25–35 where the real top ten stop at 12–20) and end on a long SOFT
stint. What a set can do under management — its *life* — is not in those lap times (a driver
lifts and coasts so the lap time stays flat, until the set is done). The teams know it, and their
stops reveal it.

* **The data.** Every completed dry stint of a classified finisher (:meth:`StintLimits.stint_table`)
  at its set life (laps the set had done at the stint's end, qualifying laps included). A stint
  that ended with a green-flag stop is an *event* (the team judged the set done). A stint that ran
  to the flag is *censored* (the set could have gone further), and so is one ended by a stop
  under SC, VSC or red flag (a competing risk: the stop was cheap, not the set done).
* **The estimate.** The Kaplan–Meier survival of a set against its life, per circuit × car era ×
  relative compound: ``onset`` = the life at which a quarter of the sets have been stopped
  (survival ≤ 0.75), ``median`` = half of them (≤ 0.5). Thin circuits borrow the all-circuit
  survival (as shares of the race distance) with the weight of ``prior_stints`` stints, the way
  the stint limits do; a compound whose survival never falls to 0.5 (sets that outlast the
  race: HARD at most tracks) has no median at that circuit, only the pooled one if it is thin.
* **In the simulator** (:func:`life_slope_s`, applied by
  :func:`f1analyzer.simulation.scenario.compounds.ordered_compounds`): past ``onset`` the set
  loses an extra ``slope`` s/lap per lap (the engine's cliff term), with ``slope`` the value that
  makes the median life the *optimal* stint under the circuit's own pit loss and fitted wear: for
  a set run to age ``L`` and replaced, the time per lap ``(pit_loss + W(L)) / L`` is smallest
  where ``pit_loss + W(L) = L·W'(L)``; with ``W(L) = w·L²/2 + slope·(L − onset)²/2`` and the
  optimum at ``L = median`` this gives ``slope = (2·pit_loss − w·median²) / (median² − onset²)``.
  It is the wear a team behaves as if the set had — management cost and the undercut threat
  included — read off its choices (revealed preference), not a cap: a plan may still run a set
  longer when the race makes that worth it.
"""

from __future__ import annotations

import numpy as np

#: survival levels of the life's onset and median
ONSET_SURVIVAL = 0.75
MEDIAN_SURVIVAL = 0.5
#: the onset is at least this many laps before the median (a vertical wall is no wear curve)
MIN_ONSET_GAP_LAPS = 3


def km_quantiles(life: np.ndarray, event: np.ndarray, levels=(ONSET_SURVIVAL, MEDIAN_SURVIVAL)) -> dict:
    """Kaplan–Meier: level → the smallest life at which survival ≤ level (missing when the
    survival never gets that low). ``event`` False = censored at ``life``."""
    life = np.asarray(life, dtype=float)
    event = np.asarray(event, dtype=bool)
    out: dict = {}
    if life.size == 0:
        return out
    surv = 1.0
    for a in np.unique(life):
        at_risk = int(np.sum(life >= a))
        d = int(np.sum((life == a) & event))
        if at_risk > 0 and d > 0:
            surv *= 1.0 - d / at_risk
        for q in levels:
            if q not in out and surv <= q:
                out[q] = float(a)
    return out


def life_slope_s(pit_loss_s: float, wear_s_per_lap: float, onset_laps: float, median_laps: float) -> float:
    """Extra wear (s/lap per lap past ``onset_laps``) that makes ``median_laps`` the optimal stint
    for a pit loss and linear wear (see the module docstring); 0 when the fitted wear alone already
    makes stints that short (``w·median² ≥ 2·pit_loss``) or the ages are unusable."""
    m, l0 = float(median_laps), float(onset_laps)
    if not (np.isfinite(m) and np.isfinite(l0)) or m <= 0:
        return 0.0
    l0 = min(l0, m - MIN_ONSET_GAP_LAPS)
    if l0 < 0:
        l0 = 0.0
    w = max(float(wear_s_per_lap), 0.0)
    num = 2.0 * max(float(pit_loss_s), 0.0) - w * m * m
    den = m * m - l0 * l0
    if num <= 0 or den <= 0:
        return 0.0
    return float(num / den)


__all__ = ["MEDIAN_SURVIVAL", "MIN_ONSET_GAP_LAPS", "ONSET_SURVIVAL", "km_quantiles", "life_slope_s"]
