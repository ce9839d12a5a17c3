"""Where a car rejoins if it boxes now, and who threatens it on the pit-stop timing.

*Rejoin projection* (:func:`rejoin_projection`): the car pays ``pit_loss_s`` (the stop's loss
under the current status, :func:`~f1analyzer.simulation.core.pitloss.stop_loss_s`: green, SC or
VSC) on top of its gap to the leader; every other running car stays out. It rejoins behind every
car whose gap is smaller than its new gap. It comes out *in traffic* when the car ahead is
within ``traffic_gap_s`` (it will run in dirty air and probably lose the fresh-tyre gain until
it passes). A *free stop* is one that costs no place: the loss fits in the gap to the car
behind now (under a SC/VSC the loss is small and the field is bunched - the classic cheap stop).

*Threats* (:func:`pit_threats`), with the closed-form undercut of :mod:`.undercut`:

* the car behind: its margin on this car when it boxes on the next lap and this car reacts
  one lap later (positive = it comes out ahead: the undercut works), and the last lap this car
  can box to cover it (``cover_by_lap``; None when the undercut does not work within the
  horizon);
* the car ahead: this car's margin if it boxes on the next lap and the car ahead reacts one
  lap later, and the lap by which it must have stayed out for the undercut to work
  (``works_by_lap``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from f1analyzer.simulation.core.params import RaceParams
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.planning.undercut import undercut

#: a car this close ahead on rejoining is traffic (s): inside DRS range, in its dirty air
TRAFFIC_GAP_S = 1.5


@dataclass(frozen=True)
class Rejoin:
    """If ``driver`` boxes now: where it rejoins and between whom.

    ``gap_ahead_s`` / ``gap_behind_s``: time to the car ahead / behind on rejoining (None when
    there is none); ``car_ahead`` / ``car_behind``: their codes.
    """

    driver: str
    current_position: int
    rejoin_position: int
    gap_ahead_s: float | None
    gap_behind_s: float | None
    car_ahead: str | None
    car_behind: str | None
    in_traffic: bool
    free_stop: bool
    pit_loss_s: float
    places_lost: int

    def to_dict(self) -> dict:
        return asdict(self)


def _running(race: RaceParams, state: RaceState) -> list[int]:
    retired = state.retired if state.retired is not None else [False] * race.n_cars
    return sorted((c for c in range(race.n_cars) if not retired[c]), key=lambda c: state.position[c])


def rejoin_projection(race: RaceParams, state: RaceState, car: int, pit_loss_s: float, *,
                      traffic_gap_s: float = TRAFFIC_GAP_S) -> Rejoin:
    """Rejoin of ``car`` (index in ``race.cars``) boxing now with a stop costing ``pit_loss_s``."""
    order = _running(race, state)
    gaps = np.asarray(state.gap_to_leader_s, dtype=float)
    new_gap = float(gaps[car]) + float(pit_loss_s)
    others = [c for c in order if c != car]
    ahead = [c for c in others if gaps[c] <= new_gap]
    behind = [c for c in others if gaps[c] > new_gap]
    a = ahead[-1] if ahead else None
    b = behind[0] if behind else None
    gap_ahead = None if a is None else round(new_gap - float(gaps[a]), 3)
    gap_behind = None if b is None else round(float(gaps[b]) - new_gap, 3)
    now = order.index(car) + 1 if car in order else int(state.position[car])
    pos = len(ahead) + 1
    return Rejoin(
        driver=race.drivers[car], current_position=now, rejoin_position=pos,
        gap_ahead_s=gap_ahead, gap_behind_s=gap_behind,
        car_ahead=None if a is None else race.drivers[a], car_behind=None if b is None else race.drivers[b],
        in_traffic=gap_ahead is not None and gap_ahead < traffic_gap_s,
        free_stop=pos <= now, pit_loss_s=round(float(pit_loss_s), 3), places_lost=max(pos - now, 0))


@dataclass(frozen=True)
class Threat:
    """One undercut threat or opportunity around ``driver`` (see module docstring)."""

    kind: str  # "undercut_from_behind" | "undercut_on_ahead"
    rival: str
    gap_s: float  # time between the two cars now (s, positive)
    margin_s: float  # the attacker's margin one lap after it boxes (positive: the undercut works)
    works_after_laps: int | None  # laps the defender must stay out for it to work
    window_closes_lap: int | None  # cover_by_lap (behind) / works_by_lap (ahead)

    def to_dict(self) -> dict:
        return asdict(self)


def pit_threats(race: RaceParams, state: RaceState, car: int, *, max_delay_laps: int = 5) -> list[Threat]:
    """The undercut threat from the car behind and on the car ahead (closed form, no sims)."""
    order = _running(race, state)
    if car not in order or state.lap + 1 > race.total_laps - 1:
        return []
    k = order.index(car)
    out = []
    me = race.drivers[car]
    gaps = state.gap_to_leader_s
    if k + 1 < len(order):
        j = order[k + 1]
        u = undercut(race, state, race.drivers[j], me, max_delay_laps=max_delay_laps)
        if u.margin_s.size:
            out.append(Threat("undercut_from_behind", race.drivers[j], round(float(gaps[j] - gaps[car]), 3),
                              round(float(u.margin_s[0]), 3), u.works_after_laps,
                              None if u.works_after_laps is None else u.pit_lap + u.works_after_laps - 1))
    if k > 0:
        j = order[k - 1]
        u = undercut(race, state, me, race.drivers[j], max_delay_laps=max_delay_laps)
        if u.margin_s.size:
            out.append(Threat("undercut_on_ahead", race.drivers[j], round(float(gaps[car] - gaps[j]), 3),
                              round(float(u.margin_s[0]), 3), u.works_after_laps, u.undercut_lap))
    return out
