"""Times, percentiles, compounds and circuit names as fans write them (issue 15)."""

from __future__ import annotations

import math

import pytest

from f1analyzer.data.circuits import fan_name
from f1analyzer.data.formatting import compound_label, gap, lap_time, percentile, race_time


@pytest.mark.parametrize("seconds, text", [
    (96.296, "1:36.296"), (59.1, "59.100"), (60.0, "1:00.000"), (119.9996, "2:00.000"),
    (None, ""), (math.nan, ""),
])
def test_lap_time(seconds, text):
    assert lap_time(seconds) == text


@pytest.mark.parametrize("seconds, text", [
    (5071.5, "1:24:31.5"), (754.24, "12:34.2"), (3600.0, "1:00:00.0"), (8.06, "8.1"), (None, ""),
])
def test_race_time(seconds, text):
    assert race_time(seconds) == text


def test_gap_and_percentiles():
    assert gap(1.25) == "+1.250"
    assert gap(-0.5) == "-0.500" and gap(62.345) == "+1:02.345"
    assert percentile(10) == "10th percentile" == percentile(0.1)
    assert [percentile(q) for q in (1, 2, 3, 11, 50, 90)] == [
        "1st percentile", "2nd percentile", "3rd percentile", "11th percentile", "50th percentile", "90th percentile"]
    assert "P10" not in percentile(10)


def test_compound_label_shows_the_events_c_number():
    codes = ["C3", "C4", "C5"]  # hardest first
    assert [compound_label(c, codes) for c in ("HARD", "MEDIUM", "soft")] == ["HARD (C3)", "MEDIUM (C4)", "SOFT (C5)"]
    assert compound_label("INTERMEDIATE", codes) == "INTERMEDIATE"
    assert compound_label("SOFT", []) == "SOFT"


def test_fan_names():
    assert [fan_name(k) for k in ("villeneuve", "rodriguez", "spa", "marina_bay", "monza")] == [
        "Montréal", "Mexico City", "Spa", "Singapore", "Monza"]
    assert fan_name("no_such_track") == "no_such_track"
