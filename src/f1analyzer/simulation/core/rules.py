"""Tyre rules of one race: stint caps, stop and compound requirements, and where each comes from.

Two kinds of caps bound how long a set of tyres may run (laps of *set life*, i.e. laps done on the
set before the race included):

* ``max_laps_per_set`` - an **event rule** (e.g. 2023 Qatar: 18 laps per set, imposed by the FIA
  and Pirelli on safety grounds). Breaking it is a disqualification, so no plan may.
  ``used_set_credit_laps`` is what the rule deducts from a used set's earlier life (2023 Qatar: the
  in- and out-lap of earlier sessions, 2 laps).
* ``max_stint_laps`` - **learned** sensible caps (:mod:`f1analyzer.models.stint_limits`): the
  longest stint teams really run on that compound at that circuit. Legal to exceed, but a plan that
  does has left the data, so the planners stay within them unless no plan is possible otherwise.

``min_stops`` / ``min_dry_compounds`` / ``nominated`` are the stop, compound and allocation rules;
``source`` maps a rule key (``"max_laps_per_set"``, ``"max_stint_laps:SOFT"``, ``"min_stops"``...)
to one sentence naming where the rule comes from, so an answer can say which rule shaped a plan.

Example:
    >>> r = TyreRules(max_laps_per_set={"SOFT": 18, "MEDIUM": 18, "HARD": 18})
    >>> r.cap_laps("MEDIUM", start_age_laps=3)
    15
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from f1analyzer.errors import InvalidRequestError

_DRY = ("SOFT", "MEDIUM", "HARD")
#: a learned cap "shaped" a plan when one of its stints ends this close to it
NEAR_CAP_LAPS = 2


@dataclass(frozen=True)
class TyreRules:
    """The tyre rules of one race (default: only the sporting regulations' two-compound rule).

    Attributes:
        max_laps_per_set: event cap (laps of set life) per compound; absent = no cap.
        max_stint_laps: learned sensible cap (laps of set life) per compound; absent = none.
        min_stops: fewest stops in a dry race (the two-compound rule implies one).
        min_dry_compounds: fewest different dry compounds in a dry race.
        nominated: compounds a car may use (empty = the whole allocation).
        source: rule key -> sentence naming where it comes from.
        used_set_credit_laps: laps of earlier life the event cap forgives on a used set.
    """

    max_laps_per_set: dict[str, int] = field(default_factory=dict)
    max_stint_laps: dict[str, int] = field(default_factory=dict)
    min_stops: int = 1
    min_dry_compounds: int = 2
    nominated: tuple[str, ...] = ()
    source: dict[str, str] = field(default_factory=dict)
    used_set_credit_laps: int = 0

    # ------------------------------------------------------------------ caps
    def event_cap(self, compound: str, start_age_laps: int = 0) -> int | None:
        """Laps this set may still run under the event rule (None = no event cap)."""
        cap = self.max_laps_per_set.get(str(compound).upper())
        if cap is None:
            return None
        return int(cap) - max(int(start_age_laps) - int(self.used_set_credit_laps), 0)

    def learned_cap(self, compound: str, start_age_laps: int = 0) -> int | None:
        cap = self.max_stint_laps.get(str(compound).upper())
        return None if cap is None else int(cap) - max(int(start_age_laps), 0)

    def cap_laps(self, compound: str, start_age_laps: int = 0, *, learned: bool = True) -> int | None:
        """Most laps a set of ``compound`` that has done ``start_age_laps`` laps may still run:
        the tighter of the event cap and (with ``learned``) the learned cap; None = unbounded."""
        caps = [self.event_cap(compound, start_age_laps)]
        if learned:
            caps.append(self.learned_cap(compound, start_age_laps))
        caps = [c for c in caps if c is not None]
        return max(min(caps), 0) if caps else None

    @property
    def has_caps(self) -> bool:
        return bool(self.max_laps_per_set or self.max_stint_laps)

    def without_learned(self) -> "TyreRules":
        """The same rules minus the learned caps (when they leave no plan possible)."""
        src = {k: v for k, v in self.source.items() if not k.startswith("max_stint_laps")}
        return replace(self, max_stint_laps={}, source=src)

    def allowed(self, compounds: Iterable[str]) -> list[str]:
        """``compounds`` restricted to the nominated ones (all when none are nominated)."""
        comps = [str(c).upper() for c in compounds]
        if not self.nominated:
            return comps
        nom = {c.upper() for c in self.nominated}
        return [c for c in comps if c in nom or c not in _DRY]

    # ------------------------------------------------------------------ checks
    def violations(self, strategy, total_laps: int, *, start_age_laps: int = 0, from_lap: int = 0,
                   stops_done: int = 0, compounds_used: Iterable[str] = (),
                   learned: bool = True) -> list[str]:
        """Every rule ``strategy`` breaks from ``from_lap`` to the flag, one sentence each.

        Args:
            strategy: a :class:`~f1analyzer.simulation.core.strategy.Strategy`.
            start_age_laps: set life of the first stint's tyres at ``from_lap``.
            stops_done / compounds_used: what the car already did (mid-race plans).
            learned: also check the learned caps (they are advice, the others are rules).
        """
        out = []
        lengths = strategy.stint_lengths(int(total_laps), from_lap)
        for k, (comp, n) in enumerate(zip(strategy.compounds, lengths)):
            age = start_age_laps if k == 0 else 0
            ev = self.event_cap(comp, age)
            if ev is not None and n > ev:
                out.append(f"stint {k + 1} runs {n} laps on {comp}, over the event limit of "
                           f"{self.max_laps_per_set[comp]} laps per set"
                           + (f" ({ev} left on a set with {age} laps)" if age else "")
                           + self._why("max_laps_per_set"))
            lc = self.learned_cap(comp, age) if learned else None
            if lc is not None and n > lc:
                out.append(f"stint {k + 1} runs {n} laps on {comp}, over the {self.max_stint_laps[comp]}-lap "
                           f"longest sensible stint" + self._why(f"max_stint_laps:{comp}"))
        used = {str(c).upper() for c in compounds_used} | set(strategy.compounds)
        wet = any(c not in _DRY for c in used)
        if not wet:
            # one stop is what the two-compound rule implies (checked below); more is a rule itself
            if self.min_stops > 1 and stops_done + strategy.n_stops < self.min_stops:
                out.append(f"{stops_done + strategy.n_stops} stops, the race needs at least {self.min_stops}"
                           + self._why("min_stops"))
            if len(used & set(_DRY)) < self.min_dry_compounds:
                out.append(f"uses {len(used & set(_DRY))} dry compound(s), the race needs "
                           f"{self.min_dry_compounds}" + self._why("min_dry_compounds"))
        if self.nominated:
            bad = [c for c in strategy.compounds if c in _DRY and c not in {n.upper() for n in self.nominated}]
            if bad:
                out.append(f"{', '.join(sorted(set(bad)))} not nominated for this race"
                           + self._why("nominated"))
        return out

    def _why(self, key: str) -> str:
        s = self.source.get(key)
        return f" ({s})" if s else ""

    # ------------------------------------------------------------------ wording
    def describe(self) -> list[str]:
        """One sentence per rule in force (for answers)."""
        out = []
        caps = sorted(set(self.max_laps_per_set.values()))
        if caps:
            comps = sorted(self.max_laps_per_set)
            if len(caps) == 1 and set(comps) >= set(_DRY):
                out.append(f"max {caps[0]} laps per set" + self._why("max_laps_per_set"))
            else:
                out += [f"max {self.max_laps_per_set[c]} laps per {c} set" + self._why("max_laps_per_set")
                        for c in comps]
        for c in _DRY:
            if c in self.max_stint_laps:
                out.append(self.learned_sentence(c))
        if self.min_stops > 1:
            out.append(f"at least {self.min_stops} stops" + self._why("min_stops"))
        if self.min_dry_compounds != 2:
            out.append(f"at least {self.min_dry_compounds} dry compounds" + self._why("min_dry_compounds"))
        if self.nominated:
            out.append("compounds limited to " + ", ".join(self.nominated) + self._why("nominated"))
        return out

    def learned_sentence(self, compound: str) -> str:
        return (f"{compound} stint ≤ {self.max_stint_laps[compound]} laps at this circuit"
                + self._why(f"max_stint_laps:{compound}"))

    def shaped(self, strategy, total_laps: int, *, start_age_laps: int = 0, from_lap: int = 0) -> list[str]:
        """The rules that shaped ``strategy``: every event rule in force (they decide the stop
        count and the sets), and a learned cap when a stint on that compound ends within
        :data:`NEAR_CAP_LAPS` of it (a cap the plan exceeds - dropped because no plan fitted
        it - did not shape it)."""
        out = [s for s in self.describe() if not any(s == self.learned_sentence(c)
                                                     for c in self.max_stint_laps)]
        lengths = strategy.stint_lengths(int(total_laps), from_lap)
        near = set()
        for k, (comp, n) in enumerate(zip(strategy.compounds, lengths)):
            cap = self.learned_cap(comp, start_age_laps if k == 0 else 0)
            if cap is not None and cap - NEAR_CAP_LAPS <= n <= cap:
                near.add(comp)
        out += [self.learned_sentence(c) for c in _DRY if c in near]
        return out

    def validate(self) -> None:
        for what, caps in (("max_laps_per_set", self.max_laps_per_set), ("max_stint_laps", self.max_stint_laps)):
            for comp, cap in caps.items():
                if str(comp).upper() not in ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"):
                    raise InvalidRequestError(f"rules.{what}: unknown compound {comp!r}.")
                if int(cap) < 1:
                    raise InvalidRequestError(f"rules.{what}[{comp}] must be at least 1 lap, got {cap}.")
        if self.min_stops < 0 or self.min_dry_compounds < 0 or self.used_set_credit_laps < 0:
            raise InvalidRequestError("rules: min_stops, min_dry_compounds and used_set_credit_laps must be >= 0.")
        bad = [c for c in self.nominated if str(c).upper() not in _DRY + ("INTERMEDIATE", "WET")]
        if bad:
            raise InvalidRequestError(f"rules.nominated: unknown compound(s) {', '.join(bad)}.")
        if self.nominated and self.min_dry_compounds > len({c.upper() for c in self.nominated} & set(_DRY)):
            raise InvalidRequestError("rules: fewer dry compounds nominated than min_dry_compounds requires.")


__all__ = ["TyreRules", "NEAR_CAP_LAPS"]
