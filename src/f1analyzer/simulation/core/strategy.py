"""Pit strategies and their legality.

A :class:`Strategy` is the compound a car starts on plus its planned stops, each
``(pit_lap, compound)``: the car enters the pits at the end of ``pit_lap`` (its *in-lap*) and runs
``compound`` from lap ``pit_lap + 1``. Sporting rule: in a dry race every car must use at least
two different dry compounds (from the event's allocation). Wet compounds lift that requirement.
An event's own rules (``race.rules``: laps per set, minimum stops, nominated compounds) are checked
with ``validate(..., event_rules=True)``.

``sc_window_laps > 0`` makes the plan opportunistic: when a Safety Car or VSC is out and the next
planned stop is at most that many laps away, the car boxes now (a "cheap" stop).

Example:
    >>> Strategy.parse("MEDIUM-22-HARD").describe()
    'M-22-H'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import (
    COMPOUNDS,
    DRY_COMPOUNDS,
    MAX_STOPS,
    RaceParams,
    compound_code,
)

_LETTER = {"S": "SOFT", "M": "MEDIUM", "H": "HARD", "I": "INTERMEDIATE", "W": "WET"}
#: a team whose next planned stop is at most this many laps away boxes when a SC/VSC comes out
#: (the cheap stop): the simulated field plays it so before the race and during it, and so do
#: the plans the optimiser races (``Strategy.sc_window_laps``)
SC_OPPORTUNISM_LAPS = 3


def _norm(name: str) -> str:
    key = str(name).strip().upper()
    key = _LETTER.get(key, key)
    compound_code(key)  # raises with the valid names
    return key


@dataclass(frozen=True)
class Strategy:
    """Start compound plus ``stops`` = ``((pit_lap, compound), ...)`` in lap order."""

    start_compound: str
    stops: tuple[tuple[int, str], ...] = field(default_factory=tuple)
    sc_window_laps: int = 0
    #: laps on the set the race starts on (None: the car's own start set,
    #: ``CarParams.start_tyre_age_laps``; a plan starting on another compound names its set's age)
    start_age_laps: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_compound", _norm(self.start_compound))
        object.__setattr__(
            self, "stops", tuple((int(lap), _norm(comp)) for lap, comp in self.stops)
        )

    # --- views -----------------------------------------------------------------------------
    @property
    def n_stops(self) -> int:
        return len(self.stops)

    @property
    def compounds(self) -> tuple[str, ...]:
        """Compound of every stint, in order (``n_stops + 1`` entries)."""
        return (self.start_compound, *(c for _, c in self.stops))

    @property
    def pit_laps(self) -> tuple[int, ...]:
        return tuple(lap for lap, _ in self.stops)

    def stint_lengths(self, total_laps: int, from_lap: int = 0) -> list[int]:
        """Laps in each stint between ``from_lap`` (laps already done) and the flag."""
        edges = [from_lap, *self.pit_laps, total_laps]
        return [b - a for a, b in zip(edges[:-1], edges[1:])]

    def describe(self) -> str:
        """Compact form ``M-22-H-45-S`` (compound initials and pit laps)."""
        parts = [self.start_compound[0]]
        for lap, comp in self.stops:
            parts += [str(lap), comp[0]]
        return "-".join(parts)

    def with_opportunism(self, sc_window_laps: int) -> "Strategy":
        return Strategy(self.start_compound, self.stops, sc_window_laps, self.start_age_laps)

    def on_start_set(self, start_age_laps: int | None) -> "Strategy":
        """The same plan starting on a set with ``start_age_laps`` laps on it."""
        return Strategy(self.start_compound, self.stops, self.sc_window_laps, start_age_laps)

    @classmethod
    def parse(cls, text: str, *, sc_window_laps: int = 0) -> "Strategy":
        """Parse ``"MEDIUM-22-HARD"`` or ``"M-22-H-45-S"``."""
        parts = [p for p in str(text).replace(" ", "").split("-") if p]
        if len(parts) % 2 != 1:
            raise InvalidRequestError(
                f"Cannot parse strategy {text!r}: expected COMPOUND(-LAP-COMPOUND)*, "
                "e.g. 'M-22-H' or 'SOFT-15-MEDIUM-40-HARD'."
            )
        try:
            stops = tuple((int(parts[i]), parts[i + 1]) for i in range(1, len(parts), 2))
        except ValueError:
            raise InvalidRequestError(
                f"Cannot parse strategy {text!r}: pit laps must be integers, e.g. 'M-22-H'."
            ) from None
        return cls(parts[0], stops, sc_window_laps)

    # --- legality --------------------------------------------------------------------------
    def validate(
        self,
        race: RaceParams,
        *,
        from_lap: int = 0,
        compounds_used: Iterable[str] = (),
        max_stops: int = MAX_STOPS,
        event_rules: bool = False,
        start_age_laps: int = 0,
        stops_done: int = 0,
    ) -> None:
        """Raise :class:`InvalidRequestError` unless this is a legal plan for ``race``.

        Args:
            race: the race (its allocation ``dry_compounds`` and ``compounds``).
            from_lap: laps already completed (mid-race plans: stops must come later).
            compounds_used: compounds already run before ``from_lap`` (two-compound rule).
            max_stops: most stops allowed (the optimiser uses 3).
            event_rules: also enforce ``race.rules`` (event caps per set, minimum stops, nominated
                compounds; not the learned limits, which are advice). Off for the engine, which
                replays real plans and what-ifs; on for plans an answer recommends.
            start_age_laps / stops_done: the first set's life and the stops already made.
        """
        if self.start_age_laps is not None and not 0 <= int(self.start_age_laps) <= 40:
            raise InvalidRequestError(
                f"start_age_laps {self.start_age_laps} is impossible: a start set has 0..40 laps on it.")
        allowed = [c for c in race.compounds if c in race.dry_compounds or c not in DRY_COMPOUNDS]
        for comp in self.compounds:
            if comp not in allowed:
                raise InvalidRequestError(
                    f"Compound {comp} is not available at {race.circuit_key}. "
                    f"Valid compounds: {', '.join(allowed)}.",
                    details={"options": allowed},
                )
        last_lap = race.total_laps - 1
        if self.n_stops > max_stops:
            raise InvalidRequestError(
                f"{self.n_stops} stops requested; between 0 and {max_stops} are allowed.",
                details={"options": list(range(max_stops + 1))},
            )
        prev = from_lap
        for lap, _ in self.stops:
            if not prev < lap <= last_lap:
                raise InvalidRequestError(
                    f"Pit lap {lap} is impossible in strategy {self.describe()}: pit laps must be "
                    f"strictly increasing and within {from_lap + 1}..{last_lap} "
                    f"({race.total_laps}-lap race).",
                    details={"valid_range": [from_lap + 1, last_lap]},
                )
            prev = lap
        used = {_norm(c) for c in compounds_used} | set(self.compounds)
        wet = any(c not in DRY_COMPOUNDS for c in used)
        dry_used = {c for c in used if c in DRY_COMPOUNDS}
        if not wet and len(dry_used) < 2:
            options = [c for c in race.dry_compounds if c not in dry_used]
            raise InvalidRequestError(
                f"Strategy {self.describe()} uses only {', '.join(sorted(dry_used)) or 'no'} "
                "dry compound: a dry race needs at least two different dry compounds. "
                f"Add a stint on one of: {', '.join(options)}.",
                details={"options": options},
            )
        if event_rules:
            broken = race.rules.violations(self, race.total_laps, start_age_laps=start_age_laps,
                                           from_lap=from_lap, stops_done=stops_done,
                                           compounds_used=compounds_used, learned=False)
            if broken:
                raise InvalidRequestError(
                    f"Strategy {self.describe()} breaks the race's tyre rules: " + "; ".join(broken) + ".",
                    details={"rules": race.rules.describe()},
                )


def stint_codes(strategy: Strategy) -> list[int]:
    return [compound_code(c) for c in strategy.compounds]


def validate_field(
    race: RaceParams, strategies: Sequence[Strategy], *, from_lap: int = 0,
    compounds_used: Sequence[Iterable[str]] | None = None,
) -> None:
    """Validate one strategy per car (in ``race.cars`` order)."""
    if len(strategies) != race.n_cars:
        raise InvalidRequestError(
            f"Got {len(strategies)} strategies for {race.n_cars} cars; pass one per car in the "
            f"order {', '.join(race.drivers)}."
        )
    for i, (car, strat) in enumerate(zip(race.cars, strategies)):
        used = compounds_used[i] if compounds_used is not None else ()
        try:
            strat.validate(race, from_lap=from_lap, compounds_used=used)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{car.driver}: {exc.message}", details=exc.details) from None


__all__ = ["Strategy", "validate_field", "stint_codes", "COMPOUNDS"]
