"""Results of a batch of simulated races and the statistics strategists read from them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import TrackStatus


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
        """Race-time quantiles (default P10/P50/P90) over the sims the car finished; NaN if none."""
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

    def neutralised(self) -> np.ndarray:
        """bool ``[n_sims]``: a SC or VSC came out during the simulated laps."""
        status = self.track_status[:, self.first_lap - 1:]
        return np.any(status != TrackStatus.GREEN, axis=1)

    def summary(self) -> list[dict]:
        """One row per driver: expected position, P10/P50/P90 position and time, DNF rate."""
        rows = []
        for i, d in enumerate(self.drivers):
            p10, p50, p90 = self.time_quantiles(i)
            rows.append(
                {
                    "driver": d,
                    "reference_position": int(self.reference_position[i]),
                    "expected_position": self.expected_position(i),
                    "position_p10_p50_p90": [float(x) for x in self.position_quantiles(i)],
                    "race_time_p10_s": float(p10),
                    "race_time_p50_s": float(p50),
                    "race_time_p90_s": float(p90),
                    "prob_gain_positions": self.prob_gain_positions(i),
                    "prob_retired": float(self.retired[:, i].mean()),
                    "mean_stops": float(self.stops_done[:, i].mean()),
                }
            )
        return rows
