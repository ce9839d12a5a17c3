"""Physical ordering of the dry compounds' simulator parameters — a safety net.

The tyre model itself (``models.tyre_pool``: one fit per era by Pirelli code, pooled across
circuits) is meant to come out ordered; this module only catches what it still gets wrong, and
``simulation.scenario.build`` then adds a sentence to ``BuiltRace.confidence_reasons``. With the
pooled fit the minimum fresh-pace step is :data:`SAFETY_NET_PACE_STEP_S`; for older model sets
(per relative compound) the history below still applies.

The per-circuit tyre fits of the older model sets are noisy: at many circuits the fitted SOFT is not faster than the
MEDIUM when fresh, or wears *less* (Monza 2022+: SOFT 0.020 s/lap against MEDIUM 0.056), and the
optimiser then proposes plans such as "M-14-S". Within one event's allocation the softer compound
is, physically, faster when fresh and degrades at least as fast. :func:`order_compounds` makes the
three dry :class:`~f1analyzer.simulation.core.params.CompoundParams` obey that while moving the fitted
numbers as little as their precision allows:

* **Fresh pace** — ``pace_offset_s`` strictly increasing SOFT → MEDIUM → HARD, consecutive
  compounds at least ``min_pace_step_s`` apart. Solved as a weighted isotonic regression with a
  minimum gap (shift the values by ``step * rank``, pool adjacent violators, shift back), weights
  ``1 / se²``. The ``reference`` compound (MEDIUM: every offset is measured against it) never moves.
* **Linear wear** — ``linear_s_per_lap`` non-increasing SOFT → MEDIUM → HARD, by precision-weighted
  pool-adjacent-violators: violating neighbours are replaced by their weighted mean, so a
  well-measured slope moves little and a poorly measured one moves to it.
* **Cliffs** — kept as fitted, but a harder compound's ``cliff_lap`` never comes before a softer
  compound's (it is moved to the softer one's lap). With ``inherit_cliffs`` a softer compound
  without a fitted cliff takes the nearest harder compound's cliff (lap and slope): a set that
  wears faster cannot last longer before it is worn through.

Quadratic terms are left as fitted. Compounds other than the ordered ones (INTERMEDIATE, WET) pass
through unchanged. :func:`ordering_violations` checks a compound set against the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from f1analyzer.simulation.core.params import DRY_COMPOUNDS, CompoundParams

#: smallest fresh-pace step between consecutive dry compounds (s/lap) for model sets fitted per
#: relative compound (before the pooled compound model)
MIN_PACE_STEP_FLOOR_S = 0.2
#: the step asked of a pooled compound fit (``models.tyre_pool``): the fit's own steps are kept, the
#: safety net only restores strict order (a softer compound at least this much faster)
SAFETY_NET_PACE_STEP_S = 0.01
#: largest step :func:`typical_pace_step_s` returns (a few extreme circuits must not set it)
MAX_PACE_STEP_S = 0.6
#: standard errors below these are treated as these (no value is "exact" except the reference)
SE_FLOOR = {"pace_offset_s": 0.02, "linear_s_per_lap": 0.001}
#: standard errors assumed when none are given (equal weights)
DEFAULT_SE = {"pace_offset_s": 0.2, "linear_s_per_lap": 0.02}
#: changes smaller than this are not recorded as adjustments
TOL = 1e-9


@dataclass(frozen=True)
class TyreAdjustment:
    """One simulator tyre parameter moved for physical ordering."""

    compound: str
    param: str  # pace_offset_s | linear_s_per_lap | cliff_lap | cliff_slope_s_per_lap
    before: float | None
    after: float | None
    reason: str  # pace_order | wear_order | cliff_order | cliff_inherited

    def describe(self) -> str:
        def f(v):
            if v is None:
                return "none"
            if self.param == "cliff_lap":
                return f"lap {int(v)}"
            return f"{v:+.3f}" if self.param == "pace_offset_s" else f"{v:.3f}"

        label = {"pace_offset_s": "fresh pace (s)", "linear_s_per_lap": "wear (s/lap)",
                 "cliff_lap": "cliff", "cliff_slope_s_per_lap": "cliff slope (s/lap)"}[self.param]
        return f"{self.compound} {label} {f(self.before)} -> {f(self.after)}"

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------ isotonic
def isotonic(values: Sequence[float], weights: Sequence[float] | None = None, *,
             increasing: bool = True, min_step: float = 0.0,
             fixed: int | None = None) -> np.ndarray:
    """Weighted least-squares fit ``x`` to ``values`` with ``x[i+1] - x[i] >= min_step``
    (``increasing``) or ``x[i] - x[i+1] >= min_step`` (decreasing): pool adjacent violators.

    ``fixed`` is the index of a value that must not move (its weight is made overwhelming).
    Already-ordered values are returned unchanged.
    """
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).copy()
    if n == 0:
        return y.copy()
    if fixed is not None:
        w[fixed] = 1e12 * max(float(w.max()), 1.0)
    sign = 1.0 if increasing else -1.0
    z = sign * y - float(min_step) * np.arange(n)  # constraint becomes z non-decreasing
    # blocks: [value, weight, count]
    vals: list[float] = []
    wts: list[float] = []
    cnt: list[int] = []
    for zi, wi in zip(z, w):
        vals.append(float(zi))
        wts.append(float(wi))
        cnt.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            v2, w2, c2 = vals.pop(), wts.pop(), cnt.pop()
            wsum = wts[-1] + w2
            vals[-1] = (vals[-1] * wts[-1] + v2 * w2) / wsum
            wts[-1] = wsum
            cnt[-1] += c2
    zf = np.repeat(vals, cnt)
    out = sign * (zf + float(min_step) * np.arange(n))
    # ordered input comes back bit-identical (no round-off from the shift)
    unchanged = np.isclose(zf, z, rtol=0.0, atol=1e-12)
    out[unchanged] = y[unchanged]
    if fixed is not None:
        out[fixed] = y[fixed]
    return out


def _weights(names: Sequence[str], se: Mapping | None, param: str) -> np.ndarray:
    out = []
    for c in names:
        s = None
        if se is not None and c in se and se[c] is not None:
            s = se[c].get(param) if isinstance(se[c], Mapping) else None
        s = DEFAULT_SE[param] if s is None or not np.isfinite(s) else float(s)
        s = max(s, SE_FLOOR[param])
        out.append(1.0 / (s * s))
    return np.asarray(out)


# ------------------------------------------------------------------------------ public
def order_compounds(
    params: Mapping[str, CompoundParams],
    *,
    se: Mapping[str, Mapping[str, float]] | None = None,
    min_pace_step_s: float = MIN_PACE_STEP_FLOOR_S,
    order: Sequence[str] = DRY_COMPOUNDS,
    reference: str | None = "MEDIUM",
    inherit_cliffs: bool = True,
    record: list[TyreAdjustment] | None = None,
) -> dict[str, CompoundParams]:
    """Compound parameters made physically ordered (see the module docstring).

    Args:
        params: compound name → parameters; compounds not in ``order`` are returned unchanged.
        se: standard errors, ``{compound: {"pace_offset_s": se, "linear_s_per_lap": se}}``;
            missing entries use :data:`DEFAULT_SE`, small ones :data:`SE_FLOOR`. ``None``: equal
            weights.
        min_pace_step_s: smallest fresh-pace gap between consecutive compounds of ``order``.
        order: softest to hardest.
        reference: compound whose pace offset stays put (offsets are measured against it);
            ``None`` lets every offset move.
        inherit_cliffs: give a softer compound without a cliff the nearest harder one's cliff.
        record: when given, every change is appended as a :class:`TyreAdjustment`.

    Returns:
        A new dict (same keys); unchanged compounds are the same objects.
    """
    out = dict(params)
    names = [c for c in order if c in params]
    if len(names) < 2:
        return out
    log: list[TyreAdjustment] = []
    cur = {c: params[c] for c in names}

    def set_(c: str, param: str, value, reason: str) -> None:
        before = getattr(cur[c], param)
        if before == value or (before is not None and value is not None
                               and abs(float(before) - float(value)) <= TOL):
            return
        cur[c] = replace(cur[c], **{param: value})
        log.append(TyreAdjustment(c, param, None if before is None else float(before),
                                  None if value is None else float(value), reason))

    # fresh pace: increasing with a minimum step, the reference pinned
    fixed = names.index(reference) if reference in names else None
    pace = isotonic([cur[c].pace_offset_s for c in names], _weights(names, se, "pace_offset_s"),
                    increasing=True, min_step=max(float(min_pace_step_s), 0.0), fixed=fixed)
    for c, v in zip(names, pace):
        set_(c, "pace_offset_s", float(v), "pace_order")

    # linear wear: non-increasing from soft to hard
    wear = isotonic([cur[c].linear_s_per_lap for c in names], _weights(names, se, "linear_s_per_lap"),
                    increasing=False)
    for c, v in zip(names, wear):
        set_(c, "linear_s_per_lap", max(float(v), 0.0), "wear_order")

    # cliffs: a harder compound's cliff never before a softer one's
    latest = None
    for c in names:
        lap = cur[c].cliff_lap
        if lap is None:
            continue
        if latest is not None and lap < latest:
            set_(c, "cliff_lap", int(latest), "cliff_order")
        latest = cur[c].cliff_lap
    if inherit_cliffs:
        nearest = None  # (lap, slope) of the nearest harder compound with a cliff
        for c in reversed(names):
            if cur[c].cliff_lap is not None and cur[c].cliff_slope_s_per_lap > 0:
                nearest = (cur[c].cliff_lap, cur[c].cliff_slope_s_per_lap)
            elif nearest is not None:
                set_(c, "cliff_lap", int(nearest[0]), "cliff_inherited")
                set_(c, "cliff_slope_s_per_lap", float(nearest[1]), "cliff_inherited")

    out.update(cur)
    if record is not None:
        record.extend(log)
    return out


def ordering_violations(params: Mapping[str, CompoundParams], *, min_pace_step_s: float = 0.0,
                        order: Sequence[str] = DRY_COMPOUNDS, tol: float = 1e-6,
                        cliffs_complete: bool = False) -> list[str]:
    """Human-readable breaches of the ordering rules (empty when the set is physical).

    ``cliffs_complete`` also flags a softer compound without a cliff when a harder one has one
    (the ``inherit_cliffs`` rule).
    """
    names = [c for c in order if c in params]
    bad = []
    for soft, hard in zip(names[:-1], names[1:]):
        s, h = params[soft], params[hard]
        if h.pace_offset_s - s.pace_offset_s < min_pace_step_s - tol:
            bad.append(f"{soft} fresh pace {s.pace_offset_s:+.3f} not {min_pace_step_s:.3f} s "
                       f"faster than {hard} {h.pace_offset_s:+.3f}")
        if s.linear_s_per_lap < h.linear_s_per_lap - tol:
            bad.append(f"{soft} wears less than {hard} ({s.linear_s_per_lap:.4f} < {h.linear_s_per_lap:.4f} s/lap)")
    with_cliff = [c for c in names if params[c].cliff_lap is not None]
    for soft, hard in zip(with_cliff[:-1], with_cliff[1:]):
        if params[hard].cliff_lap < params[soft].cliff_lap:
            bad.append(f"{hard} cliff (lap {params[hard].cliff_lap}) before {soft}'s "
                       f"(lap {params[soft].cliff_lap})")
    if cliffs_complete and with_cliff:
        last = names.index(with_cliff[-1])
        for c in names[:last]:
            if params[c].cliff_lap is None:
                bad.append(f"{c} has no cliff but a harder compound has one")
    return bad


def typical_pace_step_s(offsets: Iterable[Mapping[str, float]], *, order: Sequence[str] = DRY_COMPOUNDS,
                        floor_s: float = MIN_PACE_STEP_FLOOR_S, cap_s: float = MAX_PACE_STEP_S,
                        fallback: Mapping[str, float] | None = None, min_steps: int = 3) -> float:
    """Median fresh-pace step between consecutive compounds over the fits where it *is* positive.

    Args:
        offsets: one ``{compound: pace_offset_s}`` per circuit fit (own fits only, ideally).
        fallback: the all-circuit fit's offsets, used when fewer than ``min_steps`` ordered steps.

    Returns:
        The median, clipped to ``[floor_s, cap_s]``.
    """
    def steps(fits):
        out = []
        for o in fits:
            for a, b in zip(order[:-1], order[1:]):
                if a in o and b in o and o[b] - o[a] > 0:
                    out.append(float(o[b] - o[a]))
        return out

    got = steps(offsets)
    if len(got) < min_steps and fallback is not None:
        got += steps([fallback])
    med = float(np.median(got)) if got else floor_s
    return float(np.clip(med, floor_s, max(cap_s, floor_s)))


__all__ = ["SAFETY_NET_PACE_STEP_S", "TyreAdjustment", "order_compounds", "ordering_violations", "typical_pace_step_s", "isotonic",
           "MIN_PACE_STEP_FLOOR_S", "MAX_PACE_STEP_S", "SE_FLOOR", "DEFAULT_SE"]
