"""Team colours per season (issue 15): the livery colour fans know, kept by the project.

One table, 2018–2024, keyed by the team name FastF1 gives in ``Team``. The dashboard colours a
driver by team and tells team mates apart by line style (first driver solid, second dashed), so a
driver keeps the same colour on every chart and page. Seasons or teams not in the table get a
neutral grey: the chart stays readable, just uncoloured.
"""

from __future__ import annotations

#: colour of a team in every season it raced under that name, unless ``_BY_SEASON`` says otherwise
_TEAM_COLOURS: dict[str, str] = {
    "Mercedes": "#27f4d2",
    "Ferrari": "#e8002d",
    "Red Bull Racing": "#3671c6",
    "McLaren": "#ff8000",
    "Alpine": "#0093cc",
    "Aston Martin": "#229971",
    "Williams": "#64c4ff",
    "Haas F1 Team": "#b6babd",
    "AlphaTauri": "#5e8faa",
    "RB": "#6692ff",
    "Kick Sauber": "#52e252",
    "Alfa Romeo": "#c92d4b",
    "Alfa Romeo Racing": "#9b0000",
    "Sauber": "#9b0000",
    "Racing Point": "#f596c8",
    "Force India": "#f596c8",
    "Renault": "#fff500",
    "Toro Rosso": "#469bff",
}

#: (season, team) → colour where a team's livery changed
_BY_SEASON: dict[tuple[int, str], str] = {
    (2018, "Mercedes"): "#00d2be", (2019, "Mercedes"): "#00d2be", (2020, "Mercedes"): "#00d2be",
    (2021, "Mercedes"): "#00d2be", (2022, "Mercedes"): "#6cd3bf", (2023, "Mercedes"): "#6cd3bf",
    (2018, "Ferrari"): "#dc0000", (2019, "Ferrari"): "#dc0000", (2020, "Ferrari"): "#dc0000",
    (2021, "Ferrari"): "#dc0000", (2022, "Ferrari"): "#ed1c24", (2023, "Ferrari"): "#f91536",
    (2018, "Red Bull Racing"): "#1e41ff", (2019, "Red Bull Racing"): "#1e41ff",
    (2020, "Red Bull Racing"): "#1e41ff", (2021, "Red Bull Racing"): "#0600ef",
    (2022, "Red Bull Racing"): "#1e41ff",
    (2018, "McLaren"): "#ff8700", (2019, "McLaren"): "#ff8700", (2020, "McLaren"): "#ff8700",
    (2021, "McLaren"): "#ff8700", (2022, "McLaren"): "#ff8700",
    (2021, "Alpine"): "#0090ff", (2022, "Alpine"): "#2293d1", (2023, "Alpine"): "#2293d1",
    (2021, "Aston Martin"): "#006f62", (2022, "Aston Martin"): "#2d826d", (2023, "Aston Martin"): "#358c75",
    (2018, "Williams"): "#ffffff", (2019, "Williams"): "#ffffff", (2020, "Williams"): "#0082fa",
    (2021, "Williams"): "#005aff", (2022, "Williams"): "#37bedd", (2023, "Williams"): "#37bedd",
    (2018, "Haas F1 Team"): "#787878", (2019, "Haas F1 Team"): "#787878",
    (2020, "Haas F1 Team"): "#787878", (2021, "Haas F1 Team"): "#787878",
    (2020, "AlphaTauri"): "#c8c8c8", (2021, "AlphaTauri"): "#2b4562", (2022, "AlphaTauri"): "#4e7c9b",
}

UNKNOWN_TEAM_COLOUR = "#9e9e9e"


def team_colour(team: str | None, season: int | None = None) -> str:
    """The team's colour in ``season`` (``#rrggbb``); grey for a team the table does not know."""
    if not team:
        return UNKNOWN_TEAM_COLOUR
    name = str(team).strip()
    if season is not None and (int(season), name) in _BY_SEASON:
        return _BY_SEASON[(int(season), name)]
    return _TEAM_COLOURS.get(name, UNKNOWN_TEAM_COLOUR)


def driver_styles(season: int, driver_teams: dict[str, str], order: list[str] | None = None) -> dict[str, dict]:
    """``{driver: {"team", "color", "dash"}}``: team colour; the team's first driver (in ``order``,
    e.g. finishing order, else alphabetical) solid, the second dashed, so team mates differ."""
    seen: dict[str, int] = {}
    out = {}
    for drv in order or sorted(driver_teams):
        if drv not in driver_teams:
            continue
        team = driver_teams[drv]
        k = seen.get(team, 0)
        seen[team] = k + 1
        out[drv] = {"team": team, "color": team_colour(team, season), "dash": ["", "6 3", "2 3"][min(k, 2)]}
    return out
