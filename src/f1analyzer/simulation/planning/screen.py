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
from f1analyzer.simulation.core.params import COMPOUNDS, DRY_COMPOUNDS, MAX_STOPS, RaceParams, TrackStatus, compound_code
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.core.rules import TyreRules
from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS, Strategy


@dataclass(frozen=True)
class ScreenedPlan:
    """A plan and its deterministic cost (s, relative; lower is better)."""

    strategy: Strategy
    time_s: float
    #: said of the plan by the screen (e.g. :data:`RELAXED`); the rules that shaped it are
    #: :meth:`Screen.rules_applied` (worded only for the plans that are reported)
    rules_applied: tuple[str, ...] = ()


#: said of a plan when the learned stint caps left no plan and were dropped
RELAXED = "learned stint limits relaxed: no plan fits them"


class Screen:
    """Deterministic plan costs for one race.

    Args:
        race: the race (its :attr:`~RaceParams.rules` bound every plan: stint caps, stop and
            compound rules, nominated compounds).
        from_lap: laps already completed (0 = the start).
        rules: other rules than ``race.rules`` (e.g. without the learned caps).
    """

    def __init__(self, race: RaceParams, from_lap: int = 0, rules: TyreRules | None = None):
        self.race = race
        self.from_lap = from_lap
        self.rules = race.rules if rules is None else rules
        table = race.tyre_delta_table().astype(np.float64)
        self.cum = np.concatenate([np.zeros((table.shape[0], 1)), np.cumsum(table, axis=1)], axis=1)
        self.stop_cost_s = stop_loss_s(race, TrackStatus.GREEN)
        self._grids: dict[tuple, np.ndarray] = {}

    def _stint(self, code: int, age0: np.ndarray | int, n_laps: np.ndarray) -> np.ndarray:
        hi = self.cum.shape[1] - 1
        a0 = np.minimum(age0, hi)
        a1 = np.minimum(a0 + n_laps, hi)
        return self.cum[code, a1] - self.cum[code, a0]

    def _lengths(self, pit_laps: np.ndarray) -> np.ndarray:
        n = pit_laps.shape[0]
        edges = np.concatenate(
            [np.full((n, 1), self.from_lap), pit_laps, np.full((n, 1), self.race.total_laps)], axis=1
        )
        return np.diff(edges, axis=1)

    def times(self, codes: Sequence[int], pit_laps: np.ndarray, start_age_laps: int) -> np.ndarray:
        """Cost ``[n_plans]`` of plans with stint compounds ``codes``, ``pit_laps`` ``[n_plans, n_stops]``."""
        pit_laps = np.asarray(pit_laps, dtype=np.int64)
        if pit_laps.ndim == 1:
            pit_laps = pit_laps[None, :]
        return self._times_of(codes, self._lengths(pit_laps), start_age_laps)

    def _times_of(self, codes: Sequence[int], lengths: np.ndarray, start_age_laps: int) -> np.ndarray:
        """:meth:`times` from the stint lengths ``[n_plans, n_stints]``."""
        total = np.full(lengths.shape[0], self.stop_cost_s * (len(codes) - 1))
        for i, code in enumerate(codes):
            total += self._stint(code, start_age_laps if i == 0 else 0, lengths[:, i])
        return total

    def caps_ok(self, codes: Sequence[int], pit_laps: np.ndarray, start_age_laps: int,
                slack_laps: int = 0) -> np.ndarray:
        """bool ``[n]``: no stint of the rows ``pit_laps`` runs a set past its cap (event rule and
        learned limit; the first stint's set starts ``start_age_laps`` old, later ones new).
        ``slack_laps`` keeps the later stints that much short of their caps (a plan that boxes up
        to that many laps early under SC/VSC lengthens the next stint by as much)."""
        pit_laps = np.asarray(pit_laps, dtype=np.int64)
        if pit_laps.ndim == 1:
            pit_laps = pit_laps[None, :]
        if not self.rules.has_caps:
            return np.ones(pit_laps.shape[0], dtype=bool)
        return self._caps_ok_of(codes, self._lengths(pit_laps), start_age_laps, slack_laps)

    def _caps_ok_of(self, codes: Sequence[int], lengths: np.ndarray, start_age_laps: int,
                    slack_laps: int = 0) -> np.ndarray:
        """:meth:`caps_ok` from the stint lengths ``[n, n_stints]``."""
        ok = np.ones(lengths.shape[0], dtype=bool)
        if not self.rules.has_caps:
            return ok
        for i, code in enumerate(codes):
            cap = self.rules.cap_laps(COMPOUNDS[code], start_age_laps if i == 0 else 0)
            if cap is not None:
                # a set already at its cap boxes at the first chance: one more lap
                ok &= lengths[:, i] <= (max(cap, 1) if i == 0 else cap - slack_laps)
        return ok

    # ---------------------------------------------------------------------------------------
    def sequences(self, n_stops: int, start_compound: str | None,
                  compounds_used: Iterable[str] = ()) -> list[tuple[int, ...]]:
        """Legal stint-compound sequences (codes) with ``n_stops`` stops from the allocation
        (nominated compounds only; at least ``rules.min_dry_compounds`` dry compounds)."""
        dry = self.rules.allowed(c for c in self.race.dry_compounds if c in self.race.compounds)
        used = {str(c).upper() for c in compounds_used}
        firsts = [start_compound.upper()] if start_compound else dry
        need = self.rules.min_dry_compounds
        out = []
        for first in firsts:
            for rest in itertools.product(dry, repeat=n_stops):
                seq = (first, *rest)
                names = used | set(seq)
                wet = any(c not in DRY_COMPOUNDS for c in names)
                if wet or len(names & set(DRY_COMPOUNDS)) >= need:
                    out.append(tuple(compound_code(c) for c in seq))
        return out

    def stints_ok(self, laps: np.ndarray, min_stint_laps: int) -> np.ndarray:
        """bool ``[n]``: every stint of the pit-lap rows ``laps`` ``[n, n_stops]`` lasts at least
        ``min_stint_laps`` laps (from ``from_lap`` to the flag)."""
        return self._stints_ok_of(self._lengths(np.asarray(laps, dtype=np.int64)), min_stint_laps)

    @staticmethod
    def _stints_ok_of(lengths: np.ndarray, min_stint_laps: int) -> np.ndarray:
        """:meth:`stints_ok` from the stint lengths ``[n, n_stints]``."""
        return np.all(lengths >= max(1, int(min_stint_laps)), axis=1)

    def grid(self, n_stops: int, step: int, first_stop_min: int | None = None,
             min_stint_laps: int = 1) -> np.ndarray:
        """Coarse pit-lap combinations ``[n, n_stops]`` (strictly increasing, every ``step`` laps,
        no stint shorter than ``min_stint_laps``)."""
        lo = self.from_lap + 1 if first_stop_min is None else first_stop_min
        hi = self.race.total_laps - 1
        if n_stops == 0:
            return np.zeros((1, 0), dtype=np.int64)
        key = (n_stops, step, lo, min_stint_laps)
        if key not in self._grids:  # every compound sequence of a stop count shares the grid
            self._grids[key] = self._grid(n_stops, step, lo, hi, min_stint_laps)
        return self._grids[key]

    def _grid(self, n_stops: int, step: int, lo: int, hi: int, min_stint_laps: int) -> np.ndarray:
        laps = list(range(lo, hi + 1, max(1, step)))
        if laps and laps[-1] != hi:
            laps.append(hi)
        combos = np.array(list(itertools.combinations(laps, n_stops)), dtype=np.int64).reshape(-1, n_stops)
        if min_stint_laps > 1 and combos.size:
            combos = combos[self.stints_ok(combos, min_stint_laps)]
        return combos

    def refine(self, codes: Sequence[int], laps: np.ndarray, start_age: int, radius: int,
               first_stop_min: int, min_stint_laps: int = 1, slack_laps: int = 0) -> tuple[np.ndarray, float]:
        """Hill-climb pit laps around ``laps`` (±``radius`` per stop) until no improvement,
        never leaving the stint caps."""
        best = np.asarray(laps, dtype=np.int64)
        best_t = float(self.times(codes, best[None], start_age)[0])
        # many stops: a smaller neighbourhood, or the hill-climb costs more than the grid
        radius = radius if best.size <= 3 else 1
        offsets = np.array(list(itertools.product(range(-radius, radius + 1), repeat=best.size)))
        for _ in range(8):
            cand = best[None, :] + offsets
            # the stint lengths once for the checks and the cost (the screen's hot loop)
            lengths = self._lengths(cand)
            ok = np.all(lengths[:, 1:-1] > 0, axis=1) & (cand[:, 0] >= first_stop_min)
            ok &= cand[:, -1] <= self.race.total_laps - 1
            if min_stint_laps > 1:
                ok &= self._stints_ok_of(lengths, min_stint_laps)
            ok &= self._caps_ok_of(codes, lengths, start_age, slack_laps)
            cand, lengths = cand[ok], lengths[ok]
            if cand.shape[0] == 0:
                break
            t = self._times_of(codes, lengths, start_age)
            i = int(np.argmin(t))
            if t[i] >= best_t - 1e-9:
                break
            best, best_t = cand[i], float(t[i])
        return best, best_t

    def _best_of(self, codes, grid_fn, start_age_laps, step, first_min, min_stint_laps, slack):
        """(pit laps, cost) of the best plan of one compound sequence within the caps, or None."""
        n_stops = len(codes) - 1
        if self.rules.has_caps:
            # the sets' caps together cannot cover the laps left: no pit laps can help
            caps = [self.rules.cap_laps(COMPOUNDS[c], start_age_laps if i == 0 else 0) for i, c in enumerate(codes)]
            room = max(caps[0], 1) + sum(caps[1:]) - slack * (len(caps) - 1) if None not in caps else None
            if room is not None and room < self.race.total_laps - self.from_lap:
                return None
        grid = grid_fn(step)
        ok = self.caps_ok(codes, grid, start_age_laps, slack)
        if n_stops > 0 and step > 1 and not ok.any():
            # the caps leave less slack than the coarse grid's spacing: search lap by lap (every
            # other lap beyond three stops: C(laps, 5) rows would cost seconds per sequence; the
            # hill-climb below still moves each stop lap by lap)
            grid = grid_fn(1 if n_stops <= 3 else 2)
            ok = self.caps_ok(codes, grid, start_age_laps, slack)
        if not ok.any():
            return None
        grid = grid[ok]
        t = self.times(codes, grid, start_age_laps)
        i = int(np.argmin(t))
        laps, best_t = grid[i], float(t[i])
        if n_stops > 0 and step > 1:
            laps, best_t = self.refine(codes, laps, start_age_laps, step, first_min, min_stint_laps, slack)
        return laps, best_t

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
        stops_done: int = 0,
    ) -> list[ScreenedPlan]:
        """Best plan of every legal compound sequence, sorted by cost (one per sequence).

        ``start_compound=None`` lets the plan choose its start compound (race start only).
        ``min_stint_laps`` forbids stints shorter than that (a 3-lap opening stint is legal but no
        team plans one). Every plan keeps the race's rules (:class:`TyreRules`): no set beyond its
        cap (``start_age_laps`` counts against the first set), at least ``min_stops`` stops in all
        (``stops_done`` already made), nominated compounds only. When no stop count in ``stops``
        can keep the caps, more stops are tried (up to :data:`MAX_STOPS`); when the learned caps
        leave no plan at all, they are dropped (the event rules never are) and the plans say so.
        With ``sc_window_laps`` the stints after the first keep that many laps short of their caps
        (boxing early under SC/VSC lengthens the next stint), unless no plan then fits.
        """
        stops = tuple(stops)
        kw = dict(start_compound=start_compound, start_age_laps=start_age_laps, used=tuple(compounds_used),
                  step=step, first_stop_min=first_stop_min, sc_window_laps=sc_window_laps,
                  min_stint_laps=min_stint_laps, stops_done=stops_done)
        plans = self._best_plans(**kw, stops=stops, slack=sc_window_laps)
        if sc_window_laps and self.rules.has_caps:
            # a stop count the caps leave no room for early SC stops is still planned, without
            # them (a team at its caps keeps its laps): no stop is added for opportunism's sake
            have = {p.strategy.n_stops for p in plans}
            missing = tuple(n for n in stops if n not in have)
            if missing or not plans:
                tight = self._best_plans(**kw, stops=missing or stops, slack=0)
                plans = sorted(plans + [ScreenedPlan(p.strategy.with_opportunism(0), p.time_s, p.rules_applied)
                                        for p in tight if p.strategy.n_stops not in have],
                               key=lambda p: p.time_s)
        if not plans and self.rules.max_stint_laps:
            relaxed = Screen(self.race, self.from_lap, rules=self.rules.without_learned())
            plans = relaxed._best_plans(**kw, stops=stops, slack=0)
            plans = [ScreenedPlan(p.strategy, p.time_s, p.rules_applied + (RELAXED,)) for p in plans]
        if not plans:
            raise InvalidRequestError(
                f"No legal plan from lap {self.from_lap} with stops in {sorted(stops)}; "
                f"allocation: {', '.join(self.race.dry_compounds)}"
                + ("; rules: " + "; ".join(self.rules.describe()) if self.rules.describe() else "") + "."
            )
        return plans

    def _best_plans(self, start_compound, start_age_laps, used, stops, step, first_stop_min,
                    sc_window_laps, min_stint_laps, stops_done, *, slack: int) -> list[ScreenedPlan]:
        first_min = self.from_lap + 1 if first_stop_min is None else first_stop_min
        last = self.race.total_laps - 1
        wet = any(str(c).upper() not in DRY_COMPOUNDS for c in used)
        # one stop is the two-compound rule's consequence (checked by the sequences: a red-flag
        # tyre change can satisfy it without a stop); more is an event rule of its own
        need = 0 if wet or self.rules.min_stops <= 1 else self.rules.min_stops - int(stops_done)
        counts = sorted({int(n) for n in stops})
        legal = [n for n in counts if n >= need]
        # the caps or the minimum may need more stops than asked for: extend upwards
        extra = list(range(max(counts[-1] + 1 if counts else 0, need), MAX_STOPS + 1))
        out: list[ScreenedPlan] = []
        for batch in ([legal, *[[n] for n in extra]] if legal else [[n] for n in extra]):
            for n_stops in batch:
                if n_stops > 0 and first_min + n_stops - 1 > last:
                    continue

                def grid_fn(st, n_stops=n_stops):
                    return self.grid(n_stops, st, first_min, min_stint_laps)

                if grid_fn(step).shape[0] == 0:
                    continue
                for codes in self.sequences(n_stops, start_compound, used):
                    best = self._best_of(codes, grid_fn, start_age_laps, step, first_min, min_stint_laps,
                                         slack)
                    if best is None:
                        continue
                    laps, best_t = best
                    strat = Strategy(
                        COMPOUNDS[codes[0]],
                        tuple((int(lap), COMPOUNDS[c]) for lap, c in zip(laps, codes[1:])),
                        sc_window_laps,
                    )
                    out.append(ScreenedPlan(strat, best_t))
            if out:
                break
        out.sort(key=lambda p: p.time_s)
        return out

    def rules_applied(self, plan: ScreenedPlan, start_age_laps: int = 0) -> list[str]:
        """The rules that shaped ``plan`` (:meth:`TyreRules.shaped`) plus what the screen said."""
        return self.rules.shaped(plan.strategy, self.race.total_laps, start_age_laps=start_age_laps,
                                 from_lap=self.from_lap) + list(plan.rules_applied)

    def pit_windows(self, strategy: Strategy, start_age_laps: int,
                    tolerance_s: float) -> list[tuple[int, int]]:
        """For each stop, the contiguous laps (others fixed) costing at most ``tolerance_s`` more
        and keeping every set within its cap."""
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
            ok &= self.caps_ok(codes, cand, start_age_laps)
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
                             sc_window_laps: int = SC_OPPORTUNISM_LAPS) -> list[Strategy]:
    """A sensible plan for every car: its best screened 1- or 2-stop from its starting tyres,
    within the race's rules (more stops when the stint caps need them), boxing early under a
    SC/VSC when its stop is within ``sc_window_laps`` (0: never)."""
    screen = Screen(race)
    out, best = [], {}
    for car in race.cars:
        key = (car.start_compound, car.start_tyre_age_laps)  # cars on the same tyres plan alike
        if key not in best:
            best[key] = screen.best_plans(start_compound=car.start_compound,
                                          start_age_laps=car.start_tyre_age_laps, stops=stops, step=3,
                                          sc_window_laps=sc_window_laps)[0].strategy
        out.append(best[key])
    return out
