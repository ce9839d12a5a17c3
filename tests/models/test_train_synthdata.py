"""Synthetic races for the model tests (no real data needed), and checks of the generator.

Lap time = base + driver offset + compound offset + deg × tyre age − fuel × lap + noise; SC laps
are slow, in-laps +3 s, out-laps +20 s. Each driver makes one or two stops around known laps.
Other model tests import :func:`synthetic_laps` and :func:`fill_store`.
"""

from __future__ import annotations

from f1analyzer.data.store import RaceStore
from tests.factories import DRIVERS, fill_store, training_laps  # noqa: F401 - re-exported

# the generator lives in tests/factories.py; other model tests import these names from here too
synthetic_laps = training_laps


def test_synthetic_store_round_trip(tmp_path):
    store = RaceStore(tmp_path / "store")
    fill_store(store, synthetic_laps(seasons=(2022,), rounds=2))
    races = store.races()
    assert len(races) == 2 and set(races["circuit_key"]) == {"monza", "bahrain"}
    stops = store.pit_stops(2022)
    assert len(stops) >= len(DRIVERS) * 2
    assert store.laps(2022)["is_clean"].mean() > 0.7
