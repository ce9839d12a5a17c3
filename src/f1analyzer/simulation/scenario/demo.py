"""A synthetic, plausible race for examples, benchmarks and tests (no fitted data needed).

The numbers are round illustrative values, not fitted to any real event.
"""

from __future__ import annotations

import numpy as np

from f1analyzer.simulation.core.params import CarParams, NeutralisationParams, RaceParams
from f1analyzer.simulation.core.strategy import Strategy

_CODES = [
    "AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH", "III", "JJJ",
    "KKK", "LLL", "MMM", "NNN", "OOO", "PPP", "QQQ", "RRR", "SSS", "TTT",
]


def demo_race(n_cars: int = 20, total_laps: int = 60, *, with_neutralisations: bool = True,
              retirement_prob: float = 0.03) -> RaceParams:
    """A ``total_laps``-lap race of ``n_cars`` cars spread over ~1.5 s/lap of pace.

    Car ``i`` starts ``i + 1``-th and is ``0.08 * i`` s/lap slower than the pole sitter.
    """
    codes = _CODES + [f"X{i:02d}" for i in range(len(_CODES), max(n_cars, len(_CODES)))]
    cars = [
        CarParams(
            driver=codes[i],
            team=f"Team {i // 2 + 1}",
            base_pace_s=0.08 * i,
            lap_noise_sd_s=0.3,
            retirement_prob=retirement_prob,
            grid_position=i + 1,
            start_compound="MEDIUM" if i % 3 else "SOFT",
            start_tyre_age_laps=2 if i < 10 else 0,
        )
        for i in range(n_cars)
    ]
    sc = NeutralisationParams(
        p_at_least_one=0.45, count_probs=(0.75, 0.2, 0.05),
        start_fraction_probs=(0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1),
        duration_laps_probs=(0.0, 0.1, 0.3, 0.3, 0.2, 0.1),
    ) if with_neutralisations else NeutralisationParams()
    vsc = NeutralisationParams(
        p_at_least_one=0.35, count_probs=(0.8, 0.2),
        start_fraction_probs=(0.125,) * 8, duration_laps_probs=(0.3, 0.5, 0.2),
    ) if with_neutralisations else NeutralisationParams()
    return RaceParams(
        circuit_key="demo", total_laps=total_laps, base_lap_time_s=90.0, cars=cars, sc=sc, vsc=vsc,
    )


def default_strategies(race: RaceParams) -> list[Strategy]:
    """A simple legal one-stop per car: start compound, then HARD (MEDIUM if started on HARD)."""
    out = []
    for i, car in enumerate(race.cars):
        second = "HARD" if car.start_compound != "HARD" else "MEDIUM"
        lap = int(np.clip(round(race.total_laps * (0.35 + 0.01 * (i % 7))), 1, race.total_laps - 1))
        out.append(Strategy(car.start_compound, ((lap, second),)))
    return out
