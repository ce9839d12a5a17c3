"""Race data: sources, validation, the embedded store and the Race/Laps domain objects."""

from .session import Laps, Race, load_race
from .store import RaceStore

__all__ = ["Laps", "Race", "RaceStore", "load_race"]
