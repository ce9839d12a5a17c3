"""The event-rules table: bundled entries, lookup and the user's extension."""

from __future__ import annotations

import pytest

from f1analyzer.data.event_rules import capped_events, find_event, load_event_rules
from f1analyzer.errors import DataValidationError


def test_bundled_entries_are_sourced_and_found_by_venue_round_or_name(tmp_path):
    table = load_event_rules(tmp_path)  # no user file there
    assert table["defaults"]["min_dry_compounds"] == 2
    assert all(e.get("source") for e in table["events"])
    assert find_event(table, 2023, "losail")["max_laps_per_set"] == 18
    assert find_event(table, 2023, None, "Qatar Grand Prix")["max_laps_per_set"] == 18
    assert find_event(table, 2023, None, "qatar")["max_laps_per_set"] == 18
    assert find_event(table, 2024, "losail") is None
    assert (2023, "losail") in capped_events(table) and (2025, "monaco") not in capped_events(table)


def test_user_entries_replace_bundled_ones_and_add_new(tmp_path):
    (tmp_path / "event_rules.toml").write_text(
        '[defaults]\nmin_stops = 1\n[[event]]\nseason = 2023\ncircuit = "losail"\nmax_laps_per_set = 20\n'
        '[[event]]\nseason = 2027\nround = 3\nmin_stops = 2\n', encoding="utf-8")
    table = load_event_rules(tmp_path)
    assert [e["max_laps_per_set"] for e in table["events"] if e.get("circuit") == "losail" and e["season"] == 2023] == [20]
    assert find_event(table, 2027, "anywhere", 3)["min_stops"] == 2


@pytest.mark.parametrize("text, match", [
    ('[[event]]\ncircuit = "monza"\n', "needs a season"),
    ('[[event]]\nseason = 2026\ncircuit = "monza"\nmax_laps = 3\n', "unknown keys max_laps"),
    ('[[event]\n', "not a readable"),
])
def test_a_broken_user_table_says_what_is_wrong(tmp_path, text, match):
    (tmp_path / "event_rules.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError, match=match):
        load_event_rules(tmp_path)
