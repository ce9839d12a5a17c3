"""Pit-loss and passing parameters of the simulator from a fitted circuit model.

Used by :mod:`.build` (``_params_from_models``): the SC/VSC losses are taken as fitted
(:mod:`f1analyzer.models.pitloss` orders them), a constraint the fit still needed becomes a
``BuiltRace.confidence_reasons`` sentence, and the passing curve and held-up gap are the fitted
ones.
"""

from __future__ import annotations

import numpy as np

from f1analyzer.models.features import latest_era
from f1analyzer.simulation.core.params import PassingParams, RaceParams


def neutral_loss(value: float, green: float, kind: str) -> float:
    """The circuit model's SC (``kind="sc"``) or VSC loss as fitted; a missing or negative value
    (a model set without the fit) takes the simulator's default share of the green loss."""
    if value is not None and np.isfinite(value) and value >= 0:
        return float(value)
    default = RaceParams.__dataclass_fields__[f"pit_loss_{kind}_s"].default
    return float(green * default / RaceParams.__dataclass_fields__["pit_loss_s"].default)


def passing_params(models, cm, era: str | None = None) -> PassingParams:
    """The circuit model's passing curve and the held-up gap of ``era``'s cars, as fitted.

    The curve is fitted on *expected* lap-time advantages, and the engine draws the pass on the
    same kind of delta: the two cars' paces, their lap times without this lap's noise
    (``effects.overtaking``). So the curve is used as it is; before, the engine drew on the noisy
    lap times and the coefficients were steepened by a probit approximation to undo that noise.
    A model set fitted before the logistic was stored (no passing pairs in its all-circuit model)
    gives the circuit's ``overtake_threshold_s`` as the even-odds point of a curve with the
    default slope instead.

    The held-up gap is the all-circuit fit of ``era`` (the latest era fitted when the set has no
    fit for it; the simulator's default, the 2018-2024 fit, for a set fitted before it existed).
    """
    held = held_gap_for(models, era)
    if int(getattr(models.global_, "passing_n_pairs", 0) or 0) > 0:
        return PassingParams(intercept=float(cm.passing_intercept),
                             pace_coef_per_s=float(max(cm.passing_pace_coef_per_s, 0.0)),
                             drs_coef=float(cm.passing_drs_coef),
                             circuit_effect=float(cm.passing_circuit_effect), held_gap_s=held)
    slope = PassingParams().pace_coef_per_s
    return PassingParams(intercept=-slope * float(max(cm.overtake_threshold_s, 0.0)),
                         pace_coef_per_s=slope, drs_coef=0.0, held_gap_s=held)


def held_gap_for(models, era: str | None) -> tuple[float, ...]:
    """Held-up gap quantiles of ``era``'s cars from the model set's all-circuit model."""
    by_era = getattr(models.global_, "held_gap_by_era", None) or {}
    if not by_era:
        return PassingParams().held_gap_s
    return tuple(float(x) for x in by_era[era if era in by_era else latest_era(by_era)])


def pit_loss_reasons(cm, circuit_key: str) -> list[str]:
    """A sentence for ``BuiltRace.confidence_reasons`` when the circuit model's SC/VSC pit losses
    needed a constraint after the fit (``CircuitModel.pit_loss_constrained``)."""
    fixed = list(getattr(cm, "pit_loss_constrained", None) or [])
    if not fixed:
        return []
    return [f"the Safety Car / VSC pit losses at {circuit_key} needed a constraint after the fit: "
            + "; ".join(fixed)]
