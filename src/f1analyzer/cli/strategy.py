"""`f1analyzer strategy | live | replay`: the strategy engine from the command line
(``backtest`` is a batch command: :mod:`.batch`).

All three build the operation's typed request (:mod:`f1analyzer.app.requests`, the API's request
bodies) and call :mod:`f1analyzer.app.strategy` (the same functions the API calls) with the
application's model set (the registry's latest, else the bundled one) and store.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console

from ..app.requests import GenerateRequest, LiveRequest, ReplayRequest
from ..app.strategy import generate_strategy, live_advice, replay_race
from ..data.formatting import stop_count
from ..narration.strategy import narrate_strategy
from .common import Col, CsvFlag, WideFlag, console, emit_table, number, print_json, services


def _given(**fields) -> dict:
    """The options the user gave (None = leave the request's default)."""
    return {k: v for k, v in fields.items() if v is not None}


def _out() -> Console:
    return Console()


def _windows(ws) -> str:
    return ", ".join(f"{a}–{b}" for a, b in ws) or "–"


def strategy(
    season: Annotated[int, typer.Option("--season", "-s", help="Championship year.")],
    event: Annotated[str, typer.Option("--event", "-e", help="Round number, event name, circuit or location.")],
    driver: Annotated[Optional[str], typer.Option("--driver", "-d", help="Driver code (default: P1 of the grid).")] = None,
    grid: Annotated[Optional[int], typer.Option("--grid", "-g", help="Starting slot of the driver (1..cars).")] = None,
    top_k: Annotated[int, typer.Option("--top", help="Strategies shown.")] = 3,
    sims: Annotated[int, typer.Option("--sims", help="Monte Carlo races per finalist strategy.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same answer).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full answer as JSON.")] = False,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """Best pit strategies for a driver: stops, compounds, pit laps and windows, finishing odds.

    Under the options, "What the top ten did here before": the circuit's earlier races (stops,
    compounds, median first-stop lap, wet), and one line comparing our plan with the newest dry one
    of the same car era. Nothing when the store holds no earlier race there."""
    req = GenerateRequest.of(_given(season=season, event=event, driver=driver, grid=grid, top_k=top_k,
                                    n_sims=sims, seed=seed))
    svc = services()
    out = generate_strategy(req, models=svc.model_set(), store=svc.store, narrate=_narrate)
    if as_json:
        print_json(out)
        return
    cols = [Col("rank", justify="right"), Col("stops", justify="right"), Col("compounds"), Col("pit laps"),
            Col("win", justify="right"), Col("podium", justify="right"), Col("E[points]", justify="right"),
            Col("finish range", justify="right"),
            Col("windows", wide=True), Col("E[pos] if classified", wide=True, justify="right"),
            Col("DNF", wide=True, justify="right"), Col("E[pos] SC early/mid/late", wide=True)]
    rows = []
    for s in out["strategies"]:
        ph = s["robustness"]["expected_position_by_sc_start"]
        rows.append([s["rank"], s["stops"], " → ".join(_short(c) for c in s["compounds"]),
                     ", ".join(map(str, s["pit_laps"])), _pct(s["p_win"]), _pct(s["p_podium"]),
                     number(s["expected_points"], 1), _spread(s), _windows(s["pit_windows"]),
                     number(s["expected_position_if_classified"], 2), _pct(s["p_dnf"]),
                     "/".join(number(ph.get(k), 1) for k in ("early", "middle", "late"))])
    emit_table(cols, rows, as_csv=as_csv, wide=wide,
               title=f"{out['season']} {out['event']}: {out['driver']} from grid slot {out['grid']} "
                     f"({out['total_laps']} laps, {out['n_sims']} sims)",
               caption="finish range a–b (m): of the races it finishes, the car is P<a> or better in 10 %, "
                       "P<b> or better in 90 %, P<m> in the median race. S/M/H: soft, medium, hard.")
    if as_csv:
        return
    _field_history(out.get("field_history") or [], out.get("history_check"), wide=wide)
    for r in (out["strategies"][0].get("rules_applied") or []) if out["strategies"] else []:
        console.print(f"rule: {r}", markup=False)
    used = (out.get("model") or {}).get("data_used") or {}
    if used.get("models_fitted_on"):
        console.print(f"models fitted on: {used['models_fitted_on']}", style="dim", markup=False)
    for r in out.get("confidence_reasons") or []:
        console.print(f"confidence {out.get('confidence')}: {r}", style="yellow", markup=False)
    for n in out.get("notes") or []:
        console.print(f"note: {n}", style="dim", markup=False)
    if out.get("narrative"):
        _out().print()
        console.print(out["narrative"], markup=False, soft_wrap=True)


def _field_history(history: list[dict], check: dict | None, *, wide: bool) -> None:
    """What the top ten did at the circuit's earlier races, and our plan against the newest dry
    one of the same car era; nothing when the store holds no earlier race there."""
    if not history:
        return
    emit_table([Col("season", justify="right"), Col("event"), Col("stops", justify="right"), Col("compounds"),
                Col("first stop", justify="right"), Col("wet"), Col("era", wide=True),
                Col("green stops", wide=True, justify="right"), Col("cars", wide=True, justify="right")],
               [[h["season"], h["event"], number(h.get("stops"), 0), _sequence(h.get("compounds")),
                 _lap(h.get("median_first_stop_lap")), "wet" if h.get("wet") else "", h.get("era"),
                 number(h.get("green_stops"), 0), h.get("n_cars")] for h in history],
               wide=wide, title="What the top ten did here before",
               caption="stops, compounds: the most common among the top ten classified; "
                       "first stop: their median first-stop lap.")
    if check:
        console.print(history_line(check), markup=False)


def history_line(check: dict) -> str:
    """``history_check`` in one line: our plan, then the field's at the comparable race."""
    window = check.get("plan_first_stop_window")
    ours = f"Our plan: {stop_count(check['plan_stops'])} ({_sequence(check['plan_compounds'])})"
    if window:
        ours += f", first stop laps {window[0]}–{window[1]}"
    green = check.get("field_green_stops")
    neutral = (f", {green} under green" if green is not None and green < check["field_stops"] else "")
    theirs = (f"the {check['season']} field (same car era): {stop_count(check['field_stops'])}{neutral} "
              f"({_sequence(check['field_compounds'])})")
    if check.get("field_median_first_stop_lap") is not None:
        theirs += f", first stop lap {_lap(check['field_median_first_stop_lap'])}"
        if check.get("first_stop_vs_window"):
            theirs += f" ({check['first_stop_vs_window']} our window)"
    return f"{ours} — {theirs}"


def _sequence(compounds) -> str:
    return " → ".join(_short(c) for c in compounds or []) or "–"


def _lap(x) -> str:
    """A median lap: whole laps without decimals (18), a half lap as it is (18.5)."""
    if x is None:
        return "–"
    return f"{float(x):g}"


def _short(compound: str) -> str:
    """SOFT → S, MEDIUM → M, HARD → H, INTERMEDIATE → I, WET → W (the letters on the dashboard's tyres)."""
    return str(compound)[:1].upper()


def _spread(s: dict) -> str:
    """The finishing-position spread as ``2–6 (4)``: never "P2", which reads as a grid slot."""
    lo, mid, hi = (s.get(k) for k in ("position_10th_percentile", "position_median", "position_90th_percentile"))
    return f"{number(lo, 0)}–{number(hi, 0)} ({number(mid, 0)})"


def _pct(p) -> str:
    return "–" if p is None else f"{100 * float(p):.0f}%"


def _narrate(result: dict) -> dict:
    """The answer's narrative (offline writer unless an LLM is configured; sources from the
    knowledge base when it is built), as the API writes it."""
    story = narrate_strategy(result)
    result.update({k: story.get(k) for k in ("narrative", "sources", "provider", "fallback_reason")})
    return result


def live(
    season: Annotated[int, typer.Option("--season", "-s")],
    event: Annotated[str, typer.Option("--event", "-e")],
    lap: Annotated[int, typer.Option("--lap", help="Laps completed by the leader.")],
    driver: Annotated[str, typer.Option("--driver", "-d")],
    compound: Annotated[str, typer.Option("--compound", help="Fitted compound (SOFT/MEDIUM/HARD/...).")],
    tyre_age: Annotated[int, typer.Option("--tyre-age", help="FastF1 TyreLife of the fitted set: laps on it, counting laps it ran before the race (docs/DATA.md).")],
    position: Annotated[Optional[int], typer.Option("--position", help="Current position.")] = None,
    gap: Annotated[Optional[float], typer.Option("--gap", help="Gap to the leader, s.")] = None,
    stops: Annotated[Optional[int], typer.Option("--stops", help="Stops made so far.")] = None,
    track_status: Annotated[str, typer.Option("--track-status", help="green | sc | vsc | red (a free change in a "
                                                                      "red-flag suspension)")] = "green",
    sims: Annotated[int, typer.Option("--sims")] = 400,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """Box now or stay out? The rest of the field comes from the stored race at that lap (if any)."""
    req = LiveRequest.of(_given(season=season, event=event, lap=lap, driver=driver,
                                compound=compound.strip().upper(), tyre_age_laps=tyre_age,
                                position=position, gap_to_leader_s=gap, stops=stops,
                                track_status=track_status.strip().lower(), n_sims=sims, seed=seed))
    svc = services()
    out = live_advice(req, models=svc.model_set(), store=svc.store)
    if as_json:
        print_json(out)
        return
    o = Console(stderr=True) if as_csv else _out()
    best = f" onto {out['best_compound']}" if out["best_compound"] else ""
    gained = out["expected_positions_gained"]
    change = (f"{'gains' if gained >= 0 else 'loses'} {number(abs(gained), 2)} places on average"
              if gained is not None else "change unknown")
    o.print(f"[bold]{out['call']}{best}[/]  {out['driver']} lap {out['lap']} ({out['track_status']}), "
            f"P{out['current_position']} → E\\[pos] {number(out['expected_position'], 2)} "
            f"({change}, P(gain) {100 * (out['p_gain'] or 0):.0f}%; "
            f"{number(out['gain_vs_alternative'], 2)} places better than the alternative)")
    if out.get("close_call_note"):
        o.print(out["close_call_note"], markup=False)
    emit_table([Col("option"), Col("plan"), Col("E[pos]", justify="right"), Col("win", justify="right"),
                Col("podium", justify="right"), Col("gain", justify="right"),
                Col("E[pos] if classified", wide=True, justify="right"), Col("DNF", wide=True, justify="right")],
               [[op["label"], op["strategy"], number(op["expected_position"], 2), _pct(op.get("p_win")),
                 _pct(op.get("p_podium")), f"{100 * (op['prob_gain'] or 0):.0f}%",
                 number(op.get("expected_position_if_classified"), 2), _pct(op.get("p_dnf"))] for op in out["options"]],
               as_csv=as_csv, wide=wide)
    console.print(f"state: {out['state_source']}", style="dim", markup=False)


def replay(
    season: Annotated[int, typer.Option("--season", "-s")],
    event: Annotated[str, typer.Option("--event", "-e")],
    from_lap: Annotated[int, typer.Option("--from-lap", help="Laps completed when the simulation takes over (0 = grid).")] = 1,
    change: Annotated[Optional[list[str]], typer.Option("--change", help="'VER:pit=18:HARD', 'LEC:plan=M-20-H' or 'NOR:nostop' (repeatable).")] = None,
    sampled: Annotated[bool, typer.Option("--sampled-sc", help="Sample SC/VSC instead of the real ones.")] = False,
    sampled_dnf: Annotated[bool, typer.Option("--sampled-retirements", help="Sample retirements instead of the real ones.")] = False,
    sims: Annotated[int, typer.Option("--sims")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """Re-simulate a stored race from its real state at a lap, with its real (or changed) strategies."""
    req = ReplayRequest.of({"season": season, "event": event, "from_lap": from_lap, "changes": change or [],
                            "track_status": "sampled" if sampled else "real",
                            "retirements": "sampled" if sampled_dnf else "real", "n_sims": sims, "seed": seed})
    svc = services()
    out = replay_race(req, models=svc.model_set(), store=svc.store)
    if as_json:
        print_json(out)
        return
    emit_table([Col("sim", justify="right"), Col("driver"), Col("E[pos]", justify="right"),
                Col("win", justify="right"), Col("podium", justify="right"), Col("real", justify="right"),
                Col("strategy")],
               [[k, d["driver"] + (" *" if d["changed"] else ""), number(d["expected_position"], 2),
                 f"{100 * d['p_win']:.0f}%", f"{100 * d['p_podium']:.0f}%",
                 f"{d['real_position']}{'' if d['real_finished'] else ' DNF'}", d["strategy"]]
                for k, d in enumerate(out["drivers"], start=1)],
               as_csv=as_csv, wide=wide,
               title=f"{out['season']} {out['event']} from lap {out['from_lap']} ({out['n_sims']} sims, "
                     f"{out['track_status']} SC, {out['retirements']} retirements) — Spearman "
                     f"{number(out['spearman'], 3)}")
    for n in out.get("notes") or []:
        console.print(f"note: {n}", style="dim", markup=False)


def register(app: typer.Typer) -> None:
    app.command("strategy")(strategy)
    app.command("live")(live)
    app.command("replay")(replay)
