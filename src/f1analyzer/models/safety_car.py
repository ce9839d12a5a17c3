"""Safety Car and Virtual Safety Car: how often, when and for how long, per circuit.

FastF1's ``TrackStatus`` lists every status seen during a lap (4 = Safety Car, 6 = VSC deployed,
7 = VSC ending, 5 = red flag). The race's status per lap is read from the laps of the car that led
the classification (its lap *k* is the race's lap *k*; a lapped car's lap *k* happens later). A
*period* is a run of consecutive laps showing the status: a lap with ``4`` is a Safety Car lap, a
lap with ``6``/``7`` but no ``4`` a VSC lap. A VSC that turns into a Safety Car counts once each.

Street circuits have many races with no data to speak of (Las Vegas: one race), so each circuit's
counts are pooled with ``shrinkage_races`` pseudo-races drawn from the all-circuit average
(an empirical-Bayes / Dirichlet prior): with n own races the own data weigh ``n / (n + m)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

N_FRACTION_BINS = 10
MAX_COUNT = 3  # count_probs: P(0), P(1), P(2), P(3+)


@dataclass
class SafetyCarModel:
    """One neutralisation kind (SC or VSC) at one circuit.

    Attributes:
        p_at_least_one: probability that a race sees at least one period.
        mean_count: expected number of periods per race.
        count_probs: P(0), P(1), P(2), P(3 or more) periods.
        start_fraction_hist: probability that a period starts in each tenth of race distance.
        duration_laps_probs: laps a period lasts → probability.
        n_races: races of this circuit behind the estimate.
        shrunk: True when the all-circuit prior outweighs the circuit's own races
            (``n_races <= shrinkage_races``).
    """

    p_at_least_one: float = 0.0
    mean_count: float = 0.0
    count_probs: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    start_fraction_hist: list[float] = field(default_factory=lambda: [0.1] * N_FRACTION_BINS)
    duration_laps_probs: dict[int, float] = field(default_factory=lambda: {1: 1.0})
    n_races: int = 0
    shrunk: bool = False

    def simulator_params(self) -> dict:
        """Keyword arguments of ``simulation.params.NeutralisationParams``: counts given at least
        one period, start-fraction bins, and durations indexed ``d`` → P(d + 1 laps)."""
        given = np.asarray(self.count_probs[1:], dtype=np.float64)
        given = given / given.sum() if given.sum() > 0 else np.array([1.0])
        n = max(self.duration_laps_probs, default=1)
        dur = np.array([self.duration_laps_probs.get(d + 1, 0.0) for d in range(n)])
        return {"p_at_least_one": float(self.p_at_least_one), "count_probs": tuple(given.tolist()),
                "start_fraction_probs": tuple(float(x) for x in self.start_fraction_hist),
                "duration_laps_probs": tuple((dur / dur.sum()).tolist()) if dur.sum() > 0 else (1.0,)}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["duration_laps_probs"] = {str(k): round(v, 6) for k, v in self.duration_laps_probs.items()}
        for k in ("p_at_least_one", "mean_count"):
            d[k] = round(d[k], 6)
        d["count_probs"] = [round(x, 6) for x in d["count_probs"]]
        d["start_fraction_hist"] = [round(x, 6) for x in d["start_fraction_hist"]]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SafetyCarModel":
        d = dict(d)
        d["duration_laps_probs"] = {int(k): float(v) for k, v in d.get("duration_laps_probs", {}).items()}
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def status_by_lap(race_laps: pd.DataFrame) -> pd.Series:
    """Track status string per lap number of one race, read from the classified leader's laps."""
    last = race_laps.groupby("driver")["lap_number"].max()
    t_end = race_laps.sort_values("lap_number").groupby("driver")["session_time_s"].last()
    order = pd.DataFrame({"laps": last, "t": t_end}).sort_values(["laps", "t"], ascending=[False, True])
    leader = order.index[0]
    lead = race_laps[race_laps["driver"] == leader].set_index("lap_number")["track_status"].fillna("")
    return lead.sort_index().astype(str)


def find_periods(status: pd.Series, total_laps: int) -> pd.DataFrame:
    """Periods of one race: kind ('sc'/'vsc'), start_lap, laps, start_fraction."""
    rows = []
    sc = status.str.contains("4").to_numpy()
    vsc = (status.str.contains("6") | status.str.contains("7")).to_numpy() & ~sc
    laps = status.index.to_numpy()
    for kind, mask in (("sc", sc), ("vsc", vsc)):
        start = None
        for i, on in enumerate(list(mask) + [False]):
            if on and start is None:
                start = i
            elif not on and start is not None:
                # runs must be consecutive lap numbers
                rows.append({"kind": kind, "start_lap": int(laps[start]), "laps": i - start})
                start = None
    df = pd.DataFrame(rows, columns=["kind", "start_lap", "laps"])
    df["start_fraction"] = (df["start_lap"] - 1) / max(int(total_laps), 1)
    return df


def statuses_by_race(laps: pd.DataFrame) -> dict[tuple[int, int], pd.Series]:
    """(season, round) → :func:`status_by_lap` of every race in ``laps`` (read once for every
    model a fit derives from the track status)."""
    return {(int(s), int(r)): status_by_lap(g) for (s, r), g in laps.groupby(["season", "round"], sort=True)}


def race_periods(laps: pd.DataFrame, races: pd.DataFrame,
                 statuses: dict[tuple[int, int], pd.Series] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(periods of every race with season/round/circuit_key, per-race counts by kind);
    ``statuses``: :func:`statuses_by_race` of ``laps`` when the caller has it."""
    tl = races.set_index(["season", "round"])
    out, counts = [], []
    for (season, rnd), g in laps.groupby(["season", "round"], sort=True):
        key = (int(season), int(rnd))
        if key not in tl.index:
            continue
        info = tl.loc[key]
        total = int(info["total_laps"]) if pd.notna(info["total_laps"]) else int(g["lap_number"].max())
        p = find_periods(statuses[key] if statuses is not None else status_by_lap(g), total)
        for row in p.to_dict("records"):
            out.append({**row, "season": key[0], "round": key[1], "circuit_key": str(info["circuit_key"])})
        counts.append({"season": key[0], "round": key[1], "circuit_key": str(info["circuit_key"]),
                       "sc": int((p["kind"] == "sc").sum()), "vsc": int((p["kind"] == "vsc").sum())})
    periods = pd.DataFrame(out, columns=["kind", "start_lap", "laps", "start_fraction", "season", "round",
                                         "circuit_key"])
    return periods, pd.DataFrame(counts, columns=["season", "round", "circuit_key", "sc", "vsc"])


def _raw(counts: np.ndarray, periods: pd.DataFrame) -> dict:
    c = np.minimum(counts, MAX_COUNT)
    bins = np.clip((periods["start_fraction"].to_numpy(np.float64) * N_FRACTION_BINS).astype(int), 0,
                   N_FRACTION_BINS - 1)
    dur = periods["laps"].astype(int).value_counts()
    return {
        "n": len(counts),
        "at_least_one": float((counts > 0).sum()),
        "total": float(counts.sum()),
        "count_hist": np.bincount(c, minlength=MAX_COUNT + 1).astype(np.float64),
        "frac_hist": np.bincount(bins, minlength=N_FRACTION_BINS).astype(np.float64),
        "dur": {int(k): float(v) for k, v in dur.items()},
    }


def _normalise(v: np.ndarray) -> list[float]:
    s = v.sum()
    return (v / s).tolist() if s > 0 else (np.ones_like(v) / len(v)).tolist()


def fit_neutralisation(counts: np.ndarray, periods: pd.DataFrame, prior: SafetyCarModel | None = None,
                       shrinkage_races: float = 3.0) -> SafetyCarModel:
    """SC (or VSC) model from per-race period counts and the periods themselves.

    Args:
        counts: number of periods in each race, shape (n_races,).
        periods: rows with ``start_fraction`` and ``laps`` of every period of those races.
        prior: the all-circuit model to shrink towards (None: no shrinkage).
        shrinkage_races: weight of the prior in races.
    """
    counts = np.asarray(counts, dtype=int)
    r = _raw(counts, periods)
    n = r["n"]
    m = float(shrinkage_races) if prior is not None else 0.0
    if prior is None:
        prior = SafetyCarModel()
    m_p = m * max(prior.mean_count, 0.1)  # prior weight in periods
    p1 = (r["at_least_one"] + m * prior.p_at_least_one) / max(n + m, 1e-9)
    mean = (r["total"] + m * prior.mean_count) / max(n + m, 1e-9)
    count_probs = _normalise(r["count_hist"] + m * np.asarray(prior.count_probs))
    frac = _normalise(r["frac_hist"] + m_p * np.asarray(prior.start_fraction_hist))
    keys = sorted(set(r["dur"]) | set(prior.duration_laps_probs))
    dur = np.array([r["dur"].get(k, 0.0) + m_p * prior.duration_laps_probs.get(k, 0.0) for k in keys])
    dur_probs = {k: p for k, p in zip(keys, _normalise(dur)) if p > 0} if dur.sum() > 0 else {1: 1.0}
    return SafetyCarModel(
        p_at_least_one=float(p1), mean_count=float(mean), count_probs=count_probs,
        start_fraction_hist=frac, duration_laps_probs=dur_probs, n_races=int(n),
        shrunk=bool(m > 0 and n <= m),
    )
