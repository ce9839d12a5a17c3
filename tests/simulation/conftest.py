"""Constructed races for the simulator tests (no fitted data)."""

from __future__ import annotations

import pytest

from f1analyzer.simulation.core.params import CarParams, CompoundParams, NeutralisationParams, RaceParams


def make_race(
    paces=(0.0, 0.5),
    *,
    total_laps: int = 30,
    noise_sd_s: float = 0.0,
    retirement_prob: float = 0.0,
    start_compounds=None,
    start_ages=None,
    sc: NeutralisationParams | None = None,
    vsc: NeutralisationParams | None = None,
    **overrides,
) -> RaceParams:
    """A small deterministic race: car ``i`` starts ``i + 1``-th with ``paces[i]`` s/lap offset."""
    cars = [
        CarParams(
            driver=f"C{i:02d}", team=f"T{i}", base_pace_s=float(p), lap_noise_sd_s=noise_sd_s,
            retirement_prob=retirement_prob, grid_position=i + 1,
            start_compound=(start_compounds[i] if start_compounds else "MEDIUM"),
            start_tyre_age_laps=(start_ages[i] if start_ages else 0),
        )
        for i, p in enumerate(paces)
    ]
    compounds = {
        "SOFT": CompoundParams("SOFT", -0.6, 0.08, 0.002, 18, 0.3),
        "MEDIUM": CompoundParams("MEDIUM", 0.0, 0.05, 0.001, 30, 0.2),
        "HARD": CompoundParams("HARD", 0.4, 0.03, 0.0005, 45, 0.2),
        "INTERMEDIATE": CompoundParams("INTERMEDIATE", 3.0, 0.0),
    }
    params = dict(
        circuit_key="test", total_laps=total_laps, base_lap_time_s=90.0, cars=cars,
        compounds=compounds, sc=sc or NeutralisationParams(), vsc=vsc or NeutralisationParams(),
        pit_loss_sd_s=0.0, start_time_sd_s=0.0,
    )
    params.update(overrides)
    return RaceParams(**params)


@pytest.fixture
def race_factory():
    return make_race
