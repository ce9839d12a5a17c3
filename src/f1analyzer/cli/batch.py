"""`f1analyzer backtest | season-preview | sweep`: season-scale batch work on an executor.

Each command splits its work into tasks (one per race, or per parameter value and race) and runs
them on the executor chosen by ``--executor`` / ``F1A_EXECUTOR`` (serial, local process pool,
Ray; :mod:`f1analyzer.app.executors`). For the same ``--seed`` every executor gives the same
answer. A failed task is reported with its key on one line and the command exits 1 after showing
the others' results; Ctrl-C stops every worker.
"""

from __future__ import annotations

import csv
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..app.batch import PREVIEW_COLUMNS, backtest_seasons, parse_values, season_preview, sweep
from ..app.executors import make_executor
from ..app.requests import BacktestRequest
from ..app.season import save_season_preview
from ..config import get_settings
from ..errors import InvalidRequestError
from ..models.bundled import load_bundled_models
from .common import Col, CsvFlag, WideFlag, console, emit_table, number, print_json, services

# the options the batch commands share
RoundsOpt = Annotated[Optional[str], typer.Option("--rounds", help="Only these rounds, e.g. 1,2.")]
SimsOpt = Annotated[int, typer.Option("--sims", help="Monte Carlo races per finalist strategy.")]
SeedOpt = Annotated[int, typer.Option("--seed")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the rows as CSV (.csv) or the answer as JSON.")]
JsonFlag = Annotated[bool, typer.Option("--json")]
ExecutorOpt = Annotated[Optional[str], typer.Option(
    "--executor", help="serial | local (process pool, default) | ray. Default: $F1A_EXECUTOR or local.")]
WorkersOpt = Annotated[Optional[int], typer.Option(
    "--workers", help="Local processes / CPUs of a Ray instance started for the run (default: all cores).")]
RayAddressOpt = Annotated[Optional[str], typer.Option(
    "--ray-address", help="Ray cluster: auto (running here) or ray://head:10001. Default: $RAY_ADDRESS; "
                          "unset starts a local Ray instance.")]


def _executor(name, workers, ray_address):
    s = get_settings()
    return make_executor(name or s.executor, workers=workers or s.executor_workers,
                         ray_address=ray_address or s.ray_address)


@contextmanager
def task_bar(disable: bool):
    """A progress bar over a batch's tasks (one row per stage, e.g. models then races); yields
    the executors' progress callback."""
    with Progress(TextColumn("[bold]{task.fields[what]}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  disable=disable, transient=True) as bar:
        rows: list = []

        def update(result, done: int, total: int) -> None:
            if done == 0 or not rows:
                rows.append(bar.add_task("", total=total, what="tasks"))
            if result is None:
                return
            failed = "" if result.ok else " [red]failed[/]"
            bar.update(rows[-1], completed=done, description=f"{result.key}{failed}",
                       what=result.key.split("/")[0])

        yield update


def _seasons(season: list[int] | None, seasons: str | None) -> list[int]:
    out = list(season or [])
    if seasons:
        try:
            a, _, b = seasons.partition("-")
            out += list(range(int(a), int(b or a) + 1))
        except ValueError:
            raise InvalidRequestError(f"--seasons takes a year or a range such as 2022-2024; got {seasons!r}.") from None
    if not out:
        raise InvalidRequestError("Give --season (repeatable) or --seasons FIRST-LAST.")
    return sorted(set(out))


def _rounds(rounds: str | None) -> list[int] | None:
    try:
        return [int(x) for x in rounds.split(",") if x.strip()] if rounds else None
    except ValueError:
        raise InvalidRequestError(f"--rounds takes round numbers separated by commas, e.g. 1,2; got {rounds!r}.") from None


def _report_failures(out: dict) -> None:
    failed = out.get("failed") or [f for s in out.get("seasons", []) for f in s.get("failed", [])]
    for f in failed:
        console.print(f"failed: {f['key']}: {f['error']}", style="red", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def _write(path: Path, rows: list[dict], columns: list[str], whole: dict) -> None:
    """``rows`` as CSV (``.csv``) or the whole answer as JSON (any other suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    else:
        path.write_text(json.dumps(whole, indent=2) + "\n")
    console.print(f"wrote {path}", style="dim", markup=False)


# ------------------------------------------------------------------------------ backtest
def backtest(
    season: Annotated[Optional[list[int]], typer.Option("--season", "-s", help="Season (repeatable).")] = None,
    seasons: Annotated[Optional[str], typer.Option("--seasons", help="A range of seasons, e.g. 2022-2024.")] = None,
    rounds: Annotated[Optional[str], typer.Option("--rounds", help="Only these rounds (of every season), e.g. 1,2.")] = None,
    models_from: Annotated[str, typer.Option("--models-from", help="train (fit on earlier seasons) | asof (each race on the models its pre-race answer uses: every earlier race; slower) | registry")] = "train",
    sims: Annotated[int, typer.Option("--sims", help="Optimiser sims per finalist.")] = 300,
    replay_sims: Annotated[int, typer.Option("--replay-sims")] = 500,
    advisor_sims: Annotated[int, typer.Option("--advisor-sims")] = 100,
    no_advisor: Annotated[bool, typer.Option("--no-advisor", help="Skip the advisor replay (faster).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Base seed; each race's seed derives from it and the race.")] = 0,
    executor: ExecutorOpt = None, workers: WorkersOpt = None, ray_address: RayAddressOpt = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """For every race of one or more seasons: pre-race plan for the winner vs reality, replay rank
    correlation, and the live advisor's calls against the real pit walls (one task per race).

    Under each season's table: the top ten's modal plan against the recommendation (stop count,
    sequence in the top 3, first stop in the window; dry races), each next to the naive "as at this
    circuit last time" forecast, and the advisor against the top-10 majority at SC/VSC starts."""
    years = _seasons(season, seasons)
    rs = _rounds(rounds)
    reqs = [BacktestRequest.of({"season": y, "rounds": rs, "models_from": models_from, "opt_sims": sims,
                                "replay_sims": replay_sims, "advisor_sims": advisor_sims, "seed": seed,
                                "advisor": not no_advisor}) for y in years]
    req = reqs[0]
    svc = services()
    source = req.models_from
    if source == "registry":
        source = svc.model_set()
    elif source == "bundled":
        source = load_bundled_models()
    with _executor(executor, workers, ray_address) as ex, task_bar(as_json) as progress:
        out = backtest_seasons(svc.store, years, rounds=req.rounds, models_from=source, opt_sims=req.opt_sims,
                               replay_sims=req.replay_sims, advisor_sims=req.advisor_sims, seed=req.seed,
                               advisor=req.advisor, executor=ex, progress=progress)
    if as_json:
        print_json(out)
    else:
        for one in out.get("seasons", [out]):
            _print_backtest(one, as_csv=as_csv, wide=wide)
    _report_failures(out)


def _print_backtest(out: dict, *, as_csv: bool = False, wide: bool = False) -> None:
    rows = []
    for r in out["races"]:
        rec, act = r["recommended"], r["actual_top10"][0]
        adv = r["advisor"]
        rows.append([out["season"], r["round"], r["event"].replace(" Grand Prix", ""), "wet" if r["wet"] else "",
                     f"{r['winner']} ({r['winner_grid']})", rec["strategy"],
                     "–" if not rec["first_stop_window"] else "{}–{}".format(*rec["first_stop_window"]),
                     "-".join(c[0] for c in act["compounds"]) + f" ({act['stops']})", number(r["replay_spearman"], 2),
                     "–" if not adv or adv["agreement"] is None else f"{100 * adv['agreement']:.0f}% of {adv['decisions']}"])
    emit_table([Col("season", wide=True), Col("rnd", justify="right"), Col("event"), Col("wet", wide=True),
                Col("winner (grid)"), Col("recommended"), Col("window", wide=True), Col("winner did"),
                Col("Spearman", justify="right"), Col("advisor", wide=True)], rows,
               as_csv=as_csv, wide=wide, title=f"Backtest {out['season']}")
    if as_csv:
        return
    o = Console()
    s = out["summary"]
    if not s:
        return
    o.print(f"mean Spearman {number(s['mean_replay_spearman'], 3)} (dry {number(s['mean_replay_spearman_dry'], 3)}; "
            f"finishers, dry {number(s.get('mean_replay_spearman_classified_dry'), 3)}), "
            f"winner stops match {number(s['winner_stops_match_rate'], 2)}, compound set match "
            f"{number(s['winner_compound_set_match_rate'], 2)}, first stop in window "
            f"{number(s['winner_first_stop_in_window_rate'], 2)}, advisor agreement {number(s['advisor_agreement'], 2)} "
            f"(BOX at real stops {number(s['advisor_box_rate_at_real_stops'], 2)}, SC/VSC "
            f"{number(s['advisor_agreement_at_neutralisations'], 2)}, STAY mid-stint {number(s['advisor_stay_rate_mid_stint'], 2)}); "
            f"models {s['models']['source']} on {s['models']['training_seasons']}")
    o.print(modal_line(s))


def modal_line(s: dict) -> str:
    """The top ten's modal plan against the recommendation (dry races), each rate next to the
    naive "as at this circuit last time" forecast on the races that have one, and the advisor
    against the top-10 majority at SC/VSC starts."""
    base = s.get("history_baseline_races") or 0

    def pair(ours: str, naive: str) -> str:
        out = number(s.get(ours), 2)
        return out + (f" (as last time {number(s.get(naive), 2)})" if base else "")

    return (f"modal plan of the top ten, {s.get('dry_races', 0)} dry races: stop count "
            f"{pair('modal_stop_count_match_rate', 'history_baseline_stop_count_match_rate')}, sequence in top 3 "
            f"{pair('modal_compound_sequence_in_top3_rate', 'history_baseline_compound_sequence_rate')}, first stop "
            f"in window {pair('modal_first_stop_in_window_rate', 'history_baseline_first_stop_in_window_rate')}"
            + (f" ({base} races with an earlier one)" if base else "")
            + (f"; the modal stop count is the field's planned (green-flag) count in "
               f"{number(s['modal_stop_count_is_planned_rate'], 2)} of the races, which the plan matches in "
               f"{number(s.get('modal_planned_stop_count_match_rate'), 2)}"
               if s.get("modal_stop_count_is_planned_rate") is not None else "")
            + f"; advisor vs the top-10 majority at SC/VSC starts {number(s.get('advisor_neutralisation_agreement'), 2)}"
              f" of {s.get('advisor_neutralisation_decisions', 0)}"
            + (f" (dry races {number(s.get('advisor_neutralisation_agreement_dry'), 2)}"
               f" of {s.get('advisor_neutralisation_decisions_dry', 0)}"
               + (f", {s['advisor_neutralisation_too_close_dry']} too close to call,"
                  f" {s.get('advisor_neutralisation_decided_by_field_dry', 0)} of them decided by the field's habit"
                  if s.get("advisor_neutralisation_too_close_dry") else "")
               + (f"; the field's habit alone {number(s['field_history_neutralisation_agreement_dry'], 2)}"
                  if s.get("field_history_neutralisation_agreement_dry") is not None else "") + ")"
               if s.get("advisor_neutralisation_decisions_dry") is not None else "")
            + (f"; {s['advisor_decisions_not_priced']} decisions not priced (wet track or no legal plan)"
               if s.get("advisor_decisions_not_priced") else ""))


# ------------------------------------------------------------------------------ season-preview
def season_preview_cmd(
    season: Annotated[int, typer.Option("--season", "-s", help="Championship year.")],
    drivers: Annotated[Optional[list[str]], typer.Option("--drivers", "-d", help="Only these drivers (repeatable or comma-separated).")] = None,
    rounds: RoundsOpt = None,
    sims: SimsOpt = 100,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    executor: ExecutorOpt = None, workers: WorkersOpt = None, ray_address: RayAddressOpt = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """Pre-race optimum and expected points of every driver at every race of a season, each race
    with only what was known before it (as `f1analyzer strategy` answers), and the season's
    expected-points table."""
    codes = [c.strip() for d in drivers or [] for c in d.split(",") if c.strip()] or None
    svc = services()
    with _executor(executor, workers, ray_address) as ex, task_bar(as_json) as progress:
        res = season_preview(svc.store, season, models=svc.model_set(), drivers=codes, rounds=_rounds(rounds),
                             n_sims=sims, seed=seed, executor=ex, progress=progress)
    kept = save_season_preview(svc.settings.home, res)  # the dashboard's season view shows the latest
    if out is not None:
        _write(out, res["rows"], PREVIEW_COLUMNS, res)
    if as_json:
        print_json(res)
    else:
        emit_table([Col("driver"), Col("races", justify="right"), Col("E[points]", justify="right")],
                   [[row["driver"], row["races"], number(row["expected_points"], 1)] for row in res["standings"]],
                   as_csv=as_csv, title=f"{season} preview: expected points before each race "
                                        f"({len(res['rounds'])} races, {res['n_sims']} sims)")
        if not as_csv:
            console.print(f"kept for the dashboard's season view: {kept}")
    _report_failures(res)


# ------------------------------------------------------------------------------ sweep
def sweep_cmd(
    season: Annotated[int, typer.Option("--season", "-s")],
    parameter: Annotated[str, typer.Option("--parameter", "-p", help="pit_loss_offset_s | sc_probability_scale | degradation_scale")],
    values: Annotated[str, typer.Option("--values", help="Comma-separated (-2,-1,0,1) or start:stop:step (0.5:1.5:0.25).")],
    event: Annotated[Optional[str], typer.Option("--event", "-e", help="One race (round number); default: every stored race.")] = None,
    rounds: RoundsOpt = None,
    driver: Annotated[Optional[str], typer.Option("--driver", "-d", help="Driver code (default: P1 of each grid).")] = None,
    sims: SimsOpt = 100,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    executor: ExecutorOpt = None, workers: WorkersOpt = None, ray_address: RayAddressOpt = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """The pre-race optimum across values of one model parameter (pit loss, SC probability, tyre
    wear) for one race or a season: parameter value → plan, expected points and position."""
    svc = services()
    rs = [int(svc.store.find_race(season, event)["round"])] if event is not None else _rounds(rounds)
    with _executor(executor, workers, ray_address) as ex, task_bar(as_json) as progress:
        res = sweep(svc.store, season, models=svc.model_set(), parameter=parameter, values=parse_values(values),
                    rounds=rs, driver=driver, n_sims=sims, seed=seed, executor=ex, progress=progress)
    if out is not None:
        _write(out, res["rows"], ["value", "season", "round", "event", "driver", "grid", "strategy", "stops",
                                  "expected_points", "expected_position", "p_win", "p_podium"], res)
    if as_json:
        print_json(res)
    else:
        one = len(res["rounds"]) == 1
        emit_table([Col(parameter), Col("races", justify="right"), Col("E[points]", justify="right"),
                    Col("E[pos]", justify="right"), Col("stops"), *([Col("plan")] if one else [])],
                   [[f"{row['value']:g}", row["races"], number(row["mean_expected_points"], 2),
                     number(row["mean_expected_position"], 2), ", ".join(f"{k}×{n}" for k, n in row["stops"].items()),
                     *([row.get("strategy") or "–"] if one else [])] for row in res["table"]],
                   as_csv=as_csv, title=f"{season} sweep of {parameter} ({res['description']}; neutral "
                                        f"{res['neutral']:g}) for {res['driver'] or 'the winner of each grid'}")
    _report_failures(res)


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
    app.command("season-preview")(season_preview_cmd)
    app.command("sweep")(sweep_cmd)


__all__ = ["register", "task_bar"]
