"""Team colours per season (issue 15): every team of 2018–2024 has a colour; team mates differ by dash."""

from __future__ import annotations

import re

from f1analyzer.data.teams import UNKNOWN_TEAM_COLOUR, driver_styles, team_colour

#: FastF1's ``Team`` names in the shared 2018–2024 lap data
TEAMS = {
    2018: ["Ferrari", "Force India", "Haas F1 Team", "McLaren", "Mercedes", "Racing Point", "Red Bull Racing",
           "Renault", "Sauber", "Toro Rosso", "Williams"],
    2019: ["Alfa Romeo Racing", "Ferrari", "Haas F1 Team", "McLaren", "Mercedes", "Racing Point", "Red Bull Racing",
           "Renault", "Toro Rosso", "Williams"],
    2020: ["Alfa Romeo Racing", "AlphaTauri", "Ferrari", "Haas F1 Team", "McLaren", "Mercedes", "Racing Point",
           "Red Bull Racing", "Renault", "Williams"],
    2021: ["Alfa Romeo Racing", "AlphaTauri", "Alpine", "Aston Martin", "Ferrari", "Haas F1 Team", "McLaren",
           "Mercedes", "Red Bull Racing", "Williams"],
    2022: ["Alfa Romeo", "AlphaTauri", "Alpine", "Aston Martin", "Ferrari", "Haas F1 Team", "McLaren", "Mercedes",
           "Red Bull Racing", "Williams"],
    2023: ["Alfa Romeo", "AlphaTauri", "Alpine", "Aston Martin", "Ferrari", "Haas F1 Team", "McLaren", "Mercedes",
           "Red Bull Racing", "Williams"],
    2024: ["Alpine", "Aston Martin", "Ferrari", "Haas F1 Team", "Kick Sauber", "McLaren", "Mercedes", "RB",
           "Red Bull Racing", "Williams"],
}


def test_every_team_of_every_season_has_its_own_colour():
    for season, teams in TEAMS.items():
        colours = [team_colour(t, season) for t in teams]
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours), (season, colours)
        assert UNKNOWN_TEAM_COLOUR not in colours, season
        # Force India became Racing Point mid-2018: one team, one colour
        distinct = {team_colour(t, season) for t in teams if t != "Force India"}
        assert len(distinct) == len([t for t in teams if t != "Force India"]), f"{season}: two teams share a colour"


def test_colour_follows_the_season_and_unknown_is_grey():
    assert team_colour("Ferrari", 2018) != team_colour("Ferrari", 2024)
    assert team_colour("Mercedes", 2024) == "#27f4d2"
    assert team_colour("Minardi", 2024) == UNKNOWN_TEAM_COLOUR == team_colour(None)


def test_team_mates_share_the_colour_and_differ_by_dash():
    styles = driver_styles(2024, {"LEC": "Ferrari", "SAI": "Ferrari", "NOR": "McLaren"}, ["SAI", "NOR", "LEC"])
    assert styles["SAI"]["color"] == styles["LEC"]["color"] == team_colour("Ferrari", 2024)
    assert (styles["SAI"]["dash"], styles["LEC"]["dash"]) == ("", "6 3")
    assert styles["NOR"]["dash"] == ""
