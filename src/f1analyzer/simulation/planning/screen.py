"""Cheap deterministic strategy screening: one car in clean air, no noise, green flag.

The time a plan costs is the sum over its stints of the tyre contribution (pace offset + wear,
from :meth:`RaceParams.tyre_delta_table`) plus ``n_stops`` green stop losses (:func:`.pitloss.stop_loss_s`);
fuel and car pace are the same for every plan and drop out. With a cumulative table
``cum[compound, age]`` each stint costs two lookups, so tens of thousands of candidate pit-lap
combinations are scored in a few milliseconds. The optimiser screens with this and runs the
full-field Monte Carlo only on the finalists; the advisor and the default field strategies use
it to plan the rest of a race.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import COMPOUNDS, DRY_COMPOUNDS, RaceParams, TrackStatus, compound_code
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.core.strategy import Strategy


@dataclass(frozen=True)
class ScreenedPlan:
    """A plan and its deterministic cost (s, relative; lower is better)."""

    strategy: Strategy
    time_s: float


class Screen:
    """Deterministic plan costs for one race.

    Args:
        race: the race.
        from_lap: laps already completed (0 = the start).
    """

    def __init__(self, race: RaceParams, from_lap: int = 0):
        self.race = race
        self.from_lap = from_lap
        table = race.tyre_delta_table().astype(np.float64)
        self.cum = np.concatenate([np.zeros((table.shape[0], 1)), np.cumsum(table, axis=1)], axis=1)
        self.stop_cost_s = stop_loss_s(race, TrackStatus.GREEN)

    def _stint(self, code: int, age0: np.ndarray | int, n_laps: np.ndarray) -> np.ndarray:
        hi = self.cum.shape[1] - 1
        a0 = np.minimum(age0, hi)
        a1 = np.minimum(a0 + n_laps, hi)
        return self.cum[code, a1] - self.cum[code, a0]

    def times(self, codes: Sequence[int], pit_laps: np.ndarray, start_age_laps: int) -> np.ndarray:
        """Cost ``[n_plans]`` of plans with stint compounds ``codes``, ``pit_laps`` ``[n_plans, n_stops]``."""
        pit_laps = np.asarray(pit_laps, dtype=np.int64)
        if pit_laps.ndim == 1:
            pit_laps = pit_laps[None, :]
        n = pit_laps.shape[0]
        edges = np.concatenate(
            [np.full((n, 1), self.from_lap), pit_laps, np.full((n, 1), self.race.total_laps)], axis=1
        )
        lengths = np.diff(edges, axis=1)
        total = np.full(n, self.stop_cost_s * (len(codes) - 1))
        for i, code in enumerate(codes):
            total += self._stint(code, start_age_laps if i == 0 else 0, lengths[:, i])
        return total

    # ---------------------------------------------------------------------------------------
    def sequences(self, n_stops: int, start_compound: str | None,
                  compounds_used: Iterable[str] = ()) -> list[tuple[int, ...]]:
        """Legal stint-compound sequences (codes) with ``n_stops`` stops from the allocation."""
        dry = [c for c in self.race.dry_compounds if c in self.race.compounds]
        used = {str(c).upper() for c in compounds_used}
        firsts = [start_compound.upper()] if start_compound else dry
        out = []
        for first in firsts:
            for rest in itertools.product(dry, repeat=n_stops):
                seq = (first, *rest)
                names = used | set(seq)
                wet = any(c not in DRY_COMPOUNDS for c in names)
                if wet or len(names & set(DRY_COMPOUNDS)) >= 2:
                    out.append(tuple(compound_code(c) for c in seq))
        return out

    def stints_ok(self, laps: np.ndarray, min_stint_laps: int) -> np.ndarray:
        """bool ``[n]``: every stint of the pit-lap rows ``laps`` ``[n, n_stops]`` lasts at least
        ``min_stint_laps`` laps (from ``from_lap`` to the flag)."""
        laps = np.asarray(laps, dtype=np.int64)
        n = laps.shape[0]
        edges = np.concatenate([np.full((n, 1), self.from_lap), laps,
                                np.full((n, 1), self.race.total_laps)], axis=1)
        return np.all(np.diff(edges, axis=1) >= max(1, int(min_stint_laps)), axis=1)

    def grid(self, n_stops: int, step: int, first_stop_min: int | None = None,
             min_stint_laps: int = 1) -> np.ndarray:
        """Coarse pit-lap combinations ``[n, n_stops]`` (strictly increasing, every ``step`` laps,
        no stint shorter than ``min_stint_laps``)."""
        lo = self.from_lap + 1 if first_stop_min is None else first_stop_min
        hi = self.race.total_laps - 1
        if n_stops == 0:
            return np.zeros((1, 0), dtype=np.int64)
        laps = list(range(lo, hi + 1, max(1, step)))
        if laps and laps[-1] != hi:
            laps.append(hi)
        combos = np.array(list(itertools.combinations(laps, n_stops)), dtype=np.int64).reshape(-1, n_stops)
        if min_stint_laps > 1 and combos.size:
            combos = combos[self.stints_ok(combos, min_stint_laps)]
        return combos

    def refine(self, codes: Sequence[int], laps: np.ndarray, start_age: int, radius: int,
               first_stop_min: int, min_stint_laps: int = 1) -> tuple[np.ndarray, float]:
        """Hill-climb pit laps around ``laps`` (±``radius`` per stop) until no improvement."""
        best = np.asarray(laps, dtype=np.int64)
        best_t = float(self.times(codes, best[None], start_age)[0])
        offsets = np.array(list(itertools.product(range(-radius, radius + 1), repeat=best.size)))
        for _ in range(8):
            cand = best[None, :] + offsets
            ok = np.all(np.diff(cand, axis=1) > 0, axis=1) & (cand[:, 0] >= first_stop_min)
            ok &= cand[:, -1] <= self.race.total_laps - 1
            if min_stint_laps > 1:
                ok &= self.stints_ok(cand, min_stint_laps)
            cand = cand[ok]
            if cand.shape[0] == 0:
                break
            t = self.times(codes, cand, start_age)
            i = int(np.argmin(t))
            if t[i] >= best_t - 1e-9:
                break
            best, best_t = cand[i], float(t[i])
        return best, best_t

    def best_plans(
        self,
        *,
        start_compound: str | None = None,
        start_age_laps: int = 0,
        compounds_used: Iterable[str] = (),
        stops: Iterable[int] = (1, 2, 3),
        step: int = 3,
        first_stop_min: int | None = None,
        sc_window_laps: int = 0,
        min_stint_laps: int = 1,
    ) -> list[ScreenedPlan]:
        """Best plan of every legal compound sequence, sorted by cost (one per sequence).

        ``start_compound=None`` lets the plan choose its start compound (race start only).
        ``min_stint_laps`` forbids stints shorter than that (a 3-lap opening stint is legal but no
        team plans one).
        """
        used = tuple(compounds_used)
        first_min = self.from_lap + 1 if first_stop_min is None else first_stop_min
        out: list[ScreenedPlan] = []
        for n_stops in stops:
            if n_stops > 0 and first_min + n_stops - 1 > self.race.total_laps - 1:
                continue
            grid = self.grid(n_stops, step, first_min, min_stint_laps)
            if grid.shape[0] == 0:
                continue
            for codes in self.sequences(n_stops, start_compound, used):
                t = self.times(codes, grid, start_age_laps)
                i = int(np.argmin(t))
                laps, best_t = grid[i], float(t[i])
                if n_stops > 0 and step > 1:
                    laps, best_t = self.refine(codes, laps, start_age_laps, step, first_min,
                                               min_stint_laps)
                strat = Strategy(
                    COMPOUNDS[codes[0]],
                    tuple((int(lap), COMPOUNDS[c]) for lap, c in zip(laps, codes[1:])),
                    sc_window_laps,
                )
                out.append(ScreenedPlan(strat, best_t))
        if not out:
            raise InvalidRequestError(
                f"No legal plan from lap {self.from_lap} with stops in {sorted(stops)}; "
                f"allocation: {', '.join(self.race.dry_compounds)}."
            )
        out.sort(key=lambda p: p.time_s)
        return out

    def pit_windows(self, strategy: Strategy, start_age_laps: int,
                    tolerance_s: float) -> list[tuple[int, int]]:
        """For each stop, the contiguous laps (others fixed) costing at most ``tolerance_s`` more."""
        codes = [compound_code(c) for c in strategy.compounds]
        laps = np.array(strategy.pit_laps, dtype=np.int64)
        base = float(self.times(codes, laps[None], start_age_laps)[0])
        windows = []
        for i in range(laps.size):
            lo = laps[i - 1] + 1 if i > 0 else self.from_lap + 1
            hi = laps[i + 1] - 1 if i + 1 < laps.size else self.race.total_laps - 1
            cand = np.repeat(laps[None], hi - lo + 1, axis=0)
            cand[:, i] = np.arange(lo, hi + 1)
            ok = self.times(codes, cand, start_age_laps) <= base + tolerance_s
            j = int(laps[i] - lo)
            a = j
            while a > 0 and ok[a - 1]:
                a -= 1
            b = j
            while b + 1 < ok.size and ok[b + 1]:
                b += 1
            windows.append((int(lo + a), int(lo + b)))
        return windows


def default_field_strategies(race: RaceParams, *, stops: Iterable[int] = (1, 2),
                             sc_window_laps: int = 0) -> list[Strategy]:
    """A sensible plan for every car: its best screened 1- or 2-stop from its starting tyres."""
    screen = Screen(race)
    out = []
    for car in race.cars:
        plans = screen.best_plans(start_compound=car.start_compound,
                                  start_age_laps=car.start_tyre_age_laps, stops=stops, step=3,
                                  sc_window_laps=sc_window_laps)
        out.append(plans[0].strategy)
    return out
