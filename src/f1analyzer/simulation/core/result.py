"""Results of a batch of simulated races and the statistics strategists read from them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import TrackStatus

#: championship points of positions 1..10 (2010- table; the fastest-lap point is left out: no
#: strategy is chosen for it)
POINTS = (25, 18, 15, 12, 10, 8, 6, 4, 2, 1)
#: names of the finishing-position percentiles: "10th percentile" = in 10 % of (classified)
#: races the car finishes there or better, never "tenth place"
PERCENTILES = {"10th_percentile": 0.1, "median": 0.5, "90th_percentile": 0.9}


def percentile_phrase(position_10th_percentile: float | None) -> str:
    """Prose for the 10th percentile: "in 10 % of races P2 or better"."""
    if position_10th_percentile is None or not np.isfinite(position_10th_percentile):
        return ""
    return f"in 10 % of races P{int(round(position_10th_percentile))} or better"


@dataclass
class SimResult:
    """``n_sims`` finished races for ``n_cars`` cars (``drivers`` order = ``race.cars`` order).

    Attributes:
        drivers: driver codes, length ``n_cars``.
        finish_position: ``[n_sims, n_cars]`` int8, 1-based classification (retired cars are
            classified behind the finishers, later retirements first).
        race_time_s: ``[n_sims, n_cars]`` float64 time from the start (or from the start state's
            leader for a mid-race simulation) to the flag; NaN for retired cars.
        retired: ``[n_sims, n_cars]`` bool.
        laps_done: ``[n_sims, n_cars]`` int16 laps completed.
        stops_done: ``[n_sims, n_cars]`` int8 pit stops made in the whole race.
        track_status: ``[n_sims, total_laps]`` int8 :class:`TrackStatus` per lap.
        reference_position: ``[n_cars]`` grid (or start-state) positions, for "gained places".
        passes: ``[n_sims]`` int16 on-track overtakes.
        first_lap: first simulated lap (1 = from the grid).
        positions_by_lap: optional ``[n_sims, n_laps, n_cars]`` int8 position at the end of each
            simulated lap (``record_positions=True``).
    """

    drivers: list[str]
    finish_position: np.ndarray
    race_time_s: np.ndarray
    retired: np.ndarray
    laps_done: np.ndarray
    stops_done: np.ndarray
    track_status: np.ndarray
    reference_position: np.ndarray
    passes: np.ndarray
    first_lap: int = 1
    positions_by_lap: np.ndarray | None = None

    @property
    def n_sims(self) -> int:
        return int(self.finish_position.shape[0])

    @property
    def n_cars(self) -> int:
        return len(self.drivers)

    def car_index(self, driver: str | int) -> int:
        if isinstance(driver, (int, np.integer)):
            if 0 <= int(driver) < self.n_cars:
                return int(driver)
            raise InvalidRequestError(f"Car index {driver} outside 0..{self.n_cars - 1}.")
        key = str(driver).strip().upper()
        for i, d in enumerate(self.drivers):
            if d.upper() == key:
                return i
        raise InvalidRequestError(
            f"Unknown driver {driver!r}. Drivers in this simulation: {', '.join(self.drivers)}.",
            details={"options": list(self.drivers)},
        )

    def take(self, sims: slice | np.ndarray) -> "SimResult":
        """The subset of sims ``sims`` (used to split batched candidate runs)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and f.name not in ("reference_position",):
                out[f.name] = v[sims]
            else:
                out[f.name] = v
        return SimResult(**out)

    @classmethod
    def concat(cls, parts: list["SimResult"]) -> "SimResult":
        """Join results of consecutive chunks of sims."""
        if len(parts) == 1:
            return parts[0]
        out = {}
        for f in fields(cls):
            vals = [getattr(p, f.name) for p in parts]
            if isinstance(vals[0], np.ndarray) and f.name != "reference_position":
                out[f.name] = np.concatenate(vals, axis=0)
            else:
                out[f.name] = vals[0]
        return cls(**out)

    # --- per-driver statistics ---------------------------------------------------------------
    def position_histogram(self, driver: str | int) -> np.ndarray:
        """float64 ``[n_cars]``: probability of finishing 1st, 2nd, ... (sums to 1)."""
        i = self.car_index(driver)
        counts = np.bincount(self.finish_position[:, i].astype(np.intp) - 1, minlength=self.n_cars)
        return counts / self.n_sims

    def expected_position(self, driver: str | int) -> float:
        return float(self.finish_position[:, self.car_index(driver)].mean())

    def position_quantiles(self, driver: str | int, q=(0.1, 0.5, 0.9)) -> np.ndarray:
        return np.quantile(self.finish_position[:, self.car_index(driver)], q)

    def time_quantiles(self, driver: str | int, q=(0.1, 0.5, 0.9)) -> np.ndarray:
        """Race-time quantiles (default 10th/50th/90th percentiles) over the sims the car
        finished; NaN if none."""
        t = self.race_time_s[:, self.car_index(driver)]
        t = t[~np.isnan(t)]
        if t.size == 0:
            return np.full(len(q), np.nan)
        return np.quantile(t, q)

    def prob_gain_positions(self, driver: str | int) -> float:
        """P(finishing ahead of the reference (grid or current) position)."""
        i = self.car_index(driver)
        return float((self.finish_position[:, i] < self.reference_position[i]).mean())

    def prob_finish_ahead(self, driver: str | int, rival: str | int) -> float:
        i, j = self.car_index(driver), self.car_index(rival)
        return float((self.finish_position[:, i] < self.finish_position[:, j]).mean())

    def p_win(self, driver: str | int) -> float:
        i = self.car_index(driver)
        return float(((self.finish_position[:, i] == 1) & ~self.retired[:, i]).mean())

    def p_podium(self, driver: str | int) -> float:
        i = self.car_index(driver)
        return float(((self.finish_position[:, i] <= 3) & ~self.retired[:, i]).mean())

    def p_dnf(self, driver: str | int) -> float:
        return float(self.retired[:, self.car_index(driver)].mean())

    def expected_points(self, driver: str | int) -> float:
        """Mean championship points (:data:`POINTS`; a retired car scores none)."""
        i = self.car_index(driver)
        table = np.zeros(max(self.n_cars, len(POINTS)) + 1)
        table[1:len(POINTS) + 1] = POINTS
        pos = self.finish_position[:, i].astype(np.intp)
        return float(np.where(self.retired[:, i], 0.0, table[pos]).mean())

    def expected_position_if_classified(self, driver: str | int) -> float:
        """Mean finishing position over the sims the car finished (NaN if it never did): the
        headline, so a retirement risk the strategy cannot change does not drag it down."""
        i = self.car_index(driver)
        ok = ~self.retired[:, i]
        return float(self.finish_position[ok, i].mean()) if ok.any() else float("nan")

    def position_percentiles(self, driver: str | int) -> dict[str, float]:
        """``{"10th_percentile", "median", "90th_percentile"}`` of the finishing position over the
        sims the car finished (NaN if none): in 10 % of those races it finishes at the 10th
        percentile or better."""
        i = self.car_index(driver)
        pos = self.finish_position[~self.retired[:, i], i]
        if pos.size == 0:
            return {k: float("nan") for k in PERCENTILES}
        # inverted CDF: a percentile is a real position, so "in 10 % of races P2 or better" holds
        return {k: float(np.quantile(pos, q, method="inverted_cdf")) for k, q in PERCENTILES.items()}

    def outcomes(self, driver: str | int) -> dict[str, float]:
        """What a strategist reads first: P(win), P(podium), expected points, E[pos] if classified
        (the headline), its percentiles (``position_10th_percentile`` ...) and P(DNF) apart."""
        pct = self.position_percentiles(driver)
        return {
            "p_win": self.p_win(driver), "p_podium": self.p_podium(driver),
            "expected_points": self.expected_points(driver),
            "expected_position_if_classified": self.expected_position_if_classified(driver),
            **{f"position_{k}": v for k, v in pct.items()},
            "p_dnf": self.p_dnf(driver),
        }

    def neutralised(self) -> np.ndarray:
        """bool ``[n_sims]``: a SC or VSC came out during the simulated laps."""
        status = self.track_status[:, self.first_lap - 1:]
        return np.any(status != TrackStatus.GREEN, axis=1)

    def summary(self) -> list[dict]:
        """One row per driver: :meth:`outcomes`, expected position over all sims (retirements
        classified behind), race-time percentiles, P(gain) and mean stops."""
        rows = []
        for i, d in enumerate(self.drivers):
            t10, t50, t90 = self.time_quantiles(i)
            rows.append(
                {
                    "driver": d,
                    "reference_position": int(self.reference_position[i]),
                    **self.outcomes(i),
                    "expected_position": self.expected_position(i),
                    "race_time_10th_percentile_s": float(t10),
                    "race_time_median_s": float(t50),
                    "race_time_90th_percentile_s": float(t90),
                    "prob_gain_positions": self.prob_gain_positions(i),
                    "mean_stops": float(self.stops_done[:, i].mean()),
                }
            )
        return rows
