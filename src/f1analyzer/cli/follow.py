"""`f1analyzer follow`: a race followed live in the terminal (race-day mode, docs/RACEDAY.md).

A rich Live timing tower - position, gap, interval, tyre and age, stops, the call for every
running car, its rejoin if it boxed now - refreshed at every lap of the feed (a stored race
replayed at ``--speed``, or OpenF1), with the followed driver's rejoin and threats underneath.
At the end: the calls to box that were made, lap by lap.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..app.raceday import FieldAdvisor, raceday_build, summarise_calls
from ..app.raceday_sessions import FEEDS, open_feed
from ..config import get_settings
from ..errors import InvalidRequestError
from .common import number, print_json, services

STATUS_STYLE = {"GREEN": "bold green", "SC": "bold black on yellow", "VSC": "bold black on yellow",
                "RED": "bold white on red"}
CALL_STYLE = {"BOX_NOW": "bold red", "BOX_UNDER_SC": "bold red", "BOX_UNDER_RED": "bold red", "BOX_IN_K": "yellow",
              "STAY_OUT": "green"}


def _call_text(c: dict) -> Text:
    call = c["call"]
    label = f"BOX IN {c['box_in_laps']}" if call == "BOX_IN_K" else call.replace("_", " ")
    if c.get("margin_places") is not None:
        label += f" ({number(c['margin_places'], 2, plus=True)}±{number(c['margin_se'], 2)})"
    if c.get("decided_by") == "field_history":  # too close to call: the field's usual call
        label += f" field {100 * c['field_box_rate']:.0f}% box"
    return Text(label, style=CALL_STYLE.get(call, ""))


def render(snap, upd: dict, driver: str | None) -> Group:
    """The tower of one snapshot and its calls (and the followed driver's detail)."""
    calls = {c["driver"]: c for c in upd.get("calls", [])}
    title = Text.assemble((f" {snap.event} {snap.season} ", "bold"),
                          f" lap {snap.lap}/{snap.total_laps or '?'} ",
                          (f" {snap.track_status} ", STATUS_STYLE.get(snap.track_status, "")))
    t = Table("pos", "driver", "gap", "int", "tyre", "stops", "call (margin ± se, places)", "rejoin",
              title=title, expand=False)
    for car in snap.cars:
        c = calls.get(car.driver)
        tyre = f"{(car.compound or '?')[:1]}{car.tyre_life if car.tyre_life is not None else ''}"
        if car.in_pit:
            tyre += " PIT"
        rejoin = "–"
        if c is not None:
            r = c["rejoin"]
            rejoin = f"P{r['rejoin_position']}" + (" free" if r["free_stop"] else "") + (" traffic" if r["in_traffic"] else "")
        style = "reverse" if driver and car.driver == driver else ""
        t.add_row(str(car.position), car.driver, "OUT" if car.retired else number(car.gap_to_leader_s),
                  number(car.interval_s), tyre, str(car.stops), _call_text(c) if c else Text("–"), rejoin, style=style)
    parts = [t]
    if driver and driver in calls:
        c, r = calls[driver], calls[driver]["rejoin"]
        parts.append(Text(f"{driver}: boxing now rejoins P{r['rejoin_position']} "
                          f"between {r['car_ahead'] or '—'} (+{number(r['gap_ahead_s'])} s) and {r['car_behind'] or '—'} "
                          f"({number(r['gap_behind_s'])} s), stop loss {number(r['pit_loss_s'])} s"
                          + (" — free stop" if r["free_stop"] else "")))
        for th in c["threats"]:
            who = "behind" if th["kind"] == "undercut_from_behind" else "ahead"
            closes = f", window closes lap {th['window_closes_lap']}" if th["window_closes_lap"] else ""
            parts.append(Text(f"  undercut {who}: {th['rival']} gap {number(th['gap_s'])} s, "
                              f"margin {number(th['margin_s'], 2, plus=True)} s{closes}"))
    return Group(*parts)


def follow(
    season: Annotated[int, typer.Option("--season", "-s", help="Championship year.")],
    event: Annotated[str, typer.Option("--event", "-e", help="Round number, event name, circuit or location.")],
    speed: Annotated[float, typer.Option("--speed", help="Replay: race seconds per second (60 = a race minute "
                                                          "per second; 0 = as fast as possible).")] = 60.0,
    driver: Annotated[str | None, typer.Option("--driver", "-d", help="Driver to follow (highlighted, with "
                                                                          "rejoin and threats).")] = None,
    from_lap: Annotated[int, typer.Option("--from-lap", help="Replay: first lap shown.")] = 1,
    feed: Annotated[str, typer.Option("--feed", help=f"Where the race comes from: {', '.join(FEEDS)}.")] = "replay",
    session_key: Annotated[str | None, typer.Option("--session-key", help="OpenF1 session (default latest).")] = None,
    sims: Annotated[int | None, typer.Option("--sims", help="Monte Carlo races per option of each advised car "
                                                                "(default: live_n_sims).")] = None,
    max_advised: Annotated[int | None, typer.Option("--max-advised", help="Cars given the full advice per lap "
                                                                              "(default: live_max_advised).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="No table: print the summary of the calls as JSON.")] = False,
) -> None:
    """Follow a race live (or a stored race replayed as live): timing tower, calls, rejoins, threats."""
    if feed not in FEEDS:
        raise InvalidRequestError(f"Unknown feed {feed!r}; choose one of: {', '.join(FEEDS)}.")
    settings = get_settings()
    svc = services()
    built = raceday_build(svc.model_set(), svc.store, season, event)
    code = driver.strip().upper() if driver else None
    if code is not None and code not in built.drivers:
        raise InvalidRequestError(f"{code} is not in the field of {built.season} {built.event}: "
                                  + ", ".join(built.drivers) + ".")
    advisor = FieldAdvisor.following(built, n_sims=sims or settings.live_n_sims,
                                     max_advised=settings.live_max_advised if max_advised is None else max_advised)
    source = open_feed(settings, svc.store, built, feed, speed=speed, from_lap=from_lap, session_key=session_key)
    history = []
    out = Console()
    try:
        if as_json:
            for snap in source.snapshots():
                history.append(advisor.update(snap))
        else:
            with Live(console=out, auto_refresh=False, transient=False) as live:
                for snap in source.snapshots():
                    upd = advisor.update(snap)
                    history.append(upd)
                    live.update(render(snap, upd, code), refresh=True)
    finally:
        source.close()
    summary = summarise_calls(history)
    if code:
        summary = [s for s in summary if s["driver"] == code]
    if as_json:
        print_json({"season": built.season, "event": built.event, "laps": len(history), "calls": summary})
        return
    t = Table("lap", "driver", "call", "compound", "margin (places)", "from", "status",
              title=f"Calls to box{' for ' + code if code else ''} ({len(history)} laps followed)")
    for s in summary:
        t.add_row(str(s["lap"]), s["driver"], s["call"], s["compound"] or "–", number(s["margin_places"], 2, plus=True),
                  s["source"], s["track_status"])
    out.print(t)


def register(app: typer.Typer) -> None:
    app.command("follow")(follow)
