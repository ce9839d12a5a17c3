"""Circuit identity comes from the venue, not the event's name."""

from __future__ import annotations

import pytest

from f1analyzer.data import RaceStore
from f1analyzer.data.circuits import (
    CIRCUITS,
    KINDS,
    PIT_LOSS_CLASSES,
    circuit_for_event,
    circuit_for_venue,
    get_circuit,
    race_laps_for,
    similar_circuits,
)
from f1analyzer.data.ingest import ingest_files

from .frames import season_frame, write_csv


@pytest.mark.parametrize("event, key", [
    ("70th Anniversary Grand Prix", "silverstone"), ("British Grand Prix", "silverstone"),
    ("Styrian Grand Prix", "red_bull_ring"), ("Austrian Grand Prix", "red_bull_ring"),
    ("Emilia Romagna Grand Prix", "imola"), ("Mexican Grand Prix", "rodriguez"),
    ("Mexico City Grand Prix", "rodriguez"), ("Brazilian Grand Prix", "interlagos"),
    ("São Paulo Grand Prix", "interlagos"), ("Sao Paulo Grand Prix", "interlagos"),
    ("Tuscan Grand Prix", "mugello"), ("Portuguese Grand Prix", "portimao"), ("Eifel Grand Prix", "nurburgring"),
    ("Turkish Grand Prix", "istanbul"), ("Qatar Grand Prix", "losail"), ("Saudi Arabian Grand Prix", "jeddah"),
    ("Miami Grand Prix", "miami"), ("Las Vegas Grand Prix", "vegas"),
    # the Sakhir GP ran on Bahrain's outer loop: a genuinely different layout
    ("Sakhir Grand Prix", "bahrain_outer"), ("Bahrain Grand Prix", "bahrain"),
])
def test_renamed_grand_prix_keeps_its_track(event, key):
    assert circuit_for_event(event) == key


def test_the_venue_decides_over_the_name():
    # a name the table has never seen, at a known venue
    assert circuit_for_event("Grosser Preis der Steiermark", location="Spielberg") == "red_bull_ring"
    assert circuit_for_event("Some Sponsor Grand Prix", location="silverstone") == "silverstone"
    # two layouts at one venue: the event's name picks the layout
    assert circuit_for_event("Sakhir Grand Prix", location="Sakhir") == "bahrain_outer"
    assert circuit_for_event("Bahrain Grand Prix", location="Sakhir") == "bahrain"
    # a name that moved to another venue follows the season...
    assert circuit_for_event("Spanish Grand Prix", season=2024) == "catalunya"
    assert circuit_for_event("Spanish Grand Prix", season=2026) == "madring"
    # ...unless the source names the venue
    assert circuit_for_event("Spanish Grand Prix", season=2026, location="Barcelona") == "catalunya"
    assert circuit_for_venue("Nowhere") is None


def test_new_venue_gets_its_own_key():
    assert circuit_for_event("Atlantis Grand Prix") == "atlantis"
    assert get_circuit("atlantis") is None


def test_every_circuit_has_track_attributes():
    for c in CIRCUITS:
        assert c.length_km and 3.0 < c.length_km < 7.1, c.key
        assert c.kind in KINDS and c.pit_loss_class in PIT_LOSS_CLASSES, c.key
        assert c.same_site_as is None or get_circuit(c.same_site_as) is not None
    assert race_laps_for(get_circuit("monza").length_km) == 53
    assert race_laps_for(get_circuit("spa").length_km) == 44


def test_similar_tracks_of_a_new_venue():
    keys = [c.key for c in CIRCUITS]
    sims = similar_circuits("madring", keys)
    assert len(sims) == 3 and sum(w for _, w in sims) == pytest.approx(1.0)
    assert all(get_circuit(k).kind == "street" for k, _ in sims)  # a street track borrows from street tracks
    assert [w for _, w in sims] == sorted((w for _, w in sims), reverse=True)
    assert similar_circuits("bahrain_outer", keys)[0][0] == "bahrain"  # the same grounds come first
    assert similar_circuits("atlantis", keys) == []


def test_ingest_keys_races_by_venue(tmp_path):
    # round 2 under a name the table does not know: only the venue can tell where it ran
    rounds = {1: "70th Anniversary Grand Prix", 2: "Grosser Preis der Steiermark", 3: "Sakhir Grand Prix"}
    src = season_frame(rounds)
    src["Location"] = src["RoundNumber"].map({"1": "Silverstone", "2": "Spielberg", "3": "Sakhir"})
    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([write_csv(src, tmp_path / "in" / "2020.csv")], store)
    assert res.ok
    assert store.races()["circuit_key"].tolist() == ["silverstone", "red_bull_ring", "bahrain_outer"]
