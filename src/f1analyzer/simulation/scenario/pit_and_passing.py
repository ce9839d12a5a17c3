"""Pit-loss and passing parameters of the simulator from a fitted circuit model.

Used by :mod:`.build` (``_params_from_models``): the SC/VSC losses are taken as fitted
(:mod:`f1analyzer.models.pitloss` orders them), a constraint the fit still needed becomes a
``BuiltRace.confidence_reasons`` sentence, and the passing curve is adapted to the simulator's
noisy lap-time delta.
"""

from __future__ import annotations

import numpy as np

from f1analyzer.simulation.core.params import PassingParams, RaceParams


def neutral_loss(value: float, green: float, kind: str) -> float:
    """The circuit model's SC (``kind="sc"``) or VSC loss as fitted; a missing or negative value
    (a model set without the fit) takes the simulator's default share of the green loss."""
    if value is not None and np.isfinite(value) and value >= 0:
        return float(value)
    default = RaceParams.__dataclass_fields__[f"pit_loss_{kind}_s"].default
    return float(green * default / RaceParams.__dataclass_fields__["pit_loss_s"].default)


def passing_params(models, cm, lap_noise_sd_s: float = 0.0) -> PassingParams:
    """The circuit model's passing curve for the simulator.

    The curve is fitted on *expected* lap-time advantages, but the simulator draws the pass on its
    simulated delta, which carries both cars' lap noise (sd ``√2 · lap_noise_sd_s``). Averaged over
    that noise a logistic curve flattens (probit approximation: its log-odds shrink by
    ``1 / sqrt(1 + π b² s² / 8)``), so the coefficients are steepened by the inverse factor and the
    noise-averaged curve matches the fitted one. A model set fitted before the logistic was stored
    (no passing pairs in its all-circuit model) gives the circuit's ``overtake_threshold_s`` as the
    even-odds point of a curve with the default slope instead.
    """
    if int(getattr(models.global_, "passing_n_pairs", 0) or 0) > 0:
        pp = PassingParams(intercept=float(cm.passing_intercept),
                           pace_coef_per_s=float(max(cm.passing_pace_coef_per_s, 0.0)),
                           drs_coef=float(cm.passing_drs_coef),
                           circuit_effect=float(cm.passing_circuit_effect))
    else:
        slope = PassingParams().pace_coef_per_s
        pp = PassingParams(intercept=-slope * float(max(cm.overtake_threshold_s, 0.0)),
                           pace_coef_per_s=slope, drs_coef=0.0)
    spread = (np.pi / 8.0) * (pp.pace_coef_per_s * np.sqrt(2.0) * max(lap_noise_sd_s, 0.0)) ** 2
    k = 1.0 / np.sqrt(1.0 - min(spread, 0.75))  # bounded: a very noisy race is not made a step
    return PassingParams(intercept=pp.intercept * k, pace_coef_per_s=pp.pace_coef_per_s * k,
                         drs_coef=pp.drs_coef * k, circuit_effect=pp.circuit_effect * k)


def pit_loss_reasons(cm, circuit_key: str) -> list[str]:
    """A sentence for ``BuiltRace.confidence_reasons`` when the circuit model's SC/VSC pit losses
    needed a constraint after the fit (``CircuitModel.pit_loss_constrained``)."""
    fixed = list(getattr(cm, "pit_loss_constrained", None) or [])
    if not fixed:
        return []
    return [f"the Safety Car / VSC pit losses at {circuit_key} needed a constraint after the fit: "
            + "; ".join(fixed)]
