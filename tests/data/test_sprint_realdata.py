"""The real sprint files (2021–2024) go in as sessions of their weekends."""

from __future__ import annotations

import pytest

from f1analyzer.data import RaceStore
from f1analyzer.data.ingest import ingest_files

pytestmark = pytest.mark.realdata

#: sprints per season in the shared data (its README)
SPRINTS = {2021: 3, 2022: 3, 2023: 6, 2024: 6}


def test_every_sprint_is_stored_with_its_weekend(tmp_path, data_dir):
    store = RaceStore(tmp_path / "store")
    results = ingest_files([data_dir / "laps" / "2023.csv.gz", data_dir / "laps" / "2024.csv.gz",
                            data_dir / "sprint"], store)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    sprints = store.races(session="sprint")
    assert sprints.groupby("season").size().to_dict() == SPRINTS
    assert sprints["total_laps"].between(11, 24).all()  # Spa 2023: 11 laps in the wet
    gp = store.races().set_index(["season", "round"])
    for s in sprints.itertuples():
        if (s.season, s.round) in gp.index:  # 2024 sprints after round 18 have no Grand Prix file
            assert gp.loc[(s.season, s.round), "circuit_key"] == s.circuit_key
            assert gp.loc[(s.season, s.round), "event"] == s.event
    # race queries see no sprint lap
    assert set(store.laps(2023)["session"]) == {"race"}
    assert len(store.races(2023)) == 22
    # Austria 2024 (round 11): the sprint (23 laps in the data) and the 71-lap race share the round
    both = store.races(2024, 11, session=None)
    assert both[["session", "total_laps"]].values.tolist() == [["sprint", 23], ["race", 71]]
