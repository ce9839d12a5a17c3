"""Simulation-based calibration of the passing intercept (simulation/scenario/passing_calibration.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models import overtaking as ot
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.params import PassingParams, TrackStatus
from f1analyzer.simulation.scenario import passing_calibration as pc
from f1analyzer.simulation.scenario.demo import demo_race


def _race(effect: float = 0.0):
    race = demo_race(n_cars=10, total_laps=30, retirement_prob=0.05)
    return replace(race, passing=PassingParams(intercept=-2.0, pace_coef_per_s=1.5, drs_coef=-0.5,
                                               circuit_effect=effect))


def _as_laps(race, res, strategies) -> pd.DataFrame:
    """The simulated races as a real lap table (one round per sim) for ``overtaking.pass_events``."""
    code = {TrackStatus.GREEN: "1", TrackStatus.SC: "4", TrackStatus.VSC: "6"}
    pit = {i: {lap for lap, _ in s.stops} for i, s in enumerate(strategies)}
    rows = []
    for s in range(res.n_sims):
        for lap in range(1, race.total_laps + 1):
            for car in range(race.n_cars):
                if res.retired[s, car] and lap > res.laps_done[s, car]:
                    continue
                pos = int(res.positions_by_lap[s, lap - 1, car])
                rows.append({"season": 2000, "round": s + 1, "driver": f"C{car}", "lap_number": lap,
                             "position": pos, "session_time_s": 90.0 * lap + pos,
                             "pit_in": lap in pit[car], "pit_out": lap - 1 in pit[car],
                             "track_status": code[int(res.track_status[s, lap - 1])]})
    return pd.DataFrame(rows)


def test_simulated_passes_are_counted_like_the_real_ones():
    race = _race()
    strategies = pc.calibration_strategies(race)
    res = simulate(race, strategies, n_sims=12, seed=3, record_positions=True)
    pit = np.array([[s.stops[0][0]] for s in strategies])
    last = np.where(res.retired, res.laps_done, race.total_laps)
    counted = pc.count_passes(res.positions_by_lap, res.track_status, pit, last)
    laps = _as_laps(race, res, strategies)
    _, swaps = ot.pass_events(laps, pd.Series(np.nan, index=laps.index))
    np.testing.assert_array_equal(counted, swaps.sort_values("round")["passes"].to_numpy())
    assert counted.sum() > 0


def test_calibration_recovers_a_known_circuit_intercept():
    truth = -1.2
    target = pc.mean_passes(_race(truth), pc.calibration_strategies(_race(truth)), 0.0)
    offset = pc.calibrate_offset(_race(0.0), target)
    assert offset == pytest.approx(truth, abs=0.15)
    # more passes wanted: a larger intercept
    assert pc.calibrate_offset(_race(0.0), target * 1.3) > offset


def test_an_unreachable_target_gives_the_bracket_end():
    assert pc.calibrate_offset(_race(), 1e6) == pc.OFFSET_RANGE[1]
    assert pc.calibrate_offset(_race(), -1.0) == pc.OFFSET_RANGE[0]


# ---------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def replays(data_dir, tmp_path_factory):
    """Per dry 2023-2024 race: (circuit, real passes, simulated passes uncalibrated, calibrated),
    each race re-simulated from the grid with its real field, plans and SC/VSC laps."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.session import load_race
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.race_models import RaceModels
    from f1analyzer.simulation.scenario.build import build_race
    from f1analyzer.simulation.scenario.replay import real_plans, track_schedule

    store = RaceStore(tmp_path_factory.mktemp("store"))
    ingest_files([data_dir / "laps" / f"{s}.csv.gz" for s in (2023, 2024)], store)
    laps = pd.DataFrame(store.laps())
    models = RaceModels().fit(laps, store.races(), store.pit_stops())
    _, real = ot.pass_events(laps, pd.Series(np.nan, index=laps.index))
    rows = []
    for season, rnd, wet, n_real in real[["season", "round", "wet", "passes"]].itertuples(index=False):
        if wet:
            continue
        race = load_race(int(season), int(rnd), store)
        sims = []
        for offset in (0.0, None):
            for cm in [*models.circuits_.values(), models.global_]:
                cm.passing_sim_offset = offset
            params = build_race(int(season), int(rnd), models=models, store=store, pre_race=False).params
            plans, _ = real_plans(race, params, None)
            res = simulate(params, plans, n_sims=40, seed=0, sc_schedule=track_schedule(race, params.total_laps),
                           record_positions=True)
            pit = np.zeros((params.n_cars, max(1, max(len(p.stops) for p in plans))), dtype=np.int64)
            for i, p in enumerate(plans):
                pit[i, :len(p.stops)] = [lap for lap, _ in p.stops]
            last = np.where(res.retired, res.laps_done, params.total_laps)
            sims.append(pc.count_passes(res.positions_by_lap, res.track_status, pit, last).mean())
        rows.append((str(race.circuit_key), int(n_real), *sims))
    return pd.DataFrame(rows, columns=["circuit_key", "real", "before", "after"])


@pytest.mark.realdata
def test_simulated_passes_match_the_real_ones_at_most_circuits(replays):
    per = replays.groupby("circuit_key")[["real", "before", "after"]].mean()
    ratio = per[["before", "after"]].div(per["real"], axis=0)
    within = (ratio - 1).abs().le(0.25).mean()
    assert within["after"] >= 0.5
    assert within["after"] > within["before"]
    # the whole season's passes are matched, not only the circuits'
    assert replays["after"].mean() == pytest.approx(replays["real"].mean(), rel=0.15)
    assert np.log(ratio["after"]).abs().mean() < np.log(ratio["before"]).abs().mean()
