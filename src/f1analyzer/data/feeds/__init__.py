"""Race feeds: a race in progress as a stream of :class:`~.base.RaceSnapshot` (race-day mode).

* :class:`~.replay.ReplayFeed` - a stored race emitted lap by lap as if live (the default:
  tests, demo, rehearsal);
* :class:`~.openf1.OpenF1Feed` - the OpenF1 REST API polled during a session.

Every feed produces the same snapshots, so what consumes them (``app/raceday.py``) does not
know where the race comes from. See docs/RACEDAY.md.
"""

from .base import CarSnapshot, RaceFeed, RaceSnapshot

__all__ = ["CarSnapshot", "RaceFeed", "RaceSnapshot"]
