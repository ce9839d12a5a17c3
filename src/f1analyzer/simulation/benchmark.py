"""Timing helpers for the simulator (used by ``benchmarks/bench_simulate.py`` and ``bench`` CLI).

Speed goals live here and in ``benchmarks/``, never in tests. Each measurement warms up once and
reports the median of ``repeats`` timed runs on the synthetic :func:`.demo.demo_race`.
"""

from __future__ import annotations

import statistics
import time

from f1analyzer.simulation.scenario.demo import demo_race
from f1analyzer.simulation.core import parallel
from f1analyzer.simulation.core.draws import CHUNK_SIMS
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.planning.screen import default_field_strategies


def measure_simulate(n_sims: int = 10_000, n_cars: int = 20, n_laps: int = 60, *,
                     repeats: int = 3, seed: int = 0, threads: int | None = None) -> dict:
    """Full-field races per second: ``{"races_per_second", "cars", "laps", "sims", "seconds",
    "sim_threads"}``; ``threads`` per call (None: the setting, :func:`~.core.parallel.sim_threads`),
    ``sim_threads`` the number the call could split into at this size."""
    race = demo_race(n_cars=n_cars, total_laps=n_laps)
    strategies = default_field_strategies(race)
    with parallel.using_threads(threads):
        simulate(race, strategies, min(n_sims, 500), seed)  # warm-up
        times = []
        for r in range(repeats):
            t0 = time.perf_counter()
            simulate(race, strategies, n_sims, seed + r)
            times.append(time.perf_counter() - t0)
        used = len(parallel.row_slices(min(n_sims, CHUNK_SIMS)))
    seconds = statistics.median(times)
    return {"races_per_second": n_sims / seconds, "cars": n_cars, "laps": n_laps, "sims": n_sims,
            "seconds": seconds, "sim_threads": used}


def measure_optimiser(n_cars: int = 20, n_laps: int = 60, *, repeats: int = 7,
                      n_sims: int = 300) -> dict:
    """Latency of a full :func:`.optimiser.optimise` call (default field plans included)."""
    race = demo_race(n_cars=n_cars, total_laps=n_laps)
    driver = race.drivers[min(4, n_cars - 1)]
    optimise(race, driver, n_sims=n_sims, seed=0)  # warm-up
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        optimise(race, driver, n_sims=n_sims, seed=r)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"p50_s": statistics.median(times), "p90_s": times[int(0.9 * (len(times) - 1))],
            "min_s": times[0], "cars": n_cars, "laps": n_laps, "sims_per_candidate": n_sims,
            "repeats": repeats}
